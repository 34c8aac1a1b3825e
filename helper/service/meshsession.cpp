#include "helper/service/meshsession.h"

#include <QDateTime>
#include <QHostAddress>
#include <QUrl>

#include "core/config/keyencoding.h"
#include "helper/datapath/pathmanager.h"
#include "helper/datapath/relayset.h"
#include "helper/service/relayregions.h"

#include "helper/datapath/tunnel.h"
#include "helper/platform/addresswatcher.h"
#include "helper/service/connection.h"
#include "helper/service/mapcache.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

ControlClient::RegisterRequest registerRequest(const MeshProfile& mesh, const JoinSecret& secret) {
    ControlClient::RegisterRequest request;
    request.nodeKey = mesh.nodePublicKeyBase64();
    request.discoKey = mesh.discoPublicKeyBase64();
    request.hostname = mesh.hostname;
    request.clientVersion = QString::fromLatin1(CALNET_VERSION);
    if (secret.authKey.isEmpty())
        request.credential = mesh.credential; // with an ID token too: the same node renews
    else
        request.authKey = secret.authKey;
    request.idToken = secret.idToken;
    request.nonce = secret.nonce;
    return request;
}

void applyRegistration(MeshProfile& mesh, const ControlClient::Registration& r) {
    mesh.nodeId = r.nodeId;
    mesh.credential = r.credential;
    mesh.user = r.user;
    mesh.network = r.network;
    mesh.addresses = r.addresses;
    mesh.prefixes = r.prefixes;
    mesh.keyExpiry = r.keyExpiry;
}

MeshSession::MeshSession(QString name, MeshProfile mesh, Connection& connection,
                         ProfileStore& store, ControlClient::Options control, QObject* parent)
    : QObject(parent), name_(std::move(name)), mesh_(std::move(mesh)), connection_(connection),
      store_(store) {
    const QString ifname = connection_.interfaceName();
    Tunnel* tunnel = &connection_.tunnel();
    // The interface addresses, and first what STUN says the world sees (behind a NAT the only
    // one a peer elsewhere can use).
    control.endpoints = [this, tunnel, ifname] {
        QStringList out = localEndpoints(tunnel->listenPort(), ifname);
        if (paths_)
            if (const auto r = paths_->reflexive()) {
                const QString text = QString::fromStdString(r->toString());
                out.removeAll(text);
                out.prepend(text);
            }
        return out;
    };
    control_ = std::make_unique<ControlClient>(mesh_.server, control);
    mapCache_ = std::make_unique<MapCache>(store_, name_, mesh_.server, mesh_.nodeId);
}

MeshSession::~MeshSession() {
    // The data path stops using the relay and the path manager before they stop.
    connection_.tunnel().paths().clear();
    if (relays_)
        relays_->relays()->stop();
    if (paths_)
        paths_->stop();
    // (the map cache writes a pending map)
}

void MeshSession::startPaths() {
    Tunnel& tunnel = connection_.tunnel();
    const QString ifname = connection_.interfaceName();
    PathManager::Options o;
    o.nodeKey = crypto::publicKeyOf(mesh_.nodeKey);
    o.discoKey = mesh_.discoKey;
    o.localEndpoints = [&tunnel, ifname] {
        std::vector<net::SocketAddress> out;
        for (const QString& text : localEndpoints(tunnel.listenPort(), ifname))
            if (auto a = net::SocketAddress::parse(text.toStdString()))
                out.push_back(*a);
        return out;
    };
    o.pathsChanged = [this] {
        QMetaObject::invokeMethod(
            this, [this] { emit pathsChanged(); }, Qt::QueuedConnection);
    };
    o.endpointsChanged = [this] {
        QMetaObject::invokeMethod(
            this, [this] { control_->refreshEndpoints(); }, Qt::QueuedConnection);
    };
    paths_ = std::make_shared<PathManager>(tunnel, std::move(o));
    connect(this, &MeshSession::pathsChanged, this, &MeshSession::logPaths);

    // The relays: regions come with the map; the home region is chosen by latency and
    // reported to the server so that peers know where to reach this node.
    PathManager* pm = paths_.get();
    RelaySet::Callbacks cb;
    cb.homeState = [pm](bool up) { pm->setRelayConnected(up); };
    cb.disco = [pm](const crypto::PublicKey& from, std::span<const std::uint8_t> m) {
        pm->relayDisco(from, m);
    };
    cb.notHere = [pm](const crypto::PublicKey& node) { pm->relayNotHere(node); };
    auto set = std::make_shared<RelaySet>(tunnel, mesh_.nodeKey, std::move(cb));
    relays_ = std::make_unique<RelayRegions>(mesh_.server, set, pm);
    connect(relays_.get(), &RelayRegions::homeChanged, control_.get(),
            &ControlClient::setHomeRelay);
    tunnel.paths().setRelay(set);
    // The manager has its relay before the data path can hand it anything.
    paths_->start(set);
    tunnel.paths().setOtherSink(paths_);
}

// One line per change of a peer's path, for the journal.
void MeshSession::logPaths() {
    for (const auto& [id, node] : control_->map().peers()) {
        const auto key = node.publicKey();
        const auto view = key && paths_ ? paths_->peer(*key) : std::nullopt;
        if (!view)
            continue;
        const disco::PeerPath& p = view->path;
        QString text = QString::fromLatin1(disco::toString(p.kind));
        if (p.kind == disco::PathKind::Direct && p.direct)
            text += QLatin1Char(' ') + QString::fromStdString(p.direct->toString());
        else if (p.kind == disco::PathKind::Relayed)
            text += QStringLiteral(" via ") + QString::fromStdString(view->relayName);
        if (!p.reason.empty())
            text += QStringLiteral(" (") + QString::fromStdString(p.reason) + QLatin1Char(')');
        QString& last = loggedPaths_[node.nodeKey];
        if (last != text) {
            last = text;
            qInfo("calnetd: %s: path to %s: %s", qPrintable(name_), qPrintable(node.hostname),
                  qPrintable(text));
        }
    }
}

void MeshSession::start() {
    startPaths();
    QString why;
    int expired = 0;
    std::optional<NetworkMap> cached =
        mapCache_->load(QDateTime::currentSecsSinceEpoch(), &why, &expired);
    if (!why.isEmpty())
        qWarning("calnetd: ignoring the stored network map of %s: %s", qPrintable(name_),
                 qPrintable(why));
    const qint64 since = cached ? cached->seq() : 0;
    if (cached) {
        qInfo("calnetd: %s: %d peers from the stored network map (seq %lld, %d expired left out)",
              qPrintable(name_), int(cached->peers().size()), since, expired);
        control_->restoreMap(std::move(*cached));
        onMapChanged(); // the peers are up before the server answers
    }
    connect(control_.get(), &ControlClient::mapChanged, this, &MeshSession::onMapChanged);
    connect(control_.get(), &ControlClient::stateChanged, this, &MeshSession::controlStateChanged);
    connect(control_.get(), &ControlClient::keyExpired, this, &MeshSession::onKeyExpired);
    // Queued: the owner destroys this session (and its ControlClient) in response.
    connect(
        control_.get(), &ControlClient::nodeDeleted, this,
        [this] { emit nodeDeleted(control_->errorString()); }, Qt::QueuedConnection);
    addressWatcher_ = std::make_unique<AddressWatcher>();
    QString watchError;
    if (addressWatcher_->start(&watchError)) {
        connect(addressWatcher_.get(), &AddressWatcher::changed, control_.get(),
                &ControlClient::refreshEndpoints);
        connect(addressWatcher_.get(), &AddressWatcher::changed, this, [this] {
            if (paths_)
                paths_->networkChanged();
        });
    } else
        qWarning("calnetd: no rtnetlink address announcements (%s); endpoints are polled",
                 qPrintable(watchError));
    control_->start(mesh_.nodeId, mesh_.credential, since);
}

void MeshSession::discardMap() {
    mapCache_->discard();
}

void MeshSession::addStatus(QJsonObject& status) const {
    const auto cs = control_->state();
    status.insert("control", cs == ControlClient::State::Idle
                                 ? QJsonValue()
                                 : QJsonValue(ControlClient::toString(cs)));
    status.insert("controlError", control_->errorString().isEmpty()
                                      ? QJsonValue()
                                      : QJsonValue(control_->errorString()));
    status.insert("server", mesh_.server);
    status.insert("nodeId", mesh_.nodeId);
    status.insert("hostname", mesh_.hostname);
    QJsonValue relay;
    if (relays_ && !relays_->relays()->home().empty()) {
        const auto regions = relays_->relays()->status();
        const auto home = std::find_if(regions.begin(), regions.end(),
                                       [](const RelaySet::RegionStatus& r) { return r.home; });
        QJsonObject o{{"name", QString::fromStdString(relays_->relays()->home())},
                      {"connected", home != regions.end() && home->connected}};
        if (home != regions.end() && !home->connected && !home->error.empty())
            o.insert("error", QString::fromStdString(home->error));
        relay = o;
    }
    status.insert("relay", relay);
    status.insert("user", mesh_.user);
    status.insert("keyExpiry", mesh_.keyExpiry);
    status.insert("signInRequired", signInRequired_);
}

void MeshSession::onMapChanged() {
    const auto selfKey = crypto::publicKeyOf(mesh_.nodeKey);
    std::vector<MeshPeerConfig> desired = peerConfigsFor(control_->map(), selfKey);
    PathTable& table = connection_.tunnel().paths();
    if (paths_) {
        // Every mesh peer's endpoint is its handle; the path manager routes it (and has a
        // route for it before WireGuard sends the first packet).
        std::vector<disco::PeerSpec> specs;
        for (MeshPeerConfig& c : desired) {
            c.endpoint = table.handleFor(c.publicKey);
            c.pinned = true;
        }
        for (const auto& [id, node] : control_->map().peers()) {
            const auto key = node.publicKey();
            const auto disco = config::decodeKeyBase64(node.discoKey.toStdString());
            if (!key || *key == selfKey || !disco)
                continue;
            disco::PeerSpec spec{*key, *disco, {}};
            for (const QString& e : node.endpoints)
                if (auto a = net::SocketAddress::parse(e.toStdString()))
                    spec.endpoints.push_back(*a);
            specs.push_back(std::move(spec));
        }
        // Peers' home regions first: the first disco to a new peer goes to the right one.
        relays_->update(control_->map());
        paths_->setPeers(specs);
    }
    const PeerDiff diff = diffPeers(peers_, desired);
    if (!diff.empty())
        connection_.applyMeshPeers(peers_, diff);
    for (const auto& key : diff.remove)
        table.forget(key);
    peers_ = std::move(desired);
    mapCache_->update(control_->map());
    emit peersChanged();
}

void MeshSession::renewSignIn(const JoinSecret& secret, std::function<void(const QString&)> done) {
    control_->registerNode(registerRequest(mesh_, secret), [this, done = std::move(done)](
                                                               const auto& r, const auto& e) {
        if (!r) {
            done(QStringLiteral("the server refused the sign-in: %1 (%2)").arg(e.message, e.code));
            return;
        }
        const bool restart = signInRequired_ || control_->state() == ControlClient::State::Error;
        signInRequired_ = false;
        applyRegistration(mesh_, *r);
        if (const StoreResult saved = store_.saveMesh(name_, mesh_); !saved.ok())
            qWarning("calnetd: cannot store the renewed credential: %s", qPrintable(saved.message));
        if (restart)
            control_->start(mesh_.nodeId, mesh_.credential);
        emit controlStateChanged();
        done({});
    });
}

void MeshSession::onKeyExpired() {
    control_->registerNode(registerRequest(mesh_, {}), [this](const auto& r, const auto& e) {
        if (!r) {
            qWarning("calnetd: renewing the node key failed: %s (%s)", qPrintable(e.message),
                     qPrintable(e.code));
            // A signed-in node's key is renewed only by a fresh sign-in (the app does it
            // before the expiry; `up` with an ID token).
            signInRequired_ = e.code == QLatin1String("expired");
            if (e.httpStatus == 0)
                control_->resumeAfterBackoff();
            else
                control_->fail(QStringLiteral("renewing the node key failed: %1").arg(e.message));
            emit controlStateChanged();
            return;
        }
        // The server keeps a node's addresses when it renews by credential, so the interface
        // needs no change.
        applyRegistration(mesh_, *r);
        if (const StoreResult saved = store_.saveMesh(name_, mesh_); !saved.ok())
            qWarning("calnetd: cannot store the renewed credential: %s", qPrintable(saved.message));
        control_->start(mesh_.nodeId, mesh_.credential);
    });
}

} // namespace calnet::helper
