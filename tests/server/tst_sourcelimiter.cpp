// SourceLimiter (server/sourcelimiter.h) with a clock moved by hand: a burst, then the rate;
// sources beyond the tracked maximum (forged UDP sources, a sweep of IPv6 /64s) share one
// bucket instead of growing memory; idle full buckets are forgotten after a minute.
#include <QHostAddress>
#include <QTest>

#include "server/sourcelimiter.h"

using calnet::server::SourceLimiter;

class TestSourceLimiter : public QObject {
    Q_OBJECT
private slots:
    void burstThenRate() {
        qint64 now = 0;
        SourceLimiter l(QStringLiteral("test"), 60, 3, [&] { return now; });
        const QHostAddress a(QStringLiteral("192.0.2.1"));
        for (int i = 0; i < 3; ++i)
            QVERIFY(l.admit("a", a));
        QVERIFY(!l.admit("a", a));
        QVERIFY(l.admit("b", a)); // another source has its own bucket
        now += 1000;              // 60 a minute: one back per second
        QVERIFY(l.admit("a", a));
        QVERIFY(!l.admit("a", a));
        QCOMPARE(l.refused(), 2);
    }

    void sourcesBeyondTheMaximumShareOneBucket() {
        qint64 now = 0;
        SourceLimiter l(
            QStringLiteral("test"), 60, 2, [&] { return now; }, 4);
        const QHostAddress a(QStringLiteral("192.0.2.1"));
        for (int i = 0; i < 4; ++i)
            QVERIFY(l.admit(QByteArray::number(i), a));
        QCOMPARE(l.trackedSources(), 4);
        // 1,000 new sources: together they get one burst, and nothing more is kept.
        int admitted = 0;
        for (int i = 100; i < 1100; ++i)
            admitted += l.admit(QByteArray::number(i), a);
        QCOMPARE(admitted, 2);
        QCOMPARE(l.trackedSources(), 4);
        // The tracked ones keep their own budgets.
        QVERIFY(l.admit("0", a));
        // A minute later the full, idle buckets are forgotten and new sources are tracked again.
        now += 120'000;
        QVERIFY(l.admit("new", a));
        QVERIFY(l.trackedSources() <= 4);
        QVERIFY(l.admit("new", a));
        QVERIFY(!l.admit("new", a));
    }
};

QTEST_GUILESS_MAIN(TestSourceLimiter)
#include "tst_sourcelimiter.moc"
