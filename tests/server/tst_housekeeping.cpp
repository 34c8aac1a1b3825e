// Liveness and housekeeping of server processes, on SQLite and PostgreSQL:
// - a server killed with SIGKILL leaves its nodes online in the database; another server (or
//   the same one restarted) marks them offline once the dead one's heartbeat is older than the
//   server timeout, and pushes that to its own streams; not before;
// - a server that stalled past the timeout and finds its row gone closes its streams with 4503
//   so that its nodes come back online;
// - a clean shutdown removes the server's row and leaves no node online;
// - changes older than the retention are pruned: a stream resuming from before them gets a full
//   map, one resuming after them a delta, and a connected stream left behind them a full map.
#include <QDateTime>
#include <QTest>

#include "dbrows.h"
#include "servertest.h"

using namespace calnet::server;
using namespace servertest;

namespace {

// The node `id` in a delta's upsert list with online == `online`.
std::function<bool(const QJsonObject&)> upsertsOnline(qint64 id, bool online) {
    return [id, online](const QJsonObject& m) {
        const QJsonObject n = findNode(m.value(QStringLiteral("upsert")).toArray(), id);
        return isDelta(m) && !n.isEmpty() && n.value(QStringLiteral("online")).toBool() == online;
    };
}

qint64 count(Storage* storage, const QString& table) {
    qint64 n = -1;
    if (!storage->countRows(table, &n).ok()) {
        return -1;
    }
    return n;
}

} // namespace

class TestHousekeeping : public QObject {
    Q_OBJECT
private slots:
    void killedServerNodesGoOffline_data() { DbRows::addRows(); }
    void killedServerNodesGoOffline();
    void stalledServerRestartsItsStreams_data() { DbRows::addRows(); }
    void stalledServerRestartsItsStreams();
    void changesArePruned_data() { DbRows::addRows(); }
    void changesArePruned();

private:
    // An in-process server whose clock is the wall clock plus *offset seconds.
    std::unique_ptr<Server> startServer(const QString& spec, const qint64* offset,
                                        qint64 retention = 86'400) {
        ServerConfig config = testConfig(spec);
        config.heartbeatIntervalMs = 100;
        config.serverTimeoutSeconds = 30;
        config.changeRetentionSeconds = retention;
        config.clock = [offset] { return QDateTime::currentSecsSinceEpoch() + *offset; };
        return startInProcess(config);
    }

    DbRows m_rows;
};

void TestHousekeeping::killedServerNodesGoOffline() {
    CALNET_FRESH_DB(m_rows, spec);
    // Server A, the real executable: x's stream is on it when it is killed.
    ServerProcess a;
    QVERIFY(a.start({QStringLiteral("--db"), spec}, serverEnv()));
    const QString key = createKey(a.port, true);
    const Registered x = registerNew(a.port, key, QStringLiteral("x"));
    const Registered y = registerNew(a.port, key, QStringLiteral("y"));
    QVERIFY(x.id > 0 && y.id > 0);
    {
        MapClient onA(a.port);
        QVERIFY(isMap(onA.connectAs(x.id, x.credential)));
        a.kill(); // SIGKILL: no shutdown, x stays online in the database
        QVERIFY(onA.waitClosed() != -1);
    }

    // Server B on the same database, its clock moved by hand.
    qint64 offset = 0;
    auto b = startServer(spec, &offset);
    QVERIFY(b);
    MapClient onB(b->port());
    const QJsonObject map = onB.connectAs(y.id, y.credential);
    QVERIFY(isMap(map));
    // A's heartbeat is fresh: for all B knows, x is still connected to a live server.
    QCOMPARE(findNode(map.value(QStringLiteral("peers")).toArray(), x.id)
                 .value(QStringLiteral("online"))
                 .toBool(),
             true);
    QCOMPARE(count(b->storage(), QStringLiteral("servers")), qint64(2));
    // Five heartbeats of B inside the timeout change nothing.
    QVERIFY(onB.nextMatching(upsertsOnline(x.id, false), 500).isEmpty());

    // Past the timeout, B marks x offline and tells its streams within one second.
    offset = 31;
    QElapsedTimer t;
    t.start();
    QVERIFY2(!onB.nextMatching(upsertsOnline(x.id, false), 1000).isEmpty(),
             "x not marked offline within 1 s of A's heartbeat passing the timeout");
    qInfo("killed server's node shown offline %lld ms after the timeout", t.elapsed());
    QCOMPARE(count(b->storage(), QStringLiteral("servers")), qint64(1)); // A's row is gone

    // A clean shutdown of B marks y offline and removes B's row.
    onB.close();
    b.reset();
    Storage check;
    QString error;
    QVERIFY2(check.open(spec, &error), qPrintable(error));
    qint64 online = -1;
    QVERIFY(check.nodes().countOnline(&online).ok());
    QCOMPARE(online, qint64(0));
    QCOMPARE(count(&check, QStringLiteral("servers")), qint64(0));
}

void TestHousekeeping::stalledServerRestartsItsStreams() {
    CALNET_FRESH_DB(m_rows, spec);
    qint64 now = 0;
    auto b = startServer(spec, &now);
    QVERIFY(b);
    const quint16 port = b->port();
    const QString key = createKey(port, true);
    const Registered y = registerNew(port, key, QStringLiteral("y"));
    const Registered z = registerNew(port, key, QStringLiteral("z"));
    MapClient yOnB(port);
    QVERIFY(isMap(yOnB.connectAs(y.id, y.credential)));

    // Server C, 31 s ahead, takes B for dead: y is marked offline, B's row removed.
    qint64 ahead = 31;
    auto c = startServer(spec, &ahead);
    QVERIFY(c);
    MapClient zOnC(c->port());
    const QJsonObject map = zOnC.connectAs(z.id, z.credential);
    QVERIFY(isMap(map));
    const auto yOnline = [&] {
        return findNode(map.value(QStringLiteral("peers")).toArray(), y.id)
            .value(QStringLiteral("online"))
            .toBool();
    };
    QCOMPARE(yOnline(), false);

    // B's next heartbeat finds its row gone: it closes y's stream with 4503 ("reconnect"),
    // y reconnects, and everyone sees it online again.
    QCOMPARE(yOnB.waitClosed(2000), 4503);
    c.reset();         // C stops, so that its clock no longer declares B dead,
    QTest::qWait(300); // and B's next heartbeats find their row again
    MapClient again(port);
    const QJsonObject fresh = again.connectAs(y.id, y.credential);
    QVERIFY(isMap(fresh));
    QCOMPARE(
        fresh.value(QStringLiteral("self")).toObject().value(QStringLiteral("online")).toBool(),
        true);
    QCOMPARE(count(b->storage(), QStringLiteral("servers")), qint64(1));
}

void TestHousekeeping::changesArePruned() {
    CALNET_FRESH_DB(m_rows, spec); // declares `backend`
    qint64 offset = 0;
    auto server = startServer(spec, &offset, 60);
    QVERIFY(server);
    const quint16 port = server->port();
    Storage* storage = server->storage();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("a"));
    const Registered b = registerNew(port, key, QStringLiteral("b"));
    qint64 seenByA = 0;
    {
        MapClient ca(port);
        const QJsonObject map = ca.connectAs(a.id, a.credential);
        QVERIFY(isMap(map));
        seenByA = map.value(QStringLiteral("seq")).toInteger();
        ca.close();
    }
    QTest::qWait(300); // a's stream closed (a change)
    const qint64 before = count(storage, QStringLiteral("changes"));
    QVERIFY(before >= 4); // a and b joined, a online, a offline

    // A minute later, c joins; the next heartbeat prunes everything older than 60 s.
    offset = 61;
    const Registered c = registerNew(port, key, QStringLiteral("c"));
    qint64 seq = 0;
    qint64 pruned = 0;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 2000 && pruned <= seenByA) {
        QTest::qWait(50);
        QVERIFY(storage->changes().currentSeq(&seq, &pruned).ok());
    }
    QVERIFY2(pruned > seenByA, "old changes were not pruned within 2 s");
    QCOMPARE(pruned, seq - 1); // everything but c's join
    QCOMPARE(count(storage, QStringLiteral("changes")), qint64(1));

    // Resuming from before the pruned changes: a full map.
    {
        MapClient ca(port);
        const QJsonObject full = ca.connectAs(a.id, a.credential, seenByA);
        QVERIFY(isMap(full));
        QCOMPARE(ids(full.value(QStringLiteral("peers")).toArray()), (QList<qint64>{b.id, c.id}));
        ca.close();
    }
    QTest::qWait(300);
    // Resuming from the pruned mark: a delta with what came after (c joined, a itself).
    QVERIFY(storage->changes().currentSeq(&seq, &pruned).ok());
    {
        MapClient ca(port);
        const QJsonObject delta = ca.connectAs(a.id, a.credential, pruned);
        QVERIFY(isDelta(delta));
        QCOMPARE(ids(delta.value(QStringLiteral("upsert")).toArray()), (QList<qint64>{a.id, c.id}));
        ca.close();
    }

    if (backend != QStringLiteral("sqlite")) {
        return; // below, a write that the server is not told about: PostgreSQL would NOTIFY
    }
    // A connected stream whose next changes are pruned before it gets them (here: written by
    // another connection without a notification, and already older than the retention) cannot
    // be sent a delta: the next push sends it the whole map.
    MapClient cb(port);
    QVERIFY(isMap(cb.connectAs(b.id, b.credential)));
    QTest::qWait(200); // the push scheduled by b going online has run (and found nothing new)
    Storage other;
    QString error;
    QVERIFY2(other.open(spec, &error), qPrintable(error));
    QVERIFY(other.beginWrite());
    QVERIFY(other.changes().append(a.id, QStringLiteral("upsert"), 0).ok()); // recorded long ago
    QVERIFY(other.commit());
    qint64 skipped = 0;
    QVERIFY(other.changes().currentSeq(&skipped).ok());
    t.restart();
    while (t.elapsed() < 2000 && pruned < skipped) {
        QTest::qWait(50);
        QVERIFY(storage->changes().currentSeq(&seq, &pruned).ok());
    }
    QCOMPARE(pruned, skipped);
    const Registered d = registerNew(port, key, QStringLiteral("d")); // a push
    const QJsonObject full = cb.next(2000);
    QVERIFY2(isMap(full), qPrintable(QJsonDocument(full).toJson()));
    QCOMPARE(ids(full.value(QStringLiteral("peers")).toArray()), (QList<qint64>{a.id, c.id, d.id}));
    QVERIFY(full.value(QStringLiteral("seq")).toInteger() > skipped);
}

QTEST_GUILESS_MAIN(TestHousekeeping)
#include "tst_housekeeping.moc"
