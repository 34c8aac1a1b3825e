// ReplayFilter: RFC 6479 anti-replay window without bit shifting.
//
// Flow of accept(counter):
//   1. refuse counter >= kRejectAfterMessages (whitepaper §6.1: a keypair must never use those);
//   2. refuse a counter more than kWindowSize behind the highest accepted one;
//   3. if counter is a new highest, advance the window: zero the ring blocks between the old top
//      block and the new one (at most the whole ring), so stale bits from a previous lap of the
//      ring never read as "seen";
//   4. test-and-set the counter's bit in block (counter / 64) % kRingBlocks.
//
// The acceptance rule is the Linux kernel's counter_validate (receive.c): the ring holds one
// spare block beyond the window, so every counter still inside the window maps to a block that
// has not been recycled.
#include "core/wireguard/replayfilter.h"

#include <algorithm>

namespace calnet::wireguard {

static_assert(kRejectAfterMessages + ReplayFilter::kWindowSize + 1 > kRejectAfterMessages,
              "counter + kWindowSize + 1 must not overflow for any admissible counter");

bool ReplayFilter::accept(std::uint64_t counter) noexcept {
    if (counter >= kRejectAfterMessages) {
        return false;
    }
    // greatest_ is highest + 1, so "counter + kWindowSize < highest" reads as below (no
    // subtraction, hence no underflow while greatest_ is small).
    if (counter + kWindowSize + 1 < greatest_) {
        return false;
    }

    const std::uint64_t block = counter / kBitsPerBlock;
    if (counter >= greatest_) {
        // A fresh filter (greatest_ == 0) has an all-zero ring: nothing to clear.
        if (greatest_ != 0) {
            const std::uint64_t top = (greatest_ - 1) / kBitsPerBlock;
            // A jump of kRingBlocks or more recycles every block; clearing more is pointless.
            const std::uint64_t steps = std::min<std::uint64_t>(block - top, kRingBlocks);
            for (std::uint64_t i = 1; i <= steps; ++i) {
                ring_[(top + i) % kRingBlocks] = 0;
            }
        }
        greatest_ = counter + 1;
    }

    std::uint64_t& word = ring_[block % kRingBlocks];
    const std::uint64_t bit = std::uint64_t{1} << (counter % kBitsPerBlock);
    if ((word & bit) != 0) {
        return false;
    }
    word |= bit;
    return true;
}

void ReplayFilter::reset() noexcept {
    greatest_ = 0;
    ring_.fill(0);
}

} // namespace calnet::wireguard
