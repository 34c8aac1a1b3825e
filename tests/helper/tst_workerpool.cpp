// WorkerPool: every index of every batch is processed exactly once, by a job of that batch, and
// parallelFor returns only when the batch is done — also when batch sizes jump around and a
// worker wakes up late (the data path's batches do exactly that under a small-packet flood).
// A hang is reported as a failure after a bounded wait instead of blocking the test run.
#include <QTest>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "helper/datapath/workerpool.h"

using namespace calnet::helper;
using namespace std::chrono_literals;

namespace {

// Runs body on its own thread; false if it did not finish within `limit` (the thread is then
// left behind: the test fails and the process exits with it).
template <class Body> bool finishesWithin(std::chrono::milliseconds limit, Body body) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    std::thread([done, body]() mutable {
        body();
        done->set_value();
    }).detach();
    return finished.wait_for(limit) == std::future_status::ready;
}

// A little work per item, so the caller and the workers overlap.
void spin(unsigned rounds) {
    volatile unsigned sink = 0;
    for (unsigned i = 0; i < rounds; ++i)
        sink = sink + i;
}

struct Outcome {
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> wrongCount{0};    // an index done zero or several times
    std::atomic<std::uint64_t> outOfRange{0};    // an index at or past the batch size
    std::atomic<std::uint64_t> returnedEarly{0}; // an item still running after parallelFor
};

// Batches of sizes that jump between large and just above the parallel threshold, for `for_`.
void hammer(unsigned threads, std::chrono::milliseconds for_, Outcome& out) {
    WorkerPool pool(threads);
    std::mt19937 rng(12345);
    std::vector<std::atomic<int>> hits(4096);
    std::atomic<int> running{0};
    const auto until = std::chrono::steady_clock::now() + for_;
    while (std::chrono::steady_clock::now() < until) {
        const std::size_t n = (rng() & 1) ? 8 + rng() % 4 : 200 + rng() % 3000;
        for (std::size_t i = 0; i < n; ++i)
            hits[i].store(0, std::memory_order_relaxed);
        const unsigned work = rng() % 200;
        pool.parallelFor(n, [&, n](std::size_t i) {
            running.fetch_add(1);
            if (i >= n)
                out.outOfRange.fetch_add(1);
            else
                hits[i].fetch_add(1);
            spin(work);
            running.fetch_sub(1);
        });
        if (running.load() != 0)
            out.returnedEarly.fetch_add(1);
        for (std::size_t i = 0; i < n; ++i)
            if (hits[i].load(std::memory_order_relaxed) != 1)
                out.wrongCount.fetch_add(1);
        out.batches.fetch_add(1);
    }
}

} // namespace

class tst_WorkerPool : public QObject {
    Q_OBJECT

private slots:
    void smallBatchesRunOnTheCaller() {
        WorkerPool pool(2);
        const auto caller = std::this_thread::get_id();
        bool elsewhere = false;
        pool.parallelFor(7,
                         [&](std::size_t) { elsewhere |= std::this_thread::get_id() != caller; });
        QVERIFY(!elsewhere);
    }

    void noThreadsMeansTheCallerDoesAll() {
        WorkerPool pool(0);
        QCOMPARE(pool.threads(), 0u);
        std::vector<int> hits(100);
        pool.parallelFor(hits.size(), [&](std::size_t i) { ++hits[i]; });
        for (int h : hits)
            QCOMPARE(h, 1);
    }

    void workersTakePart() {
        WorkerPool pool(1);
        const auto caller = std::this_thread::get_id();
        std::atomic<bool> elsewhere{false};
        // Each item waits a little, so a worker that wakes up within 2.5 s claims some. 1 ms,
        // not less: Windows sleeps in whole milliseconds, and a shorter sleep is a yield there.
        for (int round = 0; round < 40 && !elsewhere; ++round)
            pool.parallelFor(64, [&](std::size_t) {
                if (std::this_thread::get_id() != caller)
                    elsewhere = true;
                std::this_thread::sleep_for(1ms);
            });
        QVERIFY(elsewhere);
    }

    // The stall and the crash of issue 10: a worker that woke up after the caller had finished
    // a batch alone used the next batch's counters with the old batch's size — indices past
    // the end (a crash in the data path) or items claimed and never done (parallelFor waiting
    // forever). Batches here jump in size as a 64-byte UDP flood makes them.
    void everyIndexExactlyOnceUnderChangingBatchSizes_data() {
        QTest::addColumn<unsigned>("threads");
        QTest::newRow("1 worker") << 1u;
        QTest::newRow("2 workers") << 2u;
        QTest::newRow("3 workers") << 3u;
    }
    void everyIndexExactlyOnceUnderChangingBatchSizes() {
        QFETCH(unsigned, threads);
        auto out = std::make_shared<Outcome>();
        const bool finished =
            finishesWithin(20s, [out, threads] { hammer(threads, 2500ms, *out); });
        QVERIFY2(finished, "parallelFor did not return: a lost wake-up or a lost item");
        qInfo("%llu batches", static_cast<unsigned long long>(out->batches.load()));
        QVERIFY(out->batches.load() > 100);
        QCOMPARE(out->outOfRange.load(), 0u);
        QCOMPARE(out->wrongCount.load(), 0u);
        QCOMPARE(out->returnedEarly.load(), 0u);
    }

    // Two pools driven from two threads at once, as the outbound and inbound sides do.
    void twoPoolsSideBySide() {
        auto a = std::make_shared<Outcome>();
        auto b = std::make_shared<Outcome>();
        const bool finished = finishesWithin(20s, [a, b] {
            std::thread other([b] { hammer(1, 2000ms, *b); });
            hammer(1, 2000ms, *a);
            other.join();
        });
        QVERIFY2(finished, "parallelFor did not return");
        for (const auto& o : {a, b}) {
            QVERIFY(o->batches.load() > 100);
            QCOMPARE(o->outOfRange.load(), 0u);
            QCOMPARE(o->wrongCount.load(), 0u);
            QCOMPARE(o->returnedEarly.load(), 0u);
        }
    }

    void destroyedWhileIdle() {
        QVERIFY(finishesWithin(5s, [] {
            for (int i = 0; i < 200; ++i) {
                WorkerPool pool(2);
                if (i % 2)
                    pool.parallelFor(32, [](std::size_t) {});
            }
        }));
    }
};

QTEST_APPLESS_MAIN(tst_WorkerPool)
#include "tst_workerpool.moc"
