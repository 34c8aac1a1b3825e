#include "helper/service/service.h"

#include <QDateTime>
#include <QJsonArray>

#include "core/config/keyencoding.h"
#include "helper/datapath/tunnel.h"
#include "helper/service/connection.h"

namespace calnet::helper {

namespace {

constexpr const char* kVersion = CALNET_VERSION;

QJsonObject errorReply(qint64 id, ipc::ErrorCode code, const QString& message,
                       const QJsonObject& details = {}) {
    return ipc::makeError(id, code, message, details);
}

QJsonObject storeError(qint64 id, const StoreResult& r) {
    switch (r.status) {
    case StoreStatus::InvalidName:
        return errorReply(id, ipc::ErrorCode::InvalidParams, r.message);
    case StoreStatus::NotFound:
        return errorReply(id, ipc::ErrorCode::NotFound, r.message);
    case StoreStatus::Conflict:
        return errorReply(id, ipc::ErrorCode::Conflict, r.message);
    case StoreStatus::Ok:
    case StoreStatus::Failed:
        break;
    }
    return errorReply(id, ipc::ErrorCode::Failed, r.message);
}

template <typename T> const ipc::ParamsError* paramsError(const ipc::ParamsResult<T>& r) {
    return std::get_if<ipc::ParamsError>(&r);
}

// What the node tells the server about itself; authorised by `authKey` when given, else by
// the stored credential.
ControlClient::RegisterRequest registerRequest(const MeshProfile& mesh, const QString& authKey) {
    ControlClient::RegisterRequest request;
    request.nodeKey = mesh.nodePublicKeyBase64();
    request.discoKey = mesh.discoPublicKeyBase64();
    request.hostname = mesh.hostname;
    request.clientVersion = QString::fromLatin1(kVersion);
    if (authKey.isEmpty())
        request.credential = mesh.credential;
    else
        request.authKey = authKey;
    return request;
}

void applyRegistration(MeshProfile& mesh, const ControlClient::Registration& r) {
    mesh.nodeId = r.nodeId;
    mesh.credential = r.credential;
    mesh.user = r.user;
    mesh.network = r.network;
    mesh.addresses = r.addresses;
    mesh.prefixes = r.prefixes;
    mesh.keyExpiry = r.keyExpiry;
}

} // namespace

QLatin1StringView Service::toString(State state) {
    switch (state) {
    case State::Disconnected:
        return QLatin1StringView("disconnected");
    case State::Connecting:
        return QLatin1StringView("connecting");
    case State::Connected:
        return QLatin1StringView("connected");
    case State::Disconnecting:
        return QLatin1StringView("disconnecting");
    case State::Error:
        return QLatin1StringView("error");
    }
    return QLatin1StringView("error");
}

Service::Service(Options options, QObject* parent)
    : QObject(parent), options_(std::move(options)), store_(options_.stateDir),
      server_(
          AccessPolicy(options_.operatorUid),
          [this](const ipc::Request& r, ipc::Role role) { return handle(r, role); },
          [this](QLatin1StringView event) {
              return event == ipc::kEventState ? statusJson() : peersJson();
          },
          this) {
    statsTimer_.setInterval(1000);
    connect(&statsTimer_, &QTimer::timeout, this, &Service::publishPeers);
}

Service::~Service() {
    shutdown();
}

bool Service::start(QString* error) {
    // First undo whatever a helper that died (kill -9, power loss) left behind.
    const QString leftovers = Connection::rollbackLeftovers(options_.stateDir);
    if (!leftovers.isEmpty())
        qWarning("calnetd: rollback of a previous run: %s", qPrintable(leftovers));
    if (!store_.open(error))
        return false;
    if (!server_.listen(options_.socketPath, error))
        return false;
    if (const auto& name = store_.connectedProfile()) {
        const QJsonObject reply = connectProfile(0, *name);
        if (reply.contains(QLatin1StringView("error")))
            qWarning("calnetd: could not reconnect %s: %s", qPrintable(*name), qPrintable(error_));
    }
    return true;
}

void Service::shutdown() {
    cancelPendingUp(QStringLiteral("calnetd is shutting down"));
    QString error;
    if (connection_ && !disconnectProfile(true, &error))
        qWarning("calnetd: disconnect at shutdown: %s", qPrintable(error));
    server_.close();
}

// ---- IPC verbs ---------------------------------------------------------------------------------

QJsonObject Service::handle(const ipc::Request& request, ipc::Role) {
    const qint64 id = request.id;
    const QString& m = request.method;
    if (m == ipc::kMethodVersion) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(id);
        return ipc::makeResult(
            id, {{"protocol", ipc::kProtocolVersion}, {"daemon", QString::fromLatin1(kVersion)}});
    }
    if (m == ipc::kMethodStatus) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(id);
        return ipc::makeResult(id, statusJson());
    }
    if (m == ipc::kMethodPeers) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(id);
        return ipc::makeResult(id, peersJson());
    }
    if (m == ipc::kMethodProfilesList) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(id);
        QJsonArray list;
        const QString active = connection_ ? connection_->profile() : QString();
        for (const ProfileInfo& p : store_.list())
            list.append(p.toJson(p.name == active));
        return ipc::makeResult(id, {{"profiles", list}});
    }
    if (m == ipc::kMethodProfilesImport) {
        auto params = ipc::parseImportParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        const auto& p = std::get<ipc::ImportParams>(params);
        ImportResult r = store_.import(p.config, p.name);
        if (!r.errors.empty()) {
            QJsonArray errors;
            for (const auto& e : r.errors)
                errors.append(
                    QJsonObject{{"line", e.line}, {"reason", QString::fromStdString(e.reason)}});
            return errorReply(id, ipc::ErrorCode::InvalidParams,
                              QStringLiteral("the configuration is not valid"),
                              {{"errors", errors}});
        }
        if (!r.conflict.isEmpty())
            return errorReply(id, ipc::ErrorCode::Conflict, r.conflict);
        if (!r.failure.isEmpty() || !r.profile)
            return errorReply(id, ipc::ErrorCode::Failed, r.failure);
        return ipc::makeResult(id, r.profile->toJson(false));
    }
    if (m == ipc::kMethodProfilesRename) {
        auto params = ipc::parseRenameParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        const auto& p = std::get<ipc::RenameParams>(params);
        if (connection_ && connection_->profile() == p.name)
            return errorReply(id, ipc::ErrorCode::Conflict,
                              QStringLiteral("%1 is connected; disconnect first").arg(p.name));
        StoreResult r = store_.rename(p.name, p.newName);
        if (!r.ok())
            return storeError(id, r);
        return ipc::makeResult(id, r.profile ? r.profile->toJson(false) : QJsonObject{});
    }
    if (m == ipc::kMethodProfilesRemove || m == ipc::kMethodProfilesExport) {
        auto params = ipc::parseNameParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        const QString& name = std::get<ipc::NameParams>(params).name;
        if (m == ipc::kMethodProfilesExport && store_.isMesh(name))
            return errorReply(id, ipc::ErrorCode::Failed,
                              QStringLiteral("%1 is a Calnet network profile; only WireGuard "
                                             "profiles can be exported")
                                  .arg(name));
        if (m == ipc::kMethodProfilesExport) {
            auto text = store_.exportText(name);
            if (!text)
                return errorReply(id, ipc::ErrorCode::NotFound,
                                  QStringLiteral("no profile named %1").arg(name));
            return ipc::makeResult(id, {{"config", *text}});
        }
        if (connection_ && connection_->profile() == name)
            return errorReply(id, ipc::ErrorCode::Conflict,
                              QStringLiteral("%1 is connected; disconnect first").arg(name));
        StoreResult r = store_.remove(name);
        return r.ok() ? ipc::makeResult(id) : storeError(id, r);
    }
    if (m == ipc::kMethodUp) {
        auto params = ipc::parseUpParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        return up(id, std::get<ipc::UpParams>(params));
    }
    if (m == ipc::kMethodConnect) {
        auto params = ipc::parseConnectParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        return connectProfile(id, std::get<ipc::ConnectParams>(params).name);
    }
    if (m == ipc::kMethodDisconnect) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(id);
        QString error;
        if (!disconnectProfile(false, &error))
            return errorReply(id, ipc::ErrorCode::Failed, error);
        return ipc::makeResult(id, statusJson());
    }
    return errorReply(id, ipc::ErrorCode::UnknownMethod, m);
}

QJsonObject Service::connectProfile(qint64 id, const std::optional<QString>& requested) {
    if (pendingUp_)
        return errorReply(id, ipc::ErrorCode::Conflict,
                          QStringLiteral("a registration (up) is in progress"));
    QString name;
    if (requested) {
        name = *requested;
    } else if (store_.connectedProfile()) {
        name = *store_.connectedProfile();
    } else {
        const auto all = store_.list();
        if (all.size() != 1)
            return errorReply(id, ipc::ErrorCode::InvalidParams,
                              all.empty() ? QStringLiteral("there are no profiles")
                                          : QStringLiteral("several profiles: name one"));
        name = all.front().name;
    }
    if (store_.isMesh(name)) {
        const auto mesh = store_.loadMesh(name);
        if (!mesh)
            return errorReply(id, ipc::ErrorCode::NotFound,
                              QStringLiteral("no usable profile named %1").arg(name));
        if (!mesh->registered() || mesh->addresses.isEmpty())
            return errorReply(
                id, ipc::ErrorCode::Failed,
                QStringLiteral("%1 is not registered yet: use up with an auth key").arg(name));
        if (auto done = leaveForProfile(id, name))
            return *done;
        return connectMesh(id, name, *mesh);
    }
    const auto config = store_.load(name);
    if (!config)
        return errorReply(id, ipc::ErrorCode::NotFound,
                          QStringLiteral("no usable profile named %1").arg(name));
    if (auto done = leaveForProfile(id, name))
        return *done;
    QString error;
    connection_ =
        Connection::open(name, *config, options_.interfaceName, options_.stateDir, &error);
    if (!connection_) {
        setState(State::Error, error);
        return errorReply(id, ipc::ErrorCode::Failed, error);
    }
    (void)store_.setConnectedProfile(name);
    setState(State::Connected);
    statsTimer_.start();
    return ipc::makeResult(id, statusJson());
}

std::optional<QJsonObject> Service::leaveForProfile(qint64 id, const QString& name) {
    if (connection_) {
        if (connection_->profile() == name && state_ == State::Connected)
            return ipc::makeResult(id, statusJson()); // already there
        QString error;
        if (!disconnectProfile(false, &error))
            return errorReply(id, ipc::ErrorCode::Failed, error);
    }
    setState(State::Connecting);
    return std::nullopt;
}

bool Service::disconnectProfile(bool keepIntent, QString* error) {
    cancelPendingUp(QStringLiteral("disconnected before the registration finished"));
    mapCache_.reset(); // writes a pending map
    addressWatcher_.reset();
    control_.reset();
    mesh_.reset();
    meshPeers_.clear();
    if (!keepIntent)
        (void)store_.setConnectedProfile(std::nullopt);
    if (!connection_) {
        setState(State::Disconnected);
        return true;
    }
    setState(State::Disconnecting);
    statsTimer_.stop();
    const bool ok = connection_->close(error);
    connection_.reset();
    lastPeers_ = {};
    setState(ok ? State::Disconnected : State::Error, ok ? QString() : *error);
    return ok;
}

// ---- state and statistics ----------------------------------------------------------------------

void Service::setState(State state, const QString& error) {
    state_ = state;
    error_ = error;
    server_.broadcast(ipc::kEventState, statusJson());
}

QJsonObject Service::statusJson() const {
    QJsonArray addresses;
    if (connection_)
        for (const QString& a : connection_->addresses())
            addresses.append(a);
    QJsonObject status{
        {"state", toString(state_)},
        {"profile", connection_ ? QJsonValue(connection_->profile()) : QJsonValue()},
        {"interface", connection_ ? QJsonValue(connection_->interfaceName()) : QJsonValue()},
        {"addresses", addresses},
        {"error", error_.isEmpty() ? QJsonValue() : QJsonValue(error_)},
        {"kind", !connection_ ? QJsonValue() : QJsonValue(mesh_ ? "mesh" : "wireguard")},
        {"control", QJsonValue()},
    };
    if (mesh_ && control_) {
        const auto cs = control_->state();
        status.insert("control", cs == ControlClient::State::Idle
                                     ? QJsonValue()
                                     : QJsonValue(ControlClient::toString(cs)));
        status.insert("controlError", control_->errorString().isEmpty()
                                          ? QJsonValue()
                                          : QJsonValue(control_->errorString()));
        status.insert("server", mesh_->server);
        status.insert("nodeId", mesh_->nodeId);
        status.insert("hostname", mesh_->hostname);
    }
    return status;
}

QJsonObject Service::peersJson() const {
    QJsonArray peers;
    if (!connection_)
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
    connection_->tunnel().withDevice(
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
    if (control_)
        for (const auto& [id, node] : control_->map().peers())
            nodes.insert(node.nodeKey, &node);
    const qint64 nowSeconds = QDateTime::currentSecsSinceEpoch();
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
            {"path", "direct"},
        };
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

void Service::publishPeers() {
    QJsonObject peers = peersJson();
    if (peers == lastPeers_)
        return;
    lastPeers_ = peers;
    server_.broadcast(ipc::kEventPeers, peers);
}

} // namespace calnet::helper

namespace calnet::helper {

// ---- Calnet networks (mesh) --------------------------------------------------------------------

QJsonObject Service::up(qint64 id, const ipc::UpParams& params) {
    const QString& server = params.server; // normalised by parseUpParams
    if (pendingUp_)
        return errorReply(id, ipc::ErrorCode::Conflict,
                          QStringLiteral("another up is in progress"));
    QString name = params.name.value_or(QString());
    if (name.isEmpty())
        name = store_.findMeshByServer(server).value_or(defaultMeshProfileName(server));
    std::optional<MeshProfile> mesh;
    if (store_.isMesh(name)) {
        mesh = store_.loadMesh(name);
        if (!mesh)
            return errorReply(id, ipc::ErrorCode::Failed,
                              QStringLiteral("the profile %1 cannot be read").arg(name));
        if (mesh->server != server)
            return errorReply(
                id, ipc::ErrorCode::Conflict,
                QStringLiteral("the profile %1 belongs to %2").arg(name, mesh->server));
    } else if (store_.info(name)) {
        return errorReply(id, ipc::ErrorCode::Conflict,
                          QStringLiteral("a WireGuard profile named %1 already exists").arg(name));
    }
    const bool hostnameChanged = mesh && params.hostname && *params.hostname != mesh->hostname;
    if (!mesh) {
        if (!params.authKey)
            return errorReply(
                id, ipc::ErrorCode::InvalidParams,
                QStringLiteral("\"authKey\" is needed to join %1 the first time").arg(server),
                {{"param", "authKey"}});
        mesh = MeshProfile::create(server, params.hostname.value_or(defaultMeshHostname()));
        const StoreResult created = store_.createMesh(name, *mesh);
        if (!created.ok())
            return storeError(id, created);
    } else if (!mesh->registered() && !params.authKey) {
        return errorReply(
            id, ipc::ErrorCode::InvalidParams,
            QStringLiteral("\"authKey\" is needed: %1 is not registered yet").arg(name),
            {{"param", "authKey"}});
    }
    if (params.hostname)
        mesh->hostname = *params.hostname;
    if (connection_ && connection_->profile() == name && state_ == State::Connected &&
        !hostnameChanged && !params.authKey)
        return ipc::makeResult(id, statusJson());
    if (connection_) {
        QString error;
        if (!disconnectProfile(false, &error))
            return errorReply(id, ipc::ErrorCode::Failed, error);
    }
    setState(State::Connecting);
    pendingUp_ = server_.deferReply();
    pendingUpId_ = id;
    registerMesh(name, *mesh, params.authKey.value_or(QString()), mesh->registered(), *pendingUp_);
    return {}; // the reply follows when the registration is done
}

void Service::registerMesh(const QString& name, MeshProfile mesh, const QString& authKey,
                           bool withCredential, IpcServer::DeferredReply reply) {
    if (registrar_)
        registrar_->deleteLater();
    registrar_ = new ControlClient(mesh.server, options_.control, this);
    registrar_->registerNode(
        registerRequest(mesh, withCredential ? QString() : authKey),
        [this, name, mesh, authKey, withCredential,
         reply](const std::optional<ControlClient::Registration>& r,
                const ControlClient::RegisterError& e) mutable {
            if (!pendingUp_)
                return; // cancelled
            if (!r) {
                // A credential the server no longer takes, but an auth key at hand: join with it.
                if (withCredential && !authKey.isEmpty() && e.httpStatus == 401) {
                    registerMesh(name, mesh, authKey, false, reply);
                    return;
                }
                // The server is unreachable but we know our addresses: come up on what we know;
                // the control connection keeps trying.
                if (e.httpStatus == 0 && mesh.registered() && !mesh.addresses.isEmpty()) {
                    qWarning("calnetd: registration with %s failed (%s); connecting with the "
                             "stored identity",
                             qPrintable(mesh.server), qPrintable(e.message));
                    pendingUp_.reset();
                    finishUp(reply, connectMesh(0, name, mesh));
                    return;
                }
                const QString message = QStringLiteral("registration with %1 failed: %2 (%3)")
                                            .arg(mesh.server, e.message, e.code);
                pendingUp_.reset();
                setState(State::Error, message);
                finishUp(reply, errorReply(0, ipc::ErrorCode::Failed, message));
                return;
            }
            applyRegistration(mesh, *r);
            pendingUp_.reset();
            const StoreResult saved = store_.saveMesh(name, mesh);
            if (!saved.ok()) {
                setState(State::Error, saved.message);
                finishUp(reply, errorReply(0, ipc::ErrorCode::Failed, saved.message));
                return;
            }
            finishUp(reply, connectMesh(0, name, mesh));
        });
}

void Service::finishUp(const IpcServer::DeferredReply& reply, const QJsonObject& result) {
    // The reply was built for id 0; give it the id of the request it answers.
    QJsonObject out = result;
    out.insert("id", pendingUpId_);
    server_.sendDeferred(reply, out);
    if (registrar_) {
        registrar_->deleteLater();
        registrar_ = nullptr;
    }
}

void Service::cancelPendingUp(const QString& why) {
    if (!pendingUp_)
        return;
    const auto reply = *pendingUp_;
    pendingUp_.reset();
    finishUp(reply, errorReply(0, ipc::ErrorCode::Failed, why));
    if (state_ == State::Connecting)
        setState(State::Disconnected);
}

QJsonObject Service::connectMesh(qint64 id, const QString& name, const MeshProfile& mesh) {
    QString error;
    connection_ =
        Connection::openMesh(name, mesh, options_.interfaceName, options_.stateDir, &error);
    if (!connection_) {
        setState(State::Error, error);
        return errorReply(id, ipc::ErrorCode::Failed, error);
    }
    (void)store_.setConnectedProfile(name);
    mesh_ = mesh;
    meshPeers_.clear();
    ControlClient::Options options = options_.control;
    const QString ifname = connection_->interfaceName();
    Tunnel* tunnel = &connection_->tunnel();
    options.endpoints = [tunnel, ifname] { return localEndpoints(tunnel->listenPort(), ifname); };
    control_ = std::make_unique<ControlClient>(mesh.server, options);
    mapCache_ = std::make_unique<MapCache>(store_, name, mesh.server, mesh.nodeId);
    QString why;
    int expired = 0;
    std::optional<NetworkMap> cached =
        mapCache_->load(QDateTime::currentSecsSinceEpoch(), &why, &expired);
    if (!why.isEmpty())
        qWarning("calnetd: ignoring the stored network map of %s: %s", qPrintable(name),
                 qPrintable(why));
    const qint64 since = cached ? cached->seq() : 0;
    if (cached) {
        qInfo("calnetd: %s: %d peers from the stored network map (seq %lld, %d expired left out)",
              qPrintable(name), int(cached->peers().size()), since, expired);
        control_->restoreMap(std::move(*cached));
        onMapChanged(); // the peers are up before the server answers
    }
    connect(control_.get(), &ControlClient::mapChanged, this, &Service::onMapChanged);
    connect(control_.get(), &ControlClient::stateChanged, this,
            [this] { server_.broadcast(ipc::kEventState, statusJson()); });
    connect(control_.get(), &ControlClient::keyExpired, this, &Service::onKeyExpired);
    connect(control_.get(), &ControlClient::nodeDeleted, this, &Service::onNodeDeleted,
            Qt::QueuedConnection);
    addressWatcher_ = std::make_unique<AddressWatcher>();
    QString watchError;
    if (addressWatcher_->start(&watchError))
        connect(addressWatcher_.get(), &AddressWatcher::changed, control_.get(),
                &ControlClient::refreshEndpoints);
    else
        qWarning("calnetd: no rtnetlink address announcements (%s); endpoints are polled",
                 qPrintable(watchError));
    control_->start(mesh.nodeId, mesh.credential, since);
    setState(State::Connected);
    statsTimer_.start();
    return ipc::makeResult(id, statusJson());
}

void Service::onMapChanged() {
    if (!connection_ || !control_ || !mesh_)
        return;
    const auto selfKey = crypto::publicKeyOf(mesh_->nodeKey);
    std::vector<MeshPeerConfig> desired = peerConfigsFor(control_->map(), selfKey);
    const PeerDiff diff = diffPeers(meshPeers_, desired);
    if (!diff.empty())
        connection_->applyMeshPeers(meshPeers_, diff);
    meshPeers_ = std::move(desired);
    if (mapCache_)
        mapCache_->update(control_->map());
    publishPeers();
}

void Service::onKeyExpired() {
    if (!control_ || !mesh_ || !connection_)
        return;
    const QString name = connection_->profile();
    control_->registerNode(registerRequest(*mesh_, {}), [this, name](const auto& r, const auto& e) {
        if (!control_ || !mesh_)
            return;
        if (!r) {
            qWarning("calnetd: renewing the node key failed: %s (%s)", qPrintable(e.message),
                     qPrintable(e.code));
            if (e.httpStatus == 0)
                control_->resumeAfterBackoff();
            else
                control_->fail(QStringLiteral("renewing the node key failed: %1").arg(e.message));
            return;
        }
        // The server keeps a node's addresses when it renews by credential, so the interface
        // needs no change.
        applyRegistration(*mesh_, *r);
        if (const StoreResult saved = store_.saveMesh(name, *mesh_); !saved.ok())
            qWarning("calnetd: cannot store the renewed credential: %s", qPrintable(saved.message));
        control_->start(mesh_->nodeId, mesh_->credential);
    });
}

void Service::onNodeDeleted() {
    if (!control_)
        return;
    const QString why = control_->errorString();
    if (mapCache_)
        mapCache_->discard(); // the map of a node that no longer exists
    QString error;
    (void)disconnectProfile(false, &error);
    setState(State::Error, why);
}

} // namespace calnet::helper
