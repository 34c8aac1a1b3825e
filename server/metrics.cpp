#include "server/metrics.h"

namespace calnet::server {

QByteArray Metrics::render(const Gauges& g) const {
    QByteArray out;
    auto family = [&](const char* name, const char* type, const char* help) {
        out += QByteArray("# HELP ") + name + ' ' + help + '\n';
        out += QByteArray("# TYPE ") + name + ' ' + type + '\n';
    };
    // One sample without labels.
    auto single = [&](const char* name, const char* type, const char* help, qint64 value) {
        family(name, type, help);
        out += QByteArray(name) + ' ' + QByteArray::number(value) + '\n';
    };
    // One sample per label value, in the order given.
    auto labelled = [&](const char* name, const char* label, const auto& samples) {
        for (const auto& [value, n] : samples)
            out += QByteArray(name) + '{' + label + "=\"" + value + "\"} " +
                   QByteArray::number(qint64(n)) + '\n';
    };
    auto utf8 = [](const auto& pairs) {
        std::vector<std::pair<QByteArray, qint64>> list;
        for (const auto& [text, n] : pairs)
            list.emplace_back(text.toUtf8(), qint64(n));
        return list;
    };

    if (g.coordination) {
        single("calnet_nodes_online", "gauge", "Nodes with an open map stream.", g.nodesOnline);
        single("calnet_nodes_total", "gauge", "Registered nodes.", g.nodesTotal);
        family("calnet_registrations_total", "counter", "Registration requests by result.");
        labelled("calnet_registrations_total", "result", utf8(m_registrations));
        single("calnet_map_pushes_total", "counter", "Map and delta messages sent to nodes.",
               qint64(m_pushes));
    } else {
        single("calnet_relay_known_keys", "gauge",
               "Node keys the coordination server said may use this relay.", g.relayKnownKeys);
        single("calnet_relay_keys_age_seconds", "gauge",
               "Seconds since the node keys were last read (-1: never).", g.relayKeysAgeSeconds);
    }
    family("calnet_http_requests_total", "counter", "HTTP requests by status code.");
    std::vector<std::pair<QByteArray, qint64>> statuses;
    for (const auto& [status, n] : m_http)
        statuses.emplace_back(QByteArray::number(status), qint64(n));
    labelled("calnet_http_requests_total", "status", statuses);
    if (g.coordination)
        single("calnet_websocket_clients", "gauge", "Open map streams on this server.",
               g.websocketClients);
    single("calnet_http_connections", "gauge", "Open HTTP and WebSocket connections.",
           g.httpConnections);
    family(
        "calnet_http_connections_total", "counter",
        "Connections by outcome at accept: accepted, or refused by the total or per-source cap.");
    labelled(
        "calnet_http_connections_total", "result",
        std::vector<std::pair<QByteArray, qint64>>{{"accepted", g.httpAccepted},
                                                   {"refused_total_cap", g.httpRefusedTotalCap},
                                                   {"refused_source_cap", g.httpRefusedSourceCap}});
    single("calnet_http_timeouts_total", "counter", "Connections closed for a slow or idle client.",
           g.httpTimeouts);
    single("calnet_http_bad_requests_total", "counter", "Requests the HTTP parser refused.",
           g.httpBadRequests);
    single("calnet_http_accept_errors_total", "counter", "accept() failures (open-file limit).",
           g.httpAcceptErrors);
    if (g.coordination) {
        single("calnet_address_pool_size", "gauge", "Overlay addresses the IPv4 prefix holds.",
               g.poolSize);
        single("calnet_address_pool_used", "gauge", "Overlay addresses held by nodes.", g.poolUsed);
        single("calnet_address_pool_quarantined", "gauge",
               "Addresses of deleted nodes not yet given out again.", g.poolQuarantined);
    }
    single("calnet_relay_clients", "gauge",
           "Open relay connections (before and after their hello).", g.relayClients);
    single("calnet_relay_packets_total", "counter", "Packets relayed.", g.relayPackets);
    single("calnet_relay_bytes_total", "counter", "Payload bytes relayed.", g.relayBytes);
    single("calnet_relay_auth_failures_total", "counter",
           "Relay hellos refused (wrong proof, unknown node).", g.relayAuthFailed);
    family("calnet_relay_drops_total", "counter", "Packets the relay dropped, by reason.");
    labelled("calnet_relay_drops_total", "reason", utf8(g.relayDrops));
    if (!g.stun.empty()) {
        family("calnet_stun_requests_total", "counter", "STUN datagrams by what became of them.");
        labelled("calnet_stun_requests_total", "result", utf8(g.stun));
    }
    family("calnet_rate_limited_total", "counter", "429 answers by what was limited.");
    std::vector<std::pair<QByteArray, qint64>> limited;
    for (const auto& [what, n] : g.limited)
        limited.emplace_back(QString(what).replace(QLatin1Char(' '), QLatin1Char('_')).toUtf8(), n);
    labelled("calnet_rate_limited_total", "what", limited);
    return out;
}

} // namespace calnet::server
