// Several relays (docs/protocol.md "Several relays"): the coordination server lists its own
// region and the relay-only processes named with --relay; those read the node keys with the
// relay token (GET /api/v1/relay/keys) and let in exactly the nodes the coordination server
// knows, dropping a node within seconds of its deletion; a wrong token lets nobody in. Nodes
// report their home relay on the map stream and their peers see it in the node object.
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include "relaytest.h"
#include "server/relaykeys.h"
#include "server/relayserver.h"
#include "servertest.h"

using namespace servertest;
using namespace relaytest;
using calnet::server::parseRelayOption;
using calnet::server::RelayServer;
using calnet::wire::RelayRegion;

namespace {

const QString kRelayToken = QStringLiteral("relay-token-0123456789abcdef");

QString nodeKeyOf(const Keys& k) {
    return QString::fromLatin1(k.pub.toBase64());
}

} // namespace

class TestRelayRegions : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<calnet::server::Server> m_server;
    QString m_authKey;
    int m_databases = 0;
    quint16 port() const { return m_server->port(); }
    qint64 registerKeys(const Keys& keys, const QString& hostname) {
        return relaytest::registerKeys(port(), keys, hostname, m_authKey);
    }
    // A relay-only process reading keys from m_server with `token`.
    std::unique_ptr<RelayServer> startRelay(const QString& token) {
        calnet::server::ServerConfig c;
        c.listenHost = QStringLiteral("127.0.0.1");
        c.listenPort = 0;
        c.stunHost = QStringLiteral("127.0.0.1");
        c.stunPort = 0;
        c.relayToken = token;
        c.helloTimeoutMs = 1000;
        auto relay = std::make_unique<RelayServer>(
            c, QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port())));
        QString error;
        if (!relay->start(&error)) {
            qWarning("relay start failed: %s", qPrintable(error));
            return nullptr;
        }
        return relay;
    }
    static bool waitKeys(quint16 relayPort, qint64 atLeast) {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 5000) {
            if (metric(relayPort, "calnet_relay_known_keys") >= atLeast &&
                metric(relayPort, "calnet_relay_keys_age_seconds") >= 0)
                return true;
            QTest::qWait(50);
        }
        return false;
    }

private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        auto config = testConfig(QStringLiteral("sqlite:") +
                                 m_dir.filePath(QStringLiteral("db%1").arg(++m_databases)));
        config.helloTimeoutMs = 1000;
        config.regionName = QStringLiteral("home");
        config.relayToken = kRelayToken;
        QString error;
        config.otherRelays.push_back(
            *parseRelayOption(QStringLiteral("fra=https://relay-fra.example"), &error));
        config.otherRelays.push_back(*parseRelayOption(
            QStringLiteral("nyc=https://relay-nyc.example:8443,stun=192.0.2.7:5000"), &error));
        m_server = startInProcess(config);
        QVERIFY(m_server);
        m_authKey = createKey(port(), true);
        QVERIFY(!m_authKey.isEmpty());
    }
    void cleanup() { m_server.reset(); }

    void relayOptionParsing() {
        QString error;
        auto r = parseRelayOption(QStringLiteral("fra=https://relay.example"), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->name, QStringLiteral("fra"));
        QCOMPARE(r->url, QStringLiteral("https://relay.example"));
        QCOMPARE(r->stunHost, QStringLiteral("relay.example"));
        QCOMPARE(r->stunPort, 3478);
        QCOMPARE(r->stunAltPort, 3479);
        r = parseRelayOption(QStringLiteral("r2=ws://10.0.0.2:8080,stun=10.0.0.2:4000"), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->stunHost, QStringLiteral("10.0.0.2"));
        QCOMPARE(r->stunPort, 4000);
        QCOMPARE(r->stunAltPort, 4001);
        r = parseRelayOption(QStringLiteral("r3=https://[2001:db8::1]:443,stun=[2001:db8::1]:3478"),
                             &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->stunHost, QStringLiteral("2001:db8::1"));
        // The same relay spelled differently is the same relay.
        using calnet::server::relayEndpointKey;
        QCOMPARE(relayEndpointKey(QStringLiteral("https://X")),
                 relayEndpointKey(QStringLiteral("wss://x:443//")));
        QCOMPARE(relayEndpointKey(QStringLiteral("http://x")),
                 relayEndpointKey(QStringLiteral("http://x:80/")));
        QVERIFY(relayEndpointKey(QStringLiteral("http://x")) !=
                relayEndpointKey(QStringLiteral("https://x")));
        QVERIFY(relayEndpointKey(QStringLiteral("https://x/a")) !=
                relayEndpointKey(QStringLiteral("https://x")));
        r = parseRelayOption(QStringLiteral("r4=https://relay.example,stun=off"), &error);
        QVERIFY2(r, qPrintable(error));
        QCOMPARE(r->stunPort, 0);
        QCOMPARE(r->stunAltPort, 0);
        QVERIFY(r->stunHost.isEmpty());
        for (const char* bad : {"https://relay.example",
                                "=https://x",
                                "Fra=https://x",
                                "fra=ftp://x",
                                "fra=https://",
                                "fra=https://u:p@x",
                                "fra=https://x?q=1",
                                "fra=https://x,stun=x",
                                "fra=https://x,foo",
                                "fra=https://x,stun=x:0",
                                "fra=https://x,stun=x:65535",
                                "fra=https://x,stun=a b:1",
                                "fra=not a url",
                                "fra=https://x:0",
                                "fra=https://-x",
                                "fra=https://a..b",
                                "fra=https://x,stun=0.0.0.0:3478",
                                "fra=https://x,stun=[::]:3478",
                                "fra=https://x,stun=x: 5",
                                "fra=https://x,stun=off,stun=y:1",
                                "fra=https://x,stun=y:1,stun=z:2",
                                "fra=https://x/a%0D%0Ab",
                                "fra=https://x/a%20b",
                                "fra=https://[::ffff:0.0.0.0]",
                                "fra=https://255.255.255.255",
                                "fra=https://224.0.0.1",
                                "fra=https://[fe80::1%25eth0]",
                                "fra=https://x,stun=[::ffff:0.0.0.0]:3478",
                                "fra=https://x,stun=::1:3478"}) {
            error.clear();
            QVERIFY2(!parseRelayOption(QString::fromLatin1(bad), &error), bad);
            QVERIFY2(!error.isEmpty(), bad);
        }
    }

    // /api/v1/info and every map list the server's own region first, then the others.
    void regionsAreListed() {
        const QJsonArray relays = httpCall(port(), "GET", QStringLiteral("/api/v1/info"))
                                      .json()
                                      .value("relays")
                                      .toArray();
        QCOMPARE(relays.size(), 3);
        QCOMPARE(relays[0].toObject().value("name").toString(), QStringLiteral("home"));
        QVERIFY(!relays[0].toObject().contains("url")); // on the server's own listener
        const QJsonObject fra = relays[1].toObject();
        QCOMPARE(fra.value("name").toString(), QStringLiteral("fra"));
        QCOMPARE(fra.value("url").toString(), QStringLiteral("https://relay-fra.example"));
        QCOMPARE(fra.value("stunHost").toString(), QStringLiteral("relay-fra.example"));
        QCOMPARE(fra.value("stunPort").toInt(), 3478);
        QCOMPARE(fra.value("stunAltPort").toInt(), 3479);
        const QJsonObject nyc = relays[2].toObject();
        QCOMPARE(nyc.value("stunHost").toString(), QStringLiteral("192.0.2.7"));
        QCOMPARE(nyc.value("stunPort").toInt(), 5000);

        const Registered n = registerNew(port(), m_authKey, QStringLiteral("n"));
        MapClient map(port());
        const QJsonObject first = map.connectAs(n.id, n.credential);
        QVERIFY(isMap(first));
        QCOMPARE(first.value("relays").toArray(), relays);
    }

    void keysNeedTheRelayToken() {
        Keys a;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        const QString path = QStringLiteral("/api/v1/relay/keys");
        QCOMPARE(httpCall(port(), "GET", path).status, 401);
        QCOMPARE(httpCall(port(), "GET", path, {}, QStringLiteral("wrong-token-0123456789")).status,
                 401);
        QCOMPARE(httpCall(port(), "GET", path, {}, kAdminToken).status, 401); // not the admin's
        QCOMPARE(httpCall(port(), "POST", path, {}, kRelayToken).status, 405);
        const Response r = httpCall(port(), "GET", path, {}, kRelayToken);
        QCOMPARE(r.status, 200);
        const qint64 seq = r.json().value("seq").toInteger();
        QVERIFY(seq > 0);
        const QJsonArray nodes = r.json().value("nodes").toArray();
        QCOMPARE(nodes.size(), 1);
        QCOMPARE(nodes[0].toObject().value("nodeKey").toString(), nodeKeyOf(a));
        QVERIFY(nodes[0].toObject().value("keyExpiry").toInteger() > 0);
        // Nothing changed since: only the seq.
        const Response same =
            httpCall(port(), "GET", path + QStringLiteral("?since=%1").arg(seq), {}, kRelayToken);
        QCOMPARE(same.status, 200);
        QCOMPARE(same.json().value("seq").toInteger(), seq);
        QVERIFY(!same.json().contains("nodes"));
        // An expired node is not listed.
        Keys b;
        const qint64 idB = registerKeys(b, QStringLiteral("b"));
        QCOMPARE(admin(port(), "POST", QStringLiteral("nodes/%1/expire").arg(idB)).status, 200);
        const Response after =
            httpCall(port(), "GET", path + QStringLiteral("?since=%1").arg(seq), {}, kRelayToken);
        QVERIFY(after.json().value("seq").toInteger() > seq);
        QCOMPARE(after.json().value("nodes").toArray().size(), 1);
    }

    // Wrong relay tokens from the relay's own address (a neighbour behind the same NAT) spend
    // that address's budget, but the right token still reads the keys.
    void rightTokenPassesWhileWrongOnesAreLimited() {
        auto config =
            testConfig(QStringLiteral("sqlite:") + m_dir.filePath(QStringLiteral("limit")));
        config.relayToken = kRelayToken;
        config.badKeysPerMinute = 1;
        config.badKeysBurst = 3;
        auto server = startInProcess(config);
        QVERIFY(server);
        const QString path = QStringLiteral("/api/v1/relay/keys");
        int limited = 0;
        for (int i = 0; i < 6; ++i)
            limited +=
                httpCall(server->port(), "GET", path, {}, QStringLiteral("wrong-0123456789abcdef"))
                    .status == 429;
        QVERIFY(limited >= 2);
        QCOMPARE(httpCall(server->port(), "GET", path, {}, kRelayToken).status, 200);
        // The scheme is case-insensitive.
        QNetworkAccessManager nam;
        QNetworkRequest req(
            QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(server->port()).arg(path)));
        req.setRawHeader("Authorization", "bearer " + kRelayToken.toUtf8());
        QNetworkReply* reply = nam.get(req);
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 5000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        delete reply;
    }

    // Whatever answers for the coordination server cannot make the relay buffer without bound.
    void oversizedKeysAnswerIsDropped() {
        QTcpServer fake;
        QVERIFY(fake.listen(QHostAddress::LocalHost, 0));
        QObject::connect(&fake, &QTcpServer::newConnection, [&] {
            while (QTcpSocket* s = fake.nextPendingConnection()) {
                s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         "104857600\r\n\r\n{\"seq\": 1, \"nodes\": [");
                s->write(QByteArray(256 * 1024, ' '));
            }
        });
        calnet::server::RelayKeys keys(
            QUrl(QStringLiteral("http://127.0.0.1:%1").arg(fake.serverPort())), kRelayToken, 60'000,
            [] { return qint64(0); });
        keys.start();
        QTRY_VERIFY_WITH_TIMEOUT(keys.lastError().contains(QStringLiteral("larger than")), 5000);
        QVERIFY(!keys.loaded());
    }

    // A relay-only process relays between registered nodes, refuses others, and drops a node
    // the coordination server deleted.
    void relayOnlyLetsInKnownNodes() {
        Keys a, b, stranger;
        const qint64 idA = registerKeys(a, QStringLiteral("a"));
        QVERIFY(idA > 0);
        QVERIFY(registerKeys(b, QStringLiteral("b")) > 0);
        auto relay = startRelay(kRelayToken);
        QVERIFY(relay);
        QVERIFY(relay->stunPort() > 0);
        QVERIFY(waitKeys(relay->port(), 2));
        QCOMPARE(httpCall(relay->port(), "GET", QStringLiteral("/api/v1/info"))
                     .json()
                     .value("relay")
                     .toBool(),
                 true);
        QCOMPARE(httpCall(relay->port(), "GET", QStringLiteral("/api/v1/register")).status, 404);
        QCOMPARE(metric(relay->port(), "calnet_nodes_total"), -1); // no coordination gauges

        RelayClient ca(relay->port()), cb(relay->port());
        QVERIFY(ca.authenticate(a));
        QVERIFY(cb.authenticate(b));
        for (int i = 0; i < 50; ++i) {
            ca.sendTo(b.pub, QByteArray(100, char(i)));
            cb.sendTo(a.pub, QByteArray(200, char(i)));
        }
        QCOMPARE(cb.waitBinaries(50).size(), 50);
        QCOMPARE(ca.waitBinaries(50).size(), 50);
        QCOMPARE(cb.binaries()[49], QByteArray(1, '\x02') + a.pub + QByteArray(100, char(49)));
        QCOMPARE(metric(relay->port(), "calnet_relay_packets_total"), 100);

        RelayClient cs(relay->port());
        QVERIFY(cs.open());
        cs.sendText(hello(stranger, cs.serverKey(), cs.challenge()));
        QCOMPARE(cs.waitClosed(), 4403);

        // Registered after the relay started: let in once the next read has it.
        Keys late;
        QVERIFY(registerKeys(late, QStringLiteral("late")) > 0);
        QVERIFY(waitKeys(relay->port(), 3));
        RelayClient cl(relay->port());
        QVERIFY(cl.authenticate(late));

        QCOMPARE(admin(port(), "DELETE", QStringLiteral("nodes/%1").arg(idA)).status, 200);
        QCOMPARE(ca.waitClosed(6000), 4403); // next read (2 s) + recheck (1 s)
        QVERIFY(cb.socket().isValid());
    }

    void relayOnlyWithAWrongTokenLetsNobodyIn() {
        Keys a;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        auto relay = startRelay(QStringLiteral("not-the-relay-token-0123"));
        QVERIFY(relay);
        QTest::qWait(300);
        QCOMPARE(metric(relay->port(), "calnet_relay_keys_age_seconds"), -1);
        RelayClient c(relay->port());
        QVERIFY(c.open());
        c.sendText(hello(a, c.serverKey(), c.challenge()));
        QCOMPARE(c.waitClosed(), 4403); // the token was refused: nobody is let in
    }

    // The home relay a node reports (hello and endpoints messages) is in its node object.
    void homeRelayIsReported() {
        const Registered x = registerNew(port(), m_authKey, QStringLiteral("x"));
        const Registered y = registerNew(port(), m_authKey, QStringLiteral("y"));
        MapClient mx(port()), my(port());
        QVERIFY(mx.open());
        mx.send(QJsonObject{{"type", "hello"},
                            {"nodeId", x.id},
                            {"credential", x.credential},
                            {"endpoints", QJsonArray{"192.0.2.10:41641"}},
                            {"relay", "fra"}});
        QVERIFY(isMap(mx.next(2000)));
        const QJsonObject mapY = my.connectAs(y.id, y.credential);
        QCOMPARE(findNode(mapY.value("peers").toArray(), x.id).value("relay").toString(),
                 QStringLiteral("fra"));
        mx.send(QJsonObject{{"type", "endpoints"},
                            {"endpoints", QJsonArray{"192.0.2.10:41641"}},
                            {"relay", "nyc"}});
        const QJsonObject delta = my.nextMatching(
            [&](const QJsonObject& m) {
                return isDelta(m) &&
                       findNode(m.value("upsert").toArray(), x.id).value("relay") == "nyc";
            },
            3000);
        QVERIFY(!delta.isEmpty());
        // Not a region name: the stream is closed as a bad message.
        mx.send(QJsonObject{{"type", "endpoints"}, {"endpoints", QJsonArray{}}, {"relay", "N Y"}});
        QCOMPARE(mx.waitClosed(), 4400);
    }
};

QTEST_MAIN(TestRelayRegions)
#include "tst_relayregions.moc"
