#include "app/calnet/session.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QTimer>

namespace calnet::app {

HelperStatus HelperStatus::fromJson(const QJsonObject& o) {
    HelperStatus s;
    s.state = o.value(QLatin1StringView("state")).toString(QStringLiteral("disconnected"));
    s.profile = o.value(QLatin1StringView("profile")).toString();
    s.interfaceName = o.value(QLatin1StringView("interface")).toString();
    for (const QJsonValue& v : o.value(QLatin1StringView("addresses")).toArray())
        s.addresses << v.toString();
    s.error = o.value(QLatin1StringView("error")).toString();
    s.restored = o.value(QLatin1StringView("restored")).toBool();
    s.mesh = o.value(QLatin1StringView("kind")).toString() == QLatin1StringView("mesh");
    if (s.mesh) {
        s.server = o.value(QLatin1StringView("server")).toString();
        s.user = o.value(QLatin1StringView("user")).toString();
        s.keyExpiry = o.value(QLatin1StringView("keyExpiry")).toInteger(0);
        s.signInRequired = o.value(QLatin1StringView("signInRequired")).toBool();
    }
    return s;
}

HelperSession::HelperSession(QObject* parent)
    : QObject(parent), client_(new ipc::IpcClient(this)), peers_(new PeerModel(this)),
      profiles_(new ProfileModel(this)), clock_(new QTimer(this)) {
    client_->setAutoReconnect(true);
    // A helper that accepts but never answers must not leave buttons disabled forever. Connect
    // can take long (DNS, resolved over D-Bus), so the limit is generous.
    client_->setCallTimeout(std::chrono::seconds(60));
    connect(client_, &ipc::IpcClient::connected, this, &HelperSession::onConnected);
    connect(client_, &ipc::IpcClient::disconnected, this, &HelperSession::onDisconnected);
    connect(client_, &ipc::IpcClient::reconnecting, this, &HelperSession::reconnecting);
    connect(client_, &ipc::IpcClient::stateEvent, this, &HelperSession::applyStatus);
    connect(client_, &ipc::IpcClient::peersEvent, this, &HelperSession::applyPeers);

    // Handshake ages tick between helper updates, and health can cross 180 s without a new
    // event, so the tray state is re-derived on each tick too.
    clock_->setInterval(1000);
    connect(clock_, &QTimer::timeout, this, [this] {
        peers_->setNow(QDateTime::currentSecsSinceEpoch());
        updateTrayState();
    });
    peers_->setNow(QDateTime::currentSecsSinceEpoch());
}

HelperSession::~HelperSession() = default;

void HelperSession::start(const QString& socketPath) {
    client_->subscribe({ipc::kEventState, ipc::kEventPeers});
    client_->connectToHelper(socketPath);
}

void HelperSession::stop() {
    client_->disconnectFromHelper();
}

QString HelperSession::socketPath() const {
    return client_->socketPath();
}

void HelperSession::onConnected() {
    available_ = true;
    initialStatusSeen_ = false;
    lastError_.clear();
    emit availabilityChanged(true);
    // The subscribe reply is followed by one state and one peers event with current data.
    refreshProfiles();
    updateTrayState();
}

void HelperSession::onDisconnected() {
    const bool was = available_;
    available_ = false;
    clock_->stop();
    peers_->clear();
    setPeersKnown(false);
    status_ = HelperStatus{};
    if (was) {
        emit availabilityChanged(false);
        emit statusChanged();
    }
    updateTrayState();
}

void HelperSession::applyStatus(const QJsonObject& data) {
    const HelperStatus next = HelperStatus::fromJson(data);
    const HelperStatus prev = status_;
    if (next == prev)
        return;
    status_ = next;
    if (next.state == QLatin1StringView("connected"))
        clock_->start();
    else
        clock_->stop();
    if (next.state != QLatin1StringView("connected") &&
        next.state != QLatin1StringView("disconnecting"))
        peers_->clear();
    const bool tunnelUp = next.state == QLatin1StringView("connected") ||
                          next.state == QLatin1StringView("connecting") ||
                          next.state == QLatin1StringView("disconnecting");
    if (!tunnelUp || next.profile != prev.profile)
        setPeersKnown(false);

    // Transitions worth telling the user, each once. The first event after (re)connecting only
    // reports the state the helper already had, so it is not news; nor is the helper bringing
    // back, after its own restart, the tunnel that was up before.
    if (prev.state != next.state && initialStatusSeen_) {
        if (next.state == QLatin1StringView("connected")) {
            if (!next.restored)
                emit tunnelConnected(next.profile);
        } else if (next.state == QLatin1StringView("disconnected") &&
                   (prev.state == QLatin1StringView("connected") ||
                    prev.state == QLatin1StringView("disconnecting"))) {
            emit tunnelDisconnected(prev.profile);
        } else if (next.state == QLatin1StringView("error")) {
            emit tunnelFailed(next.profile.isEmpty() ? prev.profile : next.profile, next.error);
        }
    }
    initialStatusSeen_ = true;
    if (next.state == QLatin1StringView("error"))
        lastError_ = next.error;
    // The profile list carries "connected" flags; keep them in step.
    if (prev.state != next.state || prev.profile != next.profile)
        refreshProfiles();
    emit statusChanged();
    updateTrayState();
}

void HelperSession::applyPeers(const QJsonObject& data) {
    peers_->setNow(QDateTime::currentSecsSinceEpoch());
    peers_->setPeers(peersFromJson(data));
    setPeersKnown(true);
    updateTrayState();
}

void HelperSession::setPeersKnown(bool known) {
    if (known == peersKnown_)
        return;
    peersKnown_ = known;
    emit peersKnownChanged(known);
}

void HelperSession::updateTrayState() {
    const TrayState next = trayStateFor({available_, status_.state, peers_->healthList()});
    if (next == trayState_)
        return;
    trayState_ = next;
    emit trayStateChanged(next);
}

TooltipInputs HelperSession::tooltipInputs() const {
    return {trayState_,
            status_.profile,
            status_.addresses,
            peers_->rowCount(),
            peers_->unhealthyCount(),
            status_.error.isEmpty() ? lastError_ : status_.error,
            peers_->relayedCount()};
}

void HelperSession::refreshProfiles() {
    client_->call(ipc::kMethodProfilesList, {}, [this](const ipc::Reply& reply) {
        if (!reply.ok())
            return; // disconnected: the next connect refreshes again
        profiles_->setProfiles(profilesFromJson(reply.result));
        emit profilesChanged();
    });
}

void HelperSession::setBusy(int delta) {
    const bool was = pendingActions_ > 0;
    pendingActions_ += delta;
    if (was != (pendingActions_ > 0))
        emit busyChanged(pendingActions_ > 0);
}

void HelperSession::runAction(QLatin1StringView method, const QJsonObject& params,
                              const QString& action) {
    setBusy(+1);
    client_->call(method, params, [this, action](const ipc::Reply& reply) {
        setBusy(-1);
        if (reply.ok()) {
            applyStatus(reply.result); // connect/disconnect return Status
            return;
        }
        QString message = reply.error->message;
        if (reply.error->code == ipc::ErrorCode::PermissionDenied)
            message = tr("Only members of the “calnet” group may change the connection. Ask an "
                         "administrator to add your account to it (usermod -aG calnet %1), then "
                         "sign in again.")
                          .arg(qEnvironmentVariable("USER", QStringLiteral("USERNAME")));
        else if (reply.error->code == ipc::ErrorCode::Disconnected)
            message = tr("The Calnet service is not running.");
        lastError_ = message;
        // A failed connect already arrived as an "error" state event (tunnelFailed); saying it
        // twice would mean two notifications for one failure.
        const bool reportedAsState = reply.error->code == ipc::ErrorCode::Failed &&
                                     status_.state == QLatin1StringView("error");
        if (!reportedAsState)
            emit actionFailed(action, message);
        updateTrayState();
    });
}

void HelperSession::connectProfile(const QString& name) {
    QJsonObject params;
    if (!name.isEmpty())
        params.insert(QStringLiteral("name"), name);
    runAction(ipc::kMethodConnect, params, tr("Could not connect"));
}

void HelperSession::disconnectTunnel() {
    runAction(ipc::kMethodDisconnect, {}, tr("Could not disconnect"));
}

void HelperSession::importProfile(const QString& config, const QString& name,
                                  std::function<void(const ImportOutcome&)> done) {
    QJsonObject params{{QStringLiteral("config"), config}};
    if (!name.isEmpty())
        params.insert(QStringLiteral("name"), name);
    setBusy(+1);
    client_->call(ipc::kMethodProfilesImport, params,
                  [this, done = std::move(done)](const ipc::Reply& reply) {
                      setBusy(-1);
                      ImportOutcome out;
                      if (reply.ok()) {
                          out.ok = true;
                          out.profile = reply.result.value(QLatin1StringView("name")).toString();
                          refreshProfiles();
                      } else {
                          out.message = reply.error->message;
                          out.permissionDenied =
                              reply.error->code == ipc::ErrorCode::PermissionDenied;
                          for (const QJsonValue& v :
                               reply.error->details.value(QLatin1StringView("errors")).toArray()) {
                              const QJsonObject e = v.toObject();
                              out.errors.append({e.value(QLatin1StringView("line")).toInt(),
                                                 e.value(QLatin1StringView("reason")).toString()});
                          }
                      }
                      if (done)
                          done(out);
                  });
}

} // namespace calnet::app
