#include "helper/service/service.h"

#include <QDateTime>
#include <QJsonArray>

#include "core/config/keyencoding.h"
#include "helper/datapath/tunnel.h"
#include "helper/service/connection.h"

namespace calnet::helper {

namespace {

constexpr const char* kVersion = "0.1.0";

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
    const auto config = store_.load(name);
    if (!config)
        return errorReply(id, ipc::ErrorCode::NotFound,
                          QStringLiteral("no usable profile named %1").arg(name));
    if (connection_) {
        if (connection_->profile() == name && state_ == State::Connected)
            return ipc::makeResult(id, statusJson());
        QString error;
        if (!disconnectProfile(false, &error))
            return errorReply(id, ipc::ErrorCode::Failed, error);
    }
    setState(State::Connecting);
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

bool Service::disconnectProfile(bool keepIntent, QString* error) {
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
    return {
        {"state", toString(state_)},
        {"profile", connection_ ? QJsonValue(connection_->profile()) : QJsonValue()},
        {"interface", connection_ ? QJsonValue(connection_->interfaceName()) : QJsonValue()},
        {"addresses", addresses},
        {"error", error_.isEmpty() ? QJsonValue() : QJsonValue(error_)},
    };
}

QJsonObject Service::peersJson() const {
    QJsonArray peers;
    if (!connection_)
        return {{"peers", peers}};
    const qint64 nowSeconds = QDateTime::currentSecsSinceEpoch();
    connection_->tunnel().withDevice([&](wireguard::Device& device, wireguard::Now,
                                         wireguard::Actions&) {
        for (const wireguard::Peer* peer : device.peers()) {
            QJsonArray allowed;
            for (const auto& prefix : device.allowedIpsOf(*peer))
                allowed.append(QString::fromStdString(prefix.toString()));
            std::optional<qint64> age;
            if (peer->lastHandshake)
                age = std::max<qint64>(0, nowSeconds - peer->lastHandshake->unixSeconds);
            peers.append(QJsonObject{
                {"publicKey", QString::fromStdString(config::encodeKeyBase64(peer->publicKey()))},
                {"name", QJsonValue()},
                {"allowedIps", allowed},
                {"endpoint", peer->endpoint
                                 ? QJsonValue(QString::fromStdString(peer->endpoint->toString()))
                                 : QJsonValue()},
                {"lastHandshake", peer->lastHandshake
                                      ? QJsonValue(qint64(peer->lastHandshake->unixSeconds))
                                      : QJsonValue()},
                {"handshakeAgeSeconds", age ? QJsonValue(*age) : QJsonValue()},
                {"health", ipc::toString(ipc::healthFor(age))},
                {"rxBytes", qint64(peer->rxBytes)},
                {"txBytes", qint64(peer->txBytes)},
                {"persistentKeepalive", int(peer->timers.persistentKeepalive())},
                {"path", "direct"},
            });
        }
    });
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
