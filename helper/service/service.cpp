#include "helper/service/service.h"

#include <QDateTime>
#include <QJsonArray>

#include "helper/service/connection.h"
#include "helper/service/meshsession.h"
#include "helper/service/peerstats.h"

namespace calnet::helper {

namespace {

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

ConnectionController::Options controllerOptions(const Service::Options& o) {
    return {{o.interfaceName, o.stateDir, o.platform}, o.control};
}

} // namespace

Service::Service(Options options, QObject* parent)
    : QObject(parent), options_(std::move(options)), store_(options_.stateDir),
      server_(
          options_.access,
          [this](const ipc::Request& r, ipc::Role role) { return handle(r, role); },
          [this](QLatin1StringView event) {
              return event == ipc::kEventState ? statusJson() : peersJson();
          },
          this),
      controller_(controllerOptions(options_), store_), diagnostics_(controller_, server_),
      accounts_(controller_, store_, server_, options_.control) {
    statsTimer_.setInterval(1000);
    connect(&statsTimer_, &QTimer::timeout, this, &Service::publishPeers);
    connect(&controller_, &ConnectionController::stateChanged, this, &Service::publishState);
    connect(&controller_, &ConnectionController::peersChanged, this, &Service::publishPeers);
}

Service::~Service() {
    shutdown();
}

bool Service::start(QString* error) {
    // First undo whatever a helper that died (kill -9, power loss) left behind.
    const QString leftovers = Connection::rollbackLeftovers(*options_.platform, options_.stateDir);
    if (!leftovers.isEmpty())
        qWarning("calnetd: rollback of a previous run: %s", qPrintable(leftovers));
    if (!store_.open(error))
        return false;
    if (!server_.listen(options_.socketPath, error))
        return false;
    if (const auto& name = store_.connectedProfile()) {
        auto target = targetFor(0, *name);
        if (auto* t = std::get_if<ConnectionController::Target>(&target)) {
            t->restored = true;
            const QString profile = *name;
            controller_.connectTo(std::move(*t), [profile](const auto& failure) {
                if (failure)
                    qWarning("calnetd: could not reconnect %s: %s", qPrintable(profile),
                             qPrintable(failure->message));
            });
        } else {
            qWarning("calnetd: could not reconnect %s: %s", qPrintable(*name),
                     qPrintable(std::get<QJsonObject>(target)
                                    .value("error")
                                    .toObject()
                                    .value("message")
                                    .toString()));
        }
    }
    return true;
}

void Service::shutdown() {
    statsTimer_.stop();
    controller_.shutdown();
    server_.close();
}

// ---- IPC verbs ---------------------------------------------------------------------------------

QJsonObject Service::handle(const ipc::Request& request, ipc::Role) {
    const qint64 id = request.id;
    const QString& m = request.method;
    if (auto reply = diagnostics_.handle(request))
        return *reply;
    if (auto reply = accounts_.handle(request))
        return *reply;
    if (m == ipc::kMethodVersion) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(id);
        return ipc::makeResult(id, {{"protocol", ipc::kProtocolVersion},
                                    {"daemon", QString::fromLatin1(CALNET_VERSION)}});
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
        return listProfiles(id);
    }
    if (m == ipc::kMethodProfilesImport) {
        auto params = ipc::parseImportParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        return importProfile(id, std::get<ipc::ImportParams>(params));
    }
    if (m == ipc::kMethodProfilesRename) {
        auto params = ipc::parseRenameParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        return renameProfile(id, std::get<ipc::RenameParams>(params));
    }
    if (m == ipc::kMethodProfilesRemove || m == ipc::kMethodProfilesExport) {
        auto params = ipc::parseNameParams(request.params);
        if (auto* e = paramsError(params))
            return e->toReply(id);
        return removeOrExport(id, m, std::get<ipc::NameParams>(params).name);
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
        return disconnectProfile(id);
    }
    return errorReply(id, ipc::ErrorCode::UnknownMethod, m);
}

QJsonObject Service::listProfiles(qint64 id) {
    QJsonArray list;
    const QString active = controller_.connectedProfile();
    for (const ProfileInfo& p : store_.list())
        list.append(p.toJson(p.name == active));
    return ipc::makeResult(id, {{"profiles", list}});
}

QJsonObject Service::importProfile(qint64 id, const ipc::ImportParams& p) {
    ImportResult r = store_.import(p.config, p.name);
    if (!r.errors.empty()) {
        QJsonArray errors;
        for (const auto& e : r.errors)
            errors.append(
                QJsonObject{{"line", e.line}, {"reason", QString::fromStdString(e.reason)}});
        return errorReply(id, ipc::ErrorCode::InvalidParams,
                          QStringLiteral("the configuration is not valid"), {{"errors", errors}});
    }
    if (!r.conflict.isEmpty())
        return errorReply(id, ipc::ErrorCode::Conflict, r.conflict);
    if (!r.failure.isEmpty() || !r.profile)
        return errorReply(id, ipc::ErrorCode::Failed, r.failure);
    return ipc::makeResult(id, r.profile->toJson(false));
}

QJsonObject Service::renameProfile(qint64 id, const ipc::RenameParams& p) {
    if (controller_.profile() == p.name &&
        controller_.state() != ConnectionController::State::Disconnected &&
        controller_.state() != ConnectionController::State::Error)
        return errorReply(id, ipc::ErrorCode::Conflict,
                          QStringLiteral("%1 is in use; disconnect first").arg(p.name));
    StoreResult r = store_.rename(p.name, p.newName);
    if (!r.ok())
        return storeError(id, r);
    return ipc::makeResult(id, r.profile ? r.profile->toJson(false) : QJsonObject{});
}

QJsonObject Service::removeOrExport(qint64 id, const QString& method, const QString& name) {
    if (method == ipc::kMethodProfilesExport) {
        if (store_.isMesh(name))
            return errorReply(id, ipc::ErrorCode::Failed,
                              QStringLiteral("%1 is a Calnet network profile; only WireGuard "
                                             "profiles can be exported")
                                  .arg(name));
        auto text = store_.exportText(name);
        if (!text)
            return errorReply(id, ipc::ErrorCode::NotFound,
                              QStringLiteral("no profile named %1").arg(name));
        return ipc::makeResult(id, {{"config", *text}});
    }
    if (controller_.profile() == name &&
        controller_.state() != ConnectionController::State::Disconnected &&
        controller_.state() != ConnectionController::State::Error)
        return errorReply(id, ipc::ErrorCode::Conflict,
                          QStringLiteral("%1 is in use; disconnect first").arg(name));
    StoreResult r = store_.remove(name);
    return r.ok() ? ipc::makeResult(id) : storeError(id, r);
}

// ---- connect, up, disconnect -------------------------------------------------------------------

ConnectionController::Done Service::replyWhenDone(qint64 id) {
    return [this, id, to = server_.deferReply()](const auto& failure) {
        server_.sendDeferred(to, failure ? errorReply(id, failure->code, failure->message)
                                         : ipc::makeResult(id, statusJson()));
    };
}

std::variant<ConnectionController::Target, QJsonObject>
Service::targetFor(qint64 id, const std::optional<QString>& requested) const {
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
        auto mesh = store_.loadMesh(name);
        if (!mesh)
            return errorReply(id, ipc::ErrorCode::NotFound,
                              QStringLiteral("no usable profile named %1").arg(name));
        if (!mesh->registered() || mesh->addresses.isEmpty())
            return errorReply(
                id, ipc::ErrorCode::Failed,
                QStringLiteral("%1 is not registered yet: use up with an auth key").arg(name));
        return ConnectionController::Target{name, std::move(*mesh)};
    }
    auto config = store_.load(name);
    if (!config)
        return errorReply(id, ipc::ErrorCode::NotFound,
                          QStringLiteral("no usable profile named %1").arg(name));
    return ConnectionController::Target{name, std::move(*config)};
}

QJsonObject Service::connectProfile(qint64 id, const std::optional<QString>& requested) {
    auto target = targetFor(id, requested);
    if (auto* reply = std::get_if<QJsonObject>(&target))
        return *reply;
    controller_.connectTo(std::move(std::get<ConnectionController::Target>(target)),
                          replyWhenDone(id));
    return {}; // replyWhenDone answers
}

QJsonObject Service::disconnectProfile(qint64 id) {
    controller_.disconnect(false, replyWhenDone(id));
    return {};
}

QJsonObject Service::up(qint64 id, const ipc::UpParams& params) {
    const QString& server = params.server; // normalised by parseUpParams
    if (controller_.busy())
        return errorReply(
            id, ipc::ErrorCode::Conflict,
            QStringLiteral("%1 is %2; try again when it is done")
                .arg(controller_.profile(), ConnectionController::toString(controller_.state())));
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
    const JoinSecret secret{params.authKey.value_or(QString()), params.idToken.value_or(QString()),
                            params.nonce.value_or(QString())};
    const bool joining = params.authKey || params.idToken;
    // A fresh sign-in for the network that is up: renew its key without taking the tunnel down.
    if (mesh && params.idToken && !hostnameChanged &&
        controller_.renewSignIn(name, secret, replyWhenDone(id)))
        return {}; // replyWhenDone answers
    if (!mesh) {
        if (!joining)
            return errorReply(id, ipc::ErrorCode::InvalidParams,
                              QStringLiteral("\"authKey\" or \"idToken\" is needed to join %1 "
                                             "the first time")
                                  .arg(server),
                              {{"param", "authKey"}});
        mesh = MeshProfile::create(server, params.hostname.value_or(defaultMeshHostname()));
        const StoreResult created = store_.createMesh(name, *mesh);
        if (!created.ok())
            return storeError(id, created);
    } else if (!mesh->registered() && !joining) {
        return errorReply(
            id, ipc::ErrorCode::InvalidParams,
            QStringLiteral("\"authKey\" or \"idToken\" is needed: %1 is not registered yet")
                .arg(name),
            {{"param", "authKey"}});
    }
    if (params.hostname)
        mesh->hostname = *params.hostname;
    if (controller_.connectedProfile() == name &&
        controller_.state() == ConnectionController::State::Connected && !hostnameChanged &&
        !joining)
        return ipc::makeResult(id, statusJson());
    controller_.registerAndConnect(name, std::move(*mesh), secret, replyWhenDone(id));
    return {}; // the reply follows when the registration and the connect are done
}

// ---- state and statistics ----------------------------------------------------------------------

QJsonObject Service::statusJson() const {
    return controller_.statusJson();
}

QJsonObject Service::peersJson() const {
    const MeshSession* mesh = controller_.mesh();
    return peersSnapshot(controller_.connection(), mesh ? &mesh->map() : nullptr,
                         mesh ? mesh->paths() : nullptr, QDateTime::currentSecsSinceEpoch());
}

void Service::publishState() {
    server_.broadcast(ipc::kEventState, statusJson());
    if (controller_.connection() && !statsTimer_.isActive()) {
        statsTimer_.start();
    } else if (!controller_.connection() && statsTimer_.isActive()) {
        statsTimer_.stop();
        publishPeers(); // the empty list, once
    }
}

void Service::publishPeers() {
    QJsonObject peers = peersJson();
    if (peers == lastPeers_)
        return;
    lastPeers_ = peers;
    server_.broadcast(ipc::kEventPeers, peers);
}

} // namespace calnet::helper
