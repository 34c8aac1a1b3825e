#include "server/frontend.h"

#include <QFile>
#include <QHostAddress>
#include <QJsonDocument>
#include <QSslCertificate>
#include <QSslKey>

#include "server/http/websocket.h"
#include "server/relayhub.h"
#include "server/requests.h"
#include "server/stunserver.h"

namespace calnet::server {

namespace {

QHostAddress addressOf(const QString& host) {
    return host == QStringLiteral("localhost") ? QHostAddress(QHostAddress::LocalHost)
                                               : QHostAddress(host);
}

} // namespace

http::ListenerLimits listenerLimits(const ServerConfig& config) {
    http::ListenerLimits limits;
    limits.maxConnections = config.maxConnections;
    limits.maxConnectionsPerSource = config.maxConnectionsPerSource;
    limits.headTimeoutMs = config.headTimeoutMs;
    limits.bodyTimeoutMs = config.headTimeoutMs;
    limits.idleTimeoutMs = config.idleTimeoutMs;
    limits.maxBody = std::size_t(kMaxBodyBytes);
    limits.maxWebSocketMessage = std::size_t(kMaxBodyBytes);
    return limits;
}

bool openListeners(const ServerConfig& config, http::HttpListener& listener,
                   std::unique_ptr<StunServer>* stun, QString* error) {
    if (!config.tlsCertFile.isEmpty() || !config.tlsKeyFile.isEmpty()) {
        QFile certFile(config.tlsCertFile);
        QFile keyFile(config.tlsKeyFile);
        if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read --tls-cert/--tls-key");
            return false;
        }
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll());
        const QByteArray keyPem = keyFile.readAll();
        QSslKey key(keyPem, QSsl::Rsa);
        if (key.isNull()) {
            key = QSslKey(keyPem, QSsl::Ec);
        }
        if (chain.isEmpty() || key.isNull()) {
            *error = QStringLiteral("--tls-cert/--tls-key are not a PEM certificate and key");
            return false;
        }
        listener.setTls(chain.front(), key);
    }
    QString why;
    if (!listener.listen(addressOf(config.listenHost), config.listenPort, &why)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(config.listenHost)
                     .arg(config.listenPort)
                     .arg(why);
        return false;
    }
    if (config.stunPort) {
        auto server = std::make_unique<StunServer>();
        if (!server->listen(addressOf(config.stunHost), *config.stunPort, &why)) {
            *error = QStringLiteral("cannot listen for STUN on UDP %1:%2: %3")
                         .arg(config.stunHost)
                         .arg(*config.stunPort)
                         .arg(why);
            listener.close();
            return false;
        }
        *stun = std::move(server);
    }
    return true;
}

void addFrontendGauges(Metrics::Gauges& g, const http::HttpListener* listener,
                       const RelayHub* relay, const StunServer* stun) {
    if (listener) {
        const http::ListenerStats& st = listener->stats();
        g.httpConnections = listener->connections();
        g.httpAccepted = st.accepted;
        g.httpRefusedTotalCap = st.refusedTotalCap;
        g.httpRefusedSourceCap = st.refusedSourceCap;
        g.httpTimeouts = st.timeouts;
        g.httpBadRequests = st.badRequests;
        g.httpAcceptErrors = st.acceptErrors;
    }
    if (relay) {
        const RelayHub::Stats& st = relay->stats();
        g.relayClients = relay->clientCount();
        g.relayPackets = st.packets;
        g.relayBytes = st.bytes;
        g.relayDrops = {{QStringLiteral("no_peer"), st.dropNoPeer},
                        {QStringLiteral("queue_full"), st.dropQueueFull},
                        {QStringLiteral("bad_frame"), st.dropBadFrame}};
        g.relayAuthFailed = st.authFailed;
    }
    if (stun) {
        const StunServer::Stats& st = stun->stats();
        g.stun = {{QStringLiteral("answered"), st.answered},
                  {QStringLiteral("malformed"), st.malformed},
                  {QStringLiteral("rate_limited"), st.rateLimited},
                  {QStringLiteral("too_short"), st.tooShort}};
    }
}

void prepareRelaySocket(http::WebSocket& socket) {
    constexpr int kRelaySendBufferBytes = 512 * 1024;
    socket.setSendBufferSize(kRelaySendBufferBytes);
    socket.setLowDelay();
}

http::Response jsonResponse(const QJsonObject& object, int status) {
    http::Response r;
    r.status = status;
    r.body = QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
    return r;
}

http::Response errorResponse(const ApiError& e) {
    return jsonResponse(e.toJson(), e.status);
}

QString hostPortText(const QString& host, quint16 port) {
    const QString h =
        host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    return h + QLatin1Char(':') + QString::number(port);
}

} // namespace calnet::server
