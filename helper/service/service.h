// Service: calnetd --service. Keeps the tunnel profiles, connects one at a time (interface,
// keys, peers, addresses, routes, DNS), serves the IPC verbs of docs/ipc.md, and pushes state
// and peer statistics to subscribers.
//
// Connection state (Status.state), with its transitions:
//   disconnected  -> connecting     connect
//   connecting    -> connected      interface up, network configured
//   connecting    -> error          any step failed; everything done so far is rolled back
//   connected     -> disconnecting  disconnect, SIGTERM
//   disconnecting -> disconnected   routes, rules and DNS restored, interface removed
//   error         -> connecting     connect again
//
// Calnet network (mesh) profiles use the same states. `up` registers with calnet-server first
// (state connecting meanwhile), then brings the interface up with the overlay addresses and
// opens the map stream (ControlClient); `connect` of a registered mesh profile skips the
// registration. A registered profile comes up with the peers of its last network map
// (MapCache, <name>.netmap) before the server answers, so a restart while the server is away
// keeps the mesh working; the stream resumes from that map's seq. The control connection has
// its own state ("control" in Status: connecting,
// connected, reconnecting, error) and never changes the tunnel's: while the server is away the
// tunnel stays "connected" and keeps its peers. Map changes become live peer changes
// (diffPeers + Connection::applyMeshPeers), never an interface restart. The exceptions: the
// server deleted this node (4403) -> disconnected, then state error; key expired (4410) -> the
// service registers again with the credential and resumes the stream.
//
// Runs on the Qt event loop of the helper's main thread; the data path of a connected profile
// runs on the Tunnel's own threads.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <memory>
#include <optional>

#include "core/config/wgquick.h"
#include "helper/service/accesspolicy.h"
#include "helper/service/addresswatcher.h"
#include "helper/service/controlclient.h"
#include "helper/service/ipcserver.h"
#include "helper/service/mapcache.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

class Tunnel;
class Connection;

class Service : public QObject {
    Q_OBJECT

public:
    enum class State { Disconnected, Connecting, Connected, Disconnecting, Error };
    [[nodiscard]] static QLatin1StringView toString(State state);

    struct Options {
        QString socketPath = QString(ipc::kDefaultSocketPath);
        QString stateDir = QString::fromLatin1(kDefaultStateDir);
        QString interfaceName = QStringLiteral("calnet0");
        std::optional<uid_t> operatorUid;
        // Timing of the mesh control connection (backoff, endpoint poll); tests shorten it.
        ControlClient::Options control;
    };

    explicit Service(Options options, QObject* parent = nullptr);
    ~Service() override;

    // Rolls back what a crashed helper left, opens the store, listens, and reconnects the
    // profile that was connected when the helper last stopped.
    bool start(QString* error);
    // Disconnects (keeping the intent, so the next start reconnects) and closes the socket.
    void shutdown();

    [[nodiscard]] QJsonObject statusJson() const;
    [[nodiscard]] QJsonObject peersJson() const;

private:
    QJsonObject handle(const ipc::Request& request, ipc::Role role);
    QJsonObject connectProfile(qint64 id, const std::optional<QString>& requested);
    QJsonObject up(qint64 id, const ipc::UpParams& params);
    void registerMesh(const QString& name, MeshProfile mesh, const QString& authKey,
                      bool withCredential, IpcServer::DeferredReply reply);
    void finishUp(const IpcServer::DeferredReply& reply, const QJsonObject& result);
    // Before connecting `name`: the reply when it is already connected or the current tunnel
    // cannot be taken down; otherwise the current tunnel is down, the state is Connecting and
    // the caller connects.
    std::optional<QJsonObject> leaveForProfile(qint64 id, const QString& name);
    QJsonObject connectMesh(qint64 id, const QString& name, const MeshProfile& mesh);
    void onMapChanged();
    void onKeyExpired();
    void onNodeDeleted();
    void cancelPendingUp(const QString& why);
    bool disconnectProfile(bool keepIntent, QString* error);
    void setState(State state, const QString& error = {});
    void publishPeers();

    Options options_;
    ProfileStore store_;
    IpcServer server_;
    std::unique_ptr<Connection> connection_;
    State state_ = State::Disconnected;
    QString error_;
    QTimer statsTimer_;
    QJsonObject lastPeers_;

    // The connected mesh profile (when connection_ is one): its stored form, the control
    // client, the on-disk copy of its map and the peers applied to the device from the last map.
    std::optional<MeshProfile> mesh_;
    std::unique_ptr<ControlClient> control_;
    std::unique_ptr<MapCache> mapCache_;
    std::unique_ptr<AddressWatcher> addressWatcher_; // endpoint changes at once (mesh only)
    std::vector<MeshPeerConfig> meshPeers_;
    // An `up` waiting for its registration: the client that asked and the registrar.
    std::optional<IpcServer::DeferredReply> pendingUp_;
    qint64 pendingUpId_ = 0;
    QPointer<ControlClient> registrar_;
};

} // namespace calnet::helper
