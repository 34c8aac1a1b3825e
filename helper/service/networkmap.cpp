#include "helper/service/networkmap.h"

#include <QJsonArray>

#include <algorithm>
#include <limits>

#include "core/config/keyencoding.h"

namespace calnet::helper {

using namespace Qt::StringLiterals;

bool NetworkMap::applyMap(const QJsonObject& message, QString* error) {
    const auto seq = wire::jsonInteger(message.value("seq"_L1));
    const QJsonValue peers = message.value("peers"_L1);
    if (!seq || *seq < 0 || !peers.isArray()) {
        if (error)
            *error = u"map without an integer \"seq\" and a \"peers\" array"_s;
        return false;
    }
    std::optional<MapNode> self;
    if (message.value("self"_L1).isObject()) {
        self = MapNode::fromJson(message.value("self"_L1).toObject());
        if (self)
            selfId_ = self->id;
    }
    std::map<qint64, MapNode> next;
    for (const QJsonValue& v : peers.toArray())
        if (auto node = MapNode::fromJson(v.toObject()); node && node->id != selfId_)
            next[node->id] = std::move(*node);
    std::vector<RelayRegion> relays = wire::relaysFromJson(message.value("relays"_L1).toArray());
    self_ = std::move(self);
    peers_ = std::move(next);
    relays_ = std::move(relays);
    seq_ = *seq;
    hasMap_ = true;
    return true;
}

bool NetworkMap::applyDelta(const QJsonObject& message, QString* error) {
    const auto seq = wire::jsonInteger(message.value("seq"_L1));
    const QJsonValue upserts = message.value("upsert"_L1);
    const QJsonValue removes = message.value("remove"_L1);
    if (!seq || *seq < 0 || !(upserts.isUndefined() || upserts.isArray()) ||
        !(removes.isUndefined() || removes.isArray())) {
        if (error)
            *error = u"delta without an integer \"seq\" or with a non-array upsert/remove"_s;
        return false;
    }
    for (const QJsonValue& v : upserts.toArray())
        if (auto node = MapNode::fromJson(v.toObject()))
            upsert(std::move(*node));
    for (const QJsonValue& v : removes.toArray())
        if (auto id = wire::jsonInteger(v))
            peers_.erase(*id);
    seq_ = std::max(seq_, *seq);
    return true;
}

void NetworkMap::upsert(MapNode node) {
    if (node.id == selfId_ || (self_ && self_->id == node.id)) {
        self_ = std::move(node);
        return;
    }
    peers_[node.id] = std::move(node);
}

const MapNode* NetworkMap::findByKey(const QString& key) const {
    for (const auto& [id, node] : peers_)
        if (node.nodeKey == key)
            return &node;
    return nullptr;
}

std::vector<MeshPeerConfig> peerConfigsFor(const NetworkMap& map,
                                           const crypto::PublicKey& selfKey) {
    std::vector<MeshPeerConfig> out;
    for (const auto& [id, node] : map.peers()) {
        auto key = node.publicKey();
        if (!key || *key == selfKey)
            continue;
        if (std::any_of(out.begin(), out.end(),
                        [&](const MeshPeerConfig& c) { return c.publicKey == *key; }))
            continue; // the server never sends this; ignore rather than flap
        MeshPeerConfig c;
        c.publicKey = *key;
        for (const QString& a : node.addresses)
            if (auto prefix = net::IpPrefix::parse(a.toStdString()))
                c.allowedIps.push_back(prefix->masked());
        std::sort(c.allowedIps.begin(), c.allowedIps.end());
        c.allowedIps.erase(std::unique(c.allowedIps.begin(), c.allowedIps.end()),
                           c.allowedIps.end());
        for (const QString& e : node.endpoints) {
            if (auto endpoint = net::SocketAddress::parse(e.toStdString())) {
                c.endpoint = *endpoint;
                break;
            }
        }
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const MeshPeerConfig& a, const MeshPeerConfig& b) {
        return a.publicKey < b.publicKey;
    });
    return out;
}

PeerDiff diffPeers(const std::vector<MeshPeerConfig>& current,
                   const std::vector<MeshPeerConfig>& desired) {
    PeerDiff diff;
    auto find = [](const std::vector<MeshPeerConfig>& list, const crypto::PublicKey& key) {
        return std::find_if(list.begin(), list.end(),
                            [&](const MeshPeerConfig& c) { return c.publicKey == key; });
    };
    for (const MeshPeerConfig& want : desired) {
        auto have = find(current, want.publicKey);
        if (have == current.end())
            diff.add.push_back(want);
        else if (!(*have == want))
            diff.update.push_back(want);
    }
    for (const MeshPeerConfig& have : current)
        if (find(desired, have.publicKey) == desired.end())
            diff.remove.push_back(have.publicKey);
    return diff;
}

} // namespace calnet::helper
