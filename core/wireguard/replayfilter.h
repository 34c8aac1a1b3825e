// ReplayFilter: the sliding-window anti-replay check for transport data counters
// (whitepaper §5.4.6, RFC 6479 §2 ring-of-blocks layout).
//
// The window covers kWindowSize counters behind the highest counter seen. A counter is accepted
// once; a counter that is too old, already seen, or >= kRejectAfterMessages is refused. Not
// thread-safe: the data path calls it from the single in-order receive stage of one keypair.
#pragma once

#include <array>
#include <cstdint>

#include "core/wireguard/messages.h"

namespace calnet::wireguard {

class ReplayFilter {
public:
    static constexpr unsigned kBitsPerBlock = 64;
    static constexpr unsigned kRingBlocks = 128; // 8192 bits of state
    static constexpr std::uint64_t kWindowSize = (kRingBlocks - 1) * kBitsPerBlock; // 8128

    // Marks counter as seen and returns true if it was fresh and inside the window.
    [[nodiscard]] bool accept(std::uint64_t counter) noexcept;
    void reset() noexcept;

private:
    std::uint64_t greatest_ = 0; // highest counter accepted + 1 (0 = none yet)
    std::array<std::uint64_t, kRingBlocks> ring_{};
};

} // namespace calnet::wireguard
