#include "helper/service/peerstats.h"

#include <QHash>
#include <QJsonArray>

#include <optional>
#include <vector>

#include "core/config/keyencoding.h"
#include "helper/datapath/pathmanager.h"
#include "helper/datapath/tunnel.h"
#include "helper/ipc/protocol.h"
#include "helper/service/connection.h"
#include "helper/service/networkmap.h"

namespace calnet::helper {

namespace {

// A WireGuard peer without path finding: direct when it has an endpoint and a recent handshake.
constexpr qint64 kRecentHandshake = 180; // REJECT_AFTER_TIME

} // namespace

QJsonObject peersSnapshot(Connection* connection, const NetworkMap* map, const PathManager* paths,
                          qint64 nowSeconds) {
    QJsonArray peers;
    if (!connection)
        return {{"peers", peers}};
    // Only plain copies are taken under the device lock (the packet workers' lock); the JSON
    // and the network-map lookups are built after it is released.
    struct PeerCopy {
        crypto::PublicKey publicKey;
        std::vector<net::IpPrefix> allowedIps;
        std::optional<net::SocketAddress> endpoint;
        std::optional<std::int64_t> lastHandshake;
        std::uint64_t rxBytes = 0;
        std::uint64_t txBytes = 0;
        int persistentKeepalive = 0;
    };
    std::vector<PeerCopy> copies;
    connection->tunnel().withDevice(
        [&](wireguard::Device& device, wireguard::Now, wireguard::Actions&) {
            copies.reserve(device.peers().size());
            for (const wireguard::Peer* peer : device.peers()) {
                PeerCopy c{peer->publicKey(),
                           device.allowedIpsOf(*peer),
                           peer->endpoint,
                           std::nullopt,
                           peer->rxBytes,
                           peer->txBytes,
                           int(peer->timers.persistentKeepalive())};
                if (peer->lastHandshake)
                    c.lastHandshake = peer->lastHandshake->unixSeconds;
                copies.push_back(std::move(c));
            }
        });

    QHash<QString, const MapNode*> nodes;
    if (map)
        for (const auto& [id, node] : map->peers())
            nodes.insert(node.nodeKey, &node);
    for (const PeerCopy& peer : copies) {
        QJsonArray allowed;
        for (const auto& prefix : peer.allowedIps)
            allowed.append(QString::fromStdString(prefix.toString()));
        std::optional<qint64> age;
        if (peer.lastHandshake)
            age = std::max<qint64>(0, nowSeconds - *peer.lastHandshake);
        const QString key = QString::fromStdString(config::encodeKeyBase64(peer.publicKey));
        const MapNode* node = nodes.value(key);
        QJsonObject json{
            {"publicKey", key},
            {"name", node ? QJsonValue(node->hostname) : QJsonValue()},
            {"allowedIps", allowed},
            {"endpoint", peer.endpoint
                             ? QJsonValue(QString::fromStdString(peer.endpoint->toString()))
                             : QJsonValue()},
            {"lastHandshake",
             peer.lastHandshake ? QJsonValue(qint64(*peer.lastHandshake)) : QJsonValue()},
            {"handshakeAgeSeconds", age ? QJsonValue(*age) : QJsonValue()},
            {"health", ipc::toString(ipc::healthFor(age))},
            {"rxBytes", qint64(peer.rxBytes)},
            {"txBytes", qint64(peer.txBytes)},
            {"persistentKeepalive", peer.persistentKeepalive},
        };
        const auto view = paths ? paths->peer(peer.publicKey) : std::nullopt;
        if (view) {
            const disco::PeerPath& p = view->path;
            json.insert("path", disco::toString(p.kind));
            // The WireGuard endpoint of a mesh peer is a handle: show where packets really go.
            QJsonValue where;
            if (p.kind == disco::PathKind::Direct && p.direct)
                where = QString::fromStdString(p.direct->toString());
            else if (p.kind == disco::PathKind::Relayed)
                where = QString::fromStdString(view->relayName);
            // endpoint: where WireGuard packets go over UDP (the direct path, or the unconfirmed
            // first candidate when there is no path); null when they go through the relay.
            json.insert("endpoint", p.direct && p.kind != disco::PathKind::Relayed
                                        ? QJsonValue(QString::fromStdString(p.direct->toString()))
                                        : QJsonValue());
            json.insert("pathEndpoint", where);
            json.insert("latencyMs",
                        p.latency ? QJsonValue(double(p.latency->count()) / 1e6) : QJsonValue());
            json.insert("pathSince", qint64(view->sinceMs / 1000));
            json.insert("pathReason", p.reason.empty()
                                          ? QJsonValue()
                                          : QJsonValue(QString::fromStdString(p.reason)));
        } else {
            const bool live = peer.endpoint && age && *age < kRecentHandshake;
            json.insert("path", live ? "direct" : "none");
            json.insert("pathEndpoint", live ? json.value("endpoint") : QJsonValue());
            json.insert("latencyMs", QJsonValue());
            json.insert("pathSince", QJsonValue());
            json.insert("pathReason", live             ? QJsonValue()
                                      : !peer.endpoint ? QJsonValue("no endpoint configured")
                                      : !peer.lastHandshake
                                          ? QJsonValue("no handshake yet")
                                          : QJsonValue("no handshake for 3 minutes"));
        }
        if (node) {
            json.insert("hostname", node->hostname);
            json.insert("online", node->online);
            json.insert("nodeId", node->id);
            json.insert("os", node->os);
            json.insert("addresses", QJsonArray::fromStringList(node->addresses));
        }
        peers.append(json);
    }
    return {{"peers", peers}};
}

} // namespace calnet::helper
