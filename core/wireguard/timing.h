// Timing: the protocol's durations (whitepaper §6.1) as one value a Device carries, so that a
// test harness can run the whole state machine faster — e.g. rotate keys a hundred times
// during one bulk transfer — without touching the rules. Real interfaces always use spec().
#pragma once

#include "core/wireguard/clock.h"
#include "core/wireguard/messages.h"

namespace calnet::wireguard {

struct Timing {
    Instant rekeyAfterTime = kRekeyAfterTime;
    Instant rejectAfterTime = kRejectAfterTime;
    Instant rekeyTimeout = kRekeyTimeout;
    Instant keepaliveTimeout = kKeepaliveTimeout;
    Instant jitterMax = kRekeyTimeoutJitterMax;
    Instant zeroKeysAfter = kZeroKeysAfter;
    // The responder's cap on initiations consumed per peer (1 s / INITIATIONS_PER_SECOND).
    Instant initiationInterval = std::chrono::nanoseconds(std::chrono::seconds(1)) /
                                 kInitiationsPerSecond;

    [[nodiscard]] static const Timing& spec() noexcept;
    // Every duration multiplied by factor, clamped to [0.001, 1]: at 0.001 keys are renewed
    // every 120 ms, still well above the 16.8 ms granularity of initiation timestamps (two
    // initiations closer than that would look replayed).
    [[nodiscard]] static Timing scaled(double factor) noexcept;
    [[nodiscard]] bool isSpec() const noexcept;
};

} // namespace calnet::wireguard
