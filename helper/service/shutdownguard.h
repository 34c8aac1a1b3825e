// ShutdownGuard: a bound on how long calnetd may take to shut down. Armed when a stop signal
// arrives; if the orderly teardown (threads joined, routes and DNS restored, interface removed)
// has not finished when the time is up, it says so on stderr and ends the process with status
// 1. A wedged data path must never keep a daemon alive after SIGTERM (issue 10): the kernel
// removes the TUN interface with the process, and the service's journal lets the next start
// undo whatever network change was left.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace calnet::helper {

class ShutdownGuard {
public:
    ShutdownGuard(std::chrono::milliseconds limit, std::string what);
    // Disarms the guard (the shutdown finished in time).
    ~ShutdownGuard();
    ShutdownGuard(const ShutdownGuard&) = delete;
    ShutdownGuard& operator=(const ShutdownGuard&) = delete;

private:
    std::mutex mutex_; // guards done_
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

} // namespace calnet::helper
