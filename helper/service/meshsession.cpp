#include "helper/service/meshsession.h"

#include <QDateTime>

#include "helper/datapath/tunnel.h"
#include "helper/service/addresswatcher.h"
#include "helper/service/connection.h"
#include "helper/service/mapcache.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

ControlClient::RegisterRequest registerRequest(const MeshProfile& mesh, const QString& authKey) {
    ControlClient::RegisterRequest request;
    request.nodeKey = mesh.nodePublicKeyBase64();
    request.discoKey = mesh.discoPublicKeyBase64();
    request.hostname = mesh.hostname;
    request.clientVersion = QString::fromLatin1(CALNET_VERSION);
    if (authKey.isEmpty())
        request.credential = mesh.credential;
    else
        request.authKey = authKey;
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
    control.endpoints = [tunnel, ifname] { return localEndpoints(tunnel->listenPort(), ifname); };
    control_ = std::make_unique<ControlClient>(mesh_.server, control);
    mapCache_ = std::make_unique<MapCache>(store_, name_, mesh_.server, mesh_.nodeId);
}

MeshSession::~MeshSession() = default; // the map cache writes a pending map

void MeshSession::start() {
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
    if (addressWatcher_->start(&watchError))
        connect(addressWatcher_.get(), &AddressWatcher::changed, control_.get(),
                &ControlClient::refreshEndpoints);
    else
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
}

void MeshSession::onMapChanged() {
    const auto selfKey = crypto::publicKeyOf(mesh_.nodeKey);
    std::vector<MeshPeerConfig> desired = peerConfigsFor(control_->map(), selfKey);
    const PeerDiff diff = diffPeers(peers_, desired);
    if (!diff.empty())
        connection_.applyMeshPeers(peers_, diff);
    peers_ = std::move(desired);
    mapCache_->update(control_->map());
    emit peersChanged();
}

void MeshSession::onKeyExpired() {
    control_->registerNode(registerRequest(mesh_, {}), [this](const auto& r, const auto& e) {
        if (!r) {
            qWarning("calnetd: renewing the node key failed: %s (%s)", qPrintable(e.message),
                     qPrintable(e.code));
            if (e.httpStatus == 0)
                control_->resumeAfterBackoff();
            else
                control_->fail(QStringLiteral("renewing the node key failed: %1").arg(e.message));
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
