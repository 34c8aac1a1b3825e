// RelayServer: a relay-only calnet-server process (`calnet-server relay`), for a second region
// (docs/protocol.md "Several relays"): the same relay (RelayHub) and STUN listener the
// coordination server has, without its database. It lets in the node keys the coordination
// server lists (RelayKeys), which in turn lists this process with --relay NAME=URL.
//
//   /api/v1/relay    WebSocket upgrade -> RelayHub
//   /api/v1/info     GET: {"version", "relay": true, "keys": N}
//   /metrics         GET: the relay's, STUN's and HTTP's counters, the node keys known
//   anything else    404
//
// Not thread-safe: everything runs on the event loop thread.
#pragma once

#include <memory>

#include <QObject>
#include <QTimer>
#include <QUrl>

#include "server/http/httplistener.h"
#include "server/serverconfig.h"

namespace calnet::server {

class Metrics;
class RelayHub;
class RelayKeys;
class StunServer;

class RelayServer : public QObject, private http::Handler {
    Q_OBJECT
public:
    // config: listen, TLS, STUN, limits, relayToken; coordination: the coordination server.
    RelayServer(ServerConfig config, QUrl coordination, QObject* parent = nullptr);
    ~RelayServer() override;

    bool start(QString* error);
    void shutdown();
    [[nodiscard]] quint16 port() const;
    [[nodiscard]] quint16 stunPort() const;

private:
    using Reply = http::Response;
    Decision onHead(const http::Request& head, const QHostAddress& peer, Reply* answer) override;
    Reply onRequest(const http::Request& request, const QHostAddress& peer) override;
    void onWebSocket(std::unique_ptr<http::WebSocket> socket, const QHostAddress& peer) override;
    Reply route(const http::Request& request);
    Reply counted(Reply reply);

    ServerConfig config_;
    std::unique_ptr<Metrics> metrics_;
    std::unique_ptr<RelayKeys> keys_;
    std::unique_ptr<RelayHub> relay_;
    std::unique_ptr<http::HttpListener> listener_;
    std::unique_ptr<StunServer> stun_;
    QTimer expiryTimer_; // keys expire by the clock too, without a change
    bool shutDown_ = false;
};

} // namespace calnet::server
