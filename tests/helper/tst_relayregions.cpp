// Several relays on the node's side (helper/service/relayregions.h, helper/datapath/relayset.h):
// the home region is chosen by measured round trip with hysteresis; a region's relay URL becomes
// a connection target; packets to a peer go through the peer's home region (else the region it
// was heard from, else our own home), a region is connected only when first used, and idle ones
// other than home are closed.
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include "core/crypto/x25519.h"
#include "helper/datapath/relayset.h"
#include "helper/datapath/tunnel.h"
#include "helper/service/relayregions.h"

using namespace calnet;
using namespace calnet::helper;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

crypto::PublicKey keyOf(std::uint8_t b) {
    crypto::PublicKey k{};
    k.fill(b);
    return k;
}

// A TCP listener that counts the connections it accepted (and keeps them open, silent: the
// relay clients never get past the WebSocket upgrade).
struct Listener {
    QTcpServer server;
    QList<QTcpSocket*> accepted;
    Listener() {
        server.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&server, &QTcpServer::newConnection, [this] {
            while (QTcpSocket* s = server.nextPendingConnection())
                accepted.append(s);
        });
    }
    RelaySet::Region region(const std::string& name) {
        RelaySet::Region r;
        r.name = name;
        r.target.name = name;
        r.target.host = "127.0.0.1";
        r.target.port = server.serverPort();
        return r;
    }
    bool waitAccepted(int n, int ms = 3000) {
        QElapsedTimer t;
        t.start();
        while (accepted.size() < n && t.elapsed() < ms)
            QTest::qWait(10);
        return accepted.size() >= n;
    }
    bool waitAllClosed(int ms = 3000) {
        QElapsedTimer t;
        t.start();
        auto open = [this] {
            return std::any_of(accepted.begin(), accepted.end(), [](QTcpSocket* s) {
                return s->state() == QAbstractSocket::ConnectedState;
            });
        };
        while (open() && t.elapsed() < ms)
            QTest::qWait(10);
        return !open();
    }
};

} // namespace

class TestRelayRegions : public QObject {
    Q_OBJECT
private slots:
    void homeByLatency() {
        const std::vector<std::string> regions{"home", "fra", "nyc"};
        std::map<std::string, microseconds> l;
        // Nothing measured: the first region (the coordination server's own), or stay.
        QCOMPARE(pickHomeRegion(regions, "", l), std::string("home"));
        QCOMPARE(pickHomeRegion(regions, "nyc", l), std::string("nyc"));
        QCOMPARE(pickHomeRegion({}, "nyc", l), std::string());
        // The current home is gone from the map: the first.
        QCOMPARE(pickHomeRegion(regions, "gone", l), std::string("home"));
        // Measured: the fastest, when the current one has no measurement.
        l = {{"fra", milliseconds(30)}, {"nyc", milliseconds(90)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("fra"));
        QCOMPARE(pickHomeRegion(regions, "", l), std::string("fra"));
        // Hysteresis: a little faster is not enough...
        l = {{"home", milliseconds(40)}, {"fra", milliseconds(31)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("home")); // 9 ms
        l = {{"home", milliseconds(100)}, {"fra", milliseconds(80)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("home")); // not a third
        l = {{"home", microseconds(900)}, {"fra", microseconds(100)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("home")); // not 10 ms
        // ...10 ms and a third faster is.
        l = {{"home", milliseconds(45)}, {"fra", milliseconds(30)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("fra"));
        l = {{"home", milliseconds(45)}, {"fra", milliseconds(31)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("home"));
        // The fastest of several.
        l = {{"home", milliseconds(200)}, {"fra", milliseconds(60)}, {"nyc", milliseconds(20)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("nyc"));
        // A measured region that is not in the map does not count.
        l = {{"home", milliseconds(200)}, {"sfo", milliseconds(1)}};
        QCOMPARE(pickHomeRegion(regions, "home", l), std::string("home"));
    }

    void targets() {
        const QString server = QStringLiteral("https://calnet.example:8443");
        RelayRegion own;
        own.name = QStringLiteral("home");
        auto t = relayTarget(server, own);
        QVERIFY(t);
        QCOMPARE(t->name, std::string("home"));
        QCOMPARE(t->target.host, std::string("calnet.example"));
        QCOMPARE(int(t->target.port), 8443);
        QVERIFY(t->target.tls);
        QCOMPARE(t->target.path, std::string("/api/v1/relay"));
        RelayRegion other;
        other.name = QStringLiteral("fra");
        other.url = QStringLiteral("wss://relay-fra.example");
        t = relayTarget(server, other);
        QVERIFY(t);
        QCOMPARE(t->target.host, std::string("relay-fra.example"));
        QCOMPARE(int(t->target.port), 443);
        QVERIFY(t->target.tls);
        other.url = QStringLiteral("http://10.0.0.9/calnet/");
        t = relayTarget(server, other);
        QVERIFY(t);
        QCOMPARE(int(t->target.port), 80);
        QVERIFY(!t->target.tls);
        QCOMPARE(t->target.path, std::string("/calnet/api/v1/relay"));
        other.url = QStringLiteral("ftp://x");
        QVERIFY(!relayTarget(server, other));
        other.url = QStringLiteral("https://");
        QVERIFY(!relayTarget(server, other));
    }

    void routesThroughThePeersHomeRegion() {
        Tunnel tunnel; // never started: nothing arrives
        Listener home, fra, nyc;
        RelaySet set(tunnel, crypto::generatePrivateKey(), {});
        set.setRegions({home.region("home"), fra.region("fra"), nyc.region("nyc")});
        const auto a = keyOf(1), b = keyOf(2), c = keyOf(3);
        QCOMPARE(set.regionFor(a), std::string()); // no home yet
        QVERIFY(!set.setHome("sfo"));
        QVERIFY(set.setHome("home"));
        QVERIFY(home.waitAccepted(1)); // home connects at once
        QCOMPARE(set.regionFor(a), std::string("home"));
        set.setPeerHomes({{a, "fra"}, {b, "gone"}});
        QCOMPARE(set.regionFor(a), std::string("fra"));
        QCOMPARE(set.regionFor(b), std::string("home")); // a region the map does not have
        QCOMPARE(set.regionFor(c), std::string("home"));
        QTest::qWait(200);
        QCOMPARE(fra.accepted.size(), 0); // nothing sent there yet
        const std::uint8_t packet[4] = {4, 0, 0, 0};
        QVERIFY(!set.sendTo(a, packet)); // dropped: fra is only connecting now
        QVERIFY(fra.waitAccepted(1));
        QTest::qWait(200);
        QCOMPARE(fra.accepted.size(), 1); // one connection, not one per packet
        QCOMPARE(nyc.accepted.size(), 0);
        QCOMPARE(set.status().size(), std::size_t(3));
        QVERIFY(set.status()[0].home);
        // Idle regions other than home are closed; home stays.
        set.reapIdle(std::chrono::seconds(0));
        QVERIFY(fra.waitAllClosed());
        QTest::qWait(100);
        QCOMPARE(home.accepted.first()->state(), QAbstractSocket::ConnectedState);
        // A region that leaves the map is closed, the home follows the new set.
        set.setRegions({nyc.region("nyc")});
        QVERIFY(home.waitAllClosed());
        QVERIFY(set.setHome("nyc"));
        QVERIFY(nyc.waitAccepted(1));
        QCOMPARE(set.regionFor(a), std::string("nyc"));
        set.stop();
        QVERIFY(nyc.waitAllClosed());
        QVERIFY(!set.sendTo(a, packet));
    }

    // Peers that report no home are on the first region (the coordination server's own): sent
    // to there, and that region stays connected to hear them, however idle.
    void peersWithoutAHomeAreOnTheFirstRegion() {
        Tunnel tunnel;
        Listener first, fra;
        RelaySet set(tunnel, crypto::generatePrivateKey(), {});
        set.setRegions({first.region("first"), fra.region("fra")});
        QVERIFY(set.setHome("fra"));
        QVERIFY(fra.waitAccepted(1));
        QTest::qWait(200);
        QCOMPARE(first.accepted.size(), 0); // nobody needs it yet
        const auto old = keyOf(7), modern = keyOf(8), stranger = keyOf(9);
        set.setPeerHomes({{old, ""}, {modern, "fra"}});
        QCOMPARE(set.regionFor(old), std::string("first"));
        QCOMPARE(set.regionFor(modern), std::string("fra"));
        QCOMPARE(set.regionFor(stranger), std::string("fra")); // not in the map: our home
        QVERIFY(first.waitAccepted(1));
        set.reapIdle(std::chrono::seconds(0));
        QTest::qWait(300);
        QCOMPARE(first.accepted.first()->state(), QAbstractSocket::ConnectedState);
        // Once every peer reports a home, the first region is an idle one like any other.
        set.setPeerHomes({{old, "fra"}, {modern, "fra"}});
        set.reapIdle(std::chrono::seconds(0));
        QVERIFY(first.waitAllClosed());
        QCOMPARE(fra.accepted.first()->state(), QAbstractSocket::ConnectedState); // home stays
    }
};

QTEST_MAIN(TestRelayRegions)
#include "tst_relayregions.moc"
