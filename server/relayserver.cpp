#include "server/relayserver.h"

#include <QJsonObject>

#include "server/frontend.h"
#include "server/http/websocket.h"
#include "server/metrics.h"
#include "server/relayhub.h"
#include "server/relaykeys.h"
#include "server/stunserver.h"

namespace calnet::server {

namespace {

const QByteArray kRelayPath = QByteArrayLiteral("/api/v1/relay");
constexpr int kKeysPollMs = 2'000;
constexpr int kExpiryCheckMs = 10'000;

} // namespace

RelayServer::RelayServer(ServerConfig config, QUrl coordination, QObject* parent)
    : QObject(parent), config_(std::move(config)), metrics_(std::make_unique<Metrics>()) {
    keys_ = std::make_unique<RelayKeys>(std::move(coordination), config_.relayToken, kKeysPollMs,
                                        config_.clock);
    RelayHub::Options options;
    options.helloTimeoutMs = config_.helloTimeoutMs;
    options.pingIntervalMs = config_.pingIntervalMs;
    relay_ = std::make_unique<RelayHub>([this](const QByteArray& key) { return keys_->check(key); },
                                        options);
    connect(keys_.get(), &RelayKeys::changed, relay_.get(), &RelayHub::scheduleRecheck);
    expiryTimer_.setInterval(kExpiryCheckMs);
    connect(&expiryTimer_, &QTimer::timeout, relay_.get(), &RelayHub::scheduleRecheck);
}

RelayServer::~RelayServer() {
    shutdown();
}

bool RelayServer::start(QString* error) {
    listener_ = std::make_unique<http::HttpListener>(static_cast<http::Handler*>(this),
                                                     listenerLimits(config_));
    if (!openListeners(config_, *listener_, &stun_, error)) {
        return false;
    }
    keys_->start();
    expiryTimer_.start();
    return true;
}

void RelayServer::shutdown() {
    if (shutDown_) {
        return;
    }
    shutDown_ = true;
    expiryTimer_.stop();
    if (listener_) {
        listener_->close();
    }
    relay_->shutdown();
}

quint16 RelayServer::port() const {
    return listener_ ? listener_->port() : 0;
}

quint16 RelayServer::stunPort() const {
    return stun_ ? stun_->port() : 0;
}

RelayServer::Reply RelayServer::counted(Reply reply) {
    metrics_->countHttp(reply.status);
    return reply;
}

http::Handler::Decision RelayServer::onHead(const http::Request& head, const QHostAddress&,
                                            Reply* answer) {
    if (head.path == kRelayPath && head.method == "GET" &&
        head.headerHasToken("upgrade", "websocket")) {
        return Decision::WebSocket;
    }
    *answer = counted(route(head));
    return Decision::Answer;
}

http::Response RelayServer::onRequest(const http::Request& request, const QHostAddress&) {
    return counted(route(request));
}

void RelayServer::onWebSocket(std::unique_ptr<http::WebSocket> socket, const QHostAddress&) {
    metrics_->countHttp(101);
    prepareRelaySocket(*socket);
    relay_->accept(std::move(socket));
}

RelayServer::Reply RelayServer::route(const http::Request& request) {
    const bool known =
        request.path == "/api/v1/info" || request.path == "/metrics" || request.path == kRelayPath;
    if (!known) {
        return errorResponse(ApiError::notFound(QStringLiteral("no such endpoint")));
    }
    if (request.method != "GET") {
        return errorResponse(ApiError::methodNotAllowed(
            QStringLiteral("%1 is not allowed here").arg(QString::fromLatin1(request.method))));
    }
    if (request.path == kRelayPath) {
        return errorResponse(ApiError::badRequest(QStringLiteral("this endpoint is a WebSocket")));
    }
    if (request.path == "/api/v1/info") {
        return jsonResponse(QJsonObject{{QStringLiteral("version"), QStringLiteral(CALNET_VERSION)},
                                        {QStringLiteral("relay"), true},
                                        {QStringLiteral("keys"), keys_->size()}});
    }
    Metrics::Gauges g;
    g.coordination = false;
    g.relayKnownKeys = keys_->size();
    g.relayKeysAgeSeconds = keys_->ageSeconds();
    addFrontendGauges(g, listener_.get(), relay_.get(), stun_.get());
    Reply r;
    r.contentType = QByteArrayLiteral("text/plain; version=0.0.4");
    r.body = metrics_->render(g);
    return r;
}

} // namespace calnet::server
