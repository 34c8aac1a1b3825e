#include "server/metrics.h"

namespace calnet::server {

QByteArray Metrics::render(const Gauges& g) const {
    QByteArray out;
    auto family = [&](const char* name, const char* type, const char* help) {
        out += QByteArray("# HELP ") + name + ' ' + help + '\n';
        out += QByteArray("# TYPE ") + name + ' ' + type + '\n';
    };
    family("calnet_nodes_online", "gauge", "Nodes with an open map stream.");
    out += "calnet_nodes_online " + QByteArray::number(g.nodesOnline) + '\n';
    family("calnet_nodes_total", "gauge", "Registered nodes.");
    out += "calnet_nodes_total " + QByteArray::number(g.nodesTotal) + '\n';
    family("calnet_registrations_total", "counter", "Registration requests by result.");
    for (const auto& [result, n] : m_registrations) {
        out += "calnet_registrations_total{result=\"" + result.toUtf8() + "\"} " +
               QByteArray::number(n) + '\n';
    }
    family("calnet_map_pushes_total", "counter", "Map and delta messages sent to nodes.");
    out += "calnet_map_pushes_total " + QByteArray::number(m_pushes) + '\n';
    family("calnet_http_requests_total", "counter", "HTTP requests by status code.");
    for (const auto& [status, n] : m_http) {
        out += "calnet_http_requests_total{status=\"" + QByteArray::number(status) + "\"} " +
               QByteArray::number(n) + '\n';
    }
    family("calnet_websocket_clients", "gauge", "Open map streams on this server.");
    out += "calnet_websocket_clients " + QByteArray::number(g.websocketClients) + '\n';
    family("calnet_http_connections", "gauge", "Open HTTP and WebSocket connections.");
    out += "calnet_http_connections " + QByteArray::number(g.httpConnections) + '\n';
    family(
        "calnet_http_connections_total", "counter",
        "Connections by outcome at accept: accepted, or refused by the total or per-source cap.");
    out += "calnet_http_connections_total{result=\"accepted\"} " +
           QByteArray::number(g.httpAccepted) + '\n';
    out += "calnet_http_connections_total{result=\"refused_total_cap\"} " +
           QByteArray::number(g.httpRefusedTotalCap) + '\n';
    out += "calnet_http_connections_total{result=\"refused_source_cap\"} " +
           QByteArray::number(g.httpRefusedSourceCap) + '\n';
    family("calnet_http_timeouts_total", "counter",
           "Connections closed for a slow or idle client.");
    out += "calnet_http_timeouts_total " + QByteArray::number(g.httpTimeouts) + '\n';
    family("calnet_http_bad_requests_total", "counter", "Requests the HTTP parser refused.");
    out += "calnet_http_bad_requests_total " + QByteArray::number(g.httpBadRequests) + '\n';
    family("calnet_http_accept_errors_total", "counter", "accept() failures (open-file limit).");
    out += "calnet_http_accept_errors_total " + QByteArray::number(g.httpAcceptErrors) + '\n';
    family("calnet_address_pool_size", "gauge", "Overlay addresses the IPv4 prefix holds.");
    out += "calnet_address_pool_size " + QByteArray::number(g.poolSize) + '\n';
    family("calnet_address_pool_used", "gauge", "Overlay addresses held by nodes.");
    out += "calnet_address_pool_used " + QByteArray::number(g.poolUsed) + '\n';
    family("calnet_address_pool_quarantined", "gauge",
           "Addresses of deleted nodes not yet given out again.");
    out += "calnet_address_pool_quarantined " + QByteArray::number(g.poolQuarantined) + '\n';
    family("calnet_relay_clients", "gauge",
           "Open relay connections (before and after their hello).");
    out += "calnet_relay_clients " + QByteArray::number(g.relayClients) + '\n';
    family("calnet_relay_packets_total", "counter", "Packets relayed.");
    out += "calnet_relay_packets_total " + QByteArray::number(g.relayPackets) + '\n';
    family("calnet_relay_bytes_total", "counter", "Payload bytes relayed.");
    out += "calnet_relay_bytes_total " + QByteArray::number(g.relayBytes) + '\n';
    family("calnet_relay_auth_failures_total", "counter",
           "Relay hellos refused (wrong proof, unknown node).");
    out += "calnet_relay_auth_failures_total " + QByteArray::number(g.relayAuthFailed) + '\n';
    family("calnet_relay_drops_total", "counter", "Packets the relay dropped, by reason.");
    for (const auto& [reason, n] : g.relayDrops) {
        out += "calnet_relay_drops_total{reason=\"" + reason.toUtf8() + "\"} " +
               QByteArray::number(n) + '\n';
    }
    if (!g.stun.empty()) {
        family("calnet_stun_requests_total", "counter", "STUN datagrams by what became of them.");
        for (const auto& [result, n] : g.stun) {
            out += "calnet_stun_requests_total{result=\"" + result.toUtf8() + "\"} " +
                   QByteArray::number(n) + '\n';
        }
    }
    family("calnet_rate_limited_total", "counter", "429 answers by what was limited.");
    for (const auto& [what, n] : g.limited) {
        out += "calnet_rate_limited_total{what=\"" +
               QString(what).replace(QLatin1Char(' '), QLatin1Char('_')).toUtf8() + "\"} " +
               QByteArray::number(n) + '\n';
    }
    return out;
}

} // namespace calnet::server
