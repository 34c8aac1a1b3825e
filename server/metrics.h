// Metrics: the counters behind GET /metrics (Prometheus text format, version 0.0.4).
// Counters live in memory per server process; gauges are read when scraped.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include <QByteArray>
#include <QString>

namespace calnet::server {

class Metrics {
public:
    void countHttp(int status) { ++m_http[status]; }
    void countRegistration(const QString& result) { ++m_registrations[result]; }
    void countPush() { ++m_pushes; }

    // What is read when scraped.
    struct Gauges {
        // A coordination server (nodes, registrations, map, address pool), or a relay-only
        // process (the node keys it knows instead).
        bool coordination = true;
        qint64 relayKnownKeys = 0;
        qint64 relayKeysAgeSeconds = -1; // since the last good read of the keys; -1 never
        qint64 nodesOnline = 0;
        qint64 nodesTotal = 0;
        qint64 websocketClients = 0;
        qint64 httpConnections = 0;
        qint64 httpAccepted = 0;
        qint64 httpRefusedTotalCap = 0;
        qint64 httpRefusedSourceCap = 0;
        qint64 httpTimeouts = 0;
        qint64 httpBadRequests = 0;
        qint64 httpAcceptErrors = 0;
        std::vector<std::pair<QString, qint64>> limited; // 429s per SourceLimiter
        qint64 poolSize = 0;                             // overlay addresses the prefix holds
        qint64 poolUsed = 0;                             // held by nodes
        qint64 poolQuarantined = 0; // freed by deleted nodes, not yet usable again
        std::vector<std::pair<QString, qint64>> stun; // STUN requests by result (empty: no STUN)
        qint64 relayClients = 0;
        qint64 relayPackets = 0;
        qint64 relayBytes = 0;
        qint64 relayAuthFailed = 0;
        std::vector<std::pair<QString, qint64>> relayDrops; // by reason
    };

    QByteArray render(const Gauges& g) const;

private:
    std::map<int, quint64> m_http;
    std::map<QString, quint64> m_registrations;
    quint64 m_pushes = 0;
};

} // namespace calnet::server
