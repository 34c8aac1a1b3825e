#include "helper/service/controlclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkInterface>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QWebSocket>

#include <algorithm>

#include "core/net/ipaddress.h"

namespace calnet::helper {

using namespace Qt::StringLiterals;

namespace {

// Longest error text from the server we pass on.
constexpr qsizetype kMaxServerMessage = 200;
// A register reply is small; anything bigger is not calnet-server.
constexpr qint64 kMaxRegisterReply = 64 * 1024;

QUrl withPath(QUrl url, const QString& path) {
    QString p = url.path();
    while (p.endsWith(u'/'))
        p.chop(1);
    url.setPath(p + path);
    return url;
}

} // namespace

QLatin1StringView ControlClient::toString(State state) {
    switch (state) {
    case State::Idle:
        return "idle"_L1;
    case State::Connecting:
        return "connecting"_L1;
    case State::Connected:
        return "connected"_L1;
    case State::Reconnecting:
        return "reconnecting"_L1;
    case State::Error:
        return "error"_L1;
    }
    return "error"_L1;
}

ControlClient::ControlClient(const QString& serverUrl, Options options, QObject* parent)
    : QObject(parent), base_(serverUrl), options_(std::move(options)),
      http_(new QNetworkAccessManager(this)), backoff_(options_.minBackoff, options_.maxBackoff) {
    reconnectTimer_.setSingleShot(true);
    connect(&reconnectTimer_, &QTimer::timeout, this, &ControlClient::connectNow);
    endpointTimer_.setInterval(options_.endpointPoll);
    connect(&endpointTimer_, &QTimer::timeout, this, &ControlClient::refreshEndpoints);
    pingTimer_.setInterval(options_.pingInterval);
    connect(&pingTimer_, &QTimer::timeout, this, &ControlClient::checkIdle);
}

ControlClient::~ControlClient() {
    dropSocket();
}

QUrl ControlClient::registerUrl() const {
    return withPath(base_, u"/api/v1/register"_s);
}

QUrl ControlClient::mapUrl() const {
    QUrl url = withPath(base_, u"/api/v1/map"_s);
    url.setScheme(base_.scheme() == "https"_L1 ? u"wss"_s : u"ws"_s);
    return url;
}

// ---- registration ------------------------------------------------------------------------------

namespace {

// An error reply of the server ({"error": {"code", "message"}}), its message cut to size.
ControlClient::RegisterError serverError(int status, const QJsonObject& reply,
                                         const QString& fallback) {
    const QJsonObject e = reply.value("error"_L1).toObject();
    ControlClient::RegisterError error;
    error.httpStatus = status;
    error.code = e.value("code"_L1).toString(u"http_%1"_s.arg(status));
    error.message = e.value("message"_L1).toString(fallback);
    error.message.truncate(kMaxServerMessage);
    return error;
}

} // namespace

void ControlClient::fetchInfo(InfoCallback callback) {
    QNetworkRequest http(withPath(base_, u"/api/v1/info"_s));
    http.setTransferTimeout(int(options_.registerTimeout.count()));
    QNetworkReply* reply = http_->get(http);
    connect(reply, &QNetworkReply::finished, this, [reply, callback = std::move(callback)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject o = QJsonDocument::fromJson(reply->read(kMaxRegisterReply)).object();
        if (status == 0) {
            callback(std::nullopt, RegisterError{0, u"network"_s, reply->errorString()});
            return;
        }
        if (status != 200) {
            callback(std::nullopt, serverError(status, o, reply->errorString()));
            return;
        }
        if (!o.value("auth"_L1).isArray()) {
            callback(std::nullopt,
                     RegisterError{status, u"bad_reply"_s,
                                   u"this is not a Calnet server (no \"auth\" in its info)"_s});
            return;
        }
        callback(o, RegisterError{status, {}, {}});
    });
}

void ControlClient::deleteNode(const QString& credential, DoneCallback callback) {
    QNetworkRequest http(withPath(base_, u"/api/v1/logout"_s));
    http.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    http.setTransferTimeout(int(options_.registerTimeout.count()));
    QNetworkReply* reply = http_->post(
        http,
        QJsonDocument(QJsonObject{{"credential"_L1, credential}}).toJson(QJsonDocument::Compact));
    connect(reply, &QNetworkReply::finished, this, [reply, callback = std::move(callback)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject o = QJsonDocument::fromJson(reply->read(kMaxRegisterReply)).object();
        if (status == 0)
            callback(RegisterError{0, u"network"_s, reply->errorString()});
        else if (status != 200)
            callback(serverError(status, o, reply->errorString()));
        else
            callback(RegisterError{200, {}, {}});
    });
}

void ControlClient::registerNode(const RegisterRequest& request, RegisterCallback callback) {
    QJsonObject body{{"nodeKey"_L1, request.nodeKey},
                     {"discoKey"_L1, request.discoKey},
                     {"hostname"_L1, request.hostname},
                     {"os"_L1, request.os},
                     {"clientVersion"_L1, request.clientVersion}};
    if (!request.authKey.isEmpty())
        body.insert("authKey"_L1, request.authKey);
    if (!request.credential.isEmpty())
        body.insert("credential"_L1, request.credential);
    if (!request.idToken.isEmpty()) {
        body.insert("idToken"_L1, request.idToken);
        if (!request.nonce.isEmpty())
            body.insert("nonce"_L1, request.nonce);
    }
    QNetworkRequest http(registerUrl());
    http.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    http.setTransferTimeout(int(options_.registerTimeout.count()));
    QNetworkReply* reply = http_->post(http, QJsonDocument(body).toJson(QJsonDocument::Compact));
    connect(reply, &QNetworkReply::finished, this, [reply, callback = std::move(callback)] {
        reply->deleteLater();
        RegisterError error;
        error.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray data = reply->read(kMaxRegisterReply);
        const QJsonObject o = QJsonDocument::fromJson(data).object();
        if (error.httpStatus == 0) {
            error.code = u"network"_s;
            error.message = reply->errorString();
            callback(std::nullopt, error);
            return;
        }
        if (error.httpStatus != 200) {
            callback(std::nullopt, serverError(error.httpStatus, o, reply->errorString()));
            return;
        }
        Registration r;
        r.nodeId = o.value("nodeId"_L1).toInteger(0);
        r.user = o.value("user"_L1).toString();
        r.network = o.value("network"_L1).toString();
        for (const QJsonValue& v : o.value("addresses"_L1).toArray())
            r.addresses << v.toString();
        for (const QJsonValue& v : o.value("prefixes"_L1).toArray())
            r.prefixes << v.toString();
        r.credential = o.value("credential"_L1).toString();
        r.keyExpiry = o.value("keyExpiry"_L1).toInteger(0);
        const bool addressesOk =
            !r.addresses.isEmpty() &&
            std::all_of(r.addresses.begin(), r.addresses.end(),
                        [](const QString& a) {
                            return net::IpPrefix::parse(a.toStdString()).has_value();
                        }) &&
            std::all_of(r.prefixes.begin(), r.prefixes.end(), [](const QString& a) {
                return net::IpPrefix::parse(a.toStdString()).has_value();
            });
        if (r.nodeId <= 0 || r.credential.isEmpty() || !addressesOk) {
            error.code = u"bad_reply"_s;
            error.message = u"the server's registration reply is not what the protocol says"_s;
            callback(std::nullopt, error);
            return;
        }
        callback(r, error);
    });
}

// ---- map stream --------------------------------------------------------------------------------

void ControlClient::restoreMap(NetworkMap map) {
    map_ = std::move(map);
}

void ControlClient::start(qint64 nodeId, const QString& credential, qint64 since) {
    dropSocket();
    reconnectTimer_.stop();
    nodeId_ = nodeId;
    credential_ = credential;
    since_ = since;
    map_.setSelfId(nodeId);
    setState(live_ ? State::Reconnecting : State::Connecting);
    endpointTimer_.start();
    connectNow();
}

void ControlClient::resumeAfterBackoff() {
    if (state_ == State::Idle || state_ == State::Error)
        return;
    setState(State::Reconnecting);
    scheduleReconnect();
}

void ControlClient::stop() {
    reconnectTimer_.stop();
    endpointTimer_.stop();
    pingTimer_.stop();
    dropSocket();
    setState(State::Idle);
}

void ControlClient::fail(const QString& error) {
    reconnectTimer_.stop();
    endpointTimer_.stop();
    pingTimer_.stop();
    dropSocket();
    setState(State::Error, error);
}

void ControlClient::connectNow() {
    dropSocket();
    helloSent_ = false;
    socket_ = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    QWebSocket* socket = socket_;
    connect(socket, &QWebSocket::connected, this, &ControlClient::onConnected);
    connect(socket, &QWebSocket::textMessageReceived, this, &ControlClient::onMessage);
    connect(socket, &QWebSocket::pong, this, [this] { lastReceived_.start(); });
    connect(socket, &QWebSocket::disconnected, this, &ControlClient::onSocketGone);
    connect(socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this,
            [this, socket] {
                // A failed connect may not emit disconnected(); a failure on an open socket does.
                if (socket->state() == QAbstractSocket::UnconnectedState)
                    onSocketGone();
            });
    lastReceived_.start();
    pingTimer_.start();
    socket->open(mapUrl());
}

void ControlClient::onConnected() {
    if (!socket_)
        return;
    lastReceived_.start();
    reported_ = currentEndpoints();
    reportedRelay_ = homeRelay_;
    const qint64 since = map_.hasMap() ? map_.seq() : since_;
    QJsonObject hello{{"type"_L1, "hello"_L1},
                      {"nodeId"_L1, nodeId_},
                      {"credential"_L1, credential_},
                      {"since"_L1, since},
                      {"endpoints"_L1, QJsonArray::fromStringList(reported_)}};
    if (!reportedRelay_.isEmpty())
        hello.insert("relay"_L1, reportedRelay_);
    socket_->sendTextMessage(
        QString::fromUtf8(QJsonDocument(hello).toJson(QJsonDocument::Compact)));
    helloSent_ = true;
}

void ControlClient::onMessage(const QString& text) {
    lastReceived_.start();
    const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString type = message.value("type"_L1).toString();
    QString problem;
    bool applied = false;
    if (type == "map"_L1)
        applied = map_.applyMap(message, &problem);
    else if (type == "delta"_L1)
        applied = map_.applyDelta(message, &problem);
    else
        return; // future message types
    if (!applied) {
        qWarning("calnetd: control: ignoring a bad %s message: %s", qPrintable(type),
                 qPrintable(problem));
        return;
    }
    backoff_.reset();
    live_ = true;
    setState(State::Connected);
    emit mapChanged();
}

void ControlClient::onSocketGone() {
    QWebSocket* socket = socket_;
    if (!socket)
        return;
    const int code = int(socket->closeCode());
    const QString reason = socket->closeReason();
    dropSocket();
    pingTimer_.stop();
    if (state_ == State::Idle || state_ == State::Error)
        return;
    switch (code) {
    case kCloseUnauthorized:
        endpointTimer_.stop();
        setState(State::Error, u"the server refused this device's credential (%1)"_s.arg(
                                   reason.isEmpty() ? u"4401"_s : reason));
        emit credentialRejected();
        return;
    case kCloseNodeDeleted:
        endpointTimer_.stop();
        setState(State::Error, u"this device was removed from the network"_s);
        emit nodeDeleted();
        return;
    case kCloseKeyExpired:
        setState(State::Reconnecting);
        emit keyExpired();
        return;
    default:
        break;
    }
    setState(State::Reconnecting);
    scheduleReconnect();
}

void ControlClient::scheduleReconnect() {
    using std::chrono::milliseconds;
    reconnectTimer_.start(backoff_.nextJittered(QRandomGenerator::global()->generateDouble()));
}

void ControlClient::setState(State state, const QString& error) {
    if (state == state_ && error == error_)
        return;
    state_ = state;
    error_ = error;
    emit stateChanged();
}

void ControlClient::dropSocket() {
    if (!socket_)
        return;
    QWebSocket* socket = socket_;
    socket_ = nullptr;
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void ControlClient::checkIdle() {
    if (!socket_ || socket_->state() != QAbstractSocket::ConnectedState)
        return;
    if (lastReceived_.isValid() && lastReceived_.elapsed() > options_.idleTimeout.count()) {
        qWarning("calnetd: control: nothing from the server for %lld ms; reconnecting",
                 qint64(lastReceived_.elapsed()));
        socket_->abort(); // disconnected() follows
        if (socket_)
            onSocketGone();
        return;
    }
    socket_->ping();
}

void ControlClient::setHomeRelay(const QString& region) {
    if (region == homeRelay_)
        return;
    homeRelay_ = region;
    refreshEndpoints();
}

QStringList ControlClient::currentEndpoints() const {
    return options_.endpoints ? options_.endpoints() : QStringList();
}

void ControlClient::refreshEndpoints() {
    if (!socket_ || !helloSent_ || socket_->state() != QAbstractSocket::ConnectedState)
        return;
    const QStringList now = currentEndpoints();
    if (now == reported_ && homeRelay_ == reportedRelay_)
        return;
    reported_ = now;
    reportedRelay_ = homeRelay_;
    QJsonObject message{{"type"_L1, "endpoints"_L1},
                        {"endpoints"_L1, QJsonArray::fromStringList(now)}};
    if (!reportedRelay_.isEmpty())
        message.insert("relay"_L1, reportedRelay_);
    socket_->sendTextMessage(
        QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
}

// ---- local endpoints ---------------------------------------------------------------------------

QStringList localEndpoints(std::uint16_t port, const QString& excludeInterface) {
    QStringList out;
    for (const QNetworkInterface& iface : QNetworkInterface::allInterfaces()) {
        const auto flags = iface.flags();
        if (!(flags & QNetworkInterface::IsUp) || (flags & QNetworkInterface::IsLoopBack) ||
            (flags & QNetworkInterface::IsPointToPoint) || iface.name() == excludeInterface)
            continue;
        for (const QNetworkAddressEntry& entry : iface.addressEntries()) {
            const QHostAddress a = entry.ip();
            if (a.isLoopback() || a.isNull() || a.isMulticast())
                continue;
            if (a.protocol() == QAbstractSocket::IPv4Protocol) {
                if (a.isLinkLocal())
                    continue;
                out << u"%1:%2"_s.arg(a.toString()).arg(port);
            } else if (a.protocol() == QAbstractSocket::IPv6Protocol) {
                if (a.isLinkLocal() || a.isSiteLocal() || a == QHostAddress::AnyIPv6)
                    continue;
                QHostAddress plain = a;
                plain.setScopeId(QString());
                out << u"[%1]:%2"_s.arg(plain.toString()).arg(port);
            }
        }
    }
    out.removeDuplicates();
    return out;
}

} // namespace calnet::helper
