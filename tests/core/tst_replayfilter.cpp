// Tests for ReplayFilter: the kernel's counter self-test as data rows, hand-picked ring edge
// cases, and a million-counter differential run against a naive std::set window.
#include <QTest>

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "core/wireguard/messages.h"
#include "core/wireguard/replayfilter.h"

using calnet::wireguard::kRejectAfterMessages;
using calnet::wireguard::ReplayFilter;

namespace {

struct Step {
    std::uint64_t counter = 0;
    bool expected = false;
    friend bool operator==(const Step&, const Step&) = default;
};
using Steps = std::vector<Step>;

constexpr std::uint64_t kW = ReplayFilter::kWindowSize; // the kernel's COUNTER_WINDOW_SIZE
constexpr std::uint64_t kLim = kW + 1;                  // the kernel's T_LIM
constexpr std::uint64_t kReject = kRejectAfterMessages; // REJECT_AFTER_MESSAGES

// The obviously-correct model: accept iff below the limit, not more than kW behind the highest
// accepted counter, and never accepted before. Entries older than the window are pruned (they
// are refused by the window rule anyway), which keeps the set small.
class NaiveReplay {
public:
    enum class Verdict { Accepted, Limit, TooOld, Duplicate };

    Verdict accept(std::uint64_t counter) {
        if (counter >= kReject) {
            return Verdict::Limit;
        }
        if (highest_ && counter + kW < *highest_) {
            return Verdict::TooOld;
        }
        if (!seen_.insert(counter).second) {
            return Verdict::Duplicate;
        }
        if (!highest_ || counter > *highest_) {
            highest_ = counter;
            if (counter > kW) {
                seen_.erase(seen_.begin(), seen_.lower_bound(counter - kW));
            }
        }
        return Verdict::Accepted;
    }
    void reset() {
        seen_.clear();
        highest_.reset();
    }

private:
    std::set<std::uint64_t> seen_;
    std::optional<std::uint64_t> highest_;
};

Steps ascending(std::uint64_t first, std::uint64_t last, bool expected) {
    Steps s;
    for (std::uint64_t i = first; i <= last; ++i) {
        s.push_back({i, expected});
    }
    return s;
}

Steps descending(std::uint64_t first, std::uint64_t last, bool expected) {
    Steps s;
    for (std::uint64_t i = first + 1; i-- > last;) {
        s.push_back({i, expected});
    }
    return s;
}

Steps operator+(Steps a, const Steps& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

Q_DECLARE_METATYPE(Steps)

class TestReplayFilter : public QObject {
    Q_OBJECT

private slots:
    void kernelSelftest_data();
    void kernelSelftest();
    void windowEdge();
    void ringLapClearsStaleBits();
    void farJumpForgetsEverything();
    void inOrderFillThenReplay();
    void differentialAgainstNaive();
    void reset();
};

// wireguard-linux-compat src/selftest/counter.c: each row is one T_INIT followed by the T(n, v)
// calls of one section, in order, on the same filter.
void TestReplayFilter::kernelSelftest_data() {
    QTest::addColumn<Steps>("steps");

    QTest::newRow("ordered, kernel tests 1-34") << Steps{
        {0, true},                      //  1
        {1, true},                      //  2
        {1, false},                     //  3
        {9, true},                      //  4
        {8, true},                      //  5
        {7, true},                      //  6
        {7, false},                     //  7
        {kLim, true},                   //  8
        {kLim - 1, true},               //  9
        {kLim - 1, false},              // 10
        {kLim - 2, true},               // 11
        {2, true},                      // 12
        {2, false},                     // 13
        {kLim + 16, true},              // 14
        {3, false},                     // 15
        {kLim + 16, false},             // 16
        {kLim * 4, true},               // 17
        {kLim * 4 - (kLim - 1), true},  // 18
        {10, false},                    // 19
        {kLim * 4 - kLim, false},       // 20
        {kLim * 4 - (kLim + 1), false}, // 21
        {kLim * 4 - (kLim - 2), true},  // 22
        {kLim * 4 + 1 - kLim, false},   // 23
        {0, false},                     // 24
        {kReject, false},               // 25
        {kReject - 1, true},            // 26
        {kReject, false},               // 27
        {kReject - 1, false},           // 28
        {kReject - 2, true},            // 29
        {kReject + 1, false},           // 30
        {kReject + 2, false},           // 31
        {kReject - 2, false},           // 32
        {kReject - 3, true},            // 33
        {0, false},                     // 34
    };
    QTest::newRow("bulk: 1..W up, then 0 fits, 0 again") //
        << ascending(1, kW, true) + Steps{{0, true}, {0, false}};
    QTest::newRow("bulk: 2..W+1 up, then 1 fits, 0 too old") //
        << ascending(2, kW + 1, true) + Steps{{1, true}, {0, false}};
    QTest::newRow("bulk: W..0 down") << descending(kW, 0, true);
    QTest::newRow("bulk: W+1..1 down, then 0 too old") //
        << descending(kW + 1, 1, true) + Steps{{0, false}};
    QTest::newRow("bulk: W..1 down, W+1, then 0 too old") //
        << descending(kW, 1, true) + Steps{{kW + 1, true}, {0, false}};
    QTest::newRow("bulk: W..1 down, 0, then W+1") //
        << descending(kW, 1, true) + Steps{{0, true}, {kW + 1, true}};
}

void TestReplayFilter::kernelSelftest() {
    QFETCH(Steps, steps);
    ReplayFilter filter;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const bool got = filter.accept(steps[i].counter);
        if (got != steps[i].expected) {
            QFAIL(qPrintable(QStringLiteral("step %1: accept(%2) returned %3")
                                 .arg(i + 1)
                                 .arg(steps[i].counter)
                                 .arg(got)));
        }
    }
}

// Exactly kW behind the highest is still in; one more is out, and so is everything older.
void TestReplayFilter::windowEdge() {
    const std::array<std::uint64_t, 6> tops = {kW,      kW + 1,      kW + 63,
                                               kW + 64, 5 * kW + 17, std::uint64_t{1} << 40};
    for (const std::uint64_t top : tops) {
        ReplayFilter filter;
        QVERIFY(filter.accept(top));
        QVERIFY2(!filter.accept(top - kW - 1), qPrintable(QString::number(top)));
        QVERIFY2(filter.accept(top - kW), qPrintable(QString::number(top)));
        QVERIFY(!filter.accept(top - kW));
        QVERIFY(!filter.accept(0));
        QVERIFY(filter.accept(top - 1));
    }
}

// Block b and block b + kRingBlocks share a ring slot: moving into the later block must wipe
// what the earlier one left, or fresh counters would read as replays.
void TestReplayFilter::ringLapClearsStaleBits() {
    constexpr std::uint64_t kLap = ReplayFilter::kRingBlocks * ReplayFilter::kBitsPerBlock;
    ReplayFilter filter;
    for (std::uint64_t c = 0; c < ReplayFilter::kBitsPerBlock; ++c) {
        QVERIFY(filter.accept(c));
    }
    // The last counter before the lap: block 0 is still partly inside the window.
    QVERIFY(filter.accept(kLap - 1));
    for (std::uint64_t c = kLap; c < kLap + ReplayFilter::kBitsPerBlock; ++c) {
        QVERIFY2(filter.accept(c), qPrintable(QString::number(c)));
    }
    for (std::uint64_t c = 0; c < ReplayFilter::kBitsPerBlock; ++c) {
        QVERIFY(!filter.accept(c)); // too old now, not merely "seen"
    }
    // Step one lap at a time: each lands on the same slot, which must start empty.
    for (std::uint64_t lap = 2; lap < 6; ++lap) {
        QVERIFY(filter.accept(lap * kLap + 5));
        QVERIFY(filter.accept(lap * kLap + 4));
        QVERIFY(filter.accept(lap * kLap + 63));
        QVERIFY(!filter.accept(lap * kLap + 5));
    }
}

void TestReplayFilter::farJumpForgetsEverything() {
    ReplayFilter filter;
    for (std::uint64_t c = 0; c < 3 * kW; c += 3) {
        QVERIFY(filter.accept(c));
    }
    const std::uint64_t far = (1ULL << 50) + 12345;
    QVERIFY(filter.accept(far));
    QVERIFY(!filter.accept(3 * kW - 3));
    // Every counter in the new window is fresh, including ones whose slots held old bits.
    for (std::uint64_t c = far - kW; c < far; ++c) {
        QVERIFY2(filter.accept(c), qPrintable(QString::number(c)));
    }
    for (std::uint64_t c = far - kW; c <= far; ++c) {
        QVERIFY(!filter.accept(c));
    }
}

void TestReplayFilter::inOrderFillThenReplay() {
    ReplayFilter filter;
    constexpr std::uint64_t kCount = 4 * ReplayFilter::kRingBlocks * ReplayFilter::kBitsPerBlock;
    for (std::uint64_t c = 0; c < kCount; ++c) {
        QVERIFY(filter.accept(c));
    }
    for (std::uint64_t c = 0; c < kCount; ++c) {
        QVERIFY(!filter.accept(c));
    }
}

// >= 1,000,000 counters from a fixed-seed mt19937_64 (its output sequence is fixed by the
// standard, so the run is the same everywhere). Ten epochs start at different bases, two of them
// just below kRejectAfterMessages; each epoch resets both filters.
void TestReplayFilter::differentialAgainstNaive() {
    constexpr std::size_t kEpochs = 10;
    constexpr std::size_t kPerEpoch = 100'000;
    constexpr std::array<std::uint64_t, kEpochs> kBases = {0,
                                                           0,
                                                           1,
                                                           kW,
                                                           (1ULL << 32) - 5000,
                                                           1ULL << 60,
                                                           kReject - 300'000,
                                                           kReject - 20'000,
                                                           123'456'789,
                                                           (1ULL << 63) + 3};
    constexpr std::uint64_t kLap = ReplayFilter::kRingBlocks * ReplayFilter::kBitsPerBlock;

    std::mt19937_64 rng(0xCA1E7'5EEDULL);
    auto below = [&rng](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
    auto saturatingAdd = [](std::uint64_t a, std::uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
    };

    ReplayFilter filter;
    NaiveReplay naive;
    std::array<std::size_t, 4> verdicts{};
    std::size_t total = 0;

    for (std::size_t epoch = 0; epoch < kEpochs; ++epoch) {
        filter.reset();
        naive.reset();
        std::uint64_t top = kBases[epoch]; // highest counter generated (capped near the limit)
        std::vector<std::uint64_t> recent; // recently sent counters, for duplicates
        recent.reserve(1024);

        for (std::size_t i = 0; i < kPerEpoch; ++i) {
            std::uint64_t n = 0;
            const std::uint64_t kind = rng() % 100;
            if (kind < 45) { // in order, occasionally skipping a few (loss)
                n = saturatingAdd(top, 1 + (rng() % 4 == 0 ? below(4) : 0));
            } else if (kind < 65) { // reordered: anywhere up to a bit past the window
                const std::uint64_t back = below(kW + 256);
                n = top >= back ? top - back : below(top + 1);
            } else if (kind < 72) { // right at the window edge
                n = top >= kW + 2 ? top - kW - 2 + below(5) : below(top + 1);
            } else if (kind < 78) { // forward jump: within, across, or laps of the ring
                const std::uint64_t pick = rng() % 4;
                const std::uint64_t jump = pick == 0   ? below(kLap)
                                           : pick == 1 ? kLap * (1 + below(3)) + below(3)
                                           : pick == 2 ? below(1ULL << 24)
                                                       : below(1ULL << 40);
                n = saturatingAdd(top, jump);
            } else if (kind < 96) { // duplicate of something recently sent
                n = recent.empty() ? top : recent[rng() % recent.size()];
            } else { // anything at all up to the top, or beyond the limit
                n = rng() % 8 == 0 ? kReject + below(64) : below(top + 1);
            }

            const NaiveReplay::Verdict want = naive.accept(n);
            const bool got = filter.accept(n);
            ++verdicts[static_cast<std::size_t>(want)];
            ++total;
            if (got != (want == NaiveReplay::Verdict::Accepted)) {
                QFAIL(qPrintable(QStringLiteral("epoch %1 step %2: accept(%3) returned %4, "
                                                "naive verdict %5")
                                     .arg(epoch)
                                     .arg(i)
                                     .arg(n)
                                     .arg(got)
                                     .arg(static_cast<int>(want))));
            }

            // Probes past the limit must not drag the generator there; normal traffic may.
            if (n > top && (n < kReject || kind < 78)) {
                top = std::min(n, kReject + 1000);
            }
            if (recent.size() < recent.capacity()) {
                recent.push_back(n);
            } else {
                recent[rng() % recent.size()] = n;
            }
        }
    }

    qDebug("verdicts: accepted %zu, limit %zu, too old %zu, duplicate %zu", verdicts[0],
           verdicts[1], verdicts[2], verdicts[3]);
    QCOMPARE(total, kEpochs * kPerEpoch);
    QVERIFY(total >= 1'000'000);
    // The mix must actually reach every branch, and often.
    for (std::size_t v = 0; v < verdicts.size(); ++v) {
        QVERIFY2(verdicts[v] >= 10'000,
                 qPrintable(QStringLiteral("verdict %1 seen %2 times").arg(v).arg(verdicts[v])));
    }
}

void TestReplayFilter::reset() {
    ReplayFilter filter;
    for (std::uint64_t c = 0; c < 1000; ++c) {
        QVERIFY(filter.accept(c * 7));
    }
    QVERIFY(filter.accept(kReject - 1));
    QVERIFY(!filter.accept(0));

    filter.reset();
    // A reset filter behaves exactly like a fresh one: everything is new again.
    QVERIFY(filter.accept(kReject - 1));
    filter.reset();
    for (std::uint64_t c = 0; c < 1000; ++c) {
        QVERIFY(filter.accept(c * 7));
        QVERIFY(!filter.accept(c * 7));
    }

    // Same answers as a fresh filter over the kernel's ordered sequence.
    filter.reset();
    ReplayFilter fresh;
    const std::array<std::uint64_t, 12> sequence = {
        0, 1, 1, 9, kLim, 2, kLim * 4, 3, kReject - 1, kReject, 0, kReject - 2};
    for (const std::uint64_t c : sequence) {
        QCOMPARE(filter.accept(c), fresh.accept(c));
    }

    // reset() on a fresh filter is harmless.
    ReplayFilter untouched;
    untouched.reset();
    QVERIFY(untouched.accept(0));
    QVERIFY(!untouched.accept(0));
}

QTEST_APPLESS_MAIN(TestReplayFilter)

#include "tst_replayfilter.moc"
