// Tests for NetworkMap (map and delta messages of docs/protocol.md) and the map -> WireGuard
// peer diff: what is added, updated and removed, and that peers a change does not name are
// left exactly as they were.
#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "helper/service/networkmap.h"
#include "mapnode.h"

using namespace calnet;
using helper::diffPeers;
using helper::MeshPeerConfig;
using helper::NetworkMap;
using helper::peerConfigsFor;

namespace {

QString newKey() {
    return QString::fromStdString(
        config::encodeKeyBase64(crypto::publicKeyOf(crypto::generatePrivateKey())));
}

crypto::PublicKey keyOf(const QString& b64) {
    crypto::PublicKey k{};
    const auto bytes = config::decodeKeyBase64(b64.toStdString());
    std::copy(bytes->begin(), bytes->end(), k.begin());
    return k;
}

QJsonObject node(qint64 id, const QString& key, const QStringList& endpoints, bool online = true) {
    return test::node(id, key, QStringLiteral("host%1").arg(id), endpoints, online);
}

const MeshPeerConfig* find(const std::vector<MeshPeerConfig>& list, const QString& key) {
    for (const auto& c : list)
        if (c.publicKey == keyOf(key))
            return &c;
    return nullptr;
}

} // namespace

class TestNetworkMap : public QObject {
    Q_OBJECT

private slots:
    void fullMapThenDeltas() {
        const QString self = newKey(), a = newKey(), b = newKey(), c = newKey();
        NetworkMap map;
        QVERIFY(map.applyMap({{"type", "map"},
                              {"seq", 42},
                              {"self", node(7, self, {})},
                              {"peers", QJsonArray{node(1, a, {"192.0.2.1:41641"}),
                                                   node(2, b, {"192.0.2.2:41641"})}}}));
        QCOMPARE(map.seq(), 42);
        QCOMPARE(map.self()->id, 7);
        QCOMPARE(int(map.peers().size()), 2);
        QCOMPARE(map.findByKey(b)->hostname, QStringLiteral("host2"));

        // Upsert of a changed peer, a new peer and ourselves; removal of another.
        QVERIFY(map.applyDelta(
            {{"type", "delta"},
             {"seq", 43},
             {"upsert", QJsonArray{node(1, a, {"198.51.100.1:1000"}, false), node(3, c, {}),
                                   node(7, self, {"203.0.113.7:41641"})}},
             {"remove", QJsonArray{2}}}));
        QCOMPARE(map.seq(), 43);
        QCOMPARE(int(map.peers().size()), 2);
        QVERIFY(!map.peers().at(1).online);
        QCOMPARE(map.peers().at(1).endpoints, QStringList{"198.51.100.1:1000"});
        QVERIFY(map.peers().count(3));
        QVERIFY(!map.peers().count(2));
        QVERIFY(!map.peers().count(7)); // our own upsert updates self, not the peers
        QCOMPARE(map.self()->endpoints, QStringList{"203.0.113.7:41641"});

        // A later full map replaces everything.
        QVERIFY(map.applyMap({{"type", "map"}, {"seq", 50}, {"peers", QJsonArray{}}}));
        QCOMPARE(map.seq(), 50);
        QVERIFY(map.peers().empty());
    }

    void malformedMessagesChangeNothing() {
        const QString a = newKey();
        NetworkMap map;
        QVERIFY(map.applyMap({{"seq", 1}, {"peers", QJsonArray{node(1, a, {})}}}));
        QVERIFY(!map.applyMap({{"seq", "2"}, {"peers", QJsonArray{}}}));
        QVERIFY(!map.applyMap({{"seq", 2}}));
        QVERIFY(!map.applyDelta({{"upsert", QJsonArray{}}}));
        QVERIFY(!map.applyDelta({{"seq", 3}, {"remove", 5}}));
        QCOMPARE(map.seq(), 1);
        QCOMPARE(int(map.peers().size()), 1);
        // A node with a bad key or id is skipped; the rest of the delta applies.
        QVERIFY(map.applyDelta({{"seq", 4},
                                {"upsert", QJsonArray{node(2, "not-a-key", {}), node(0, a, {}),
                                                      node(3, newKey(), {})}}}));
        QCOMPARE(int(map.peers().size()), 2);
        QVERIFY(map.peers().count(3));
    }

    void peerConfigsFromMap() {
        const crypto::PrivateKey selfPriv = crypto::generatePrivateKey();
        const QString self =
            QString::fromStdString(config::encodeKeyBase64(crypto::publicKeyOf(selfPriv)));
        const QString a = newKey(), b = newKey();
        NetworkMap map;
        map.setSelfId(7);
        QVERIFY(map.applyMap(
            {{"seq", 1},
             {"peers",
              QJsonArray{node(1, a, {"bogus", "[2001:db8::1]:41641", "192.0.2.1:1"}),
                         node(2, b, {}), node(9, self, {"192.0.2.9:9"})}}})); // our key again
        const auto configs = peerConfigsFor(map, crypto::publicKeyOf(selfPriv));
        QCOMPARE(int(configs.size()), 2);
        const MeshPeerConfig* pa = find(configs, a);
        QVERIFY(pa);
        QCOMPARE(QString::fromStdString(pa->endpoint->toString()),
                 QStringLiteral("[2001:db8::1]:41641")); // the first one that parses
        QCOMPARE(int(pa->allowedIps.size()), 2);
        QCOMPARE(pa->persistentKeepalive, std::uint16_t(25));
        QVERIFY(!find(configs, b)->endpoint);
        QVERIFY(!find(configs, self));
    }

    void diffTouchesOnlyWhatChanged() {
        const QString a = newKey(), b = newKey(), c = newKey(), d = newKey(), rotated = newKey();
        NetworkMap map;
        QVERIFY(map.applyMap(
            {{"seq", 1},
             {"peers", QJsonArray{node(1, a, {"192.0.2.1:1"}), node(2, b, {"192.0.2.2:2"}),
                                  node(3, c, {"192.0.2.3:3"}), node(4, d, {"192.0.2.4:4"})}}}));
        const crypto::PublicKey selfKey{};
        const auto before = peerConfigsFor(map, selfKey);
        const auto initial = diffPeers({}, before);
        QCOMPARE(int(initial.add.size()), 4);
        QVERIFY(initial.update.empty() && initial.remove.empty());

        // b moves, c goes offline (not a WireGuard change), d rotates its key, 5 joins, and a
        // is not mentioned at all.
        QVERIFY(map.applyDelta(
            {{"seq", 2},
             {"upsert",
              QJsonArray{node(2, b, {"198.51.100.2:2"}), node(3, c, {"192.0.2.3:3"}, false),
                         node(4, rotated, {"192.0.2.4:4"}), node(5, newKey(), {})}},
             {"remove", QJsonArray{}}}));
        const auto after = peerConfigsFor(map, selfKey);
        const auto diff = diffPeers(before, after);
        QCOMPARE(int(diff.update.size()), 1);
        QVERIFY(diff.update[0].publicKey == keyOf(b));
        QCOMPARE(int(diff.add.size()), 2); // the rotated key and node 5
        QVERIFY(find(diff.add, rotated));
        QCOMPARE(int(diff.remove.size()), 1);
        QVERIFY(diff.remove[0] == keyOf(d));
        QVERIFY(!find(diff.update, a) && !find(diff.add, a)); // untouched
        QVERIFY(!find(diff.update, c) && !find(diff.add, c)); // online is informational

        // Remove a; the same map twice is no change at all.
        QVERIFY(map.applyDelta({{"seq", 3}, {"remove", QJsonArray{1}}}));
        const auto last = peerConfigsFor(map, selfKey);
        const auto removal = diffPeers(after, last);
        QCOMPARE(int(removal.remove.size()), 1);
        QVERIFY(removal.remove[0] == keyOf(a));
        QVERIFY(removal.add.empty() && removal.update.empty());
        QVERIFY(diffPeers(last, last).empty());
    }
};

QTEST_GUILESS_MAIN(TestNetworkMap)
#include "tst_networkmap.moc"
