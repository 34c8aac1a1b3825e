// MeshSession: the live side of a connected Calnet network (mesh) profile, on top of its open
// Connection: the map stream (ControlClient), the on-disk copy of the map (MapCache), the
// rtnetlink watch that reports new local endpoints at once (AddressWatcher), and the peers the
// device got from the last map. Map changes become live peer changes (diffPeers +
// Connection::applyMeshPeers), never an interface restart.
//
//   4410 key expired  -> registers again with the stored credential, saves the renewal and
//                        resumes the stream (renewal is handled here)
//   4403 node deleted -> nodeDeleted(why): the owner disconnects and reports the error
//
// Runs on the helper's Qt event loop.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>

#include <map>
#include <memory>
#include <vector>

#include "helper/service/controlclient.h"
#include "helper/service/meshprofile.h"
#include "helper/service/networkmap.h"

namespace calnet::helper {

class AddressWatcher;
class Connection;
class MapCache;
class PathManager;
class ProfileStore;
class RelayRegions;

// What a node tells the server about itself; authorised by the auth key when given, else by
// the stored credential, with the ID token when given (the server renews a signed-in node's key
// only with a fresh sign-in).
[[nodiscard]] ControlClient::RegisterRequest registerRequest(const MeshProfile& mesh,
                                                             const JoinSecret& secret);
// Takes what the server assigned into the stored profile.
void applyRegistration(MeshProfile& mesh, const ControlClient::Registration& r);

class MeshSession : public QObject {
    Q_OBJECT

public:
    // `connection` and `store` outlive the session.
    MeshSession(QString name, MeshProfile mesh, Connection& connection, ProfileStore& store,
                ControlClient::Options control, QObject* parent = nullptr);
    ~MeshSession() override;

    // Applies the stored map (peers up before the server answers), then opens the stream.
    void start();
    // Forgets the stored map (the node no longer exists).
    void discardMap();

    [[nodiscard]] const MeshProfile& profile() const { return mesh_; }
    [[nodiscard]] const NetworkMap& map() const { return control_->map(); }
    [[nodiscard]] const ControlClient& control() const { return *control_; }
    // The mesh fields of Status (control, controlError, server, nodeId, hostname, relay, user,
    // keyExpiry, signInRequired).
    void addStatus(QJsonObject& status) const;
    // Registers again with the stored credential and a fresh ID token (`up` while connected):
    // the key's expiry starts again without taking the tunnel down; the map stream is reopened
    // if the expired key had stopped it. `done` gets "" or why not.
    void renewSignIn(const JoinSecret& secret, std::function<void(const QString&)> done);
    // The server refused to renew the key without a fresh sign-in.
    [[nodiscard]] bool signInRequired() const { return signInRequired_; }
    // How each peer is reached (null before start()).
    [[nodiscard]] const PathManager* paths() const { return paths_.get(); }
    [[nodiscard]] PathManager* paths() { return paths_.get(); }
    // The relay regions and connections (null before start()).
    [[nodiscard]] const RelayRegions* relays() const { return relays_.get(); }

signals:
    void controlStateChanged();
    void peersChanged();
    // A peer's path (direct, relayed, none), its endpoint or reason changed.
    void pathsChanged();
    void nodeDeleted(const QString& why);

private:
    void onMapChanged();
    void onKeyExpired();
    void startPaths();
    void logPaths();

    QString name_;
    MeshProfile mesh_;
    bool signInRequired_ = false;
    Connection& connection_;
    ProfileStore& store_;
    std::unique_ptr<ControlClient> control_;
    std::unique_ptr<MapCache> mapCache_;
    std::unique_ptr<AddressWatcher> addressWatcher_;
    std::vector<MeshPeerConfig> peers_; // applied to the device from the last map
    std::shared_ptr<PathManager> paths_;
    std::unique_ptr<RelayRegions> relays_;
    std::map<QString, QString> loggedPaths_; // node key -> the path last written to the log
};

} // namespace calnet::helper
