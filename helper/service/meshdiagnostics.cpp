#include "helper/service/meshdiagnostics.h"

#include <QElapsedTimer>
#include <QJsonArray>

#include "core/config/keyencoding.h"
#include "helper/datapath/pathmanager.h"
#include "helper/datapath/relayset.h"
#include "helper/service/connectioncontroller.h"
#include "helper/service/meshsession.h"
#include "helper/service/relayregions.h"

namespace calnet::helper {

namespace {

constexpr int kDefaultRounds = 10;
constexpr int kMaxRounds = 100;
constexpr int kRoundMs = 1000;

QJsonValue optionalBool(const std::optional<bool>& b) {
    return b ? QJsonValue(*b) : QJsonValue();
}

// The map peer named by hostname, overlay address or node key.
const MapNode* findPeer(const NetworkMap& map, const QString& name) {
    for (const auto& [id, node] : map.peers()) {
        if (node.hostname == name || node.nodeKey == name)
            return &node;
        for (const QString& a : node.addresses)
            if (a.section(QLatin1Char('/'), 0, 0) == name)
                return &node;
    }
    return nullptr;
}

} // namespace

struct MeshDiagnostics::PingRun {
    IpcServer::DeferredReply to;
    qint64 id = 0;
    crypto::PublicKey key{};
    QString hostname;
    int rounds = 0;
    int sent = 0;
    QElapsedTimer clock;
    QJsonArray pongs;
    bool direct = false;
    PathManager* paths = nullptr;
};

MeshDiagnostics::MeshDiagnostics(const ConnectionController& controller, IpcServer& server,
                                 QObject* parent)
    : QObject(parent), controller_(controller), server_(server) {
    pingTimer_.setInterval(kRoundMs);
    connect(&pingTimer_, &QTimer::timeout, this, &MeshDiagnostics::pingRound);
}

MeshDiagnostics::~MeshDiagnostics() {
    const MeshSession* mesh = controller_.mesh();
    if (ping_ && mesh && mesh->paths() == ping_->paths)
        ping_->paths->stopPing();
}

std::optional<QJsonObject> MeshDiagnostics::handle(const ipc::Request& request) {
    if (request.method == ipc::kMethodNetcheck) {
        if (auto e = ipc::parseNoParams(request.params))
            return e->toReply(request.id);
        return netcheck(request.id);
    }
    if (request.method == ipc::kMethodPing)
        return ping(request.id, request.params);
    return std::nullopt;
}

QJsonObject MeshDiagnostics::netcheck(qint64 id) {
    const MeshSession* mesh = controller_.mesh();
    if (!mesh || !mesh->paths())
        return ipc::makeError(id, ipc::ErrorCode::Conflict,
                              QStringLiteral("not connected to a Calnet network"));
    const PathManager::Netcheck n = mesh->paths()->netcheck();
    QJsonArray local;
    for (const auto& e : n.localEndpoints)
        local.append(QString::fromStdString(e.toString()));
    // Every region of the map: its STUN round trip (what the home is chosen by), and for
    // those connected now, the WebSocket round trip.
    QJsonArray relays;
    QString home;
    if (const RelayRegions* regions = mesh->relays()) {
        const auto stun = regions->latencies();
        home = QString::fromStdString(regions->relays()->home());
        for (const RelaySet::RegionStatus& s : regions->relays()->status()) {
            const auto measured = stun.find(s.name);
            QJsonObject r{
                {"name", QString::fromStdString(s.name)},
                {"home", s.home},
                {"connected", s.connected},
                {"latencyMs", s.connected && s.latencyUs >= 0
                                  ? QJsonValue(double(s.latencyUs) / 1000.0)
                                  : QJsonValue()},
                {"stunLatencyMs", measured != stun.end()
                                      ? QJsonValue(double(measured->second.count()) / 1000.0)
                                      : QJsonValue()}};
            if (!s.connected && !s.error.empty())
                r.insert("error", QString::fromStdString(s.error));
            relays.append(r);
        }
    }
    return ipc::makeResult(
        id,
        {{"udp", optionalBool(n.udp)},
         {"stun", n.stunConfigured},
         {"publicAddress",
          n.reflexive ? QJsonValue(QString::fromStdString(n.reflexive->toString())) : QJsonValue()},
         {"mappingVariesByDestination", optionalBool(n.mappingVariesByDestination)},
         {"localEndpoints", local},
         {"relays", relays},
         {"homeRelay", home.isEmpty() ? QJsonValue() : QJsonValue(home)}});
}

QJsonObject MeshDiagnostics::ping(qint64 id, const QJsonObject& params) {
    const QString peer = params.value("peer").toString();
    const QJsonValue count = params.value("count");
    if (peer.isEmpty() || params.size() > 2 || (params.size() == 2 && !params.contains("count")))
        return ipc::makeError(id, ipc::ErrorCode::InvalidParams,
                              QStringLiteral("ping takes \"peer\" and an optional \"count\""),
                              {{"param", "peer"}});
    const int rounds = count.isUndefined() ? kDefaultRounds : count.toInt(-1);
    if (rounds < 1 || rounds > kMaxRounds)
        return ipc::makeError(id, ipc::ErrorCode::InvalidParams,
                              QStringLiteral("\"count\" is 1 to %1").arg(kMaxRounds),
                              {{"param", "count"}});
    const MeshSession* mesh = controller_.mesh();
    if (!mesh || !mesh->paths())
        return ipc::makeError(id, ipc::ErrorCode::Conflict,
                              QStringLiteral("not connected to a Calnet network"));
    if (ping_)
        return ipc::makeError(
            id, ipc::ErrorCode::Conflict,
            QStringLiteral("a ping is already running; try again when it is done"));
    const MapNode* node = findPeer(mesh->map(), peer);
    const auto key = node ? node->publicKey() : std::nullopt;
    if (!key)
        return ipc::makeError(id, ipc::ErrorCode::NotFound,
                              QStringLiteral("no peer %1 in the network map").arg(peer));
    ping_ = std::make_unique<PingRun>();
    ping_->to = server_.deferReply();
    ping_->id = id;
    ping_->key = *key;
    ping_->hostname = node->hostname;
    ping_->rounds = rounds;
    ping_->paths = const_cast<MeshSession*>(mesh)->paths();
    ping_->clock.start();
    pingRound();
    pingTimer_.start();
    return {};
}

void MeshDiagnostics::pingRound() {
    if (!ping_)
        return;
    const MeshSession* mesh = controller_.mesh();
    if (!mesh || mesh->paths() != ping_->paths || ping_->direct || ping_->sent >= ping_->rounds) {
        finishPing();
        return;
    }
    ++ping_->sent;
    ping_->paths->ping(ping_->key, [this](const disco::Outbox::Pong& pong) {
        QMetaObject::invokeMethod(
            this,
            [this, pong] {
                if (!ping_ || pong.peer != ping_->key)
                    return;
                ping_->pongs.append(QJsonObject{
                    {"via", pong.via ? QJsonValue(QString::fromStdString(pong.via->toString()))
                                     : QJsonValue(QStringLiteral("relay"))},
                    {"direct", pong.via.has_value()},
                    {"latencyMs", double(pong.rtt.count()) / 1e6},
                    {"atMs", ping_->clock.elapsed()}});
                if (pong.via && !ping_->direct) {
                    ping_->direct = true;
                    // Wait a moment for the round's other pongs, then answer.
                    QTimer::singleShot(200, this, &MeshDiagnostics::finishPing);
                }
            },
            Qt::QueuedConnection);
    });
}

void MeshDiagnostics::finishPing() {
    if (!ping_)
        return;
    pingTimer_.stop();
    const MeshSession* mesh = controller_.mesh();
    if (mesh && mesh->paths() == ping_->paths)
        ping_->paths->stopPing();
    std::unique_ptr<PingRun> run = std::move(ping_);
    server_.sendDeferred(run->to, ipc::makeResult(run->id, {{"peer", run->hostname},
                                                            {"rounds", run->sent},
                                                            {"pongs", run->pongs},
                                                            {"direct", run->direct}}));
}

} // namespace calnet::helper
