#include "helper/service/connectioncontroller.h"

#include <QJsonArray>

#include "helper/service/connection.h"
#include "helper/service/meshsession.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

struct ConnectionController::Opened {
    std::unique_ptr<Connection> connection;
    QString error;      // opening failed
    QString closeError; // closing the tunnel it replaces failed; nothing was opened
};

QLatin1StringView ConnectionController::toString(State state) {
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

ConnectionController::ConnectionController(Options options, ProfileStore& store, QObject* parent)
    : QObject(parent), options_(std::move(options)), store_(store) {}

ConnectionController::~ConnectionController() {
    shutdown();
}

QString ConnectionController::connectedProfile() const {
    return connection_ ? profile_ : QString();
}

void ConnectionController::setState(State state, const QString& error) {
    state_ = state;
    error_ = error;
    emit stateChanged();
}

// ---- connect -----------------------------------------------------------------------------------

void ConnectionController::connectTo(Target target, Done done) {
    if (operation_ == Operation::Registering) {
        done(Failure{ipc::ErrorCode::Conflict,
                     QStringLiteral("a registration (up) of %1 is in progress").arg(profile_)});
        return;
    }
    if (operation_ == Operation::Opening && profile_ == target.name && !cancelled_) {
        waiters_.push_back(std::move(done)); // the same connect, already on its way
        return;
    }
    if (operation_ != Operation::None) {
        done(Failure{
            ipc::ErrorCode::Conflict,
            QStringLiteral("%1 is %2; try again when it is done").arg(profile_, toString(state_))});
        return;
    }
    if (connection_ && profile_ == target.name && state_ == State::Connected) {
        done(std::nullopt); // already there
        return;
    }
    waiters_ = {std::move(done)};
    startOpen(target);
}

void ConnectionController::startOpen(const Target& target) {
    operation_ = Operation::Opening;
    cancelled_ = false;
    mesh_.reset();
    if (connection_)
        leaving_ = std::shared_ptr<Connection>(connection_.release());
    (void)store_.setConnectedProfile(std::nullopt);
    profile_ = target.name;
    restored_ = target.restored;
    setState(State::Connecting);

    std::shared_ptr<Connection> leaving = std::move(leaving_);
    worker_.run<Opened>(
        [leaving, target, place = options_.place] {
            Opened r;
            // The tunnel being replaced has the same interface name: it goes first.
            if (leaving && !leaving->close(&r.closeError))
                return r;
            if (const auto* wg = std::get_if<config::WgQuickConfig>(&target.profile))
                r.connection = Connection::open(target.name, *wg, place, &r.error);
            else
                r.connection = Connection::openMesh(
                    target.name, std::get<MeshProfile>(target.profile), place, &r.error);
            return r;
        },
        [this, target](Opened r) { opened(target, std::move(r)); });
}

void ConnectionController::opened(const Target& target, Opened r) {
    operation_ = Operation::None;
    if (!r.closeError.isEmpty() || !r.connection) {
        const QString error = r.closeError.isEmpty() ? r.error : r.closeError;
        setState(State::Error, error);
        finishOperation(Failure{ipc::ErrorCode::Failed, error});
        return;
    }
    connection_ = std::move(r.connection);
    if (cancelled_) {
        // A disconnect is queued behind this connect; it closes what was just opened.
        finishOperation(Failure{ipc::ErrorCode::Failed,
                                QStringLiteral("cancelled: a disconnect was asked for")});
        return;
    }
    (void)store_.setConnectedProfile(target.name);
    if (const auto* mesh = std::get_if<MeshProfile>(&target.profile))
        startMesh(target.name, *mesh);
    setState(State::Connected);
    finishOperation(std::nullopt);
}

void ConnectionController::finishOperation(const std::optional<Failure>& outcome) {
    cancelled_ = false;
    for (const Done& done : std::exchange(waiters_, {}))
        done(outcome);
    while (operation_ == Operation::None && !next_.empty()) {
        auto step = std::move(next_.front());
        next_.pop_front();
        step();
    }
}

void ConnectionController::startMesh(const QString& name, const MeshProfile& mesh) {
    mesh_ = std::make_unique<MeshSession>(name, mesh, *connection_, store_, options_.control);
    connect(mesh_.get(), &MeshSession::controlStateChanged, this,
            &ConnectionController::stateChanged);
    connect(mesh_.get(), &MeshSession::peersChanged, this, &ConnectionController::peersChanged);
    // A path change (direct, relayed, none) is a change of the peer list's contents.
    connect(mesh_.get(), &MeshSession::pathsChanged, this, &ConnectionController::peersChanged);
    // Queued: handling it destroys the session that emits it.
    connect(mesh_.get(), &MeshSession::nodeDeleted, this, &ConnectionController::onNodeDeleted,
            Qt::QueuedConnection);
    mesh_->start();
}

void ConnectionController::onNodeDeleted(const QString& why) {
    if (!mesh_)
        return;
    mesh_->discardMap(); // the map of a node that no longer exists
    disconnect(false, [this, why](const std::optional<Failure>&) { setState(State::Error, why); });
}

// ---- up (registration) -------------------------------------------------------------------------

bool ConnectionController::renewSignIn(const QString& name, const JoinSecret& secret, Done done) {
    if (!mesh_ || operation_ != Operation::None || profile_ != name || state_ != State::Connected)
        return false;
    mesh_->renewSignIn(secret, [done = std::move(done)](const QString& error) {
        if (error.isEmpty())
            done(std::nullopt);
        else
            done(Failure{ipc::ErrorCode::Failed, error});
    });
    return true;
}

void ConnectionController::registerAndConnect(const QString& name, MeshProfile mesh,
                                              const JoinSecret& secret, Done done) {
    if (operation_ != Operation::None) {
        done(Failure{
            ipc::ErrorCode::Conflict,
            QStringLiteral("%1 is %2; try again when it is done").arg(profile_, toString(state_))});
        return;
    }
    mesh_.reset();
    if (connection_)
        leaving_ = std::shared_ptr<Connection>(connection_.release());
    (void)store_.setConnectedProfile(std::nullopt);
    profile_ = name;
    restored_ = false;
    operation_ = Operation::Registering;
    waiters_ = {std::move(done)};
    setState(State::Connecting);
    const bool withCredential = mesh.registered();
    register_(name, std::move(mesh), secret, withCredential);
}

void ConnectionController::register_(const QString& name, MeshProfile mesh,
                                     const JoinSecret& secret, bool withCredential) {
    if (registrar_)
        registrar_->deleteLater();
    registrar_ = new ControlClient(mesh.server, options_.control, this);
    // With the credential first: an auth key is spent only when the server no longer takes it.
    const JoinSecret first =
        withCredential ? JoinSecret{QString(), secret.idToken, secret.nonce} : secret;
    registrar_->registerNode(
        registerRequest(mesh, first), [this, name, mesh, secret, withCredential](
                                          const std::optional<ControlClient::Registration>& r,
                                          const ControlClient::RegisterError& e) mutable {
            if (operation_ != Operation::Registering)
                return; // cancelled
            if (!r) {
                // A credential the server no longer takes, but an auth key at hand: join with it.
                if (withCredential && !secret.authKey.isEmpty() && e.httpStatus == 401) {
                    register_(name, mesh, secret, false);
                    return;
                }
                // The server is unreachable but we know our addresses: come up on what we know;
                // the control connection keeps trying.
                if (e.httpStatus == 0 && mesh.registered() && !mesh.addresses.isEmpty()) {
                    qWarning("calnetd: registration with %s failed (%s); connecting with the "
                             "stored identity",
                             qPrintable(mesh.server), qPrintable(e.message));
                    registrar_->deleteLater();
                    startOpen({name, mesh});
                    return;
                }
                registrationFailed(QStringLiteral("registration with %1 failed: %2 (%3)")
                                       .arg(mesh.server, e.message, e.code));
                return;
            }
            applyRegistration(mesh, *r);
            if (const StoreResult saved = store_.saveMesh(name, mesh); !saved.ok()) {
                registrationFailed(saved.message);
                return;
            }
            registrar_->deleteLater();
            startOpen({name, mesh});
        });
}

void ConnectionController::registrationFailed(const QString& message) {
    if (registrar_)
        registrar_->deleteLater();
    operation_ = Operation::None;
    if (!leaving_) {
        setState(State::Error, message);
        finishOperation(Failure{ipc::ErrorCode::Failed, message});
        return;
    }
    // The profile connected before the `up` goes too, as it would have with a good answer.
    operation_ = Operation::Closing;
    std::shared_ptr<Connection> leaving = std::move(leaving_);
    worker_.run<bool>(
        [leaving] {
            QString ignored;
            return leaving->close(&ignored);
        },
        [this, message](bool) {
            operation_ = Operation::None;
            setState(State::Error, message);
            finishOperation(Failure{ipc::ErrorCode::Failed, message});
        });
}

void ConnectionController::cancelRegistration(const QString& why) {
    if (operation_ != Operation::Registering)
        return;
    if (registrar_)
        registrar_->deleteLater();
    operation_ = Operation::None;
    for (const Done& done : std::exchange(waiters_, {}))
        done(Failure{ipc::ErrorCode::Failed, why});
    if (state_ == State::Connecting)
        setState(State::Disconnected);
}

// ---- disconnect --------------------------------------------------------------------------------

void ConnectionController::disconnect(bool keepIntent, Done done) {
    cancelRegistration(QStringLiteral("disconnected before the registration finished"));
    if (operation_ == Operation::Opening) {
        cancelled_ = true;
        next_.push_back([this, keepIntent, done = std::move(done)]() mutable {
            disconnect(keepIntent, std::move(done));
        });
        return;
    }
    if (operation_ == Operation::Closing) {
        waiters_.push_back(std::move(done));
        return;
    }
    mesh_.reset(); // its map cache writes a pending map
    if (!keepIntent)
        (void)store_.setConnectedProfile(std::nullopt);
    std::shared_ptr<Connection> closing(connection_.release());
    std::shared_ptr<Connection> leaving = std::move(leaving_);
    restored_ = false;
    if (!closing && !leaving) {
        setState(State::Disconnected);
        done(std::nullopt);
        return;
    }
    operation_ = Operation::Closing;
    waiters_ = {std::move(done)};
    setState(State::Disconnecting);
    worker_.run<QString>(
        [closing, leaving] {
            QString error;
            if (leaving)
                (void)leaving->close(&error);
            if (closing)
                (void)closing->close(&error);
            return error;
        },
        [this](const QString& error) {
            operation_ = Operation::None;
            if (error.isEmpty()) {
                setState(State::Disconnected);
                finishOperation(std::nullopt);
            } else {
                setState(State::Error, error);
                finishOperation(Failure{ipc::ErrorCode::Failed, error});
            }
        });
}

void ConnectionController::shutdown() {
    cancelRegistration(QStringLiteral("calnetd is shutting down"));
    if (registrar_)
        delete registrar_.data();
    worker_.drain(); // the operation in flight, and any disconnect queued behind it
    mesh_.reset();
    QString error;
    if (leaving_ && !leaving_->close(&error))
        qWarning("calnetd: closing at shutdown: %s", qPrintable(error));
    leaving_.reset();
    if (!connection_)
        return;
    setState(State::Disconnecting);
    const bool ok = connection_->close(&error);
    if (!ok)
        qWarning("calnetd: closing at shutdown: %s", qPrintable(error));
    connection_.reset();
    setState(ok ? State::Disconnected : State::Error, ok ? QString() : error);
}

// ---- status ------------------------------------------------------------------------------------

QJsonObject ConnectionController::statusJson() const {
    QJsonArray addresses;
    if (connection_)
        for (const QString& a : connection_->addresses())
            addresses.append(a);
    const bool named = connection_ || state_ == State::Connecting || state_ == State::Disconnecting;
    QJsonObject status{
        {"state", toString(state_)},
        {"profile", named ? QJsonValue(profile_) : QJsonValue()},
        {"interface", connection_ ? QJsonValue(connection_->interfaceName()) : QJsonValue()},
        {"addresses", addresses},
        {"error", error_.isEmpty() ? QJsonValue() : QJsonValue(error_)},
        {"kind", !connection_ ? QJsonValue() : QJsonValue(mesh_ ? "mesh" : "wireguard")},
        {"control", QJsonValue()},
        {"restored", restored_ && (state_ == State::Connecting || state_ == State::Connected)},
        {"warnings",
         connection_ ? QJsonArray::fromStringList(connection_->warnings()) : QJsonArray()},
    };
    if (mesh_)
        mesh_->addStatus(status);
    return status;
}

} // namespace calnet::helper
