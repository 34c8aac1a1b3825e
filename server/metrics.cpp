#include "server/metrics.h"

namespace calnet::server {

QByteArray Metrics::render(qint64 nodesOnline, qint64 nodesTotal, qint64 websocketClients) const {
    QByteArray out;
    auto family = [&](const char* name, const char* type, const char* help) {
        out += QByteArray("# HELP ") + name + ' ' + help + '\n';
        out += QByteArray("# TYPE ") + name + ' ' + type + '\n';
    };
    family("calnet_nodes_online", "gauge", "Nodes with an open map stream.");
    out += "calnet_nodes_online " + QByteArray::number(nodesOnline) + '\n';
    family("calnet_nodes_total", "gauge", "Registered nodes.");
    out += "calnet_nodes_total " + QByteArray::number(nodesTotal) + '\n';
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
    out += "calnet_websocket_clients " + QByteArray::number(websocketClients) + '\n';
    return out;
}

} // namespace calnet::server
