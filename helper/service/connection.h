// Connection: one connected profile — its Tunnel (TUN interface, keys, peers) and the
// host-side network configuration (addresses, MTU, routes, rules, DNS) made by the platform's
// NetworkConfigurator with a journal, so that close(), a SIGTERM and the next start after a
// crash all restore the host exactly.
#pragma once

#include <QString>
#include <QStringList>

#include <memory>

#include "core/config/wgquick.h"
#include "helper/platform/platform.h"
#include "helper/service/meshprofile.h"
#include "helper/service/networkmap.h"

namespace calnet::helper {

class Tunnel;

class Connection {
public:
    // Brings the profile up on interface `ifname`; nullptr and an error on failure, with
    // everything already done undone.
    // Where a connection lives: its interface name, the state directory (journal) and the
    // platform that makes the interface and configures the host.
    struct Place {
        QString ifname;
        QString stateDir;
        Platform* platform = &Platform::system();
    };

    static std::unique_ptr<Connection> open(const QString& profile,
                                            const config::WgQuickConfig& config, const Place& place,
                                            QString* error);
    // A Calnet network profile: the node key, the listen port and the overlay addresses on the
    // interface, a route for each overlay prefix through it; no peers yet (applyMeshPeers()).
    static std::unique_ptr<Connection> openMesh(const QString& profile, const MeshProfile& mesh,
                                                const Place& place, QString* error);
    // Rolls back journals a crashed helper left in stateDir; returns what happened, "" if
    // nothing was there.
    static QString rollbackLeftovers(Platform& platform, const QString& stateDir);

    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Applies a diff of mesh peers to the running device, touching only the peers it names:
    // removed peers go, added ones come with their allowed IPs, endpoint and keepalive, and for
    // updated ones only the fields that differ from `previous` (what was applied before) change,
    // so sessions survive and a roamed endpoint is kept unless the server reports a new one.
    void applyMeshPeers(const std::vector<MeshPeerConfig>& previous, const PeerDiff& diff);

    // Restores routes, rules and DNS and removes the interface. Safe to call twice.
    bool close(QString* error);

    [[nodiscard]] const QString& profile() const { return profile_; }
    [[nodiscard]] const QString& interfaceName() const { return ifname_; }
    [[nodiscard]] const QStringList& addresses() const { return addresses_; }
    // What the network setup could only do in part (IPv6 disabled on the host, no nftables).
    [[nodiscard]] const QStringList& warnings() const { return warnings_; }
    [[nodiscard]] Tunnel& tunnel() { return *tunnel_; }

private:
    Connection(QString profile, const Place& place);
    // networkConfig: what NetworkSetup plans routes from (default: config itself).
    static std::unique_ptr<Connection> openWith(const QString& profile,
                                                const config::WgQuickConfig& config,
                                                const config::WgQuickConfig& networkConfig,
                                                const Place& place, QString* error);

    QString profile_;
    QString ifname_;
    QStringList addresses_;
    QStringList warnings_;
    Platform& platform_;
    QString stateDir_;
    std::unique_ptr<Tunnel> tunnel_;
    std::unique_ptr<NetworkConfigurator> setup_;
    bool closed_ = false;
};

} // namespace calnet::helper
