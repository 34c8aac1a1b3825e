// Helpers of the relay tests: node key pairs, the hello that proves one to a relay, a
// WebSocket relay client that records what it receives, and a /metrics reader.
#pragma once

#include <sodium.h>

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QWebSocket>

#include "servertest.h"

namespace relaytest {

using namespace servertest;

inline QByteArray b64(const QByteArray& raw) {
    return raw.toBase64();
}

struct Keys {
    QByteArray pub = QByteArray(crypto_box_PUBLICKEYBYTES, '\0');
    QByteArray sec = QByteArray(crypto_box_SECRETKEYBYTES, '\0');
    Keys() {
        crypto_box_keypair(reinterpret_cast<unsigned char*>(pub.data()),
                           reinterpret_cast<unsigned char*>(sec.data()));
    }
};

// The hello that proves `keys` to a relay that sent `challenge` under `serverKey`.
inline QJsonObject hello(const Keys& keys, const QByteArray& serverKey,
                         const QByteArray& challenge) {
    QByteArray nonce(crypto_box_NONCEBYTES, '\0');
    randombytes_buf(nonce.data(), std::size_t(nonce.size()));
    QByteArray box(challenge.size() + crypto_box_MACBYTES, '\0');
    const int rc = crypto_box_easy(reinterpret_cast<unsigned char*>(box.data()),
                                   reinterpret_cast<const unsigned char*>(challenge.constData()),
                                   std::size_t(challenge.size()),
                                   reinterpret_cast<const unsigned char*>(nonce.constData()),
                                   reinterpret_cast<const unsigned char*>(serverKey.constData()),
                                   reinterpret_cast<const unsigned char*>(keys.sec.constData()));
    if (rc != 0)
        qFatal("crypto_box_easy failed");
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                       {QStringLiteral("nodeKey"), QString::fromLatin1(b64(keys.pub))},
                       {QStringLiteral("nonce"), QString::fromLatin1(b64(nonce))},
                       {QStringLiteral("box"), QString::fromLatin1(b64(box))}};
}

class RelayClient {
public:
    explicit RelayClient(quint16 port) : port_(port) {
        QObject::connect(&socket_, &QWebSocket::textMessageReceived, [this](const QString& t) {
            texts_.append(QJsonDocument::fromJson(t.toUtf8()).object());
        });
        QObject::connect(&socket_, &QWebSocket::binaryMessageReceived,
                         [this](const QByteArray& b) { binaries_.append(b); });
        QObject::connect(&socket_, &QWebSocket::disconnected, [this] {
            closed_ = true;
            closeCode_ = int(socket_.closeCode());
        });
    }

    // Opens and waits for the challenge.
    bool open() {
        socket_.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/api/v1/relay").arg(port_)));
        const QJsonObject c = nextText(5000);
        if (c.value(QStringLiteral("type")).toString() != QStringLiteral("challenge"))
            return false;
        serverKey_ =
            QByteArray::fromBase64(c.value(QStringLiteral("serverKey")).toString().toLatin1());
        challenge_ =
            QByteArray::fromBase64(c.value(QStringLiteral("challenge")).toString().toLatin1());
        return serverKey_.size() == 32 && challenge_.size() == 32;
    }
    void sendText(const QJsonObject& o) {
        socket_.sendTextMessage(QString::fromUtf8(QJsonDocument(o).toJson()));
    }
    // open(), the proof for `keys`, and "ready".
    bool authenticate(const Keys& keys) {
        if (!open())
            return false;
        sendText(hello(keys, serverKey_, challenge_));
        return nextText(3000).value(QStringLiteral("type")).toString() == QStringLiteral("ready");
    }
    void sendTo(const QByteArray& key, const QByteArray& payload) {
        socket_.sendBinaryMessage(QByteArray(1, '\x01') + key + payload);
    }
    QJsonObject nextText(int timeoutMs) {
        QElapsedTimer t;
        t.start();
        while (texts_.isEmpty() && !closed_ && t.elapsed() < timeoutMs)
            QTest::qWait(5);
        return texts_.isEmpty() ? QJsonObject() : texts_.takeFirst();
    }
    // Waits until `count` binary messages arrived (or the time is up); returns them all.
    QList<QByteArray> waitBinaries(int count, int timeoutMs = 5000) {
        QElapsedTimer t;
        t.start();
        while (binaries_.size() < count && !closed_ && t.elapsed() < timeoutMs)
            QTest::qWait(5);
        return binaries_;
    }
    int waitClosed(int timeoutMs = 3000) {
        QElapsedTimer t;
        t.start();
        while (!closed_ && t.elapsed() < timeoutMs)
            QTest::qWait(5);
        return closed_ ? closeCode_ : -1;
    }
    QList<QByteArray>& binaries() { return binaries_; }
    const QByteArray& serverKey() const { return serverKey_; }
    const QByteArray& challenge() const { return challenge_; }
    QWebSocket& socket() { return socket_; }

private:
    quint16 port_;
    QByteArray serverKey_;
    QByteArray challenge_;
    QList<QJsonObject> texts_;
    QList<QByteArray> binaries_;
    bool closed_ = false;
    int closeCode_ = 0;
    QWebSocket socket_; // last: destroyed first
};

// Registers a node with this key pair (through `authKey`); its id, or 0.
inline qint64 registerKeys(quint16 port, const Keys& keys, const QString& hostname,
                           const QString& authKey) {
    const Response r =
        registerNode(port, registerBody(QString::fromLatin1(b64(keys.pub)), hostname, authKey));
    return r.json().value(QStringLiteral("nodeId")).toInteger();
}

inline qint64 metric(quint16 port, const QByteArray& name) {
    const Response m = httpCall(port, "GET", QStringLiteral("/metrics"));
    for (const QByteArray& l : m.body.split('\n'))
        if (l.startsWith(name + ' '))
            return l.mid(name.size() + 1).toLongLong();
    return -1;
}

} // namespace relaytest
