#include "helper/service/shutdownguard.h"

#include <cstdio>
#include <cstdlib>

namespace calnet::helper {

ShutdownGuard::ShutdownGuard(std::chrono::milliseconds limit, std::string what) {
    thread_ = std::thread([this, limit, what = std::move(what)] {
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, limit, [this] { return done_; }))
            return;
        std::fprintf(stderr, "calnetd: %s did not finish within %lld ms; exiting anyway\n",
                     what.c_str(), static_cast<long long>(limit.count()));
        std::fflush(stderr);
        std::_Exit(1);
    });
}

ShutdownGuard::~ShutdownGuard() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

} // namespace calnet::helper
