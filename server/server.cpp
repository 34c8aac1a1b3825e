#include "server/server.h"

#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>

#include "server/maphub.h"
#include "server/metrics.h"
#include "server/registry.h"
#include "server/requests.h"
#include "server/secrets.h"
#include "server/storage.h"

namespace calnet::server {

namespace {

constexpr int kListenBacklog = 1024;
constexpr int kStreamSendBuffer = 128 * 1024;

const QString kVersion = QStringLiteral(CALNET_VERSION);

using Method = QHttpServerRequest::Method;

QString methodName(Method m) {
    switch (m) {
    case Method::Get:
        return QStringLiteral("GET");
    case Method::Post:
        return QStringLiteral("POST");
    case Method::Delete:
        return QStringLiteral("DELETE");
    case Method::Put:
        return QStringLiteral("PUT");
    case Method::Patch:
        return QStringLiteral("PATCH");
    case Method::Head:
        return QStringLiteral("HEAD");
    default:
        return QStringLiteral("this method");
    }
}

} // namespace

Server::Server(ServerConfig config, QObject* parent)
    : QAbstractHttpServer(parent), m_config(std::move(config)),
      m_storage(std::make_unique<Storage>()),
      m_registry(std::make_unique<Registry>(m_storage.get(), &m_config)),
      m_metrics(std::make_unique<Metrics>()) {}

Server::~Server() {
    shutdown();
}

bool Server::start(QString* error) {
    if (!m_storage->open(m_config.database, error)) {
        return false;
    }
    m_hub = std::make_unique<MapHub>(m_storage.get(), m_registry.get(), &m_config, m_metrics.get());
    if (!m_hub->start(error)) {
        return false;
    }
    connect(m_storage.get(), &Storage::changed, m_hub.get(), &MapHub::schedulePush);
    connect(this, &QAbstractHttpServer::newWebSocketConnection, this, [this] {
        while (hasPendingWebSocketConnections()) {
            m_hub->accept(nextPendingWebSocketConnection());
        }
    });

    if (!m_config.tlsCertFile.isEmpty() || !m_config.tlsKeyFile.isEmpty()) {
        QFile certFile(m_config.tlsCertFile);
        QFile keyFile(m_config.tlsKeyFile);
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
        sslSetup(chain.front(), key);
    }

    QHostAddress address;
    if (m_config.listenHost == QStringLiteral("localhost")) {
        address = QHostAddress::LocalHost;
    } else {
        address.setAddress(m_config.listenHost);
    }
    if (m_config.tlsCertFile.isEmpty()) {
        // Our own listener for a deep accept queue: after a restart every node reconnects at
        // once, and Qt's default backlog of 50 turns that into SYN retries of 1, 3, 7… s.
        auto* tcp = new QTcpServer(this);
        tcp->setListenBacklogSize(kListenBacklog);
        if (tcp->listen(address, m_config.listenPort)) {
            bind(tcp);
            m_port = tcp->serverPort();
        } else {
            delete tcp;
            m_port = 0;
        }
    } else {
        m_port = listen(address, m_config.listenPort); // Qt 6.4 wraps TLS only in its own
    }
    if (m_port == 0) {
        *error = QStringLiteral("cannot listen on %1:%2")
                     .arg(m_config.listenHost)
                     .arg(m_config.listenPort);
        return false;
    }
    return true;
}

void Server::shutdown() {
    if (m_shutDown) {
        return;
    }
    m_shutDown = true;
    for (QTcpServer* s : servers()) {
        s->close();
    }
    if (m_hub) {
        m_hub->shutdown();
    }
}

bool Server::handleRequest(const QHttpServerRequest& request, QTcpSocket* socket) {
    // Qt 6.4 upgrades a WebSocket request after a handler took it ("handled") without writing
    // a reply; MapHub checks the path once the socket is upgraded.
    if (request.value(QByteArrayLiteral("upgrade")).compare("websocket", Qt::CaseInsensitive) ==
        0) {
        // A map stream carries little: a small kernel send buffer bounds what a node that
        // stops reading costs (the kernel would otherwise grow it to 4 MiB per socket); what
        // queues beyond it counts against sendQueueLimitBytes.
        socket->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, kStreamSendBuffer);
        return true;
    }
    const Reply reply = route(request);
    m_metrics->countHttp(reply.status);
    QHttpServerResponder responder = makeResponder(request, socket);
    responder.write(reply.body, reply.contentType,
                    static_cast<QHttpServerResponder::StatusCode>(reply.status));
    return true;
}

void Server::missingHandler(const QHttpServerRequest& request, QTcpSocket* socket) {
    const Reply reply = error(ApiError::notFound(QStringLiteral("no such endpoint")));
    makeResponder(request, socket)
        .write(reply.body, reply.contentType,
               static_cast<QHttpServerResponder::StatusCode>(reply.status));
}

Server::Reply Server::json(const QJsonObject& object, int status) {
    return {status, QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n',
            QByteArrayLiteral("application/json")};
}

Server::Reply Server::error(const ApiError& e) {
    return json(e.toJson(), e.status);
}

Server::Reply Server::route(const QHttpServerRequest& request) {
    if (request.body().size() > kMaxBodyBytes) {
        return error(ApiError::tooLarge(QStringLiteral("request body over 64 KiB")));
    }
    const QString path = request.url().path();
    const Method method = request.method();
    auto only = [&](Method allowed) -> std::optional<Reply> {
        if (method != allowed) {
            return error(ApiError::methodNotAllowed(
                QStringLiteral("%1 is not allowed here").arg(methodName(method))));
        }
        return std::nullopt;
    };
    if (path == QStringLiteral("/api/v1/info")) {
        if (auto r = only(Method::Get)) {
            return *r;
        }
        return json(QJsonObject{
            {QStringLiteral("version"), kVersion},
            {QStringLiteral("prefixes"), QJsonArray::fromStringList(m_config.prefixes.prefixes())},
            {QStringLiteral("relays"), QJsonArray()},
            {QStringLiteral("auth"), QJsonArray{QStringLiteral("authkey")}},
        });
    }
    if (path == QStringLiteral("/api/v1/register")) {
        if (auto r = only(Method::Post)) {
            return *r;
        }
        return registerNode(request);
    }
    if (path == QStringLiteral("/api/v1/map")) {
        if (auto r = only(Method::Get)) {
            return *r;
        }
        return error(ApiError::badRequest(QStringLiteral("this endpoint is a WebSocket")));
    }
    if (path == QStringLiteral("/metrics")) {
        if (auto r = only(Method::Get)) {
            return *r;
        }
        return metrics();
    }
    static const QString adminPrefix = QStringLiteral("/api/v1/admin/");
    if (path.startsWith(adminPrefix)) {
        if (!adminAuthorized(request)) {
            return error(ApiError::unauthorized(QStringLiteral("admin token missing or wrong")));
        }
        return admin(request, path.mid(adminPrefix.size()).split(QLatin1Char('/')));
    }
    return error(ApiError::notFound(QStringLiteral("no such endpoint")));
}

bool Server::adminAuthorized(const QHttpServerRequest& request) const {
    if (m_config.adminToken.isEmpty()) {
        return false; // no token configured: the admin API is off
    }
    for (const auto& [name, value] : request.headers()) {
        if (name.compare("authorization", Qt::CaseInsensitive) == 0) {
            static const QByteArray scheme = QByteArrayLiteral("Bearer ");
            if (!value.startsWith(scheme)) {
                return false;
            }
            return secrets::constantTimeEquals(QString::fromUtf8(value.mid(scheme.size())),
                                               m_config.adminToken);
        }
    }
    return false;
}

Server::Reply Server::registerNode(const QHttpServerRequest& request) {
    RegisterRequest parsed;
    ApiError e = parseRegisterRequest(request.body(), &parsed);
    Registration registration;
    if (e.ok()) {
        e = m_registry->registerNode(parsed, m_config.clock(), &registration);
    }
    m_metrics->countRegistration(e.ok() ? QStringLiteral("ok") : e.code);
    return e ? error(e) : json(registration.toJson(m_config));
}

Server::Reply Server::admin(const QHttpServerRequest& request, const QStringList& parts) {
    const Method method = request.method();
    const qint64 now = m_config.clock();
    auto notAllowed = [&] {
        return error(ApiError::methodNotAllowed(
            QStringLiteral("%1 is not allowed here").arg(methodName(method))));
    };
    const QString what = parts.value(0);
    if (what == QStringLiteral("nodes") && parts.size() == 1) {
        if (method != Method::Get) {
            return notAllowed();
        }
        QList<NodeRecord> nodes;
        if (ApiError e = m_storage->nodes(&nodes)) {
            return error(e);
        }
        QJsonArray out;
        for (const NodeRecord& n : nodes) {
            QJsonObject o = n.toJson(m_config.prefixes);
            o.insert(QStringLiteral("createdAt"), n.created);
            out.append(o);
        }
        return json(QJsonObject{{QStringLiteral("nodes"), out}});
    }
    if (what == QStringLiteral("nodes") && (parts.size() == 2 || parts.size() == 3)) {
        const std::optional<qint64> id = secrets::parseId(parts[1]);
        if (!id || (parts.size() == 3 && parts[2] != QStringLiteral("expire"))) {
            return error(ApiError::notFound(QStringLiteral("no such endpoint")));
        }
        if (parts.size() == 2) {
            if (method != Method::Delete) {
                return notAllowed();
            }
            if (ApiError e = m_registry->deleteNode(*id, now)) {
                return error(e);
            }
            return json(QJsonObject{{QStringLiteral("deleted"), *id}});
        }
        if (method != Method::Post) {
            return notAllowed();
        }
        if (ApiError e = m_registry->expireNode(*id, now)) {
            return error(e);
        }
        return json(QJsonObject{{QStringLiteral("expired"), *id}});
    }
    if (what == QStringLiteral("users") && parts.size() == 1) {
        if (method != Method::Get) {
            return notAllowed();
        }
        QList<UserRecord> users;
        if (ApiError e = m_storage->users(&users)) {
            return error(e);
        }
        QJsonArray out;
        for (const UserRecord& u : users) {
            out.append(QJsonObject{{QStringLiteral("id"), u.id},
                                   {QStringLiteral("name"), u.name},
                                   {QStringLiteral("createdAt"), u.created},
                                   {QStringLiteral("nodes"), u.nodes}});
        }
        return json(QJsonObject{{QStringLiteral("users"), out}});
    }
    if (what == QStringLiteral("authkeys") && parts.size() == 1) {
        if (method == Method::Get) {
            QList<AuthKeyRecord> keys;
            if (ApiError e = m_storage->authKeys(&keys)) {
                return error(e);
            }
            QJsonArray out;
            for (const AuthKeyRecord& k : keys) {
                out.append(k.toJson());
            }
            return json(QJsonObject{{QStringLiteral("authkeys"), out}});
        }
        if (method != Method::Post) {
            return notAllowed();
        }
        CreateAuthKeyRequest parsed;
        if (ApiError e = parseCreateAuthKeyRequest(request.body(), &parsed)) {
            return error(e);
        }
        AuthKeyRecord key;
        QString secret;
        if (ApiError e = m_registry->createAuthKey(parsed, now, &key, &secret)) {
            return error(e);
        }
        QJsonObject o = key.toJson();
        o.insert(QStringLiteral("key"), secret);
        return json(o);
    }
    if (what == QStringLiteral("authkeys") && parts.size() == 2) {
        if (!secrets::isKeyId(parts[1])) {
            return error(ApiError::notFound(QStringLiteral("no such pre-auth key")));
        }
        if (method != Method::Delete) {
            return notAllowed();
        }
        if (ApiError e = m_registry->revokeAuthKey(parts[1])) {
            return error(e);
        }
        return json(QJsonObject{{QStringLiteral("revoked"), parts[1]}});
    }
    return error(ApiError::notFound(QStringLiteral("no such endpoint")));
}

Server::Reply Server::metrics() {
    qint64 online = 0;
    qint64 total = 0;
    if (ApiError e = m_storage->countOnline(&online)) {
        return error(e);
    }
    if (ApiError e = m_storage->countRows(QStringLiteral("nodes"), &total)) {
        return error(e);
    }
    return {200, m_metrics->render(online, total, m_hub ? m_hub->clientCount() : 0),
            QByteArrayLiteral("text/plain; version=0.0.4")};
}

} // namespace calnet::server
