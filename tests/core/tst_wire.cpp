// The coordination protocol's shared wire types (core/wire): what calnet-server writes, calnetd
// reads back unchanged, and what does not fit the types is refused or left out.
#include <QJsonDocument>
#include <QTest>

#include "helper/wire/mapnode.h"
#include "helper/wire/relayframe.h"

using namespace calnet;

class TestWire : public QObject {
    Q_OBJECT
private slots:
    void mapNodeRoundTrip() {
        wire::MapNode n;
        n.id = 7;
        n.nodeKey = QStringLiteral("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        n.discoKey = QStringLiteral("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=");
        n.hostname = QStringLiteral("laptop");
        n.os = QStringLiteral("linux");
        n.user = QStringLiteral("default");
        n.addresses = {QStringLiteral("100.70.0.7/32")};
        n.endpoints = {QStringLiteral("203.0.113.9:41641")};
        n.relay = QStringLiteral("fra-1");
        n.online = true;
        n.lastSeen = 1764633600;
        n.keyExpiry = 1780000000;
        const QJsonObject json = n.toJson();
        QCOMPARE(json.size(), 12); // every field, always
        // Through text, as on the wire.
        const auto back =
            wire::MapNode::fromJson(QJsonDocument::fromJson(QJsonDocument(json).toJson()).object());
        QVERIFY(back);
        QVERIFY(*back == n);
        QVERIFY(back->publicKey());
        QJsonObject bad = json;
        bad["nodeKey"] = "short";
        QVERIFY(!wire::MapNode::fromJson(bad));
        bad = json;
        bad["id"] = 0;
        QVERIFY(!wire::MapNode::fromJson(bad));
        bad = json;
        bad["id"] = "7";
        QVERIFY(!wire::MapNode::fromJson(bad));
        // A home relay that is not a region name reads as none, the node itself stays.
        bad = json;
        bad["relay"] = "Fra 1";
        const auto noRelay = wire::MapNode::fromJson(bad);
        QVERIFY(noRelay);
        QVERIFY(noRelay->relay.isEmpty());
    }

    void relayNames() {
        QVERIFY(wire::isValidRelayName(QStringLiteral("default")));
        QVERIFY(wire::isValidRelayName(QStringLiteral("fra-1")));
        QVERIFY(wire::isValidRelayName(QStringLiteral("9")));
        QVERIFY(wire::isValidRelayName(QString(32, QLatin1Char('a'))));
        QVERIFY(!wire::isValidRelayName(QString(33, QLatin1Char('a'))));
        QVERIFY(!wire::isValidRelayName(QString()));
        QVERIFY(!wire::isValidRelayName(QStringLiteral("-x")));
        QVERIFY(!wire::isValidRelayName(QStringLiteral("Fra")));
        QVERIFY(!wire::isValidRelayName(QStringLiteral("a b")));
        QVERIFY(!wire::isValidRelayName(QStringLiteral("a_b")));
    }

    void relayRegions() {
        wire::RelayRegion r;
        r.name = QStringLiteral("default");
        r.stunPort = 3478;
        r.stunAltPort = 41234;
        const QJsonObject json = r.toJson();
        QCOMPARE(json.value("name").toString(), QStringLiteral("default"));
        QVERIFY(!json.contains("url")); // unset fields are left out
        QVERIFY(!json.contains("stunHost"));
        const auto back = wire::relaysFromJson(wire::toJson({r}));
        QCOMPARE(back.size(), std::size_t(1));
        QVERIFY(back[0] == r);
        // No name: not a region. Ports out of range read as none; no alternate without a port.
        QVERIFY(!wire::RelayRegion::fromJson({{"stunPort", 3478}}));
        QVERIFY(!wire::RelayRegion::fromJson({{"name", "Bad Name"}}));
        const auto odd = wire::RelayRegion::fromJson(
            {{"name", "x"}, {"stunPort", 70000}, {"stunAltPort", 5}, {"url", "wss://r.example"}});
        QVERIFY(odd);
        QCOMPARE(odd->stunPort, 0);
        QCOMPARE(odd->stunAltPort, 0);
        QCOMPARE(odd->url, QStringLiteral("wss://r.example"));
    }

    void relayFrameConstants() {
        QCOMPARE(int(wire::kRelaySend), 1);
        QCOMPARE(int(wire::kRelayReceive), 2);
        QCOMPARE(int(wire::kRelayNotHere), 3);
        QCOMPARE(wire::kRelayHeaderSize, std::size_t(33));
    }
};

QTEST_APPLESS_MAIN(TestWire)
#include "tst_wire.moc"
