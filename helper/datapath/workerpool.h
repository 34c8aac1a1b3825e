// WorkerPool: runs the per-packet crypto of one batch on several cores. parallelFor(n, fn)
// calls fn(i) for every i < n, spread over the pool's threads and the calling thread, and
// returns when all are done. Batches are processed one after another, so the caller's packet
// order is kept: workers only ever touch disjoint slots of the batch they were handed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
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
    // than sealing a few packets.
    void parallelFor(std::size_t n, const std::function<void(std::size_t)>& fn,
                     std::size_t minParallel = 8);
    [[nodiscard]] unsigned threads() const noexcept { return unsigned(workers_.size()); }

private:
    void run();
    void work();

    std::mutex mutex_; // guards job_, generation_, stopping_
    std::condition_variable wake_;
    std::condition_variable finished_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t jobSize_ = 0;
    std::uint64_t generation_ = 0;
    bool stopping_ = false;
    std::atomic<std::size_t> nextIndex_{0};
    std::atomic<std::size_t> completed_{0};
    std::atomic<unsigned> active_{0}; // workers inside work() for the current job
    std::vector<std::thread> workers_;
};

} // namespace calnet::helper
