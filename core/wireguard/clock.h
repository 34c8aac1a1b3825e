// Time as calnet-core sees it: always passed in by the caller, never read.
#pragma once

#include <chrono>

#include "core/crypto/tai64n.h"

namespace calnet::wireguard {

// A point on a monotonic clock (the helper uses CLOCK_MONOTONIC; tests assign it by hand).
using Instant = std::chrono::nanoseconds;
inline constexpr Instant kNever = Instant::max();

// Every state-machine call gets both clocks: the monotonic one drives timers and expiry, the wall
// clock only fills the TAI64N timestamp of initiations and the "latest handshake" report.
struct Now {
    Instant mono{};
    crypto::WallTime wall{};
};

} // namespace calnet::wireguard
