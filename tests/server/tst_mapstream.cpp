// The WebSocket map stream of an in-process Server, on SQLite and PostgreSQL: full map on
// hello, a delta within one second for join / endpoint change / leave / delete / expire /
// key rotation, resume with `since`, and the contract's close codes.
#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "dbrows.h"
#include "servertest.h"

using namespace calnet::server;
using namespace servertest;

namespace {

constexpr int kDeltaDeadlineMs = 1000; // the contract's "within one second"

} // namespace

class TestMapStream : public QObject {
    Q_OBJECT
private slots:
    void fullMapOnHello_data() { DbRows::addRows(); }
    void fullMapOnHello();
    void deltaOnJoinAndEndpoints_data() { DbRows::addRows(); }
    void deltaOnJoinAndEndpoints();
    void deltaOnDeleteExpireRotate_data() { DbRows::addRows(); }
    void deltaOnDeleteExpireRotate();
    void offlineWhenStreamCloses_data() { DbRows::addRows(); }
    void offlineWhenStreamCloses();
    void resumeWithSince_data() { DbRows::addRows(); }
    void resumeWithSince();
    void closeCodes_data() { DbRows::addRows(); }
    void closeCodes();
    void naturalKeyExpiry_data() { DbRows::addRows(); }
    void naturalKeyExpiry();
    void slowReaderIsCutOff();

private:
    std::unique_ptr<Server> startServer(const QString& spec,
                                        const std::function<void(ServerConfig&)>& tweak = {}) {
        ServerConfig config = testConfig(spec);
        if (tweak) {
            tweak(config);
        }
        return startInProcess(config);
    }

    DbRows m_rows;
};

void TestMapStream::fullMapOnHello() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("alpha"));
    const Registered b = registerNew(port, key, QStringLiteral("beta"));
    const Registered gone = registerNew(port, key, QStringLiteral("gone"));
    QCOMPARE(admin(port, "POST", QStringLiteral("nodes/%1/expire").arg(gone.id)).status, 200);

    MapClient client(port);
    QVERIFY(client.open());
    client.hello(a.id, a.credential, 0,
                 {QStringLiteral("192.168.1.20:41641"), QStringLiteral("[2001:db8::20]:41641")});
    const QJsonObject map = client.next();
    QCOMPARE(map.value(QStringLiteral("type")).toString(), QStringLiteral("map"));
    QVERIFY(map.value(QStringLiteral("seq")).toInteger() > 0);
    const QJsonObject self = map.value(QStringLiteral("self")).toObject();
    QCOMPARE(self.value(QStringLiteral("id")).toInteger(), a.id);
    QCOMPARE(self.value(QStringLiteral("nodeKey")).toString(), a.nodeKey);
    QCOMPARE(self.value(QStringLiteral("hostname")).toString(), QStringLiteral("alpha"));
    QCOMPARE(self.value(QStringLiteral("online")).toBool(), true);
    // Reported endpoints, then the address the stream came from with the reported port.
    QCOMPARE(
        self.value(QStringLiteral("endpoints")).toArray(),
        (QJsonArray{QStringLiteral("192.168.1.20:41641"), QStringLiteral("[2001:db8::20]:41641"),
                    QStringLiteral("127.0.0.1:41641")}));
    const QJsonArray peers = map.value(QStringLiteral("peers")).toArray();
    QCOMPARE(ids(peers), QList<qint64>{b.id}); // not itself, not the expired node
    const QJsonObject peer = peers[0].toObject();
    QCOMPARE(peer.value(QStringLiteral("nodeKey")).toString(), b.nodeKey);
    QCOMPARE(peer.value(QStringLiteral("online")).toBool(), false);
    QCOMPARE(
        peer.value(QStringLiteral("addresses")).toArray(),
        (QJsonArray{QStringLiteral("100.70.0.2/32"), QStringLiteral("fd70:6361:6c6e::2/128")}));
    for (const char* field : {"id", "nodeKey", "discoKey", "hostname", "os", "user", "addresses",
                              "endpoints", "relay", "online", "lastSeen", "keyExpiry"}) {
        QVERIFY2(peer.contains(QLatin1String(field)), field);
    }
    QCOMPARE(peer.keys().size(), 12);
    QCOMPARE(peer.value(QStringLiteral("relay")).toString(), QString()); // not reported yet
}

void TestMapStream::deltaOnJoinAndEndpoints() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("alpha"));
    MapClient ca(port);
    QVERIFY(ca.open());
    ca.hello(a.id, a.credential);
    QVERIFY(!ca.next().isEmpty());

    // Join.
    QElapsedTimer t;
    t.start();
    const Registered b = registerNew(port, key, QStringLiteral("beta"));
    QJsonObject delta = ca.nextMatching(isDelta, kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "no delta within 1 s after a join");
    QVERIFY(t.elapsed() < kDeltaDeadlineMs);
    QCOMPARE(ids(delta.value(QStringLiteral("upsert")).toArray()), QList<qint64>{b.id});
    QCOMPARE(delta.value(QStringLiteral("remove")).toArray(), QJsonArray());
    const qint64 seqJoin = delta.value(QStringLiteral("seq")).toInteger();

    // B comes online with endpoints.
    MapClient cb(port);
    QVERIFY(cb.open());
    cb.hello(b.id, b.credential, 0, {QStringLiteral("198.51.100.7:5555")});
    QCOMPARE(cb.next().value(QStringLiteral("type")).toString(), QStringLiteral("map"));
    delta = ca.nextMatching(isDelta, kDeltaDeadlineMs);
    QVERIFY(delta.value(QStringLiteral("seq")).toInteger() > seqJoin);
    QJsonObject nb = findNode(delta.value(QStringLiteral("upsert")).toArray(), b.id);
    QCOMPARE(nb.value(QStringLiteral("online")).toBool(), true);
    QCOMPARE(nb.value(QStringLiteral("endpoints")).toArray(),
             (QJsonArray{QStringLiteral("198.51.100.7:5555"), QStringLiteral("127.0.0.1:5555")}));

    // Endpoint change.
    t.restart();
    cb.send(QJsonObject{
        {QStringLiteral("type"), QStringLiteral("endpoints")},
        {QStringLiteral("endpoints"),
         QJsonArray{QStringLiteral("198.51.100.8:6000"), QStringLiteral("[2001:db8::8]:6000")}}});
    delta = ca.nextMatching(isDelta, kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "no delta within 1 s after an endpoint change");
    nb = findNode(delta.value(QStringLiteral("upsert")).toArray(), b.id);
    QCOMPARE(nb.value(QStringLiteral("endpoints")).toArray(),
             (QJsonArray{QStringLiteral("198.51.100.8:6000"), QStringLiteral("[2001:db8::8]:6000"),
                         QStringLiteral("127.0.0.1:6000")}));
    // B hears about its own change too.
    const QJsonObject own = cb.nextMatching(isDelta, kDeltaDeadlineMs);
    QCOMPARE(ids(own.value(QStringLiteral("upsert")).toArray()), QList<qint64>{b.id});
    // The same endpoints again are no change: no delta.
    cb.send(QJsonObject{
        {QStringLiteral("type"), QStringLiteral("endpoints")},
        {QStringLiteral("endpoints"),
         QJsonArray{QStringLiteral("198.51.100.8:6000"), QStringLiteral("[2001:db8::8]:6000")}}});
    QTest::qWait(300);
    QCOMPARE(ca.drain().size(), 0);

    // Updates faster than the server writes them (one write per 500 ms and node) are merged:
    // the last one is written when the interval is over. (This merged write once read a list
    // it had just freed and crashed the server: calnet-mapload found it.)
    for (int i = 1; i <= 5; ++i) {
        cb.send(QJsonObject{{QStringLiteral("type"), QStringLiteral("endpoints")},
                            {QStringLiteral("endpoints"),
                             QJsonArray{QStringLiteral("198.51.100.9:%1").arg(7000 + i)}}});
    }
    const QJsonArray last{QStringLiteral("198.51.100.9:7005"), QStringLiteral("127.0.0.1:7005")};
    QElapsedTimer merged;
    merged.start();
    QJsonObject seen;
    while (merged.elapsed() < 3000) {
        delta = ca.nextMatching(isDelta, 1000);
        if (delta.isEmpty())
            continue;
        seen = findNode(delta.value(QStringLiteral("upsert")).toArray(), b.id);
        if (seen.value(QStringLiteral("endpoints")).toArray() == last)
            break;
    }
    QCOMPARE(seen.value(QStringLiteral("endpoints")).toArray(), last);
    QVERIFY2(merged.elapsed() < 1500, qPrintable(QString::number(merged.elapsed())));
}

void TestMapStream::deltaOnDeleteExpireRotate() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("alpha"));
    const Registered b = registerNew(port, key, QStringLiteral("beta"));
    const Registered c = registerNew(port, key, QStringLiteral("gamma"));
    const Registered d = registerNew(port, key, QStringLiteral("delta"));
    MapClient ca(port);
    MapClient cb(port);
    MapClient cc(port);
    MapClient cd(port);
    QVERIFY(ca.open() && cb.open() && cc.open() && cd.open());
    ca.hello(a.id, a.credential);
    QVERIFY(!ca.next().isEmpty());
    cb.hello(b.id, b.credential);
    cc.hello(c.id, c.credential);
    cd.hello(d.id, d.credential);
    QVERIFY(!cb.next().isEmpty() && !cc.next().isEmpty() && !cd.next().isEmpty());
    QTest::qWait(100);
    ca.drain();

    // Delete: peers get remove, the node's own stream closes 4403.
    QCOMPARE(admin(port, "DELETE", QStringLiteral("nodes/%1").arg(b.id)).status, 200);
    QJsonObject delta = ca.nextMatching(isDelta, kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "no delta within 1 s after a delete");
    QCOMPARE(ids(delta.value(QStringLiteral("remove")).toArray()), QList<qint64>{b.id});
    QCOMPARE(cb.waitClosed(), 4403);

    // Expire: peers get remove, the node's own stream closes 4410.
    QCOMPARE(admin(port, "POST", QStringLiteral("nodes/%1/expire").arg(c.id)).status, 200);
    delta = ca.nextMatching(
        [&](const QJsonObject& m) {
            return isDelta(m) && ids(m.value(QStringLiteral("remove")).toArray()).contains(c.id);
        },
        kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "no remove within 1 s after an expire");
    QCOMPARE(cc.waitClosed(), 4410);

    // Key rotation: peers see the new key under the same id; the old stream's credential is
    // replaced (4401).
    const QString newKey = randomKey();
    QJsonObject body = registerBody(newKey, QStringLiteral("delta"), QString());
    body.remove(QStringLiteral("authKey"));
    body.insert(QStringLiteral("credential"), d.credential);
    const Response rotated = registerNode(port, body);
    QCOMPARE(rotated.status, 200);
    delta = ca.nextMatching(
        [&](const QJsonObject& m) {
            return isDelta(m) && findNode(m.value(QStringLiteral("upsert")).toArray(), d.id)
                                         .value(QStringLiteral("nodeKey"))
                                         .toString() == newKey;
        },
        kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "no upsert with the new key within 1 s after a rotation");
    QCOMPARE(cd.waitClosed(), 4401);
    QCOMPARE(findNode(delta.value(QStringLiteral("upsert")).toArray(), d.id)
                 .value(QStringLiteral("addresses"))
                 .toArray()[0]
                 .toString(),
             QStringLiteral("100.70.0.4/32"));
}

void TestMapStream::offlineWhenStreamCloses() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("alpha"));
    const Registered b = registerNew(port, key, QStringLiteral("beta"));
    MapClient ca(port);
    QVERIFY(ca.open());
    ca.hello(a.id, a.credential);
    QVERIFY(!ca.next().isEmpty());
    {
        MapClient cb(port);
        QVERIFY(cb.open());
        cb.hello(b.id, b.credential);
        QVERIFY(!cb.next().isEmpty());
        const QJsonObject on = ca.nextMatching(isDelta, kDeltaDeadlineMs);
        QCOMPARE(findNode(on.value(QStringLiteral("upsert")).toArray(), b.id)
                     .value(QStringLiteral("online"))
                     .toBool(),
                 true);
        QCOMPARE(httpCall(port, "GET", QStringLiteral("/metrics"))
                     .body.contains("calnet_websocket_clients 2"),
                 true);
        cb.close();
    }
    const QJsonObject off = ca.nextMatching(isDelta, kDeltaDeadlineMs);
    QVERIFY2(!off.isEmpty(), "no delta within 1 s after a stream closed");
    const QJsonObject nb = findNode(off.value(QStringLiteral("upsert")).toArray(), b.id);
    QCOMPARE(nb.value(QStringLiteral("online")).toBool(), false);
    QVERIFY(nb.value(QStringLiteral("lastSeen")).toInteger() > 0);
    const QByteArray metrics = httpCall(port, "GET", QStringLiteral("/metrics")).body;
    QVERIFY(metrics.contains("calnet_nodes_online 1"));
    QVERIFY(metrics.contains("calnet_websocket_clients 1"));
}

void TestMapStream::resumeWithSince() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("alpha"));
    const Registered b = registerNew(port, key, QStringLiteral("beta"));
    const Registered c = registerNew(port, key, QStringLiteral("gamma"));
    qint64 seq = 0;
    {
        MapClient ca(port);
        QVERIFY(ca.open());
        ca.hello(a.id, a.credential);
        const QJsonObject map = ca.next();
        QCOMPARE(ids(map.value(QStringLiteral("peers")).toArray()), (QList<qint64>{b.id, c.id}));
        seq = map.value(QStringLiteral("seq")).toInteger();
        ca.close();
    }
    // While A is away: D joins, B is deleted. C does not change.
    const Registered d = registerNew(port, key, QStringLiteral("delta"));
    QCOMPARE(admin(port, "DELETE", QStringLiteral("nodes/%1").arg(b.id)).status, 200);
    QTest::qWait(100);

    MapClient ca(port);
    QVERIFY(ca.open());
    ca.hello(a.id, a.credential, seq);
    const QJsonObject resumed = ca.next();
    QCOMPARE(resumed.value(QStringLiteral("type")).toString(), QStringLiteral("delta"));
    QVERIFY(resumed.value(QStringLiteral("seq")).toInteger() > seq);
    // Exactly the missed changes: D joined, B left, and A itself (offline, then online again).
    QCOMPARE(ids(resumed.value(QStringLiteral("upsert")).toArray()), (QList<qint64>{a.id, d.id}));
    QCOMPARE(ids(resumed.value(QStringLiteral("remove")).toArray()), QList<qint64>{b.id});
    QCOMPARE(findNode(resumed.value(QStringLiteral("upsert")).toArray(), a.id)
                 .value(QStringLiteral("online"))
                 .toBool(),
             true);
    QCOMPARE(ca.drain().size(), 0);

    // A `since` the server never handed out (ahead of it) gets a full map.
    MapClient again(port);
    QVERIFY(again.open());
    again.hello(a.id, a.credential, 1'000'000);
    const QJsonObject full = again.next();
    QCOMPARE(full.value(QStringLiteral("type")).toString(), QStringLiteral("map"));
    QCOMPARE(ids(full.value(QStringLiteral("peers")).toArray()), (QList<qint64>{c.id, d.id}));
}

void TestMapStream::closeCodes() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec, [](ServerConfig& c) { c.helloTimeoutMs = 300; });
    QVERIFY(server);
    const quint16 port = server->port();
    const Registered a = registerNew(port, createKey(port, true), QStringLiteral("alpha"));
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.hello(a.id, a.credential.left(a.credential.size() - 1) + u'x');
        QCOMPARE(c.waitClosed(), 4401);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.hello(a.id + 100, a.credential);
        QCOMPARE(c.waitClosed(), 4401);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.socket().sendTextMessage(QStringLiteral("not json"));
        QCOMPARE(c.waitClosed(), 4400);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.send(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                           {QStringLiteral("nodeId"), QStringLiteral("1")},
                           {QStringLiteral("credential"), a.credential}});
        QCOMPARE(c.waitClosed(), 4400);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.send(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                           {QStringLiteral("nodeId"), a.id},
                           {QStringLiteral("credential"), a.credential},
                           {QStringLiteral("extra"), 1}});
        QCOMPARE(c.waitClosed(), 4400);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.hello(a.id, a.credential, 0, {QStringLiteral("not-an-endpoint")});
        QCOMPARE(c.waitClosed(), 4400);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        c.hello(a.id, a.credential);
        QVERIFY(!c.next().isEmpty());
        c.send(QJsonObject{{QStringLiteral("type"), QStringLiteral("bogus")}});
        QCOMPARE(c.waitClosed(), 4400);
    }
    {
        MapClient c(port, QStringLiteral("/api/v1/elsewhere")); // only /api/v1/map streams:
        QVERIFY(!c.open());                                     // the upgrade is refused (404)
    }
    {
        MapClient c(port); // says nothing
        QVERIFY(c.open());
        QCOMPARE(c.waitClosed(2000), 4408);
    }
    {
        MapClient c(port);
        QVERIFY(c.open());
        QCOMPARE(admin(port, "POST", QStringLiteral("nodes/%1/expire").arg(a.id)).status, 200);
        c.hello(a.id, a.credential);
        QCOMPARE(c.waitClosed(), 4410);
    }
}

void TestMapStream::naturalKeyExpiry() {
    CALNET_FRESH_DB(m_rows, spec);
    qint64 offset = 0; // the server's clock runs `offset` seconds ahead
    auto server = startServer(spec, [&](ServerConfig& c) {
        c.expirySweepMs = 100;
        c.clock = [&offset] { return QDateTime::currentSecsSinceEpoch() + offset; };
    });
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("alpha"));
    offset = 3600; // B registers an hour "later", so its key expires an hour after A's
    const Registered b = registerNew(port, key, QStringLiteral("beta"));
    offset = 0;
    MapClient cb(port);
    MapClient ca(port);
    QVERIFY(cb.open() && ca.open());
    cb.hello(b.id, b.credential);
    QVERIFY(!cb.next().isEmpty());
    ca.hello(a.id, a.credential);
    QVERIFY(!ca.next().isEmpty());
    QTest::qWait(100);
    cb.drain();
    offset = 180 * 86400 + 10; // past A's expiry, not B's
    const QJsonObject delta = cb.nextMatching(
        [&](const QJsonObject& m) {
            return isDelta(m) && ids(m.value(QStringLiteral("remove")).toArray()).contains(a.id);
        },
        kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "no remove within 1 s after a key expired");
    QCOMPARE(ca.waitClosed(), 4410);
}

// A node that stops reading: everything the server queues for it is bounded by
// sendQueueLimitBytes, after which its stream is closed (4429, the node marked offline) while
// a node that reads keeps getting its deltas. The slow node is a raw TCP client doing the
// WebSocket handshake by hand, so it can truly stop reading: a tiny receive buffer in the
// kernel and a one-byte read buffer in Qt.
void TestMapStream::slowReaderIsCutOff() {
    QTemporaryDir dir;
    auto server = startServer(QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("db")),
                              [](ServerConfig& c) {
                                  c.sendQueueLimitBytes = 64 * 1024;
                                  QString error;
                                  c.prefixes.set(QStringLiteral("100.70.0.0/16"),
                                                 QStringLiteral("fd70:6361:6c6e::/64"), &error);
                              });
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered slow = registerNew(port, key, QStringLiteral("slow"));
    const Registered good = registerNew(port, key, QStringLiteral("good"));

    QTcpSocket raw;
    raw.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
    raw.setReadBufferSize(1);
    raw.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(raw.waitForConnected(5000));
    raw.write(QStringLiteral("GET /api/v1/map HTTP/1.1\r\nHost: 127.0.0.1:%1\r\n"
                             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n")
                  .arg(port)
                  .toLatin1());
    QByteArray response;
    QElapsedTimer t;
    t.start();
    while (!response.contains("\r\n\r\n") && t.elapsed() < 5000) {
        QTest::qWait(10); // the server runs on this thread's event loop
        response += raw.read(1);
    }
    QVERIFY2(response.startsWith("HTTP/1.1 101"), response.constData());
    // One masked text frame carrying the hello (RFC 6455 5.2).
    const QByteArray hello =
        QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                                  {QStringLiteral("nodeId"), slow.id},
                                  {QStringLiteral("credential"), slow.credential}})
            .toJson(QJsonDocument::Compact);
    QVERIFY(hello.size() < 65536);
    QByteArray frame;
    frame.append(char(0x81));
    if (hello.size() < 126) {
        frame.append(char(0x80 | hello.size()));
    } else {
        frame.append(char(0x80 | 126));
        frame.append(char(hello.size() >> 8));
        frame.append(char(hello.size() & 0xff));
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    frame.append(mask, 4);
    for (qsizetype i = 0; i < hello.size(); ++i) {
        frame.append(char(hello[i] ^ mask[i % 4]));
    }
    raw.write(frame);
    QVERIFY(raw.waitForBytesWritten(5000));

    MapClient reader(port);
    QVERIFY(reader.open());
    reader.hello(good.id, good.credential);
    QVERIFY(!reader.next().isEmpty());

    const auto slowOnline = [&] {
        const QJsonArray nodes = admin(port, "GET", QStringLiteral("nodes"))
                                     .json()
                                     .value(QStringLiteral("nodes"))
                                     .toArray();
        return findNode(nodes, slow.id).value(QStringLiteral("online")).toBool();
    };
    QTRY_VERIFY_WITH_TIMEOUT(slowOnline(), 5000);

    // Joins make deltas for both streams; the slow one stops draining. Bounded: 4,000 joins
    // (about 1.4 MB of deltas) or 60 s.
    int joins = 0;
    t.restart();
    bool cut = false;
    while (joins < 4000 && t.elapsed() < 60000) {
        for (int i = 0; i < 50; ++i, ++joins) {
            QCOMPARE(
                registerNode(port, registerBody(randomKey(), QStringLiteral("n%1").arg(joins), key))
                    .status,
                200);
        }
        reader.drain();
        if (!slowOnline()) {
            cut = true;
            break;
        }
    }
    QVERIFY2(cut, qPrintable(
                      QStringLiteral("the slow stream was still open after %1 joins").arg(joins)));
    qInfo("slow reader cut off after %d joins", joins);

    // The reader is unaffected: the next join reaches it within the contract's second.
    const Registered last = registerNew(port, key, QStringLiteral("last"));
    const QJsonObject delta = reader.nextMatching(
        [&](const QJsonObject& m) {
            return isDelta(m) &&
                   !findNode(m.value(QStringLiteral("upsert")).toArray(), last.id).isEmpty();
        },
        kDeltaDeadlineMs);
    QVERIFY2(!delta.isEmpty(), "the reading node missed a delta after the slow one was cut");
}

QTEST_GUILESS_MAIN(TestMapStream)
#include "tst_mapstream.moc"
