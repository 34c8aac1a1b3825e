#include "helper/datapath/workerpool.h"

#include <algorithm>

namespace calnet::helper {

namespace {
constexpr std::size_t kChunk = 4; // items claimed at a time: amortises the atomic
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

void WorkerPool::drain(Batch& batch) noexcept {
    for (;;) {
        const std::size_t begin = batch.next.fetch_add(kChunk, std::memory_order_relaxed);
        if (begin >= batch.size)
            return;
        const std::size_t end = std::min(batch.size, begin + kChunk);
        for (std::size_t i = begin; i < end; ++i)
            (*batch.fn)(i);
    }
}

void WorkerPool::run() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || (batch_ && generation_ != seen); });
        if (stopping_)
            return;
        seen = generation_;
        Batch* batch = batch_;
        ++joined_;
        lock.unlock();
        drain(*batch);
        lock.lock();
        if (--joined_ == 0)
            left_.notify_one();
    }
}

void WorkerPool::parallelFor(std::size_t n, const std::function<void(std::size_t)>& fn,
                             std::size_t minParallel) {
    if (workers_.empty() || n < minParallel) {
        for (std::size_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    Batch batch{&fn, n};
    {
        std::lock_guard lock(mutex_);
        batch_ = &batch;
        ++generation_;
    }
    wake_.notify_all();
    drain(batch);
    // Every index has been claimed; the ones claimed by workers are done once they have left.
    std::unique_lock lock(mutex_);
    left_.wait(lock, [&] { return joined_ == 0; });
    batch_ = nullptr;
}

} // namespace calnet::helper
