#include "core/wireguard/timing.h"

#include <algorithm>

namespace calnet::wireguard {

const Timing& Timing::spec() noexcept {
    static const Timing timing;
    return timing;
}

Timing Timing::scaled(double factor) noexcept {
    factor = std::clamp(factor, 0.001, 1.0);
    auto scale = [factor](Instant d) {
        return Instant(static_cast<Instant::rep>(double(d.count()) * factor));
    };
    const Timing& s = spec();
    Timing t;
    t.rekeyAfterTime = scale(s.rekeyAfterTime);
    t.rejectAfterTime = scale(s.rejectAfterTime);
    t.rekeyTimeout = scale(s.rekeyTimeout);
    t.keepaliveTimeout = scale(s.keepaliveTimeout);
    t.jitterMax = scale(s.jitterMax);
    t.zeroKeysAfter = scale(s.zeroKeysAfter);
    t.initiationInterval = scale(s.initiationInterval);
    return t;
}

bool Timing::isSpec() const noexcept {
    const Timing& s = spec();
    return rekeyAfterTime == s.rekeyAfterTime && rejectAfterTime == s.rejectAfterTime &&
           rekeyTimeout == s.rekeyTimeout && keepaliveTimeout == s.keepaliveTimeout &&
           jitterMax == s.jitterMax && zeroKeysAfter == s.zeroKeysAfter &&
           initiationInterval == s.initiationInterval;
}

} // namespace calnet::wireguard
