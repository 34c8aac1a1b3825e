#include "core/wireguard/ratelimiter.h"

#include <algorithm>
#include <cstring>

#include <sodium/randombytes.h>

#include "core/wireguard/messages.h"

namespace calnet::wireguard {

namespace {
constexpr std::int64_t kCostPerPacket = 1'000'000'000 / kHandshakesPerSecondPerSource;
constexpr std::int64_t kMaxTokens = kCostPerPacket * kHandshakeBurstPerSource;
} // namespace

bool RateLimiter::allow(const net::IpAddress& source, Instant now) {
    if (keySalt_ == 0)
        randombytes_buf(&keySalt_, sizeof keySalt_);
    // Key: IPv4 address, or the /64 of an IPv6 address. The family goes into the key too.
    std::uint64_t key = 0;
    std::memcpy(&key, source.bytes.data(), 8);
    if (source.family == net::Family::V4)
        key = (key & 0xffffffffULL) | (4ULL << 56);
    key ^= keySalt_;

    if (now - lastCollect_ > std::chrono::seconds(1))
        collectGarbage(now);

    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= kMaxEntries)
            return false; // table full: refuse rather than grow without bound
        buckets_.emplace(key, Bucket{kMaxTokens - kCostPerPacket, now});
        return true;
    }
    Bucket& b = it->second;
    b.tokens = std::min<std::int64_t>(kMaxTokens, b.tokens + (now - b.last).count());
    b.last = now;
    if (b.tokens < kCostPerPacket)
        return false;
    b.tokens -= kCostPerPacket;
    return true;
}

void RateLimiter::collectGarbage(Instant now) {
    lastCollect_ = now;
    std::erase_if(buckets_,
                  [now](const auto& kv) { return now - kv.second.last > std::chrono::seconds(1); });
}

} // namespace calnet::wireguard
