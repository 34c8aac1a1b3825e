#include "helper/service/mapcache.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtDebug>

#include "helper/service/profilestore.h"

namespace calnet::helper {

using namespace Qt::StringLiterals;

MapCache::MapCache(ProfileStore& store, QString profile, QString server, qint64 nodeId,
                   std::chrono::milliseconds minInterval)
    : store_(store), profile_(std::move(profile)), server_(std::move(server)), nodeId_(nodeId) {
    timer_.setSingleShot(true);
    timer_.setInterval(minInterval);
    QObject::connect(&timer_, &QTimer::timeout, &timer_, [this] { onTimer(); });
}

MapCache::~MapCache() {
    flush();
}

std::optional<NetworkMap> MapCache::load(qint64 nowSeconds, QString* why, int* expired) {
    QString problem;
    const std::optional<QByteArray> text = store_.loadMapCache(profile_, &problem);
    if (!text) {
        if (why)
            *why = problem;
        return std::nullopt;
    }
    auto map = decode(*text, server_, nodeId_, nowSeconds, why, expired);
    if (map)
        written_ = *text; // the same map again is no change
    return map;
}

void MapCache::update(const NetworkMap& map) {
    if (timer_.isActive()) {
        pending_ = map;
        return;
    }
    write(map);
}

void MapCache::flush() {
    timer_.stop();
    if (pending_) {
        const NetworkMap map = std::move(*pending_);
        pending_.reset();
        write(map);
    }
}

void MapCache::discard() {
    timer_.stop();
    pending_.reset();
    written_.clear();
    if (const StoreResult r = store_.removeMapCache(profile_); !r.ok())
        qWarning("calnetd: %s", qPrintable(r.message));
}

void MapCache::onTimer() {
    if (!pending_)
        return;
    const NetworkMap map = std::move(*pending_);
    pending_.reset();
    write(map);
}

void MapCache::write(const NetworkMap& map) {
    QByteArray text = encode(map, server_, nodeId_);
    if (text == written_)
        return;
    if (const StoreResult r = store_.saveMapCache(profile_, text); !r.ok()) {
        // The next change tries again; the tunnel does not depend on the cache.
        qWarning("calnetd: cannot store the network map of %s: %s", qPrintable(profile_),
                 qPrintable(r.message));
        return;
    }
    written_ = std::move(text);
    ++writes_;
    timer_.start();
}

QByteArray MapCache::encode(const NetworkMap& map, const QString& server, qint64 nodeId) {
    QJsonArray peers;
    for (const auto& [id, node] : map.peers())
        peers.append(node.toJson());
    const QJsonObject o{{"kind"_L1, "netmap"_L1},
                        {"version"_L1, kMapCacheVersion},
                        {"server"_L1, server},
                        {"nodeId"_L1, nodeId},
                        {"seq"_L1, map.seq()},
                        {"self"_L1, map.self() ? QJsonValue(map.self()->toJson()) : QJsonValue()},
                        {"peers"_L1, peers}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<NetworkMap> MapCache::decode(const QByteArray& json, const QString& server,
                                           qint64 nodeId, qint64 nowSeconds, QString* why,
                                           int* expired) {
    auto refuse = [why](const QString& reason) {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isObject())
        return refuse(
            error.error != QJsonParseError::NoError
                ? u"not JSON: %1 at offset %2"_s.arg(error.errorString()).arg(error.offset)
                : u"not a JSON object"_s);
    const QJsonObject o = doc.object();
    if (o.value("kind"_L1).toString() != "netmap"_L1 ||
        o.value("version"_L1).toInteger(-1) != kMapCacheVersion)
        return refuse(u"not a version %1 network map cache"_s.arg(kMapCacheVersion));
    if (o.value("server"_L1).toString() != server)
        return refuse(u"the cache is for the server %1, not %2"_s.arg(
            o.value("server"_L1).toString(), server));
    const qint64 cachedId = o.value("nodeId"_L1).toInteger(0);
    if (cachedId != nodeId)
        return refuse(
            u"the cache is for node id %1, this profile is node id %2"_s.arg(cachedId).arg(nodeId));
    const QJsonValue seq = o.value("seq"_L1);
    const QJsonValue self = o.value("self"_L1);
    const QJsonValue peers = o.value("peers"_L1);
    if (!seq.isDouble() || seq.toInteger(-1) < 0 || !(self.isNull() || self.isObject()) ||
        !peers.isArray())
        return refuse(u"\"seq\", \"self\" or \"peers\" is missing or of the wrong type"_s);
    if (self.isObject()) {
        const auto node = MapNode::fromJson(self.toObject());
        if (!node || node->id != nodeId)
            return refuse(u"\"self\" is not a valid node with this profile's id"_s);
    }

    QJsonArray live;
    int dropped = 0;
    for (const QJsonValue& v : peers.toArray()) {
        const auto node = MapNode::fromJson(v.toObject());
        if (!node)
            return refuse(u"a peer is not a valid node"_s);
        // keyExpiry 0: the server did not say; the server drops expired nodes itself.
        if (node->keyExpiry > 0 && node->keyExpiry <= nowSeconds) {
            ++dropped;
            continue;
        }
        live.append(v);
    }
    NetworkMap map;
    map.setSelfId(nodeId);
    QString problem;
    if (!map.applyMap(
            {{"type"_L1, "map"_L1}, {"seq"_L1, seq}, {"self"_L1, self}, {"peers"_L1, live}},
            &problem))
        return refuse(problem);
    if (expired)
        *expired = dropped;
    return map;
}

} // namespace calnet::helper
