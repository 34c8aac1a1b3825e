#include "helper/service/connection.h"

#include <algorithm>

#include "helper/datapath/tunnel.h"

namespace calnet::helper {

namespace {

// Endpoints may be host names (wg-quick allows them); resolve once at connect, as wg does.
std::optional<net::SocketAddress> resolve(Platform& platform, const net::EndpointSpec& spec,
                                          QString* error) {
    if (auto literal = spec.literalAddress())
        return net::SocketAddress{*literal, spec.port};
    std::string why;
    auto address = platform.resolve(spec.host, spec.port, why);
    if (!address)
        *error = QString::fromStdString(why);
    return address;
}

} // namespace

Connection::Connection(QString profile, const Place& place)
    : profile_(std::move(profile)), ifname_(place.ifname), platform_(*place.platform),
      stateDir_(place.stateDir) {}

Connection::~Connection() {
    QString ignored;
    close(&ignored);
}

std::unique_ptr<Connection> Connection::open(const QString& profile,
                                             const config::WgQuickConfig& config,
                                             const Place& place, QString* error) {
    return openWith(profile, config, config, place, error);
}

std::unique_ptr<Connection> Connection::openMesh(const QString& profile, const MeshProfile& mesh,
                                                 const Place& place, QString* error) {
    config::WgQuickConfig device;
    device.interface.privateKey = mesh.nodeKey;
    if (mesh.listenPort != 0)
        device.interface.listenPort = mesh.listenPort;
    for (const QString& a : mesh.addresses)
        if (auto prefix = net::IpPrefix::parse(a.toStdString()))
            device.interface.addresses.push_back(*prefix);
    if (device.interface.addresses.empty()) {
        *error = QStringLiteral("the profile has no overlay address yet; register it first");
        return nullptr;
    }
    // Routes come from the overlay prefixes, planned as wg-quick plans a peer's AllowedIPs
    // ("<prefix> dev IF" in main). The placeholder peer exists only for the plan.
    config::WgQuickConfig network = device;
    config::WgQuickPeer routes;
    for (const QString& p : mesh.prefixes)
        if (auto prefix = net::IpPrefix::parse(p.toStdString()))
            routes.allowedIps.push_back(prefix->masked());
    if (!routes.allowedIps.empty())
        network.peers.push_back(routes);
    return openWith(profile, device, network, place, error);
}

void Connection::applyMeshPeers(const std::vector<MeshPeerConfig>& previous, const PeerDiff& diff) {
    tunnel_->withDevice(
        [&](wireguard::Device& device, wireguard::Now now, wireguard::Actions& actions) {
            for (const auto& key : diff.remove)
                device.removePeer(device.findPeer(key));
            auto setAllowed = [&](wireguard::Peer* peer, const MeshPeerConfig& c) {
                device.allowedIps().removeValue(peer);
                for (const auto& prefix : c.allowedIps)
                    device.allowedIps().insert(prefix, peer);
            };
            for (const auto& c : diff.add) {
                wireguard::Peer* peer = device.addPeer(c.publicKey);
                if (!peer)
                    continue; // our own key
                setAllowed(peer, c);
                peer->pinnedEndpoint = c.pinned;
                if (c.endpoint)
                    device.setEndpoint(*peer, *c.endpoint);
                device.setPersistentKeepalive(*peer, c.persistentKeepalive, now, actions);
            }
            for (const auto& c : diff.update) {
                wireguard::Peer* peer = device.findPeer(c.publicKey);
                const auto old = std::find_if(previous.begin(), previous.end(), [&](const auto& p) {
                    return p.publicKey == c.publicKey;
                });
                if (!peer || old == previous.end())
                    continue;
                if (old->allowedIps != c.allowedIps)
                    setAllowed(peer, c);
                peer->pinnedEndpoint = c.pinned;
                if (c.endpoint && old->endpoint != c.endpoint) {
                    device.setEndpoint(*peer, *c.endpoint);
                    // A peer added without an endpoint (a node appears in the map when it
                    // registers, its endpoints when its stream opens) could not be greeted
                    // then: greet it now, as the keepalive would have on adding it.
                    if (!old->endpoint && c.persistentKeepalive > 0)
                        device.sendKeepalive(*peer, now, actions);
                }
                if (old->persistentKeepalive != c.persistentKeepalive)
                    device.setPersistentKeepalive(*peer, c.persistentKeepalive, now, actions);
            }
        });
}

std::unique_ptr<Connection> Connection::openWith(const QString& profile,
                                                 const config::WgQuickConfig& config,
                                                 const config::WgQuickConfig& networkConfig,
                                                 const Place& place, QString* error) {
    if (!config.interface.privateKey) {
        *error = QStringLiteral("the profile has no private key");
        return nullptr;
    }
    std::vector<std::optional<net::SocketAddress>> endpoints;
    std::vector<net::IpAddress> endpointAddresses;
    for (const auto& peer : config.peers) {
        endpoints.emplace_back();
        if (peer.endpoint) {
            endpoints.back() = resolve(*place.platform, *peer.endpoint, error);
            if (!endpoints.back())
                return nullptr;
            endpointAddresses.push_back(endpoints.back()->address);
        }
    }

    std::unique_ptr<Connection> c(new Connection(profile, place));
    const QString& ifname = place.ifname;
    for (const auto& a : config.interface.addresses)
        c->addresses_.append(QString::fromStdString(a.toString()));
    c->tunnel_ = std::make_unique<Tunnel>(c->platform_);
    std::string err;
    // The socket is bound to the profile's port before any peer exists, so the first
    // initiation (sent as soon as a peer with a keepalive is added) already leaves from it
    // and the peer's response comes back to a socket we listen on.
    Tunnel::Options tunnelOptions;
    tunnelOptions.listenPort = config.interface.listenPort.value_or(0);
    if (!c->tunnel_->start(ifname.toStdString(), tunnelOptions, err)) {
        *error = QString::fromStdString(err);
        c->closed_ = true;
        return nullptr;
    }
    c->tunnel_->withDevice(
        [&](wireguard::Device& device, wireguard::Now now, wireguard::Actions& actions) {
            device.setPrivateKey(*config.interface.privateKey);
            for (std::size_t i = 0; i < config.peers.size(); ++i) {
                const auto& spec = config.peers[i];
                wireguard::Peer* peer = device.addPeer(spec.publicKey);
                if (!peer)
                    continue;
                if (spec.presharedKey)
                    peer->presharedKey = *spec.presharedKey;
                if (endpoints[i])
                    device.setEndpoint(*peer, *endpoints[i]);
                for (const auto& prefix : spec.allowedIps)
                    device.allowedIps().insert(prefix.masked(), peer);
                if (spec.persistentKeepalive)
                    device.setPersistentKeepalive(*peer, *spec.persistentKeepalive, now, actions);
            }
        });
    c->setup_ =
        c->platform_.configurator(*c->tunnel_->tunDevice(), c->stateDir_.toStdString(), err);
    if (!c->setup_) {
        *error = QString::fromStdString(err);
        c->close(error);
        return nullptr;
    }
    NetworkConfigurator::Options options;
    options.endpointAddresses = endpointAddresses;
    Tunnel* tunnel = c->tunnel_.get();
    const bool applied = c->setup_->apply(
        networkConfig,
        [tunnel](std::uint32_t mark, std::string& e) { return tunnel->setFwmark(mark, e); },
        options, err);
    if (!applied) {
        *error = QString::fromStdString(err);
        c->close(error);
        return nullptr;
    }
    if (c->setup_->ipv6Disabled())
        c->addresses_.removeIf([](const QString& a) { return a.contains(QLatin1Char(':')); });
    for (const std::string& warning : c->setup_->warnings()) {
        qWarning("calnetd: %s: %s", qPrintable(ifname), warning.c_str());
        c->warnings_.append(QString::fromStdString(warning));
    }
    return c;
}

bool Connection::close(QString* error) {
    if (closed_)
        return true;
    closed_ = true;
    bool ok = true;
    if (setup_) {
        const UndoReport result = setup_->rollback();
        if (!result.ok()) {
            ok = false;
            *error = QString::fromStdString(result.summary);
        }
    }
    if (tunnel_)
        tunnel_->stop();
    return ok;
}

QString Connection::rollbackLeftovers(Platform& platform, const QString& stateDir) {
    const UndoReport result = platform.rollbackLeftovers(stateDir.toStdString());
    if (result.undone == 0 && result.ok())
        return {};
    if (result.undone == 0)
        return QString::fromStdString(result.summary);
    return QStringLiteral("%1 change(s) undone%2")
        .arg(result.undone)
        .arg(result.ok() ? QString()
                         : QStringLiteral("; ") + QString::fromStdString(result.summary));
}

} // namespace calnet::helper
