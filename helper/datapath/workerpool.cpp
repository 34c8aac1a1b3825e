#include "helper/datapath/workerpool.h"

namespace calnet::helper {

namespace {
constexpr std::size_t kChunk = 4; // packets claimed at a time: amortises the atomic
}

WorkerPool::WorkerPool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i)
        workers_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_)
        t.join();
}

void WorkerPool::work() {
    const std::size_t n = jobSize_;
    for (;;) {
        const std::size_t begin = nextIndex_.fetch_add(kChunk, std::memory_order_relaxed);
        if (begin >= n)
            break;
        const std::size_t end = std::min(n, begin + kChunk);
        for (std::size_t i = begin; i < end; ++i)
            (*job_)(i);
        completed_.fetch_add(end - begin, std::memory_order_acq_rel);
    }
}

void WorkerPool::run() {
    std::uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_)
                return;
            seen = generation_;
            active_.fetch_add(1, std::memory_order_acq_rel);
        }
        work();
        {
            std::lock_guard lock(mutex_);
            active_.fetch_sub(1, std::memory_order_acq_rel);
        }
        finished_.notify_one();
    }
}

void WorkerPool::parallelFor(std::size_t n, const std::function<void(std::size_t)>& fn,
                             std::size_t minParallel) {
    if (workers_.empty() || n < minParallel) {
        for (std::size_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        jobSize_ = n;
        nextIndex_.store(0, std::memory_order_relaxed);
        completed_.store(0, std::memory_order_relaxed);
        ++generation_;
    }
    wake_.notify_all();
    work();
    // Wait until every item is done and no worker still holds a reference to this job.
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] {
        return completed_.load(std::memory_order_acquire) >= n &&
               active_.load(std::memory_order_acquire) == 0;
    });
    job_ = nullptr;
}

} // namespace calnet::helper
