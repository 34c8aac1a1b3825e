#include "server/server.h"

#include "helper/wire/mapnode.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

#include "server/frontend.h"
#include "server/http/websocket.h"
#include "server/maphub.h"
#include "server/metrics.h"
#include "server/oidc/provider.h"
#include "server/registry.h"
#include "server/relayhub.h"
#include "server/requests.h"
#include "server/secrets.h"
#include "server/storage.h"
#include "server/stunserver.h"

namespace calnet::server {

namespace {

const QString kVersion = QStringLiteral(CALNET_VERSION);
constexpr int kStreamSendBuffer = 128 * 1024;

const QByteArray kMapPath = QByteArrayLiteral("/api/v1/map");
const QByteArray kRelayPath = QByteArrayLiteral("/api/v1/relay");
const QByteArray kAdminPrefix = QByteArrayLiteral("/api/v1/admin/");
const QByteArray kRelayKeysPath = QByteArrayLiteral("/api/v1/relay/keys");
constexpr qint64 kMaxIdTokenAgeSeconds = 600;

// Whether the request carries "Authorization: Bearer TOKEN" (compared in constant time); never
// for an empty token (that feature is off).
// The token of "Authorization: Bearer TOKEN" (the scheme is case-insensitive, RFC 9110 §11.1);
// nullopt without one.
std::optional<QByteArray> bearerToken(const http::Request& request) {
    const QByteArray value = request.header("authorization");
    if (value.size() <= 7 || value.left(7).toLower() != "bearer ") {
        return std::nullopt;
    }
    return value.mid(7);
}

bool bearerIs(const http::Request& request, const QString& token) {
    const std::optional<QByteArray> bearer = bearerToken(request);
    return !token.isEmpty() && bearer &&
           secrets::constantTimeEquals(QString::fromUtf8(*bearer), token);
}

bool isAdmin(const http::Request& r) {
    return r.path.startsWith(kAdminPrefix);
}

// The requests whose body the server reads: everything else is answered from its head.
bool needsBody(const http::Request& r) {
    return r.method == "POST" && (r.path == "/api/v1/register" || r.path == "/api/v1/logout" ||
                                  r.path == kAdminPrefix + "authkeys");
}

} // namespace

Server::Server(ServerConfig config, QObject* parent)
    : QObject(parent), m_config(std::move(config)), m_storage(std::make_unique<Storage>()),
      m_registry(std::make_unique<Registry>(m_storage.get(), &m_config)),
      m_metrics(std::make_unique<Metrics>()),
      m_badAuthKeys(QStringLiteral("wrong pre-auth key"), m_config.badKeysPerMinute,
                    m_config.badKeysBurst),
      m_badAdminTokens(QStringLiteral("wrong admin token"), m_config.badKeysPerMinute,
                       m_config.badKeysBurst),
      m_badRelayTokens(QStringLiteral("wrong relay token"), m_config.badKeysPerMinute,
                       m_config.badKeysBurst),
      m_registrations(QStringLiteral("registration"), m_config.registrationsPerMinute,
                      m_config.registrationsBurst) {}

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
    RelayHub::Options relayOptions;
    relayOptions.helloTimeoutMs = m_config.helloTimeoutMs;
    relayOptions.pingIntervalMs = m_config.pingIntervalMs;
    m_relay = std::make_unique<RelayHub>(
        [this](const QByteArray& key) {
            std::optional<NodeRecord> node;
            if (m_storage->nodes().byKey(QString::fromLatin1(key.toBase64()), &node))
                return RelayHub::KeyStatus::Unavailable; // a database error
            return node.has_value() && node->keyExpiry > m_config.clock()
                       ? RelayHub::KeyStatus::Allowed
                       : RelayHub::KeyStatus::Denied;
        },
        relayOptions);
    connect(m_storage.get(), &Storage::changed, m_relay.get(), &RelayHub::scheduleRecheck);

    m_listener = std::make_unique<http::HttpListener>(static_cast<http::Handler*>(this),
                                                      listenerLimits(m_config));
    if (!openListeners(m_config, *m_listener, &m_stun, error)) {
        return false;
    }
    m_port = m_listener->port();
    if (!m_config.oidcIssuer.isEmpty()) {
        oidc::Provider::Options o;
        o.issuer = m_config.oidcIssuer;
        o.clientId = m_config.oidcClientId;
        m_oidc = std::make_unique<oidc::Provider>(o);
        m_oidc->start(); // discovery and keys in the background; failures are logged and retried
    }
    m_hub->setRelays(relays());
    return true;
}

quint16 Server::stunPort() const {
    return m_stun ? m_stun->port() : 0;
}

QJsonArray Server::relays() const {
    // The server's own region: its relay on this listener (no "url": the node uses the server
    // URL it has, path /api/v1/relay) and its STUN listener. A wildcard STUN address is reached
    // at the host of that URL too, so only a specific one is named.
    wire::RelayRegion region;
    region.name = m_config.regionName;
    if (m_stun) {
        region.stunPort = m_stun->port();
        region.stunAltPort = m_stun->altPort();
        const QHostAddress a(m_config.stunHost);
        if (!m_config.stunHost.isEmpty() && a != QHostAddress::AnyIPv4 &&
            a != QHostAddress::AnyIPv6 && a != QHostAddress::Any) {
            region.stunHost = m_config.stunHost;
        }
    }
    std::vector<wire::RelayRegion> all{region};
    all.insert(all.end(), m_config.otherRelays.begin(), m_config.otherRelays.end());
    return wire::toJson(all);
}

void Server::shutdown() {
    if (m_shutDown) {
        return;
    }
    m_shutDown = true;
    if (m_listener) {
        m_listener->close();
    }
    if (m_hub) {
        m_hub->shutdown();
    }
    if (m_relay) {
        m_relay->shutdown();
    }
}

Server::Reply Server::counted(Reply reply) {
    m_metrics->countHttp(reply.status);
    return reply;
}

http::Handler::Decision Server::onHead(const http::Request& head, const QHostAddress& peer,
                                       Reply* answer) {
    const QByteArray source = http::HttpListener::sourceKey(peer);
    if ((head.path == kMapPath || head.path == kRelayPath) && head.method == "GET" &&
        head.headerHasToken("upgrade", "websocket")) {
        return Decision::WebSocket;
    }
    // Authorization comes first: nothing of the body is read for a caller without it.
    if (head.path == kRelayKeysPath &&
        !tokenAccepted(head, peer, m_config.relayToken, m_badRelayTokens, "relay", answer)) {
        return Decision::Answer;
    }
    if (isAdmin(head)) {
        switch (adminAuth(head)) {
        case AdminAuth::Token:
        case AdminAuth::IdToken:
            break;
        case AdminAuth::KeysComing:
            *answer = counted(error({503, QStringLiteral("unavailable"),
                                     QStringLiteral("The identity provider's new signing key is "
                                                    "being fetched; try again in a moment.")}));
            return Decision::Answer;
        case AdminAuth::NotAdmin:
            *answer = counted(error(ApiError::forbidden(
                QStringLiteral("this account may not use the admin API of this network"))));
            return Decision::Answer;
        case AdminAuth::No:
            tokenAccepted(head, peer, m_config.adminToken, m_badAdminTokens, "admin", answer);
            return Decision::Answer;
        }
    }
    if ((head.path == "/api/v1/register" || head.path == "/api/v1/logout") &&
        head.method == "POST") {
        std::optional<int> wait = m_badAuthKeys.retryAfter(source);
        if (!wait) {
            wait = m_registrations.retryAfter(source);
        }
        if (wait) {
            *answer = counted(
                tooMany(*wait, head.path == "/api/v1/logout"
                                   ? QStringLiteral("too many wrong credentials from this address")
                                   : QStringLiteral("too many registrations from this address")));
            return Decision::Answer;
        }
    }
    if (needsBody(head)) {
        return Decision::ReadBody;
    }
    *answer = counted(route(head, peer));
    return Decision::Answer;
}

http::Response Server::onRequest(const http::Request& request, const QHostAddress& peer) {
    return counted(route(request, peer));
}

void Server::onWebSocket(std::unique_ptr<http::WebSocket> socket, const QHostAddress&) {
    m_metrics->countHttp(101);
    if (socket->path() == kRelayPath) {
        prepareRelaySocket(*socket);
        m_relay->accept(std::move(socket));
        return;
    }
    // A map stream carries little: a small kernel send buffer bounds what a node that stops
    // reading costs (the kernel would otherwise grow it to 4 MiB); what queues beyond it counts
    // against sendQueueLimitBytes.
    socket->setSendBufferSize(kStreamSendBuffer);
    m_hub->accept(std::move(socket));
}

Server::Reply Server::json(const QJsonObject& object, int status) {
    return jsonResponse(object, status);
}

Server::Reply Server::error(const ApiError& e) {
    return errorResponse(e);
}

Server::Reply Server::tooMany(int retryAfterSeconds, const QString& message) {
    Reply r = json(ApiError{429, QStringLiteral("rate_limited"), message}.toJson(), 429);
    r.headers.emplace_back(QByteArrayLiteral("Retry-After"), QByteArray::number(retryAfterSeconds));
    return r;
}

Server::Reply Server::route(const http::Request& request, const QHostAddress& peer) {
    const QByteArray& path = request.path;
    const QByteArray& method = request.method;
    auto only = [&](const char* allowed) -> std::optional<Reply> {
        if (method != allowed) {
            return error(ApiError::methodNotAllowed(
                QStringLiteral("%1 is not allowed here").arg(QString::fromLatin1(method))));
        }
        return std::nullopt;
    };
    if (path == "/api/v1/info") {
        if (auto r = only("GET")) {
            return *r;
        }
        return json(QJsonObject{
            {QStringLiteral("version"), kVersion},
            {QStringLiteral("prefixes"), QJsonArray::fromStringList(m_config.prefixes.prefixes())},
            {QStringLiteral("relays"), relays()},
            {QStringLiteral("auth"),
             m_oidc ? QJsonArray{QStringLiteral("authkey"), QStringLiteral("oidc")}
                    : QJsonArray{QStringLiteral("authkey")}},
            {QStringLiteral("oidc"), m_oidc ? QJsonValue(oidcInfo()) : QJsonValue()},
        });
    }
    if (path == "/api/v1/register") {
        if (auto r = only("POST")) {
            return *r;
        }
        return registerNode(request, peer);
    }
    if (path == "/api/v1/logout") {
        if (auto r = only("POST")) {
            return *r;
        }
        return logoutNode(request, peer);
    }
    if (path == kRelayKeysPath) {
        if (auto r = only("GET")) {
            return *r;
        }
        if (!bearerIs(request, m_config.relayToken)) { // onHead checked it
            return error(ApiError::unauthorized(QStringLiteral("relay token missing or wrong")));
        }
        return relayKeys(request);
    }
    if (path == kMapPath || path == kRelayPath) {
        if (auto r = only("GET")) {
            return *r;
        }
        return error(ApiError::badRequest(QStringLiteral("this endpoint is a WebSocket")));
    }
    if (path == "/metrics") {
        if (auto r = only("GET")) {
            return *r;
        }
        return metrics();
    }
    if (isAdmin(request)) {
        if (!adminAuthorized(request)) { // onHead checked it; a request is never routed without
            return error(ApiError::unauthorized(QStringLiteral("admin token missing or wrong")));
        }
        return admin(request,
                     QString::fromUtf8(path.mid(kAdminPrefix.size())).split(QLatin1Char('/')));
    }
    return error(ApiError::notFound(QStringLiteral("no such endpoint")));
}

bool Server::tokenAccepted(const http::Request& head, const QHostAddress& peer,
                           const QString& token, SourceLimiter& wrong, const char* what,
                           Reply* answer) {
    if (bearerIs(head, token)) {
        return true;
    }
    // The right token always passes; only wrong ones are limited per source, so that guesses
    // from a neighbour behind the same address (or a proxy) cannot lock its owner out.
    const QByteArray source = http::HttpListener::sourceKey(peer);
    if (const auto wait = wrong.retryAfter(source)) {
        *answer = counted(tooMany(*wait, QStringLiteral("too many wrong %1 tokens").arg(what)));
        return false;
    }
    wrong.spend(source, peer);
    *answer = counted(
        error(ApiError::unauthorized(QStringLiteral("%1 token missing or wrong").arg(what))));
    return false;
}

bool Server::adminAuthorized(const http::Request& request) {
    const AdminAuth a = adminAuth(request);
    return a == AdminAuth::Token || a == AdminAuth::IdToken;
}

Server::AdminAuth Server::adminAuth(const http::Request& request) {
    if (bearerIs(request, m_config.adminToken)) { // no token configured: never
        return AdminAuth::Token;
    }
    if (!m_oidc || (m_config.oidcAdminGroup.isEmpty() && m_config.oidcAdmins.isEmpty())) {
        return AdminAuth::No;
    }
    const std::optional<QByteArray> bearer = bearerToken(request);
    if (!bearer || bearer->count('.') != 2) { // not a JWT: an admin token, checked above
        return AdminAuth::No;
    }
    // The admin's ID token (or a JWT access token the provider signs like one): issuer,
    // audience, signature and times as at sign-in; no nonce, as nobody asked for this one.
    bool refetching = false;
    const oidc::Verified v =
        m_oidc->verifyCached(*bearer, QString(), m_config.clock(), &refetching);
    if (v.error != oidc::TokenError::None) {
        return refetching ? AdminAuth::KeysComing : AdminAuth::No;
    }
    const oidc::Claims& c = *v.claims;
    const bool byGroup =
        !m_config.oidcAdminGroup.isEmpty() && c.groups.contains(m_config.oidcAdminGroup);
    const bool byEmail = c.emailVerified && m_config.oidcAdmins.contains(c.email.toLower());
    if (!byGroup && !byEmail) {
        return AdminAuth::NotAdmin;
    }
    // A disabled account is no admin, whatever its token says, until enabled with the admin
    // token or by another admin.
    std::optional<UserRecord> user;
    if (m_storage->users().byIdentity(c.issuer, c.subject, &user) || (user && user->disabled)) {
        return AdminAuth::NotAdmin;
    }
    return AdminAuth::IdToken;
}

Server::Reply Server::relayKeys(const http::Request& request) {
    // ?since=SEQ: the caller has the keys as of SEQ; if nothing changed since, only the seq.
    const QUrlQuery query(QString::fromLatin1(request.target.mid(request.path.size() + 1)));
    bool hasSince = false;
    const qint64 since = query.queryItemValue(QStringLiteral("since")).toLongLong(&hasSince);
    qint64 seq = 0;
    qint64 pruned = 0;
    if (ApiError e = m_storage->changes().currentSeq(&seq, &pruned)) {
        return error(e);
    }
    if (hasSince && since == seq) {
        return json(QJsonObject{{QStringLiteral("seq"), seq}});
    }
    QList<NodeRecord> nodes;
    if (ApiError e = m_storage->nodes().all(&nodes)) {
        return error(e);
    }
    const qint64 now = m_config.clock();
    QJsonArray keys;
    for (const NodeRecord& n : nodes) {
        if (n.keyExpiry > now) {
            keys.append(QJsonObject{{QStringLiteral("nodeKey"), n.nodeKey},
                                    {QStringLiteral("keyExpiry"), n.keyExpiry}});
        }
    }
    return json(QJsonObject{{QStringLiteral("seq"), seq}, {QStringLiteral("nodes"), keys}});
}

ApiError Server::verifyIdentity(const RegisterRequest& r, std::optional<Identity>* out) {
    if (!m_oidc) {
        return ApiError::badRequest(
            QStringLiteral("this server does not offer sign-in with an identity provider"));
    }
    const qint64 now = m_config.clock();
    bool refetching = false;
    const oidc::Verified v = m_oidc->verifyCached(r.idToken.toLatin1(), r.nonce, now, &refetching);
    if (v.error != oidc::TokenError::None) {
        if (refetching) { // a key the provider has just rotated in: the keys are on their way
            return {503, QStringLiteral("unavailable"),
                    v.message + QStringLiteral(" Try again in a moment.")};
        }
        return {401, QStringLiteral("invalid_id_token"), v.message};
    }
    // Registering wants a fresh sign-in, not a token kept from an hour ago.
    if (now - v.claims->issuedAt > kMaxIdTokenAgeSeconds) {
        return {401, QStringLiteral("invalid_id_token"),
                QStringLiteral("The sign-in is too old; sign in again.")};
    }
    if (!m_config.oidcAllowedDomains.isEmpty()) {
        const QString email = v.claims->emailVerified ? v.claims->email.toLower() : QString();
        const QString domain = email.section(QLatin1Char('@'), -1);
        if (email.count(QLatin1Char('@')) != 1 || !m_config.oidcAllowedDomains.contains(domain)) {
            return ApiError::forbidden(
                email.isEmpty()
                    ? QStringLiteral("This network wants a verified email in %1, and the "
                                     "identity provider did not give one.")
                          .arg(m_config.oidcAllowedDomains.join(QStringLiteral(", ")))
                    : QStringLiteral("%1 is not in a domain this network allows (%2).")
                          .arg(email, m_config.oidcAllowedDomains.join(QStringLiteral(", "))));
        }
    }
    *out = Identity{v.claims->issuer, v.claims->subject,
                    v.claims->emailVerified ? v.claims->email : QString(), v.claims->name};
    return {};
}

Server::Reply Server::registerNode(const http::Request& request, const QHostAddress& peer) {
    const QByteArray source = http::HttpListener::sourceKey(peer);
    m_registrations.spend(source, peer);
    RegisterRequest parsed;
    ApiError e = parseRegisterRequest(request.body, &parsed);
    Registration registration;
    std::optional<Identity> identity;
    if (e.ok() && !parsed.idToken.isEmpty()) {
        e = verifyIdentity(parsed, &identity);
    }
    if (e.ok()) {
        e = m_registry->registerNode(parsed, identity ? &*identity : nullptr, m_config.clock(),
                                     &registration);
    }
    if (e.status == 401 && e.code != QStringLiteral("expired")) {
        m_badAuthKeys.spend(source, peer); // a wrong key or credential: counted and logged
    }
    m_metrics->countRegistration(e.ok() ? QStringLiteral("ok") : e.code);
    return e ? error(e) : json(registration.toJson(m_config));
}

Server::Reply Server::logoutNode(const http::Request& request, const QHostAddress& peer) {
    const QJsonObject body = QJsonDocument::fromJson(request.body).object();
    qint64 deleted = 0;
    const ApiError e = m_registry->logout(body.value(QStringLiteral("credential")).toString(),
                                          m_config.clock(), &deleted);
    if (e.status == 401) {
        m_badAuthKeys.spend(http::HttpListener::sourceKey(peer), peer);
    }
    return e ? error(e) : json(QJsonObject{{QStringLiteral("deleted"), deleted}});
}

Server::Reply Server::admin(const http::Request& request, const QStringList& parts) {
    const QByteArray& method = request.method;
    const qint64 now = m_config.clock();
    auto notAllowed = [&] {
        return error(ApiError::methodNotAllowed(
            QStringLiteral("%1 is not allowed here").arg(QString::fromLatin1(method))));
    };
    const QString what = parts.value(0);
    if (what == QStringLiteral("nodes") && parts.size() == 1) {
        if (method != "GET") {
            return notAllowed();
        }
        QList<NodeRecord> nodes;
        if (ApiError e = m_storage->nodes().all(&nodes)) {
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
            if (method != "DELETE") {
                return notAllowed();
            }
            if (ApiError e = m_registry->deleteNode(*id, now)) {
                return error(e);
            }
            return json(QJsonObject{{QStringLiteral("deleted"), *id}});
        }
        if (method != "POST") {
            return notAllowed();
        }
        if (ApiError e = m_registry->expireNode(*id, now)) {
            return error(e);
        }
        return json(QJsonObject{{QStringLiteral("expired"), *id}});
    }
    if (what == QStringLiteral("users") && parts.size() == 3) {
        const std::optional<qint64> id = secrets::parseId(parts[1]);
        const bool disable = parts[2] == QStringLiteral("disable");
        if (!id || (!disable && parts[2] != QStringLiteral("enable"))) {
            return error(ApiError::notFound(QStringLiteral("no such endpoint")));
        }
        if (method != "POST") {
            return notAllowed();
        }
        if (ApiError e = m_registry->setUserDisabled(*id, disable, now)) {
            return error(e);
        }
        return json(
            QJsonObject{{disable ? QStringLiteral("disabled") : QStringLiteral("enabled"), *id}});
    }
    if (what == QStringLiteral("users") && parts.size() == 1) {
        if (method != "GET") {
            return notAllowed();
        }
        QList<UserRecord> users;
        if (ApiError e = m_storage->users().users(&users)) {
            return error(e);
        }
        QJsonArray out;
        for (const UserRecord& u : users) {
            QJsonObject o{{QStringLiteral("id"), u.id},
                          {QStringLiteral("name"), u.name},
                          {QStringLiteral("createdAt"), u.created},
                          {QStringLiteral("nodes"), u.nodes},
                          {QStringLiteral("disabled"), u.disabled}};
            if (!u.issuer.isEmpty()) { // signed in with the identity provider
                o.insert(QStringLiteral("issuer"), u.issuer);
                o.insert(QStringLiteral("subject"), u.subject);
                o.insert(QStringLiteral("email"), u.email);
                o.insert(QStringLiteral("displayName"), u.displayName);
            }
            out.append(o);
        }
        return json(QJsonObject{{QStringLiteral("users"), out}});
    }
    if (what == QStringLiteral("authkeys") && parts.size() == 1) {
        if (method == "GET") {
            QList<AuthKeyRecord> keys;
            if (ApiError e = m_storage->keys().authKeys(&keys)) {
                return error(e);
            }
            QJsonArray out;
            for (const AuthKeyRecord& k : keys) {
                out.append(k.toJson());
            }
            return json(QJsonObject{{QStringLiteral("authkeys"), out}});
        }
        if (method != "POST") {
            return notAllowed();
        }
        CreateAuthKeyRequest parsed;
        if (ApiError e = parseCreateAuthKeyRequest(request.body, &parsed)) {
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
        if (method != "DELETE") {
            return notAllowed();
        }
        if (ApiError e = m_registry->revokeAuthKey(parts[1])) {
            return error(e);
        }
        return json(QJsonObject{{QStringLiteral("revoked"), parts[1]}});
    }
    return error(ApiError::notFound(QStringLiteral("no such endpoint")));
}

QJsonObject Server::oidcInfo() const {
    QJsonObject o{{QStringLiteral("issuer"), m_config.oidcIssuer},
                  {QStringLiteral("clientId"), m_config.oidcClientId}};
    if (!m_config.oidcClientSecret.isEmpty()) {
        o.insert(QStringLiteral("clientSecret"), m_config.oidcClientSecret);
    }
    return o;
}

Server::Reply Server::metrics() {
    qint64 online = 0;
    qint64 total = 0;
    if (ApiError e = m_storage->nodes().countOnline(&online)) {
        return error(e);
    }
    if (ApiError e = m_storage->countRows(QStringLiteral("nodes"), &total)) {
        return error(e);
    }
    Metrics::Gauges g;
    g.nodesOnline = online;
    g.nodesTotal = total;
    g.websocketClients = m_hub ? m_hub->clientCount() : 0;
    addFrontendGauges(g, m_listener.get(), m_relay.get(), m_stun.get());
    AddressPool::Usage pool;
    if (ApiError e = m_storage->addresses().usage(m_config.prefixes.capacity(), m_config.clock(),
                                                  m_config.addressQuarantineSeconds, &pool)) {
        return error(e);
    }
    g.poolSize = pool.capacity;
    g.poolUsed = pool.used;
    g.poolQuarantined = pool.quarantined;
    for (const SourceLimiter* l :
         {&m_badAuthKeys, &m_badAdminTokens, &m_badRelayTokens, &m_registrations}) {
        g.limited.emplace_back(l->what(), l->refused());
    }
    Reply r;
    r.contentType = QByteArrayLiteral("text/plain; version=0.0.4");
    r.body = m_metrics->render(g);
    return r;
}

} // namespace calnet::server
