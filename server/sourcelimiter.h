// SourceLimiter: per-source token buckets for what an attacker repeats — wrong pre-auth keys,
// wrong admin tokens, registrations. A source (an IPv4 address, or an IPv6 /64) may spend
// `burst` tokens at once and earns `perMinute` back per minute; with none left, the server
// answers 429 with Retry-After instead of doing the work. Every spend is logged at most once
// per source per minute, with the source address and how many there were since the last line.
//
// Not thread-safe: the server's event loop thread only. Time comes from a monotonic clock in
// milliseconds that tests can move by hand.
#pragma once

#include <functional>
#include <optional>

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QString>

namespace calnet::server {

class SourceLimiter {
public:
    // At most maxSources sources are tracked each on their own; beyond that, new sources share
    // one bucket until garbage collection (every minute) frees room.
    SourceLimiter(QString what, double perMinute, int burst,
                  std::function<qint64()> clockMs = defaultClock(),
                  qsizetype maxSources = kDefaultMaxSources);

    static constexpr qsizetype kDefaultMaxSources = 65'536;
    [[nodiscard]] qsizetype trackedSources() const noexcept { return buckets_.size(); }

    // nullopt when the source may go on; else the whole seconds until it may (Retry-After).
    [[nodiscard]] std::optional<int> retryAfter(const QByteArray& source);
    // One more attempt or failure from this source.
    void spend(const QByteArray& source, const QHostAddress& address);
    // For what is fine in moderation (STUN): true, and one token spent, while the source has
    // any; false once it has none, counted as refused and logged at most once per source per
    // minute (spend() logs uses, at most once per source per minute too).
    [[nodiscard]] bool admit(const QByteArray& source, const QHostAddress& address);
    // 429s answered because of this limiter (for /metrics).
    [[nodiscard]] qint64 refused() const noexcept { return refused_; }
    [[nodiscard]] qint64 spent() const noexcept { return spent_; }
    [[nodiscard]] const QString& what() const noexcept { return what_; }

    static std::function<qint64()> defaultClock();

private:
    struct Bucket {
        double tokens = 0;
        qint64 updatedMs = 0;
        qint64 loggedMs = -1;
        int sinceLog = 0;
    };
    Bucket& bucket(const QByteArray& source);
    void refill(Bucket& b, qint64 now) const;
    // One more event of this source; logged at most once a minute per source.
    void report(Bucket& b, const QHostAddress& address, const char* counted);
    void collectGarbage(qint64 now);

    QString what_;
    double perMs_;
    int burst_;
    std::function<qint64()> clock_;
    QHash<QByteArray, Bucket> buckets_;
    qsizetype maxSources_;
    Bucket overflow_; // shared by sources beyond maxSources_
    qint64 lastGc_ = 0;
    qint64 refused_ = 0;
    qint64 spent_ = 0;
};

} // namespace calnet::server
