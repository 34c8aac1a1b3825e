// RelayKeys: the node keys a relay-only process (`calnet-server relay`) lets in, read from the
// coordination server (GET /api/v1/relay/keys with the relay token, docs/protocol.md "Several
// relays").
//
//   start() -> read now, then every pollInterval with ?since=SEQ (an unchanged answer is only
//   the seq) -> a changed set: changed() (the relay checks its connections again)
//
// Until the first good answer nobody can be told apart: check() says Unavailable (the relay
// closes hellos with 1011, try again). Afterwards the last good set is kept while the
// coordination server is away (no node can register meanwhile either), for at most 30 min:
// then new hellos get 1011 again, connected nodes stay. A refused token (401: the relay was
// retired or its token changed) denies everyone (4403), connected nodes too. An answer is
// read whole within 15 s and 32 MiB or dropped. Each failure is
// logged once until the next success. A key is let in until its expiry by this host's clock.
//
// Not thread-safe: runs on the event loop thread.
#pragma once

#include <functional>

#include <QElapsedTimer>
#include <QHash>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include "server/relayhub.h"

namespace calnet::server {

class RelayKeys : public QObject {
    Q_OBJECT
public:
    // `coordination` is the coordination server's base URL (http or https).
    RelayKeys(QUrl coordination, QString token, int pollIntervalMs, std::function<qint64()> clock,
              QObject* parent = nullptr);

    void start();
    [[nodiscard]] RelayHub::KeyStatus check(const QByteArray& nodeKey) const;
    [[nodiscard]] bool loaded() const { return seq_ >= 0; }
    [[nodiscard]] int size() const { return int(keys_.size()); }
    // Seconds since the last good answer; -1 before the first.
    [[nodiscard]] qint64 ageSeconds() const;
    // The last failure ("" after a success).
    [[nodiscard]] const QString& lastError() const { return lastError_; }

signals:
    void changed();

private:
    void poll();
    void finished(QNetworkReply* reply);

    QUrl url_;
    QByteArray authorization_;
    std::function<qint64()> clock_;
    QNetworkAccessManager network_;
    QTimer timer_;
    QNetworkReply* inFlight_ = nullptr;
    QHash<QByteArray, qint64> keys_; // raw node key -> key expiry (Unix seconds)
    qint64 seq_ = -1;
    bool refused_ = false;
    QElapsedTimer sinceGood_;
    QString lastError_;
};

} // namespace calnet::server
