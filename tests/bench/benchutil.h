// Helpers of the control-plane benchmarks (calnet-mapload, calnet-relayload): an event loop
// spun until a condition holds, a blocking JSON request for setup, a process's RSS.
#pragma once

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QThread>

#include <cstdio>
#include <optional>

namespace calnet::bench {

template <typename Pred> bool spinUntil(Pred done, int timeoutMs) {
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        QThread::usleep(200);
    }
    return true;
}

// Blocking JSON request, for setup only (not measured).
inline std::optional<QJsonObject> request(QNetworkAccessManager& net, const QByteArray& verb,
                                          const QUrl& url, const QJsonObject& body,
                                          const QByteArray& bearer = {}) {
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    if (!bearer.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + bearer);
    QNetworkReply* reply =
        net.sendCustomRequest(req, verb, QJsonDocument(body).toJson(QJsonDocument::Compact));
    const bool finished = spinUntil([reply] { return reply->isFinished(); }, 30'000);
    const QByteArray data = reply->readAll();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    reply->deleteLater();
    if (!finished || status != 200) {
        std::fprintf(stderr, "bench: %s %s -> %d %s\n", verb.constData(), qPrintable(url.path()),
                     status, data.constData());
        return std::nullopt;
    }
    return QJsonDocument::fromJson(data).object();
}

inline qint64 rssKiB(qint64 pid) {
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

} // namespace calnet::bench
