// ConnectionController: the connection state machine of calnetd --service (Status.state) for
// one interface, with the blocking work off the event loop.
//
//   disconnected  -> connecting     connectTo / registerAndConnect
//   connecting    -> connected      interface up, network configured (and, for a mesh
//                                   profile, its MeshSession started)
//   connecting    -> error          any step failed; everything done so far is rolled back
//   connected     -> disconnecting  disconnect, shutdown
//   disconnecting -> disconnected   routes, rules and DNS restored, interface removed
//   error         -> connecting     connect again
//
// Opening a Connection (resolving endpoint names, D-Bus to systemd-resolved or the resolvconf
// program, rtnetlink) and closing one run on a SerialWorker, so IPC clients are answered while
// they wait. Only one operation runs at a time: a connect of the profile already being
// connected joins it; anything else meanwhile is refused as a conflict, except disconnect,
// which cancels a registration at once and otherwise runs right after the operation in flight
// (a connect it overtook fails with "cancelled").
//
// registerAndConnect (IPC `up`) first registers the mesh profile with calnet-server (state
// connecting meanwhile); a server that cannot be reached lets an already registered profile
// come up with its stored identity. A profile that was connected stays up until the new one
// opens (it shares the interface name), then is closed first.
//
// Runs on the helper's Qt event loop; the worker thread only ever sees Connections.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "core/config/wgquick.h"
#include "helper/ipc/protocol.h"
#include "helper/service/connection.h"
#include "helper/service/controlclient.h"
#include "helper/service/meshprofile.h"
#include "helper/service/serialworker.h"

namespace calnet::helper {

class MeshSession;
class ProfileStore;

class ConnectionController : public QObject {
    Q_OBJECT

public:
    enum class State { Disconnected, Connecting, Connected, Disconnecting, Error };
    [[nodiscard]] static QLatin1StringView toString(State state);

    struct Options {
        Connection::Place place;        // interface name, state directory, DNS
        ControlClient::Options control; // the mesh control connection's timing
    };
    struct Failure {
        ipc::ErrorCode code = ipc::ErrorCode::Failed;
        QString message;
    };
    // nullopt: done (the state says where things are); a failure otherwise.
    using Done = std::function<void(const std::optional<Failure>&)>;

    // A stored profile to connect: a WireGuard configuration or a registered mesh profile.
    struct Target {
        QString name;
        std::variant<config::WgQuickConfig, MeshProfile> profile;
        // The profile that was connected when calnetd last stopped, reconnected at start: no
        // one asked for it now (Status.restored).
        bool restored = false;
    };

    ConnectionController(Options options, ProfileStore& store, QObject* parent = nullptr);
    ~ConnectionController() override;

    void connectTo(Target target, Done done);
    // `up`: registers `mesh` (with the auth key when given, else its credential, and the ID
    // token when given), stores what the server assigned, then connects it.
    void registerAndConnect(const QString& name, MeshProfile mesh, const JoinSecret& secret,
                            Done done);
    // `up` with an ID token for the mesh profile that is connected: renews its key in place.
    // False (and `done` not called) when `name` is not the connected mesh profile.
    bool renewSignIn(const QString& name, const JoinSecret& secret, Done done);
    // keepIntent: the store keeps the profile as the one to reconnect at the next start.
    void disconnect(bool keepIntent, Done done);
    // Blocks until the operation in flight is done, then disconnects keeping the intent.
    void shutdown();

    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] const QString& error() const { return error_; }
    [[nodiscard]] bool busy() const { return operation_ != Operation::None; }
    // The profile being connected, connected or disconnected ("" when none).
    [[nodiscard]] const QString& profile() const { return profile_; }
    // The profile whose interface is up ("" when none).
    [[nodiscard]] QString connectedProfile() const;
    [[nodiscard]] Connection* connection() const { return connection_.get(); }
    [[nodiscard]] const MeshSession* mesh() const { return mesh_.get(); }
    [[nodiscard]] QJsonObject statusJson() const;

signals:
    void stateChanged();
    // The mesh session applied a new network map.
    void peersChanged();

private:
    enum class Operation { None, Registering, Opening, Closing };
    struct Opened;

    void setState(State state, const QString& error = {});
    void startOpen(const Target& target);
    void opened(const Target& target, Opened result);
    void register_(const QString& name, MeshProfile mesh, const JoinSecret& secret,
                   bool withCredential);
    void registrationFailed(const QString& message);
    void cancelRegistration(const QString& why);
    void finishOperation(const std::optional<Failure>& outcome);
    void startMesh(const QString& name, const MeshProfile& mesh);
    void onNodeDeleted(const QString& why);

    Options options_;
    ProfileStore& store_;
    SerialWorker worker_;
    State state_ = State::Disconnected;
    QString error_;
    QString profile_;
    bool restored_ = false;
    std::unique_ptr<Connection> connection_;
    // The tunnel a connect replaces: closed by the open job, before the new one opens.
    std::shared_ptr<Connection> leaving_;
    std::unique_ptr<MeshSession> mesh_;

    Operation operation_ = Operation::None;
    std::vector<Done> waiters_;              // callers of the operation in flight
    std::deque<std::function<void()>> next_; // disconnects queued behind it
    bool cancelled_ = false;                 // a disconnect is queued behind the connect
    QPointer<ControlClient> registrar_;
};

} // namespace calnet::helper
