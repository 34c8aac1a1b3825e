// Metrics: the counters behind GET /metrics (Prometheus text format, version 0.0.4).
// Counters live in memory per server process; gauges are read when scraped.
#pragma once

#include <map>

#include <QByteArray>
#include <QString>

namespace calnet::server {

class Metrics {
public:
    void countHttp(int status) { ++m_http[status]; }
    void countRegistration(const QString& result) { ++m_registrations[result]; }
    void countPush() { ++m_pushes; }

    QByteArray render(qint64 nodesOnline, qint64 nodesTotal, qint64 websocketClients) const;

private:
    std::map<int, quint64> m_http;
    std::map<QString, quint64> m_registrations;
    quint64 m_pushes = 0;
};

} // namespace calnet::server
