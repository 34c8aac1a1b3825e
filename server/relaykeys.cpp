#include "server/relaykeys.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkReply>
#include <QTimer>
#include <QUrlQuery>

#include "helper/wire/mapnode.h"

Q_LOGGING_CATEGORY(lcRelayKeys, "calnet.server.relaykeys")

namespace calnet::server {

namespace {

constexpr int kRequestTimeoutMs = 10'000;
constexpr qint64 kMaxAnswerBytes = 32LL * 1024 * 1024; // half a million keys
constexpr int kRequestDeadlineMs = 15'000;
// Keys older than this let no new connection in (connected nodes stay).
constexpr qint64 kMaxAgeMs = 30LL * 60 * 1000;

} // namespace

RelayKeys::RelayKeys(QUrl coordination, QString token, int pollIntervalMs,
                     std::function<qint64()> clock, QObject* parent)
    : QObject(parent), url_(std::move(coordination)),
      authorization_(QByteArrayLiteral("Bearer ") + token.toUtf8()), clock_(std::move(clock)) {
    QString path = url_.path();
    while (path.endsWith(QLatin1Char('/'))) {
        path.chop(1);
    }
    url_.setPath(path + QStringLiteral("/api/v1/relay/keys"));
    timer_.setInterval(pollIntervalMs);
    connect(&timer_, &QTimer::timeout, this, &RelayKeys::poll);
    connect(&network_, &QNetworkAccessManager::finished, this, &RelayKeys::finished);
}

void RelayKeys::start() {
    poll();
    timer_.start();
}

void RelayKeys::poll() {
    if (inFlight_) {
        return; // the last one is still out (it times out on its own)
    }
    QUrl url = url_;
    if (seq_ >= 0) {
        url.setQuery(QStringLiteral("since=%1").arg(seq_));
    }
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", authorization_);
    request.setTransferTimeout(kRequestTimeoutMs);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    QNetworkReply* reply = network_.get(request);
    inFlight_ = reply;
    // Bounded in size and in time, whatever answers: a trickle or an endless body must neither
    // stop the polling nor fill the memory.
    connect(reply, &QNetworkReply::metaDataChanged, reply, [reply] {
        if (reply->header(QNetworkRequest::ContentLengthHeader).toLongLong() > kMaxAnswerBytes) {
            reply->setProperty("calnetTooLarge", true);
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::downloadProgress, reply, [reply](qint64 received, qint64 total) {
        if (received > kMaxAnswerBytes || total > kMaxAnswerBytes) {
            reply->setProperty("calnetTooLarge", true);
            reply->abort();
        }
    });
    QTimer::singleShot(kRequestDeadlineMs, reply, [reply] {
        reply->setProperty("calnetTooSlow", true);
        reply->abort();
    });
}

void RelayKeys::finished(QNetworkReply* reply) {
    reply->deleteLater();
    if (reply == inFlight_) {
        inFlight_ = nullptr;
    }
    auto failed = [this](const QString& why) {
        if (why != lastError_) {
            qCWarning(lcRelayKeys, "cannot read the node keys from %s: %s",
                      qPrintable(url_.toString(QUrl::RemoveQuery | QUrl::RemoveUserInfo)),
                      qPrintable(why));
        }
        lastError_ = why;
    };
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->property("calnetTooLarge").toBool()) {
        failed(QStringLiteral("the answer is larger than %1 MiB").arg(kMaxAnswerBytes >> 20));
        return;
    }
    if (reply->property("calnetTooSlow").toBool()) {
        failed(QStringLiteral("no whole answer within %1 s").arg(kRequestDeadlineMs / 1000));
        return;
    }
    if (reply->error() != QNetworkReply::NoError && status == 0) {
        failed(reply->errorString());
        return;
    }
    if (status == 401) {
        // The token was changed or withdrawn (this relay retired): nobody stays.
        failed(QStringLiteral("the relay token was refused (compare --token-file with the "
                              "coordination server's --relay-token-file)"));
        const bool had = seq_ >= 0;
        keys_.clear();
        seq_ = -1;
        refused_ = true;
        if (had) {
            emit changed();
        }
        return;
    }
    if (status != 200 || reply->error() != QNetworkReply::NoError) {
        failed(QStringLiteral("HTTP status %1").arg(status));
        return;
    }
    const QByteArray body = reply->read(kMaxAnswerBytes);
    const QJsonObject answer = QJsonDocument::fromJson(body).object();
    const std::optional<qint64> seq = wire::jsonInteger(answer.value(QStringLiteral("seq")));
    if (!seq || *seq < 0) {
        failed(QStringLiteral("the answer has no seq"));
        return;
    }
    if (answer.contains(QStringLiteral("nodes")) &&
        !answer.value(QStringLiteral("nodes")).isArray()) {
        failed(QStringLiteral("\"nodes\" is not a list"));
        return;
    }
    if (answer.contains(QStringLiteral("nodes"))) {
        QHash<QByteArray, qint64> keys;
        for (const QJsonValue& v : answer.value(QStringLiteral("nodes")).toArray()) {
            const QJsonObject o = v.toObject();
            const auto decoded = QByteArray::fromBase64Encoding(
                o.value(QStringLiteral("nodeKey")).toString().toLatin1(),
                QByteArray::AbortOnBase64DecodingErrors);
            const std::optional<qint64> expiry =
                wire::jsonInteger(o.value(QStringLiteral("keyExpiry")));
            if (decoded && decoded.decoded.size() == 32 && expiry) {
                keys.insert(decoded.decoded, *expiry);
            }
        }
        const bool first = seq_ < 0;
        keys_ = std::move(keys);
        seq_ = *seq;
        if (first) {
            qCInfo(lcRelayKeys, "%d node keys from the coordination server (seq %lld)",
                   int(keys_.size()), seq_);
        }
        emit changed();
    } else if (seq_ < 0) {
        failed(QStringLiteral("the first answer has no nodes"));
        return;
    }
    if (!lastError_.isEmpty()) {
        qCInfo(lcRelayKeys, "reading the node keys works again");
    }
    lastError_.clear();
    refused_ = false;
    sinceGood_.start();
}

RelayHub::KeyStatus RelayKeys::check(const QByteArray& nodeKey) const {
    if (refused_) {
        return RelayHub::KeyStatus::Denied;
    }
    if (seq_ < 0 || sinceGood_.elapsed() > kMaxAgeMs) {
        return RelayHub::KeyStatus::Unavailable;
    }
    const auto it = keys_.constFind(nodeKey);
    return it != keys_.constEnd() && it.value() > clock_() ? RelayHub::KeyStatus::Allowed
                                                           : RelayHub::KeyStatus::Denied;
}

qint64 RelayKeys::ageSeconds() const {
    return sinceGood_.isValid() ? sinceGood_.elapsed() / 1000 : -1;
}

} // namespace calnet::server
