#include "server/maphub.h"

#include <algorithm>
#include <optional>

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSet>
#include <QSysInfo>

#include "server/http/websocket.h"
#include "server/metrics.h"
#include "server/registry.h"
#include "server/requests.h"
#include "server/secrets.h"
#include "server/serverconfig.h"
#include "server/storage.h"

Q_LOGGING_CATEGORY(lcMap, "calnet.server.map")

namespace calnet::server {

namespace {

constexpr int kBadMessage = 4400;
constexpr int kBadCredential = 4401;
constexpr int kDeleted = 4403;
constexpr int kNoHello = 4408;
constexpr int kExpired = 4410;
constexpr int kTooSlow = 4429;
constexpr int kRestart = 4503; // reconnect (Qt 6.4 clients refuse RFC 6455's 1012)
// At most one push per this interval: a burst of changes (a hundred nodes coming online after
// a server restart) goes out as a few deltas instead of one per change and per client. The
// first change after a quiet spell goes out at once.
constexpr qint64 kPushIntervalMs = 50;
// A node's messages: a burst of 40, then 20 a second (it sends one on every change of its
// network). Past that the stream is closed with 4429. Endpoint updates are written at most
// every 500 ms per node; the ones in between are merged into the next write, so a node that
// reports endpoints as fast as it can costs two writes (and two changes) a second.
constexpr double kMessagesPerSecond = 20;
constexpr double kMessageBurst = 40;
constexpr qint64 kEndpointWriteIntervalMs = 500;

QJsonArray sortedIds(QList<qint64> ids) {
    std::sort(ids.begin(), ids.end());
    QJsonArray out;
    for (qint64 id : ids) {
        out.append(id);
    }
    return out;
}

} // namespace

struct MapHub::Client {
    http::WebSocket* socket = nullptr;
    QTimer helloTimer;
    bool authenticated = false;
    bool closing = false;
    qint64 nodeId = 0;
    QByteArray credentialHash; // the credential this stream authenticated with
    QString stream;            // our token in nodes.stream
    qint64 lastSeq = 0;        // the client has everything up to here
    qint64 lastPong = 0;       // msecs since epoch
    qint64 unsent = 0;         // bytes handed to the socket and not yet written out
    double messageTokens = kMessageBurst;
    qint64 tokensAtMs = 0;
    qint64 lastEndpointWriteMs = -kEndpointWriteIntervalMs;
    std::optional<NodeReport> pendingEndpoints; // merged updates waiting for endpointTimer
    QTimer endpointTimer;
};

MapHub::MapHub(Storage* storage, Registry* registry, const ServerConfig* config, Metrics* metrics,
               QObject* parent)
    : QObject(parent), m_storage(storage), m_registry(registry), m_config(config),
      m_metrics(metrics), m_serverId(QStringLiteral("%1/%2/%3")
                                         .arg(QSysInfo::machineHostName())
                                         .arg(QCoreApplication::applicationPid())
                                         .arg(secrets::randomKeyId())) {
    connect(&m_pingTimer, &QTimer::timeout, this, &MapHub::pingAll);
    m_pingTimer.start(m_config->pingIntervalMs);
    connect(&m_sweepTimer, &QTimer::timeout, this,
            [this] { m_registry->sweepExpired(m_config->clock()); });
    m_sweepTimer.start(m_config->expirySweepMs);
    connect(&m_houseTimer, &QTimer::timeout, this, &MapHub::housekeeping);
}

bool MapHub::start(QString* error) {
    bool known = false;
    if (ApiError e = m_storage->servers().heartbeat(m_serverId, m_config->clock(), &known)) {
        *error = e.message;
        return false;
    }
    m_houseTimer.start(m_config->heartbeatIntervalMs);
    housekeeping(); // nodes left online by a server that died before we started
    return true;
}

void MapHub::housekeeping() {
    const qint64 now = m_config->clock();
    bool known = true;
    if (ApiError e = m_storage->servers().heartbeat(m_serverId, now, &known)) {
        qCWarning(lcMap) << "heartbeat:" << e.message;
        return;
    }
    if (!known) {
        // We were silent past the server timeout (a stall, a paused VM) and another server
        // marked our nodes offline. Their streams are still open here: have them reconnect,
        // which marks them online again and resumes their maps.
        qCWarning(lcMap, "this server was taken for dead; closing its %d stream(s)", clientCount());
        std::vector<Client*> all;
        for (auto& [socket, c] : m_clients) {
            all.push_back(c.get());
        }
        for (Client* c : all) {
            closeClient(*c, kRestart, QStringLiteral("server restarted its streams"));
        }
    }
    qint64 orphans = 0;
    if (ApiError e =
            m_registry->sweepDeadServers(now - m_config->serverTimeoutSeconds, now, &orphans)) {
        qCWarning(lcMap) << "sweeping dead servers:" << e.message;
    } else if (orphans > 0) {
        qCInfo(lcMap, "%lld node(s) held by stopped servers marked offline", orphans);
    }
    if (ApiError e = m_registry->pruneChanges(now - m_config->changeRetentionSeconds)) {
        qCWarning(lcMap) << "pruning changes:" << e.message;
    }
}

MapHub::~MapHub() {
    for (auto& [socket, client] : m_clients) {
        socket->disconnect(this);
        socket->abort();
        delete socket;
    }
}

void MapHub::accept(std::unique_ptr<http::WebSocket> owned) {
    // The listener already caps messages and frames at kMaxBodyBytes.
    http::WebSocket* socket = owned.release();
    socket->setParent(nullptr);
    auto client = std::make_unique<Client>();
    client->socket = socket;
    client->lastPong = QDateTime::currentMSecsSinceEpoch();
    Client& c = *client;
    m_clients.emplace(socket, std::move(client));

    // Queued: close()/abort() may emit disconnected() while we walk m_clients.
    connect(
        socket, &http::WebSocket::disconnected, this, [this, socket] { onDisconnected(socket); },
        Qt::QueuedConnection);
    if (socket->path() != QByteArrayLiteral("/api/v1/map")) {
        closeClient(c, 1008, QStringLiteral("no WebSocket endpoint at this path"));
        return;
    }
    connect(socket, &http::WebSocket::textMessageReceived, this,
            [this, socket](const QByteArray& text) { onText(socket, text); });
    connect(socket, &http::WebSocket::binaryMessageReceived, this, [this, socket] {
        auto it = m_clients.find(socket);
        if (it != m_clients.end()) {
            closeClient(*it->second, kBadMessage, QStringLiteral("binary messages are not used"));
        }
    });
    // What the socket wrote drains the queue estimate (frame headers make the estimate err on
    // the low side, never the high side).
    connect(socket, &http::WebSocket::bytesWritten, this, [this, socket](qint64 written) {
        auto it = m_clients.find(socket);
        if (it != m_clients.end()) {
            it->second->unsent = std::max<qint64>(0, it->second->unsent - written);
        }
    });
    connect(socket, &http::WebSocket::pong, this, [this, socket] {
        auto it = m_clients.find(socket);
        if (it != m_clients.end()) {
            it->second->lastPong = QDateTime::currentMSecsSinceEpoch();
        }
    });
    c.tokensAtMs = QDateTime::currentMSecsSinceEpoch();
    c.endpointTimer.setSingleShot(true);
    connect(&c.endpointTimer, &QTimer::timeout, this, [this, socket] {
        auto it = m_clients.find(socket);
        if (it != m_clients.end() && !it->second->closing && it->second->pendingEndpoints) {
            writeEndpoints(*it->second, *it->second->pendingEndpoints);
        }
    });
    c.helloTimer.setSingleShot(true);
    connect(&c.helloTimer, &QTimer::timeout, this, [this, socket] {
        auto it = m_clients.find(socket);
        if (it != m_clients.end() && !it->second->authenticated) {
            closeClient(*it->second, kNoHello, QStringLiteral("no hello in time"));
        }
    });
    c.helloTimer.start(m_config->helloTimeoutMs);
}

void MapHub::closeClient(Client& client, int code, const QString& reason) {
    if (client.closing) {
        return;
    }
    client.closing = true;
    client.helloTimer.stop();
    client.endpointTimer.stop();
    http::WebSocket* socket = client.socket;
    socket->close(quint16(code), reason.toUtf8());
    // A peer that never answers the close handshake is cut off.
    QTimer::singleShot(5000, socket, [socket] { socket->abort(); });
}

void MapHub::onDisconnected(http::WebSocket* socket) {
    auto it = m_clients.find(socket);
    if (it == m_clients.end()) {
        return;
    }
    forget(it);
    socket->deleteLater();
}

void MapHub::forget(std::map<http::WebSocket*, std::unique_ptr<Client>>::iterator it) {
    const std::unique_ptr<Client> client = std::move(it->second);
    m_clients.erase(it);
    if (client->authenticated) {
        if (ApiError e =
                m_registry->streamClosed(client->nodeId, client->stream, m_config->clock())) {
            qCWarning(lcMap) << "marking node" << client->nodeId << "offline:" << e.message;
        }
    }
}

void MapHub::send(Client& client, const QJsonObject& message) {
    sendText(client, QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void MapHub::sendText(Client& client, const QByteArray& text) {
    client.unsent += client.socket->sendText(text);
    m_metrics->countPush();
    if (client.unsent > m_config->sendQueueLimitBytes) {
        qCInfo(lcMap, "node %lld: %lld bytes unread, closing its stream", client.nodeId,
               client.unsent);
        closeClient(client, kTooSlow, QStringLiteral("too far behind: not reading"));
        // Drop what is queued now rather than after the close handshake's grace period.
        client.socket->abort();
    }
}

QString MapHub::seenEndpoint(const Client& client, const QStringList& endpoints) const {
    if (endpoints.isEmpty()) {
        return {};
    }
    const QString port = endpoints.front().section(QLatin1Char(':'), -1);
    QHostAddress address = client.socket->peerAddress();
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    if (isV4) {
        address = QHostAddress(v4);
        return address.toString() + QLatin1Char(':') + port;
    }
    address.setScopeId(QString());
    return QLatin1Char('[') + address.toString() + QStringLiteral("]:") + port;
}

void MapHub::onText(http::WebSocket* socket, const QByteArray& text) {
    auto it = m_clients.find(socket);
    if (it == m_clients.end() || it->second->closing) {
        return;
    }
    Client& client = *it->second;
    if (!withinBudget(client)) {
        qCInfo(lcMap, "node %lld: more than %g messages a second, closing its stream",
               client.nodeId, kMessagesPerSecond);
        closeClient(client, kTooSlow, QStringLiteral("too many messages"));
        return;
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(text, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        closeClient(client, kBadMessage, QStringLiteral("messages must be JSON objects"));
        return;
    }
    if (!client.authenticated) {
        onHello(client, doc.object());
        return;
    }
    NodeReport report;
    const QString problem = parseEndpointsMessage(doc.object(), &report);
    if (!problem.isEmpty()) {
        closeClient(client, kBadMessage, problem);
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (now - client.lastEndpointWriteMs >= kEndpointWriteIntervalMs) {
        writeEndpoints(client, report);
        return;
    }
    client.pendingEndpoints = report; // merged: only the latest is written
    if (!client.endpointTimer.isActive()) {
        client.endpointTimer.start(
            int(client.lastEndpointWriteMs + kEndpointWriteIntervalMs - now));
    }
}

bool MapHub::withinBudget(Client& client) {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    client.messageTokens =
        std::min(kMessageBurst, client.messageTokens +
                                    double(now - client.tokensAtMs) * kMessagesPerSecond / 1000.0);
    client.tokensAtMs = now;
    if (client.messageTokens < 1.0) {
        return false;
    }
    client.messageTokens -= 1.0;
    return true;
}

void MapHub::writeEndpoints(Client& client,
                            NodeReport report) { // a copy: it may be pendingEndpoints
    client.lastEndpointWriteMs = QDateTime::currentMSecsSinceEpoch();
    client.pendingEndpoints.reset();
    if (ApiError e = m_registry->streamEndpoints(
            client.nodeId, report, seenEndpoint(client, report.endpoints), m_config->clock())) {
        closeClient(client, 1011, e.message);
    }
}

void MapHub::onHello(Client& client, const QJsonObject& message) {
    HelloMessage hello;
    const QString problem = parseHello(message, &hello);
    if (!problem.isEmpty()) {
        closeClient(client, kBadMessage, problem);
        return;
    }
    const qint64 now = m_config->clock();
    std::optional<NodeRecord> node;
    if (ApiError e = m_storage->nodes().get(hello.nodeId, &node)) {
        closeClient(client, 1011, e.message);
        return;
    }
    if (!node || !secrets::verifySecret(hello.credential, node->credentialHash)) {
        closeClient(client, kBadCredential, QStringLiteral("bad credential"));
        return;
    }
    if (node->keyExpiry <= now) {
        closeClient(client, kExpired, QStringLiteral("node key expired; register again"));
        return;
    }
    client.helloTimer.stop();
    client.nodeId = node->id;
    client.credentialHash = node->credentialHash;
    client.stream = secrets::randomToken();
    // An older stream of the same node on this server is superseded.
    for (auto& [socket, other] : m_clients) {
        if (other.get() != &client && other->authenticated && other->nodeId == node->id) {
            closeClient(*other, 1000, QStringLiteral("replaced by a newer stream"));
        }
    }
    if (ApiError e = m_registry->streamOpened(node->id, m_serverId, client.stream, hello.report,
                                              seenEndpoint(client, hello.report.endpoints), now)) {
        closeClient(client, 1011, e.message);
        return;
    }
    qint64 seq = 0;
    qint64 pruned = 0;
    if (ApiError e = m_storage->changes().currentSeq(&seq, &pruned)) {
        closeClient(client, 1011, e.message);
        return;
    }
    client.authenticated = true;
    if (hello.since > 0 && hello.since >= pruned && hello.since <= seq) {
        // Resume: exactly what changed after `since`, through the normal delta path.
        client.lastSeq = hello.since;
        push();
        return;
    }
    sendMap(client, seq);
}

void MapHub::sendMap(Client& client, qint64 seq) {
    QList<NodeRecord> all;
    if (ApiError e = m_storage->nodes().all(&all)) {
        closeClient(client, 1011, e.message);
        return;
    }
    const qint64 now = m_config->clock();
    const NodeRecord* own = nullptr;
    QJsonArray peers;
    for (const NodeRecord& n : all) {
        if (n.id == client.nodeId) {
            own = &n;
        } else if (n.keyExpiry > now) {
            peers.append(n.toJson(m_config->prefixes));
        }
    }
    if (closeIfRevoked(client, own, now)) {
        return;
    }
    const QJsonObject self = own->toJson(m_config->prefixes);
    client.lastSeq = seq;
    send(client, QJsonObject{{QStringLiteral("type"), QStringLiteral("map")},
                             {QStringLiteral("seq"), seq},
                             {QStringLiteral("self"), self},
                             {QStringLiteral("peers"), peers},
                             {QStringLiteral("relays"), m_relays}});
}

bool MapHub::closeIfRevoked(Client& client, const NodeRecord* own, qint64 now) {
    if (!own) {
        closeClient(client, kDeleted, QStringLiteral("node deleted"));
    } else if (own->keyExpiry <= now) {
        closeClient(client, kExpired, QStringLiteral("node key expired"));
    } else if (own->credentialHash != client.credentialHash) {
        closeClient(client, kBadCredential, QStringLiteral("credential replaced"));
    }
    return client.closing;
}

void MapHub::schedulePush() {
    if (m_pushScheduled) {
        return;
    }
    m_pushScheduled = true;
    const qint64 wait = m_sinceLastPush.isValid()
                            ? std::max<qint64>(0, kPushIntervalMs - m_sinceLastPush.elapsed())
                            : 0;
    QTimer::singleShot(int(wait), this, [this] {
        m_pushScheduled = false;
        push();
    });
}

void MapHub::push() {
    qint64 seq = 0;
    qint64 pruned = 0;
    if (ApiError e = m_storage->changes().currentSeq(&seq, &pruned)) {
        return;
    }
    // A client whose next changes were pruned before it got them (it was stuck, or another
    // server's notification was lost) cannot be given a delta: it gets the whole map again.
    std::vector<Client*> stale;
    for (const auto& [socket, c] : m_clients) {
        if (c->authenticated && !c->closing && c->lastSeq < pruned) {
            stale.push_back(c.get());
        }
    }
    for (Client* c : stale) {
        sendMap(*c, seq);
    }
    qint64 oldest = seq;
    for (const auto& [socket, c] : m_clients) {
        if (c->authenticated && !c->closing) {
            oldest = std::min(oldest, c->lastSeq);
        }
    }
    if (oldest >= seq) {
        return;
    }
    QList<ChangeRecord> changes;
    if (ApiError e = m_storage->changes().after(oldest, &changes)) {
        return;
    }
    QSet<qint64> ids;
    for (const ChangeRecord& c : changes) {
        if (c.seq <= seq) {
            ids.insert(c.nodeId);
        }
    }
    QHash<qint64, NodeRecord> nodes;
    if (ApiError e = m_storage->nodes().byIds(ids, &nodes)) {
        return;
    }
    const qint64 now = m_config->clock();
    m_sinceLastPush.start();
    // Clients that are equally far behind get the same delta: build it once per group.
    std::map<qint64, std::vector<Client*>> behind; // lastSeq -> clients
    for (const auto& [socket, c] : m_clients) {
        if (c->authenticated && !c->closing && c->lastSeq < seq) {
            behind[c->lastSeq].push_back(c.get());
        }
    }
    QHash<qint64, QJsonObject> json; // node id -> wire form, computed once per push
    for (const auto& [lastSeq, clients] : behind) {
        QSet<qint64> changed;
        for (const ChangeRecord& c : changes) {
            if (c.seq > lastSeq && c.seq <= seq) {
                changed.insert(c.nodeId);
            }
        }
        QList<qint64> upsertIds;
        QList<qint64> removed;
        for (qint64 id : changed) {
            const auto it = nodes.constFind(id);
            if (it == nodes.constEnd() || it->keyExpiry <= now) {
                removed.append(id);
            } else {
                upsertIds.append(id);
            }
        }
        std::sort(upsertIds.begin(), upsertIds.end());
        QJsonArray upsert;
        for (qint64 id : upsertIds) {
            auto cached = json.find(id);
            if (cached == json.end()) {
                cached = json.insert(id, nodes.value(id).toJson(m_config->prefixes));
            }
            upsert.append(*cached);
        }
        const QByteArray text =
            QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("delta")},
                                      {QStringLiteral("seq"), seq},
                                      {QStringLiteral("upsert"), upsert},
                                      {QStringLiteral("remove"), sortedIds(removed)}})
                .toJson(QJsonDocument::Compact);
        for (Client* client : clients) {
            if (changed.contains(client->nodeId)) {
                // A change to the node itself: deleted, expired or re-registered elsewhere
                // ends this stream; anything else is an upsert of itself like for its peers.
                const auto it = nodes.constFind(client->nodeId);
                closeIfRevoked(*client, it == nodes.constEnd() ? nullptr : &*it, now);
            }
            if (client->closing) {
                continue;
            }
            client->lastSeq = seq;
            sendText(*client, text);
        }
    }
}

void MapHub::pingAll() {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    std::vector<http::WebSocket*> dead;
    for (auto& [socket, c] : m_clients) {
        if (!c->authenticated || c->closing) {
            continue;
        }
        if (now - c->lastPong > 3LL * m_config->pingIntervalMs) {
            dead.push_back(socket);
            continue;
        }
        socket->ping();
    }
    for (http::WebSocket* socket : dead) {
        socket->abort(); // disconnected() marks the node offline
    }
}

void MapHub::shutdown() {
    m_pingTimer.stop();
    m_sweepTimer.stop();
    m_houseTimer.stop();
    std::vector<http::WebSocket*> sockets;
    for (auto& [socket, c] : m_clients) {
        sockets.push_back(socket);
    }
    for (http::WebSocket* socket : sockets) {
        auto it = m_clients.find(socket);
        if (it == m_clients.end()) {
            continue;
        }
        socket->disconnect(this);
        forget(it);
        socket->close(1001, QByteArrayLiteral("server shutting down"));
        socket->deleteLater();
    }
    if (ApiError e = m_storage->servers().remove(m_serverId)) {
        qCWarning(lcMap) << "removing this server's row:" << e.message;
    }
}

} // namespace calnet::server
