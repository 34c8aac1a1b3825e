// Two real calnet-server processes on one database (the executable, not the library):
// on PostgreSQL, a change made through either server reaches map streams on the other within
// one second (NOTIFY calnet_changes / LISTEN); on both databases, one one-time key raced
// through the two servers admits exactly one node, and both servers migrate one database
// started at the same moment.
#include <QTest>

#include "dbrows.h"
#include "servertest.h"

using namespace servertest;

namespace {

QProcessEnvironment serverEnv() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CALNET_ADMIN_TOKEN"), kAdminToken);
    return env;
}

bool isDelta(const QJsonObject& m) {
    return m.value(QStringLiteral("type")).toString() == QStringLiteral("delta");
}

} // namespace

class TestReplicas : public QObject {
    Q_OBJECT
private slots:
    void changesCrossServers();
    void oneTimeKeyRaceAcrossServers_data() { DbRows::addRows(); }
    void oneTimeKeyRaceAcrossServers();

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
        QSKIP(qPrintable(m_rows.skipReason()));
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

QTEST_GUILESS_MAIN(TestReplicas)
#include "tst_replicas.moc"
