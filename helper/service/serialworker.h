// SerialWorker: runs blocking control-side work (bringing an interface up with its DNS over
// D-Bus or resolvconf, resolving endpoint names, restoring the host on disconnect) on one
// thread of its own, one job at a time in the order posted, so the helper's event loop keeps
// answering IPC clients meanwhile. Each job's continuation runs afterwards on the thread that
// owns the worker (the event loop), in the same order.
//
// A job must not touch objects of the event loop; it gets its inputs by value and hands its
// result to the continuation (see run()). Jobs are bounded by their own timeouts (every
// program and D-Bus call they make has one); the worker adds none.
#pragma once

#include <QObject>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace calnet::helper {

class SerialWorker : public QObject {
    Q_OBJECT

public:
    explicit SerialWorker(QObject* parent = nullptr);
    // Waits for the job in progress and any queued ones; their continuations do not run.
    ~SerialWorker() override;
    SerialWorker(const SerialWorker&) = delete;
    SerialWorker& operator=(const SerialWorker&) = delete;

    // work() on the worker thread, then done() on this object's thread.
    void post(std::function<void()> work, std::function<void()> done);

    // The typed form: done(work()).
    template <typename T> void run(std::function<T()> work, std::function<void(T)> done) {
        auto result = std::make_shared<std::optional<T>>();
        post([result, work = std::move(work)] { result->emplace(work()); },
             [result, done = std::move(done)] { done(std::move(**result)); });
    }

    // Blocks until every job posted so far (and any their continuations post) has run, with
    // the continuations run here. For shutdown, where the event loop no longer turns.
    void drain();

    // Jobs posted whose continuation has not run yet.
    [[nodiscard]] int pending() const;

private:
    struct Job {
        std::function<void()> work;
        std::function<void()> done;
    };
    void loop();
    void deliver();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<Job> queue_;                      // waiting to run
    std::deque<std::function<void()>> finished_; // ran; continuation not yet delivered
    bool running_ = false;                       // a job is on the worker thread now
    bool stopping_ = false;
    int pending_ = 0; // owner thread only
    std::thread thread_;
};

} // namespace calnet::helper
