// The app's view of the helper: one IpcClient with auto-reconnect, subscribed to `state` and
// `peers`, plus the profile list. Every window and the tray read from here and act through it;
// nothing else in the app talks to the helper.
//
// Availability: the session is "available" while its IpcClient is connected. When the helper
// goes away the session clears the peers, reports Unavailable, and the client retries with
// backoff (250 ms doubling to 10 s); once back, the subscription and the profile list are
// fetched again, so the app recovers without a restart.
//
// Transitions the user should hear about (connected, disconnected, failed) are signalled once
// each from the helper's state events; the app turns them into notifications.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <functional>

#include "app/calnet/peermodel.h"
#include "app/calnet/profilemodel.h"
#include "app/calnet/traystate.h"
#include "helper/ipc/client.h"

class QTimer;

namespace calnet::app {

struct HelperStatus {
    QString state = QStringLiteral("disconnected");
    QString profile;
    QString interfaceName;
    QStringList addresses;
    QString error;
    // calnetd reconnects this profile by itself after a restart (no one asked just now).
    bool restored = false;
    // A Calnet network ("mesh") profile: its server, the account it is signed in as, when its
    // node key expires (Unix seconds, 0 = unknown), and whether the key can only be renewed by
    // signing in again.
    bool mesh = false;
    QString server;
    QString user;
    qint64 keyExpiry = 0;
    bool signInRequired = false;

    [[nodiscard]] static HelperStatus fromJson(const QJsonObject& status);
    // Connected or on the way there: what Disconnect acts on and Connect does not.
    [[nodiscard]] bool isUp() const {
        return state == QLatin1StringView("connected") || state == QLatin1StringView("connecting");
    }
    bool operator==(const HelperStatus&) const = default;
};

// The outcome of an import, for the import dialog: the profile name on success; otherwise the
// message and, for a config that does not parse, its errors with line numbers.
struct ImportOutcome {
    bool ok = false;
    QString profile;
    QString message;
    struct LineError {
        int line = 0;
        QString reason;
    };
    QList<LineError> errors;
    bool permissionDenied = false;
};

class HelperSession : public QObject {
    Q_OBJECT

public:
    explicit HelperSession(QObject* parent = nullptr);
    ~HelperSession() override;

    // Connects to the helper at `socketPath` and keeps reconnecting until stopped.
    void start(const QString& socketPath);
    void stop();
    [[nodiscard]] QString socketPath() const;

    [[nodiscard]] bool isAvailable() const { return available_; }
    [[nodiscard]] const HelperStatus& status() const { return status_; }
    [[nodiscard]] TrayState trayState() const { return trayState_; }
    [[nodiscard]] TooltipInputs tooltipInputs() const;
    [[nodiscard]] PeerModel* peerModel() const { return peers_; }
    [[nodiscard]] ProfileModel* profileModel() const { return profiles_; }
    // The message of the last failed action or helper error, empty when none.
    [[nodiscard]] QString lastError() const { return lastError_; }
    [[nodiscard]] bool isBusy() const { return pendingActions_ > 0; }
    // False from a (re)connect or a new tunnel until the helper's first peers event: an empty
    // peer model then means "not known yet", not "no peers".
    [[nodiscard]] bool peersKnown() const { return peersKnown_; }

    // Actions. Each reports failure through actionFailed (and lastError); success shows up as
    // state events. An empty name connects the helper's default profile.
    void connectProfile(const QString& name = {});
    void disconnectTunnel();
    void refreshProfiles();
    void importProfile(const QString& config, const QString& name,
                       std::function<void(const ImportOutcome&)> done);

    [[nodiscard]] ipc::IpcClient* client() const { return client_; }

signals:
    void availabilityChanged(bool available);
    void statusChanged();
    void trayStateChanged(calnet::app::TrayState state);
    void profilesChanged();
    void busyChanged(bool busy);
    void peersKnownChanged(bool known);
    // A reconnect attempt follows in delayMs (helper unavailable).
    void reconnecting(int delayMs);
    // title is a whole sentence ("Could not connect"); message is the reason.
    void actionFailed(const QString& title, const QString& message);
    // User-facing transitions, each once.
    void tunnelConnected(const QString& profile);
    void tunnelDisconnected(const QString& profile);
    void tunnelFailed(const QString& profile, const QString& message);

private:
    void onConnected();
    void onDisconnected();
    void applyStatus(const QJsonObject& data);
    void applyPeers(const QJsonObject& data);
    void updateTrayState();
    void runAction(QLatin1StringView method, const QJsonObject& params, const QString& action);
    void setBusy(int delta);
    void setPeersKnown(bool known);

    ipc::IpcClient* client_ = nullptr;
    PeerModel* peers_ = nullptr;
    ProfileModel* profiles_ = nullptr;
    QTimer* clock_ = nullptr; // ticks the peer model's "now" once a second
    bool available_ = false;
    HelperStatus status_;
    TrayState trayState_ = TrayState::Unavailable;
    QString lastError_;
    int pendingActions_ = 0;
    bool initialStatusSeen_ = false; // reset on every (re)connect
    bool peersKnown_ = false;
};

} // namespace calnet::app
