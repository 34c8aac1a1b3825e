// Backoff: the retry delay of every Calnet client that reconnects (the app and calnetctl to
// calnetd, calnetd to the coordination server and to the relay): 250 ms doubling to 10 s by
// default, back to the start once connected. Pure: the caller runs the timer and, for jitter,
// supplies the randomness.
#pragma once

#include <algorithm>
#include <chrono>

namespace calnet {

class Backoff {
public:
    using Duration = std::chrono::milliseconds;
    static constexpr Duration kInitial{250};
    static constexpr Duration kMax{10'000};

    explicit Backoff(Duration initial = kInitial, Duration max = kMax)
        : initial_(initial), max_(std::max(initial, max)), current_(initial) {}

    // The delay before the next attempt; the one after is twice as long, up to the maximum.
    Duration next() {
        const Duration d = current_;
        current_ = std::min(current_ * 2, max_);
        ++attempts_;
        return d;
    }
    // next(), spread over [d/2, d] by `random` in [0, 1), so that many clients that lost the
    // same server do not all come back in the same instant.
    Duration nextJittered(double random) {
        const Duration d = next();
        const double r = std::clamp(random, 0.0, 1.0);
        return Duration(d.count() / 2 + Duration::rep(double(d.count() - d.count() / 2) * r));
    }
    void reset() {
        current_ = initial_;
        attempts_ = 0;
    }
    // Attempts since the last reset().
    [[nodiscard]] int attempts() const { return attempts_; }

private:
    Duration initial_;
    Duration max_;
    Duration current_;
    int attempts_ = 0;
};

} // namespace calnet
