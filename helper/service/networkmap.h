// NetworkMap: what calnet-server told this node about its network (docs/protocol.md "GET
// /api/v1/map"): the node itself, its peers by node id, and the sequence number of the last
// change applied. A `map` message replaces everything; a `delta` upserts and removes by id.
//
// MeshPeerConfig / diffPeers: the WireGuard side. The map becomes one peer per node (public key =
// nodeKey, allowed IPs = the node's addresses, endpoint = the first endpoint it reported,
// persistent keepalive 25 s). diffPeers() compares the configuration applied last with the one
// the new map asks for and lists only what changed, so a delta never disturbs peers it does not
// name: an unchanged peer keeps its sessions, and its roamed endpoint is not reset.
//
// Pure: no I/O, no clock, no Qt event loop.
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"
#include "helper/wire/mapnode.h"

namespace calnet::helper {

// The map's node objects and relay regions: the wire types calnet-server writes.
using wire::MapNode;
using wire::RelayRegion;

class NetworkMap {
public:
    // A full `map` message. false (and nothing changed) when it is malformed.
    bool applyMap(const QJsonObject& message, QString* error = nullptr);
    // A `delta` message: upsert (the node's own id updates self), then remove. false when it
    // is malformed; malformed node objects inside an otherwise good delta are skipped.
    bool applyDelta(const QJsonObject& message, QString* error = nullptr);

    [[nodiscard]] qint64 seq() const { return seq_; }
    [[nodiscard]] bool hasMap() const { return hasMap_; }
    [[nodiscard]] const std::optional<MapNode>& self() const { return self_; }
    [[nodiscard]] const std::map<qint64, MapNode>& peers() const { return peers_; }
    // From the last full map (empty with a server that has none, or before the first map).
    [[nodiscard]] const std::vector<RelayRegion>& relays() const { return relays_; }
    // The node whose nodeKey is `key` (base64), or nullptr.
    [[nodiscard]] const MapNode* findByKey(const QString& key) const;

    // When known before the first map (from registration), so that an upsert of our own id is
    // recognised as self.
    void setSelfId(qint64 id) { selfId_ = id; }

private:
    void upsert(MapNode node);

    qint64 seq_ = 0;
    qint64 selfId_ = 0;
    bool hasMap_ = false;
    std::optional<MapNode> self_;
    std::map<qint64, MapNode> peers_;
    std::vector<RelayRegion> relays_;
};

inline constexpr std::uint16_t kMeshPersistentKeepalive = 25;

struct MeshPeerConfig {
    crypto::PublicKey publicKey{};
    std::vector<net::IpPrefix> allowedIps;      // masked, sorted
    std::optional<net::SocketAddress> endpoint; // the first endpoint that parses
    // The endpoint is a PathTable handle the data path resolves (direct or relayed), not an
    // address: WireGuard must not roam it.
    bool pinned = false;
    std::uint16_t persistentKeepalive = kMeshPersistentKeepalive;

    friend bool operator==(const MeshPeerConfig&, const MeshPeerConfig&) = default;
};

// One peer per map peer with a usable key, sorted by public key; nodes whose key equals
// `selfKey` are left out (a peer cannot be ourselves), and so is a second node with a key
// already taken.
[[nodiscard]] std::vector<MeshPeerConfig> peerConfigsFor(const NetworkMap& map,
                                                         const crypto::PublicKey& selfKey);

struct PeerDiff {
    std::vector<MeshPeerConfig> add;       // new public keys
    std::vector<MeshPeerConfig> update;    // same key, something else changed
    std::vector<crypto::PublicKey> remove; // keys no longer wanted
    [[nodiscard]] bool empty() const { return add.empty() && update.empty() && remove.empty(); }
};

// What turns `current` (what was applied) into `desired`. Peers equal in both appear nowhere.
[[nodiscard]] PeerDiff diffPeers(const std::vector<MeshPeerConfig>& current,
                                 const std::vector<MeshPeerConfig>& desired);

} // namespace calnet::helper
