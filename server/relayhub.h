// RelayHub: the packet relay of one server process (docs/protocol.md "Relay"), for nodes that
// cannot reach each other directly (symmetric NATs, UDP blocked) and for every node's first
// packets while a direct path is still being tried. It runs over WebSocket on the API's own
// listener, so it works wherever HTTPS does.
//
//   accept() -> send {"type": "challenge", "serverKey", "challenge"} (an X25519 key of this
//     process and 32 random bytes)
//   -> hello within helloTimeout: {"type": "hello", "nodeKey", "nonce", "box"}, where box is
//      crypto_box(challenge, nonce, serverKey, node's private key): only the holder of the node
//      key can make it, and it is worth nothing to any other relay (other key, other challenge)
//   -> the node key must belong to a registered node whose key has not expired (else 4403)
//   -> {"type": "ready"}; from then on binary frames only:
//        node -> relay   0x01 | destination node key (32) | packet
//        relay -> node   0x02 | source node key (32) | packet
//        relay -> node   0x03 | node key (32): that node is not connected here (at most once a
//                        second per destination)
//
// The relay never looks into a packet. A packet for a node that is not connected, or whose
// queue already holds kMaxQueuedBytes (a slow reader), is dropped and counted: a slow reader
// costs itself packets and never stalls the others. A newer connection of the same node key
// replaces the older (4409). Nodes deleted or expired lose their connection within a second of
// the change (4403). Pings every pingInterval; three without a pong end the connection.
//
// Close codes: 4400 bad message, 4401 proof of the node key wrong, 4403 node unknown, deleted
// or expired, 4408 no hello in time, 4409 replaced by a newer connection of the same node, 1011
// the node table cannot be read right now (try again).
//
// Not thread-safe: everything runs on the server's event loop thread.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QTimer>

namespace calnet::server {

namespace http {
class WebSocket;
}

class RelayHub : public QObject {
    Q_OBJECT
public:
    // Whether a node key (32 raw bytes) belongs to a node that may use the relay now; Unavailable
    // when that cannot be told (the database is away): new hellos are closed with 1011 (try
    // again), connected nodes keep their connection.
    enum class KeyStatus { Allowed, Denied, Unavailable };
    using KeyCheck = std::function<KeyStatus(const QByteArray& nodeKey)>;

    struct Options {
        int helloTimeoutMs = 10'000;
        int pingIntervalMs = 15'000;
        qint64 maxQueuedBytes = 2 * 1024 * 1024; // per receiving client
    };

    struct Stats {
        qint64 packets = 0; // relayed
        qint64 bytes = 0;   // relayed payload bytes
        qint64 dropNoPeer = 0;
        qint64 dropQueueFull = 0;
        qint64 dropBadFrame = 0;
        qint64 authFailed = 0;
    };

    RelayHub(KeyCheck check, Options options, QObject* parent = nullptr);
    ~RelayHub() override;

    void accept(std::unique_ptr<http::WebSocket> socket);
    // Something changed in the node table: check every connected key again (coalesced, within
    // a second).
    void scheduleRecheck();
    // Closes every connection (1001).
    void shutdown();

    [[nodiscard]] int clientCount() const { return int(clients_.size()); }
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
    [[nodiscard]] const QByteArray& publicKey() const noexcept { return publicKey_; }

private:
    struct Client;

    void onText(Client* c, const QByteArray& message);
    void onBinary(Client* c, const QByteArray& message);
    void close(Client* c, quint16 code, const QString& reason);
    void remove(Client* c);
    void recheck();

    KeyCheck check_;
    Options options_;
    QByteArray publicKey_;
    QByteArray secretKey_;
    std::map<Client*, std::unique_ptr<Client>> clients_;
    QHash<QByteArray, Client*> byKey_; // ready clients only
    QTimer recheckTimer_;
    Stats stats_;
};

} // namespace calnet::server
