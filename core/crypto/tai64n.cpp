// TAI64N encoding of the handshake timestamp (whitepaper §5.4.2), matching wireguard-go's
// tai64n/tai64n.go: the label 2^62 + 10 + unix seconds, then whitened nanoseconds.
#include "core/crypto/tai64n.h"

#include <algorithm>

namespace calnet::crypto {

namespace {

// TAI64 labels count from 2^62; the extra 10 s is the TAI-UTC offset of 1970 that WireGuard and
// djb's libtai use (leap seconds since then are ignored, as every WireGuard implementation does).
constexpr std::uint64_t kTai64Base = 0x400000000000000aULL;
// Rounding nanoseconds down to 2^24 ns (~16.8 ms) hides the precise clock from the responder
// while keeping timestamps strictly increasing for initiations more than 16.8 ms apart.
constexpr std::uint32_t kWhitenerMask = 0x1000000 - 1;
constexpr std::uint32_t kMaxNanoseconds = 999'999'999;

} // namespace

Tai64n tai64n(WallTime now) noexcept {
    // Two's complement wraps negative seconds (before 1970) to the right label, as Go's uint64().
    const std::uint64_t seconds = kTai64Base + static_cast<std::uint64_t>(now.unixSeconds);
    // Out-of-range input is clamped so the field stays a valid TAI64N nanosecond count (< 10^9).
    const std::uint32_t nanos = std::min(now.nanoseconds, kMaxNanoseconds) & ~kWhitenerMask;

    Tai64n out{};
    for (std::size_t i = 0; i < 8; ++i)
        out[i] = static_cast<std::uint8_t>(seconds >> (56 - 8 * i));
    for (std::size_t i = 0; i < 4; ++i)
        out[8 + i] = static_cast<std::uint8_t>(nanos >> (24 - 8 * i));
    return out;
}

bool tai64nAfter(const Tai64n& a, const Tai64n& b) noexcept {
    // Both fields are big-endian and the seconds field comes first, so byte order is time order.
    // Timestamps are public, so no constant-time compare is needed.
    return std::lexicographical_compare(b.begin(), b.end(), a.begin(), a.end());
}

} // namespace calnet::crypto
