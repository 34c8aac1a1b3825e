// libFuzzer target for the network map a server sends calnetd (NetworkMap::applyMap/applyDelta
// and the WireGuard peers derived from it). The input is a sequence of JSON messages separated
// by newlines. A refused message changes nothing; after any sequence every peer config has a
// key, masked sorted allowed IPs, no two peers share a key, none is ourselves, and the diff from
// nothing adds exactly the configs.
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>

#include "fuzzcheck.h"
#include "helper/service/networkmap.h"

using namespace calnet;
using namespace calnet::helper;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    NetworkMap map;
    map.setSelfId(1);
    const crypto::PublicKey selfKey{};
    for (const QByteArray& line :
         QByteArray(reinterpret_cast<const char*>(data), qsizetype(size)).split('\n')) {
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        if (!doc.isObject())
            continue;
        const qint64 seqBefore = map.seq();
        const auto peersBefore = map.peers();
        const QJsonObject m = doc.object();
        const bool ok = m.value(QStringLiteral("type")).toString() == QStringLiteral("map")
                            ? map.applyMap(m)
                            : map.applyDelta(m);
        if (!ok) {
            CHECK(map.seq() == seqBefore);
            CHECK(map.peers() == peersBefore);
        }
        for (const auto& [id, node] : map.peers()) {
            // The map's own "self" names which id is this node from then on.
            CHECK(node.id == id && id > 0 && (!map.self() || id != map.self()->id));
            CHECK(node.publicKey().has_value());
            CHECK(MapNode::fromJson(node.toJson()) == node);
        }
    }
    const auto configs = peerConfigsFor(map, selfKey);
    for (std::size_t i = 0; i < configs.size(); ++i) {
        CHECK(configs[i].publicKey != selfKey);
        if (i > 0)
            CHECK(configs[i - 1].publicKey < configs[i].publicKey);
        for (std::size_t k = 0; k < configs[i].allowedIps.size(); ++k) {
            CHECK(configs[i].allowedIps[k] == configs[i].allowedIps[k].masked());
            if (k > 0)
                CHECK(!(configs[i].allowedIps[k] < configs[i].allowedIps[k - 1]));
        }
    }
    const PeerDiff diff = diffPeers({}, configs);
    CHECK(diff.add == configs && diff.update.empty() && diff.remove.empty());
    CHECK(diffPeers(configs, configs).empty());
    return 0;
}
