// RateLimiter: a token bucket per source address that bounds handshake work under load
// (kernel ratelimiter.c: 20 per second, burst 5; IPv6 sources are grouped by /64 so one host
// cannot dodge the limit by cycling through its addresses).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "core/net/ipaddress.h"
#include "core/wireguard/clock.h"

namespace calnet::wireguard {

class RateLimiter {
public:
    static constexpr std::size_t kMaxEntries = 4096 * 4;

    // True if a handshake from `source` may be processed now; takes one token.
    [[nodiscard]] bool allow(const net::IpAddress& source, Instant now);
    // Drops buckets idle for more than a second (they would be full again anyway).
    void collectGarbage(Instant now);
    [[nodiscard]] std::size_t size() const noexcept { return buckets_.size(); }

private:
    struct Bucket {
        std::int64_t tokens; // in nanoseconds of credit
        Instant last;
    };
    std::unordered_map<std::uint64_t, Bucket> buckets_;
    std::uint64_t keySalt_ = 0;
    Instant lastCollect_{};
};

} // namespace calnet::wireguard
