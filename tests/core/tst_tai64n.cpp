// Tests for TAI64N: encodings computed from the definition (tests/data/vectors/tai64n.txt), the
// 2^24 ns whitening, and that tai64nAfter() is exactly "later in time" on the whitened labels.
#include <QTest>

#include <cstdint>

#include "core/crypto/tai64n.h"
#include "vectorfile.h"

using calnet::crypto::Tai64n;
using calnet::crypto::WallTime;
using calnet::testing::hexField;
using calnet::testing::loadVectors;
using calnet::testing::Record;
using calnet::testing::toQByteArray;

namespace {

QByteArray hexOf(const Tai64n& t) {
    return toQByteArray(t).toHex();
}

WallTime at(std::int64_t seconds, std::uint32_t nanoseconds) {
    return WallTime{seconds, nanoseconds};
}

constexpr std::uint32_t kStep = 0x1000000; // the whitening granularity, 2^24 ns

} // namespace

class TestTai64n : public QObject {
    Q_OBJECT

private slots:
    void encoding_data();
    void encoding();
    void nanosecondsAreWhitened();
    void outOfRangeNanosecondsStayValid();
    void after_data();
    void after();
    void afterIsAStrictOrderOnASequence();
};

void TestTai64n::encoding_data() {
    QTest::addColumn<qint64>("unixSeconds");
    QTest::addColumn<quint32>("nanoseconds");
    QTest::addColumn<QByteArray>("expected");
    const QList<Record> records = loadVectors("tai64n.txt");
    QCOMPARE(records.size(), 7);
    for (const Record& r : records) {
        bool secondsOk = false;
        bool nanosOk = false;
        const qint64 seconds = r.value("unix_seconds").toLongLong(&secondsOk);
        const quint32 nanos = r.value("nanoseconds").toUInt(&nanosOk);
        QVERIFY(secondsOk && nanosOk);
        QTest::newRow(qPrintable(r.value("name"))) << seconds << nanos << hexField(r, "out");
    }
}

void TestTai64n::encoding() {
    QFETCH(qint64, unixSeconds);
    QFETCH(quint32, nanoseconds);
    QFETCH(QByteArray, expected);
    QCOMPARE(expected.size(), 12);
    QCOMPARE(hexOf(calnet::crypto::tai64n(at(unixSeconds, nanoseconds))), expected.toHex());
}

void TestTai64n::nanosecondsAreWhitened() {
    // Every nanosecond value inside one 2^24 ns step encodes identically; the next step differs.
    const std::int64_t s = 1'700'000'000;
    const Tai64n stepStart = calnet::crypto::tai64n(at(s, 5 * kStep));
    for (const std::uint32_t offset : {1u, 12345u, kStep / 2, kStep - 1}) {
        QCOMPARE(hexOf(calnet::crypto::tai64n(at(s, 5 * kStep + offset))), hexOf(stepStart));
    }
    QVERIFY(calnet::crypto::tai64nAfter(calnet::crypto::tai64n(at(s, 6 * kStep)), stepStart));
    QCOMPARE(int(stepStart[8]), 0x05);
    QCOMPARE(stepStart[9] | stepStart[10] | stepStart[11], 0);
}

void TestTai64n::outOfRangeNanosecondsStayValid() {
    // A caller bug must not produce a nanosecond field >= 10^9 (not a valid TAI64N label).
    const Tai64n t = calnet::crypto::tai64n(at(0, 0xffffffffu));
    QCOMPARE(hexOf(t), QByteArray("400000000000000a3b000000"));
}

void TestTai64n::after_data() {
    QTest::addColumn<qint64>("aSeconds");
    QTest::addColumn<quint32>("aNanos");
    QTest::addColumn<qint64>("bSeconds");
    QTest::addColumn<quint32>("bNanos");
    QTest::addColumn<bool>("aAfterB");
    QTest::newRow("equal") << qint64(100) << 0u << qint64(100) << 0u << false;
    QTest::newRow("one second later") << qint64(101) << 0u << qint64(100) << 0u << true;
    QTest::newRow("one second earlier") << qint64(100) << 0u << qint64(101) << 0u << false;
    QTest::newRow("next whitening step") << qint64(100) << kStep << qint64(100) << 0u << true;
    QTest::newRow("same whitening step is not later")
        << qint64(100) << kStep - 1 << qint64(100) << 0u << false;
    QTest::newRow("seconds outweigh nanoseconds")
        << qint64(101) << 0u << qint64(100) << 999'999'999u << true;
    QTest::newRow("before 1970 is earlier") << qint64(-1) << 0u << qint64(0) << 0u << false;
    QTest::newRow("1970 is after 1969") << qint64(0) << 0u << qint64(-1) << 0u << true;
    QTest::newRow("carry across byte boundary")
        << qint64(0x100) << 0u << qint64(0xff) << 999'999'999u << true;
    QTest::newRow("past 2^32 seconds")
        << qint64(0x100000000) << 0u << qint64(0xffffffff) << 0u << true;
}

void TestTai64n::after() {
    QFETCH(qint64, aSeconds);
    QFETCH(quint32, aNanos);
    QFETCH(qint64, bSeconds);
    QFETCH(quint32, bNanos);
    QFETCH(bool, aAfterB);
    const Tai64n a = calnet::crypto::tai64n(at(aSeconds, aNanos));
    const Tai64n b = calnet::crypto::tai64n(at(bSeconds, bNanos));
    QCOMPARE(calnet::crypto::tai64nAfter(a, b), aAfterB);
}

void TestTai64n::afterIsAStrictOrderOnASequence() {
    // Initiations at least one whitening step apart, across second boundaries, must compare in
    // time order pairwise (the replay check of whitepaper §5.1 relies on it).
    QList<Tai64n> stamps;
    std::int64_t seconds = 1'699'999'999;
    std::uint32_t nanos = 999'000'000;
    for (int i = 0; i < 200; ++i) {
        stamps.append(calnet::crypto::tai64n(at(seconds, nanos)));
        nanos += kStep + 12345;
        if (nanos >= 1'000'000'000u) {
            nanos -= 1'000'000'000u;
            ++seconds;
        }
    }
    for (qsizetype i = 0; i < stamps.size(); ++i) {
        QVERIFY(!calnet::crypto::tai64nAfter(stamps[i], stamps[i]));
        for (qsizetype j = i + 1; j < stamps.size(); ++j) {
            QVERIFY(calnet::crypto::tai64nAfter(stamps[j], stamps[i]));
            QVERIFY(!calnet::crypto::tai64nAfter(stamps[i], stamps[j]));
        }
    }
}

QTEST_APPLESS_MAIN(TestTai64n)

#include "tst_tai64n.moc"
