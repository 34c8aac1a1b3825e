// Service: calnetd --service. Serves the IPC verbs of docs/ipc.md: the profile verbs against
// the ProfileStore, and connect / up / disconnect through the ConnectionController (the
// connection state machine, whose blocking steps run off this thread, so status, peers and
// profile queries are answered while a connect waits on DNS or D-Bus). Pushes `state` on every
// change and `peers` once a second while something is connected (peerstats.h).
//
// Calnet network (mesh) profiles: `up` registers with calnet-server first (state connecting
// meanwhile), then brings the interface up with the overlay addresses and opens the map stream
// (MeshSession); `connect` of a registered mesh profile skips the registration. A registered
// profile comes up with the peers of its last network map before the server answers, so a
// restart while the server is away keeps the mesh working. The control connection has its own
// state ("control" in Status: connecting, connected, reconnecting, error) and never changes the
// tunnel's. The exceptions: the server deleted this node (4403) -> disconnected, then state
// error; key expired (4410) -> the node registers again with its credential.
//
// Runs on the Qt event loop of the helper's main thread; the data path of a connected profile
// runs on the Tunnel's own threads.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include <optional>

#include "helper/platform/accesspolicy.h"
#include "helper/service/accountverbs.h"
#include "helper/service/connectioncontroller.h"
#include "helper/service/controlclient.h"
#include "helper/service/ipcserver.h"
#include "helper/service/meshdiagnostics.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

class Service : public QObject {
    Q_OBJECT

public:
    struct Options {
        QString socketPath = QString(ipc::kDefaultSocketPath);
        QString stateDir = statefile::defaultStateDirectory();
        QString interfaceName = QStringLiteral("calnet0");
        // Who may change things over IPC (root, the calnet group, --operator-uid).
        AccessPolicy access;
        // Makes tunnel interfaces and configures the host: the OS's, or one with a fake
        // resolvconf or fake devices in tests. Must outlive the Service.
        Platform* platform = &Platform::system();
        // Timing of the mesh control connection (backoff, endpoint poll); tests shorten it.
        ControlClient::Options control;
    };

    explicit Service(Options options, QObject* parent = nullptr);
    ~Service() override;

    // Rolls back what a crashed helper left, opens the store, listens, and starts reconnecting
    // the profile that was connected when the helper last stopped.
    bool start(QString* error);
    // Finishes the operation in flight, disconnects (keeping the intent, so the next start
    // reconnects) and closes the socket.
    void shutdown();

    [[nodiscard]] QJsonObject statusJson() const;
    [[nodiscard]] QJsonObject peersJson() const;
    [[nodiscard]] const ConnectionController& controller() const { return controller_; }

private:
    QJsonObject handle(const ipc::Request& request, ipc::Role role);
    QJsonObject listProfiles(qint64 id);
    QJsonObject importProfile(qint64 id, const ipc::ImportParams& params);
    QJsonObject renameProfile(qint64 id, const ipc::RenameParams& params);
    QJsonObject removeOrExport(qint64 id, const QString& method, const QString& name);
    // The verbs that change the connection answer later, through a deferred reply.
    QJsonObject connectProfile(qint64 id, const std::optional<QString>& requested);
    QJsonObject up(qint64 id, const ipc::UpParams& params);
    QJsonObject disconnectProfile(qint64 id);
    // The profile `connect` without a name means, or an error reply.
    std::variant<ConnectionController::Target, QJsonObject>
    targetFor(qint64 id, const std::optional<QString>& requested) const;
    // Replies to the calling client when the controller is done: the status, or the failure.
    ConnectionController::Done replyWhenDone(qint64 id);
    void publishState();
    void publishPeers();

    Options options_;
    ProfileStore store_;
    IpcServer server_;
    ConnectionController controller_;
    MeshDiagnostics diagnostics_;
    AccountVerbs accounts_;
    QTimer statsTimer_;
    QJsonObject lastPeers_;
};

} // namespace calnet::helper
