// MapHub: the WebSocket map streams of one server process (docs/protocol.md "GET /api/v1/map").
//
//   accept() --hello within helloTimeout--> authenticate (node id + credential, key not expired)
//     -> mark online (a change) -> send "map" (or "delta" since the client's `since`)
//     -> on every committed change (ours, or another server's via NOTIFY): "delta" with the
//        nodes changed after the client's last seq: upsert, or remove if deleted/expired
//     -> ping every pingInterval, abort after three intervals without a pong
//     -> on close: mark offline (a change) unless a newer stream of the node took over
//
// Pushes are coalesced: many commits in one event-loop turn become one delta per client, sent
// from a zero-timer right after the commits (well within the contract's one second).
// Close codes: 4400 bad message, 4401 bad or replaced credential, 4403 node deleted,
// 4408 no hello in time, 4410 node key expired.
//
// Not thread-safe: everything runs on the server's event loop thread.
#pragma once

#include <map>
#include <memory>

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

class QWebSocket;

namespace calnet::server {

class Metrics;
class Registry;
class Storage;
struct NodeRecord;
struct ServerConfig;

class MapHub : public QObject {
    Q_OBJECT
public:
    MapHub(Storage* storage, Registry* registry, const ServerConfig* config, Metrics* metrics,
           QObject* parent = nullptr);
    ~MapHub() override;

    // Takes a socket the HTTP server upgraded; anything but /api/v1/map is closed.
    void accept(std::unique_ptr<QWebSocket> socket);
    int clientCount() const { return int(m_clients.size()); }
    // Closes every stream (1001) and marks its node offline; used at shutdown.
    void shutdown();

public slots:
    void schedulePush();

private:
    struct Client;

    void onText(QWebSocket* socket, const QString& text);
    void onHello(Client& client, const QJsonObject& message);
    void onDisconnected(QWebSocket* socket);
    void closeClient(Client& client, int code, const QString& reason);
    void send(Client& client, const QJsonObject& message);
    void sendText(Client& client, const QString& text);
    void push();
    void pingAll();
    QString seenEndpoint(const Client& client, const QStringList& endpoints) const;

    Storage* m_storage;
    Registry* m_registry;
    const ServerConfig* m_config;
    Metrics* m_metrics;
    std::map<QWebSocket*, std::unique_ptr<Client>> m_clients;
    QTimer m_pingTimer;
    QTimer m_sweepTimer;
    bool m_pushScheduled = false;
    QElapsedTimer m_sinceLastPush; // pushes of a burst are coalesced (kPushIntervalMs)
};

} // namespace calnet::server
