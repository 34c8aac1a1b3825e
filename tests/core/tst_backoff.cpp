// Backoff (core/util/backoff.h), the one retry schedule of every reconnecting client: 250 ms
// doubling to 10 s, jitter within [d/2, d], back to the start on reset.
#include <QTest>

#include "core/util/backoff.h"

using namespace calnet;
using namespace std::chrono_literals;

class TestBackoff : public QObject {
    Q_OBJECT
private slots:
    void doublesToTheMaximum() {
        Backoff b;
        const std::chrono::milliseconds expected[] = {250ms,  500ms,  1000ms,  2000ms,
                                                      4000ms, 8000ms, 10000ms, 10000ms};
        for (auto e : expected)
            QCOMPARE(b.next().count(), e.count());
        QCOMPARE(b.attempts(), 8);
        b.reset();
        QCOMPARE(b.attempts(), 0);
        QCOMPARE(b.next().count(), 250);
    }
    void jitterStaysInTheUpperHalf() {
        for (double r : {0.0, 0.25, 0.5, 0.999, 1.0, -3.0, 7.0}) {
            Backoff b(100ms, 1000ms);
            b.next();                         // 100
            const auto d = b.nextJittered(r); // of 200
            QVERIFY2(d >= 100ms && d <= 200ms, qPrintable(QString::number(d.count())));
        }
        Backoff custom(50ms, 20ms); // a maximum under the start is the start
        QCOMPARE(custom.next().count(), 50);
        QCOMPARE(custom.next().count(), 50);
    }
};

QTEST_APPLESS_MAIN(TestBackoff)
#include "tst_backoff.moc"
