#include "helper/service/serialworker.h"

namespace calnet::helper {

SerialWorker::SerialWorker(QObject* parent) : QObject(parent) {
    thread_ = std::thread([this] { loop(); });
}

SerialWorker::~SerialWorker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void SerialWorker::post(std::function<void()> work, std::function<void()> done) {
    ++pending_;
    {
        std::lock_guard lock(mutex_);
        queue_.push_back({std::move(work), std::move(done)});
    }
    wake_.notify_one();
}

int SerialWorker::pending() const {
    return pending_;
}

void SerialWorker::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty())
            return; // stopping, nothing left
        Job job = std::move(queue_.front());
        queue_.pop_front();
        running_ = true;
        lock.unlock();
        job.work();
        lock.lock();
        running_ = false;
        const bool first = finished_.empty();
        finished_.push_back(std::move(job.done));
        if (first && !stopping_)
            QMetaObject::invokeMethod(this, &SerialWorker::deliver, Qt::QueuedConnection);
        idle_.notify_all();
    }
}

void SerialWorker::deliver() {
    for (;;) {
        std::function<void()> done;
        {
            std::lock_guard lock(mutex_);
            if (finished_.empty())
                return;
            done = std::move(finished_.front());
            finished_.pop_front();
        }
        --pending_;
        if (done)
            done(); // may post more work
    }
}

void SerialWorker::drain() {
    while (pending_ > 0) {
        {
            std::unique_lock lock(mutex_);
            idle_.wait(lock,
                       [this] { return !finished_.empty() || (queue_.empty() && !running_); });
        }
        deliver();
    }
}

} // namespace calnet::helper
