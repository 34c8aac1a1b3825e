#include "server/sourcelimiter.h"

#include <cmath>

#include <QElapsedTimer>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcLimit, "calnet.server.limit")

namespace calnet::server {

namespace {
constexpr qint64 kLogIntervalMs = 60'000;
constexpr qint64 kGcIntervalMs = 60'000;
} // namespace

std::function<qint64()> SourceLimiter::defaultClock() {
    return [] {
        static QElapsedTimer timer = [] {
            QElapsedTimer t;
            t.start();
            return t;
        }();
        return timer.elapsed();
    };
}

SourceLimiter::SourceLimiter(QString what, double perMinute, int burst,
                             std::function<qint64()> clockMs, qsizetype maxSources)
    : what_(std::move(what)), perMs_(perMinute / 60'000.0), burst_(burst),
      clock_(std::move(clockMs)),
      maxSources_(maxSources), overflow_{double(burst), clock_(), -1, 0} {}

void SourceLimiter::refill(Bucket& b, qint64 now) const {
    b.tokens = std::min(double(burst_), b.tokens + double(now - b.updatedMs) * perMs_);
    b.updatedMs = now;
}

SourceLimiter::Bucket& SourceLimiter::bucket(const QByteArray& source) {
    const qint64 now = clock_();
    collectGarbage(now);
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
        if (buckets_.size() >= maxSources_) {
            // More sources than we keep (forged UDP sources, a sweep of IPv6 /64s): the rest
            // share one bucket, so together they get what one source gets, and memory stays
            // bounded.
            refill(overflow_, now);
            return overflow_;
        }
        it = buckets_.insert(source, Bucket{double(burst_), now, -1, 0});
    }
    refill(it.value(), now);
    return it.value();
}

std::optional<int> SourceLimiter::retryAfter(const QByteArray& source) {
    Bucket& b = bucket(source);
    if (b.tokens >= 1.0)
        return std::nullopt;
    ++refused_;
    return std::max(1, int(std::ceil((1.0 - b.tokens) / perMs_ / 1000.0)));
}

void SourceLimiter::spend(const QByteArray& source, const QHostAddress& address) {
    Bucket& b = bucket(source);
    b.tokens = std::max(0.0, b.tokens - 1.0);
    ++spent_;
    report(b, address, "since the last report");
}

bool SourceLimiter::admit(const QByteArray& source, const QHostAddress& address) {
    Bucket& b = bucket(source);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        ++spent_;
        return true;
    }
    ++refused_;
    report(b, address, "refused since the last report");
    return false;
}

void SourceLimiter::report(Bucket& b, const QHostAddress& address, const char* counted) {
    ++b.sinceLog;
    const qint64 now = b.updatedMs;
    if (b.loggedMs < 0 || now - b.loggedMs >= kLogIntervalMs) {
        qCWarning(lcLimit, "%s from %s (%d %s)", qPrintable(what_), qPrintable(address.toString()),
                  b.sinceLog, counted);
        b.loggedMs = now;
        b.sinceLog = 0;
    }
}

void SourceLimiter::collectGarbage(qint64 now) {
    if (now - lastGc_ < kGcIntervalMs)
        return;
    lastGc_ = now;
    // A full bucket that has not logged for a while carries no state worth keeping.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        Bucket b = it.value();
        refill(b, now);
        if (b.tokens >= double(burst_) && (b.loggedMs < 0 || now - b.loggedMs >= kLogIntervalMs))
            it = buckets_.erase(it);
        else
            ++it;
    }
}

} // namespace calnet::server
