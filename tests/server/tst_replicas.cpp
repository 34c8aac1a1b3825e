// Two real calnet-server processes on one database (the executable, not the library):
// on PostgreSQL, a change made through either server reaches map streams on the other within
// one second (NOTIFY calnet_changes / LISTEN); on both databases, one one-time key raced
// through the two servers admits exactly one node, and both servers migrate one database
// started at the same moment; a server whose database connection is cut reconnects by itself
// and catches up on the changes it was not notified of.
#include <QCoreApplication>
#include <QRegularExpression>
#include <QTest>

#include "dbrows.h"
#include "servertest.h"
#include "skip.h"

using namespace servertest;

namespace {} // namespace

class TestReplicas : public QObject {
    Q_OBJECT
private slots:
    void changesCrossServers();
    void oneTimeKeyRaceAcrossServers_data() { DbRows::addRows(); }
    void oneTimeKeyRaceAcrossServers();
    void reconnectsAfterLosingTheDatabase();

private:
    bool startPair(const QString& spec, ServerProcess& a, ServerProcess& b) {
        const QStringList args = {QStringLiteral("--db"), spec};
        // Both at once: the migrations must serialise on the database.
        const bool launched = a.launch(args, serverEnv()) && b.launch(args, serverEnv());
        const bool startedA = launched && a.waitReady();
        const bool startedB = launched && b.waitReady();
        if (!startedA || !startedB) {
            qWarning("server did not start: %s %s", a.stderrText().constData(),
                     b.stderrText().constData());
        }
        return startedA && startedB;
    }

    DbRows m_rows;
};

void TestReplicas::changesCrossServers() {
    const QString spec = m_rows.fresh(QStringLiteral("postgres"));
    if (spec.isEmpty()) {
        CALNET_PG_UNAVAILABLE(m_rows);
    }
    ServerProcess a;
    ServerProcess b;
    QVERIFY(startPair(spec, a, b));
    const QString key = createKey(a.port, true);
    QVERIFY(!key.isEmpty());
    const Registered x = registerNew(a.port, key, QStringLiteral("x"));
    QVERIFY(x.id > 0);

    MapClient onB(b.port);
    QVERIFY(onB.open());
    onB.hello(x.id, x.credential);
    QCOMPARE(onB.next(2000).value(QStringLiteral("type")).toString(), QStringLiteral("map"));

    // A node registered through A shows up on B's stream.
    QElapsedTimer t;
    t.start();
    const Registered y = registerNew(a.port, key, QStringLiteral("y"));
    QJsonObject delta = onB.nextMatching(isDelta, 1000);
    QVERIFY2(!delta.isEmpty(), "no delta on server B within 1 s after a join on server A");
    QVERIFY(t.elapsed() < 1000);
    QCOMPARE(ids(delta.value(QStringLiteral("upsert")).toArray()), QList<qint64>{y.id});

    // A stream on A going online with endpoints is seen on B.
    MapClient onA(a.port);
    QVERIFY(onA.open());
    onA.hello(y.id, y.credential, 0, {QStringLiteral("203.0.113.5:41641")});
    QCOMPARE(onA.next(2000).value(QStringLiteral("type")).toString(), QStringLiteral("map"));
    delta = onB.nextMatching(isDelta, 1000);
    QCOMPARE(findNode(delta.value(QStringLiteral("upsert")).toArray(), y.id)
                 .value(QStringLiteral("online"))
                 .toBool(),
             true);
    // B's own node changes on B (deleted through B's admin API): A's stream is closed 4403...
    // the other way round: delete y through B, its stream on A closes, x on B gets remove.
    QCOMPARE(admin(b.port, "DELETE", QStringLiteral("nodes/%1").arg(y.id)).status, 200);
    QCOMPARE(onA.waitClosed(2000), 4403);
    delta = onB.nextMatching(
        [&](const QJsonObject& m) {
            return isDelta(m) && ids(m.value(QStringLiteral("remove")).toArray()).contains(y.id);
        },
        1000);
    QVERIFY2(!delta.isEmpty(), "no remove on B within 1 s");
    QCOMPARE(a.terminate(), 0);
    QCOMPARE(b.terminate(), 0);
}

void TestReplicas::oneTimeKeyRaceAcrossServers() {
    CALNET_FRESH_DB(m_rows, spec);
    ServerProcess a;
    ServerProcess b;
    QVERIFY(startPair(spec, a, b));
    QNetworkAccessManager nam;
    for (int round = 0; round < 5; ++round) {
        const QString key = createKey(a.port, false);
        QVERIFY(!key.isEmpty());
        QList<QNetworkReply*> replies;
        for (quint16 port : {a.port, b.port}) {
            QNetworkRequest req(
                QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/register").arg(port)));
            req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
            replies.append(nam.post(
                req,
                QJsonDocument(registerBody(randomKey(), QStringLiteral("racer"), key)).toJson()));
        }
        QTRY_VERIFY_WITH_TIMEOUT(replies[0]->isFinished() && replies[1]->isFinished(), 10000);
        QList<int> statuses;
        for (QNetworkReply* r : replies) {
            statuses.append(r->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt());
            r->deleteLater();
        }
        std::sort(statuses.begin(), statuses.end());
        QCOMPARE(statuses, (QList<int>{200, 403}));
    }
    const QJsonArray nodes = admin(b.port, "GET", QStringLiteral("nodes"))
                                 .json()
                                 .value(QStringLiteral("nodes"))
                                 .toArray();
    QCOMPARE(nodes.size(), 5);
    QSet<QString> addresses;
    for (const QJsonValue& n : nodes) {
        addresses.insert(n.toObject().value(QStringLiteral("addresses")).toArray()[0].toString());
    }
    QCOMPARE(addresses.size(), 5);
    QCOMPARE(a.terminate(), 0);
    QCOMPARE(b.terminate(), 0);
}

void TestReplicas::reconnectsAfterLosingTheDatabase() {
    const QString spec = m_rows.fresh(QStringLiteral("postgres"));
    if (spec.isEmpty()) {
        CALNET_PG_UNAVAILABLE(m_rows);
    }
    const QString database =
        QRegularExpression(QStringLiteral("dbname=(\\S+)")).match(spec).captured(1);
    QVERIFY(!database.isEmpty());
    // A: the real executable, where the changes are made. B: in this process, heartbeat 100 ms.
    ServerProcess a;
    QVERIFY(a.start({QStringLiteral("--db"), spec}, serverEnv()));
    calnet::server::ServerConfig config = testConfig(spec);
    config.heartbeatIntervalMs = 100;
    const auto server = startInProcess(config);
    QVERIFY(server);
    calnet::server::Server& b = *server;
    const QString key = createKey(a.port, true);
    const Registered x = registerNew(a.port, key, QStringLiteral("x"));
    QVERIFY(x.id > 0);
    MapClient onB(b.port());
    QVERIFY(onB.open());
    onB.hello(x.id, x.credential);
    QCOMPARE(onB.next(2000).value(QStringLiteral("type")).toString(), QStringLiteral("map"));
    QTest::qWait(200);
    onB.drain();

    // Cut B's connection the way a database restart or an administrator would.
    QString out;
    QVERIFY2(m_rows.pg().superuserSql(
                 database,
                 QStringLiteral("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = 'calnet-server/%1'")
                     .arg(QCoreApplication::applicationPid()),
                 &out),
             qPrintable(out));
    QCOMPARE(out.trimmed(), QStringLiteral("1"));
    // A change B is not notified of (its LISTEN died with the connection)...
    const Registered y = registerNew(a.port, key, QStringLiteral("y"));
    QVERIFY(y.id > 0);
    // ...reaches B's stream once B has reconnected (its next heartbeat notices).
    QElapsedTimer t;
    t.start();
    const QJsonObject delta = onB.nextMatching(
        [&](const QJsonObject& m) {
            return isDelta(m) && ids(m.value(QStringLiteral("upsert")).toArray()).contains(y.id);
        },
        3000);
    QVERIFY2(!delta.isEmpty(), "B did not catch up within 3 s of losing its connection");
    qInfo("B caught up %lld ms after its connection was cut", t.elapsed());
    // And it is notified again: the next change through A arrives like before the cut.
    const Registered z = registerNew(a.port, key, QStringLiteral("z"));
    QVERIFY(!onB.nextMatching(
                    [&](const QJsonObject& m) {
                        return isDelta(m) &&
                               ids(m.value(QStringLiteral("upsert")).toArray()).contains(z.id);
                    },
                    1000)
                 .isEmpty());
    QCOMPARE(admin(b.port(), "GET", QStringLiteral("nodes"))
                 .json()
                 .value(QStringLiteral("nodes"))
                 .toArray()
                 .size(),
             3);
    QCOMPARE(a.terminate(), 0);
}

QTEST_GUILESS_MAIN(TestReplicas)
#include "tst_replicas.moc"
