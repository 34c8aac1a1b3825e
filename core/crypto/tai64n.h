// TAI64N timestamps as carried in the WireGuard handshake initiation (whitepaper §5.4.2).
//
// The caller passes the wall-clock time: calnet-core reads no clock.
#pragma once

#include <array>
#include <cstdint>

namespace calnet::crypto {

inline constexpr std::size_t kTai64nSize = 12;
using Tai64n = std::array<std::uint8_t, kTai64nSize>;

struct WallTime {
    std::int64_t unixSeconds = 0;
    std::uint32_t nanoseconds = 0; // 0..999'999'999
};

// 8 bytes big-endian (2^62 + 10 + unixSeconds), then 4 bytes big-endian nanoseconds. The
// nanoseconds are rounded down to a multiple of 2^24 ns (about 16.8 ms), as wireguard-go does,
// so the timestamp does not leak the precise time of the call to an observer of the peer.
[[nodiscard]] Tai64n tai64n(WallTime now) noexcept;

// True when a is strictly later than b (big-endian byte order is time order).
[[nodiscard]] bool tai64nAfter(const Tai64n& a, const Tai64n& b) noexcept;

} // namespace calnet::crypto
