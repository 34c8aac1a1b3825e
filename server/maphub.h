// MapHub: the WebSocket map streams of one server process (docs/protocol.md "GET /api/v1/map").
//
//   accept() --hello within helloTimeout--> authenticate (node id + credential, key not expired)
//     -> mark online (a change) -> send "map" (or "delta" since the client's `since`)
//     -> on every committed change (ours, or another server's via NOTIFY): "delta" with the
//        nodes changed after the client's last seq: upsert, or remove if deleted/expired
//     -> ping every pingInterval, abort after three intervals without a pong
//     -> on close: mark offline (a change) unless a newer stream of the node took over
//
// Liveness: start() registers this process in the servers table; every heartbeat interval
// housekeeping() renews that row, marks offline the nodes whose streams were held by a server
// silent for the server timeout (killed, crashed, its host gone), and prunes changes older than
// the retention. A client resuming from before the pruned changes, or left behind them, gets a
// full map. A server that finds its own row gone (another server took it for dead) closes its
// streams with 4503 so that its nodes reconnect and come back online.
//
// Pushes are coalesced: many commits in one event-loop turn become one delta per client, sent
// from a zero-timer right after the commits (well within the contract's one second).
// Budget: a node may send 40 messages at once and 20 a second; endpoint updates are written
// at most every 500 ms per node, later ones merged into the next write.
// Close codes: 4400 bad message, 4401 bad or replaced credential, 4403 node deleted,
// 4408 no hello in time, 4410 node key expired, 4429 too far behind or too many messages,
// 4503 reconnect (this server was taken for dead).
//
// Not thread-safe: everything runs on the server's event loop thread.
#pragma once

#include <map>
#include <memory>

#include <QElapsedTimer>
#include <QJsonArray>
#include <QObject>
#include <QTimer>

namespace calnet::server {

namespace http {
class WebSocket;
}
class Metrics;
class Registry;
class Storage;
struct NodeRecord;
struct NodeReport;
struct ServerConfig;

class MapHub : public QObject {
    Q_OBJECT
public:
    MapHub(Storage* storage, Registry* registry, const ServerConfig* config, Metrics* metrics,
           QObject* parent = nullptr);
    ~MapHub() override;

    // Takes a socket the HTTP server upgraded; anything but /api/v1/map is closed.
    void accept(std::unique_ptr<http::WebSocket> socket);
    int clientCount() const { return int(m_clients.size()); }
    // Registers this server process (its first heartbeat) and starts the housekeeping timer;
    // false and a reason when the database refuses.
    bool start(QString* error);
    // Closes every stream (1001) and marks its node offline, then removes this server's row;
    // used at shutdown.
    void shutdown();
    // This process in the servers table and in nodes.server: host/pid/random.
    const QString& serverId() const { return m_serverId; }
    // The relay regions every full map carries (what /api/v1/info lists as "relays").
    void setRelays(const QJsonArray& relays) { m_relays = relays; }

public slots:
    void schedulePush();

private:
    struct Client;
    QJsonArray m_relays;

    void onText(http::WebSocket* socket, const QByteArray& text);
    void onHello(Client& client, const QJsonObject& message);
    // Spends one of the client's message tokens; false when it has none left.
    bool withinBudget(Client& client);
    // By value: the merged list it is often given lives in client.pendingEndpoints, which it
    // clears.
    void writeEndpoints(Client& client, NodeReport report);
    void onDisconnected(http::WebSocket* socket);
    // Removes a client; its node goes offline unless a newer stream took over.
    void forget(std::map<http::WebSocket*, std::unique_ptr<Client>>::iterator it);
    void closeClient(Client& client, int code, const QString& reason);
    void send(Client& client, const QJsonObject& message);
    void sendText(Client& client, const QByteArray& text);
    void push();
    // A full map at `seq` (on hello, or for a client whose next changes were pruned).
    void sendMap(Client& client, qint64 seq);
    // Closes the stream of a node that was deleted (own = nullptr), expired or re-registered
    // with another credential; true when it did.
    bool closeIfRevoked(Client& client, const NodeRecord* own, qint64 now);
    void pingAll();
    // Every heartbeat interval: heartbeat, mark nodes of dead servers offline, prune changes.
    void housekeeping();
    QString seenEndpoint(const Client& client, const QStringList& endpoints) const;

    Storage* m_storage;
    Registry* m_registry;
    const ServerConfig* m_config;
    Metrics* m_metrics;
    std::map<http::WebSocket*, std::unique_ptr<Client>> m_clients;
    QTimer m_pingTimer;
    QTimer m_sweepTimer;
    QTimer m_houseTimer;
    QString m_serverId;
    bool m_pushScheduled = false;
    QElapsedTimer m_sinceLastPush; // pushes of a burst are coalesced (kPushIntervalMs)
};

} // namespace calnet::server
