// WorkerPool: runs the per-packet crypto of one batch on several cores. parallelFor(n, fn)
// calls fn(i) for every i < n, spread over the pool's threads and the calling thread, and
// returns when all are done. Batches are processed one after another, so the caller's packet
// order is kept: workers only ever touch disjoint slots of the batch they were handed.
//
// Hand-off: the caller publishes a Batch (on its own stack) under mutex_; a worker may join a
// batch only while it is published, and the caller unpublishes it only once every worker that
// joined has left. So a worker can never run items of a batch it did not join, nor touch a
// batch that is gone — the lost-item stall and the out-of-range crash of issue 10 came from a
// worker that woke up late, kept the previous batch's size and claimed the next batch's items.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace calnet::helper {

class WorkerPool {
public:
    // threads: extra threads besides the caller (0 = everything runs on the caller).
    explicit WorkerPool(unsigned threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Below `minParallel` items the caller does the work alone: waking a thread costs more
    // than sealing a few packets. Not reentrant; one caller at a time.
    void parallelFor(std::size_t n, const std::function<void(std::size_t)>& fn,
                     std::size_t minParallel = 8);
    [[nodiscard]] unsigned threads() const noexcept { return unsigned(workers_.size()); }

private:
    struct Batch {
        const std::function<void(std::size_t)>* fn;
        std::size_t size;
        std::atomic<std::size_t> next{0}; // first unclaimed index
    };

    static void drain(Batch& batch) noexcept;
    void run();

    std::mutex mutex_;               // guards the fields up to workers_
    std::condition_variable wake_;   // workers: a batch was published, or stopping_
    std::condition_variable left_;   // caller: joined_ dropped to 0
    Batch* batch_ = nullptr;         // the published batch, or none
    std::uint64_t generation_ = 0;   // counts published batches; a worker joins each once
    unsigned joined_ = 0;            // workers inside batch_
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

} // namespace calnet::helper
