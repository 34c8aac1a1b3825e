#include "server/relayhub.h"

#include "helper/wire/relayframe.h"

#include <sodium.h>

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include "server/http/websocket.h"

Q_LOGGING_CATEGORY(lcRelay, "calnet.server.relay")

namespace calnet::server {

namespace {

constexpr quint16 kBadMessage = 4400;
constexpr quint16 kBadProof = 4401;
constexpr quint16 kUnknownNode = 4403;
constexpr quint16 kNoHello = 4408;
constexpr quint16 kReplaced = 4409;

constexpr char kSend = char(wire::kRelaySend);
constexpr char kReceive = char(wire::kRelayReceive);
constexpr char kNotHere = char(wire::kRelayNotHere);
constexpr int kKeySize = 32;
constexpr qint64 kNoticeIntervalMs = 1000;
constexpr int kMaxNoticeEntries = 1024;

QByteArray fromBase64Exact(const QJsonValue& v, int size) {
    if (!v.isString())
        return {};
    const auto decoded = QByteArray::fromBase64Encoding(v.toString().toLatin1(),
                                                        QByteArray::AbortOnBase64DecodingErrors);
    return decoded && decoded.decoded.size() == size ? decoded.decoded : QByteArray();
}

qint64 nowMs() {
    static QElapsedTimer timer = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return timer.elapsed();
}

} // namespace

struct RelayHub::Client {
    http::WebSocket* socket = nullptr;
    QByteArray challenge;
    QByteArray key; // set once the hello checked out
    bool closing = false;
    QTimer helloTimer;
    QTimer pingTimer;
    qint64 lastPongMs = 0;
    QHash<QByteArray, qint64> noticeSentMs; // "not here" notices, per destination
};

RelayHub::RelayHub(KeyCheck check, Options options, QObject* parent)
    : QObject(parent), check_(std::move(check)), options_(options) {
    publicKey_.resize(crypto_box_PUBLICKEYBYTES);
    secretKey_.resize(crypto_box_SECRETKEYBYTES);
    crypto_box_keypair(reinterpret_cast<unsigned char*>(publicKey_.data()),
                       reinterpret_cast<unsigned char*>(secretKey_.data()));
    recheckTimer_.setSingleShot(true);
    recheckTimer_.setInterval(1000);
    connect(&recheckTimer_, &QTimer::timeout, this, &RelayHub::recheck);
}

RelayHub::~RelayHub() {
    sodium_memzero(secretKey_.data(), std::size_t(secretKey_.size()));
    for (auto& [client, owned] : clients_) {
        owned->socket->disconnect(this);
        owned->socket->abort();
        delete owned->socket;
    }
}

void RelayHub::accept(std::unique_ptr<http::WebSocket> owned) {
    http::WebSocket* socket = owned.release();
    socket->setParent(nullptr);
    auto client = std::make_unique<Client>();
    Client* c = client.get();
    c->socket = socket;
    c->lastPongMs = nowMs();
    clients_.emplace(c, std::move(client));

    // Queued: close()/abort() may emit disconnected() while a caller walks clients_.
    connect(
        socket, &http::WebSocket::disconnected, this, [this, c] { remove(c); },
        Qt::QueuedConnection);
    connect(socket, &http::WebSocket::textMessageReceived, this,
            [this, c](const QByteArray& m) { onText(c, m); });
    connect(socket, &http::WebSocket::binaryMessageReceived, this,
            [this, c](const QByteArray& m) { onBinary(c, m); });
    connect(socket, &http::WebSocket::pong, this, [c] { c->lastPongMs = nowMs(); });

    c->helloTimer.setSingleShot(true);
    connect(&c->helloTimer, &QTimer::timeout, this,
            [this, c] { close(c, kNoHello, QStringLiteral("no hello in time")); });
    c->helloTimer.start(options_.helloTimeoutMs);
    c->pingTimer.setInterval(options_.pingIntervalMs);
    connect(&c->pingTimer, &QTimer::timeout, this, [this, c] {
        if (nowMs() - c->lastPongMs > 3 * qint64(options_.pingIntervalMs)) {
            c->socket->abort();
            return;
        }
        c->socket->ping();
    });
    c->pingTimer.start();

    c->challenge.resize(kKeySize);
    randombytes_buf(c->challenge.data(), std::size_t(c->challenge.size()));
    socket->sendText(
        QJsonDocument(
            QJsonObject{
                {QStringLiteral("type"), QStringLiteral("challenge")},
                {QStringLiteral("serverKey"), QString::fromLatin1(publicKey_.toBase64())},
                {QStringLiteral("challenge"), QString::fromLatin1(c->challenge.toBase64())}})
            .toJson(QJsonDocument::Compact));
}

void RelayHub::onText(Client* c, const QByteArray& message) {
    if (c->closing)
        return;
    if (!c->key.isEmpty()) {
        close(c, kBadMessage, QStringLiteral("only binary frames after ready"));
        return;
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(message, &error);
    const QJsonObject hello = doc.object();
    if (error.error != QJsonParseError::NoError || !doc.isObject() ||
        hello.value(QStringLiteral("type")).toString() != QStringLiteral("hello") ||
        hello.size() != 4) {
        close(c, kBadMessage, QStringLiteral("expected a hello"));
        return;
    }
    const QByteArray key = fromBase64Exact(hello.value(QStringLiteral("nodeKey")), kKeySize);
    const QByteArray nonce =
        fromBase64Exact(hello.value(QStringLiteral("nonce")), crypto_box_NONCEBYTES);
    const QByteArray box =
        fromBase64Exact(hello.value(QStringLiteral("box")), kKeySize + crypto_box_MACBYTES);
    if (key.isEmpty() || nonce.isEmpty() || box.isEmpty()) {
        close(c, kBadMessage, QStringLiteral("hello fields malformed"));
        return;
    }
    QByteArray opened(kKeySize, '\0');
    const bool proven =
        crypto_box_open_easy(reinterpret_cast<unsigned char*>(opened.data()),
                             reinterpret_cast<const unsigned char*>(box.constData()),
                             std::size_t(box.size()),
                             reinterpret_cast<const unsigned char*>(nonce.constData()),
                             reinterpret_cast<const unsigned char*>(key.constData()),
                             reinterpret_cast<const unsigned char*>(secretKey_.constData())) == 0 &&
        sodium_memcmp(opened.constData(), c->challenge.constData(), kKeySize) == 0;
    if (!proven) {
        ++stats_.authFailed;
        close(c, kBadProof, QStringLiteral("the box does not prove the node key"));
        return;
    }
    switch (check_(key)) {
    case KeyStatus::Allowed:
        break;
    case KeyStatus::Denied:
        ++stats_.authFailed;
        close(c, kUnknownNode,
              QStringLiteral("no registered node with this key, or its key expired"));
        return;
    case KeyStatus::Unavailable:
        close(c, 1011, QStringLiteral("cannot check the node key now; try again"));
        return;
    }
    c->helloTimer.stop();
    c->key = key;
    if (Client* old = byKey_.value(key, nullptr); old != nullptr && old != c) {
        old->key.clear(); // no longer the one packets for this key go to
        close(old, kReplaced, QStringLiteral("a newer connection of this node"));
    }
    byKey_.insert(key, c);
    c->socket->sendText(QByteArrayLiteral("{\"type\":\"ready\"}"));
}

void RelayHub::onBinary(Client* c, const QByteArray& message) {
    if (c->closing)
        return;
    if (c->key.isEmpty() || message.size() < 1 + kKeySize || message[0] != kSend) {
        ++stats_.dropBadFrame;
        close(c, kBadMessage,
              c->key.isEmpty() ? QStringLiteral("hello first") : QStringLiteral("bad frame"));
        return;
    }
    const QByteArray destination = message.mid(1, kKeySize);
    Client* to = byKey_.value(destination, nullptr);
    if (to == nullptr || to->closing) {
        ++stats_.dropNoPeer;
        // Tell the sender, at most once a second per destination, so it can stop using us.
        const qint64 now = nowMs();
        auto it = c->noticeSentMs.find(destination);
        // Not to a sender that does not read its own socket either: notices must not queue up.
        if ((it == c->noticeSentMs.end() || now - it.value() >= kNoticeIntervalMs) &&
            c->socket->bytesToWrite() <= options_.maxQueuedBytes) {
            if (c->noticeSentMs.size() >= kMaxNoticeEntries)
                c->noticeSentMs.clear();
            c->noticeSentMs.insert(destination, now);
            c->socket->sendBinary(QByteArray(1, kNotHere) + destination);
        }
        return;
    }
    if (to->socket->bytesToWrite() > options_.maxQueuedBytes) {
        ++stats_.dropQueueFull;
        return;
    }
    QByteArray out;
    out.reserve(message.size());
    out.append(kReceive).append(c->key).append(message.constData() + 1 + kKeySize,
                                               message.size() - 1 - kKeySize);
    to->socket->sendBinary(out);
    ++stats_.packets;
    stats_.bytes += message.size() - 1 - kKeySize;
}

void RelayHub::close(Client* c, quint16 code, const QString& reason) {
    if (c->closing)
        return;
    c->closing = true;
    c->helloTimer.stop();
    c->pingTimer.stop();
    if (!c->key.isEmpty() && byKey_.value(c->key, nullptr) == c)
        byKey_.remove(c->key);
    qCDebug(lcRelay, "closing a relay connection: %d %s", code, qPrintable(reason));
    http::WebSocket* socket = c->socket;
    socket->close(code, reason.toUtf8());
    QTimer::singleShot(5000, socket, [socket] { socket->abort(); });
}

void RelayHub::remove(Client* c) {
    auto it = clients_.find(c);
    if (it == clients_.end())
        return;
    if (!c->key.isEmpty() && byKey_.value(c->key, nullptr) == c)
        byKey_.remove(c->key);
    c->socket->deleteLater();
    clients_.erase(it);
}

void RelayHub::scheduleRecheck() {
    if (!recheckTimer_.isActive())
        recheckTimer_.start();
}

void RelayHub::recheck() {
    std::vector<Client*> gone;
    for (auto it = byKey_.cbegin(); it != byKey_.cend(); ++it)
        if (check_(it.key()) == KeyStatus::Denied)
            gone.push_back(it.value());
    for (Client* c : gone)
        close(c, kUnknownNode, QStringLiteral("node deleted or its key expired"));
}

void RelayHub::shutdown() {
    std::vector<Client*> all;
    for (auto& [client, owned] : clients_)
        all.push_back(client);
    for (Client* c : all)
        close(c, 1001, QStringLiteral("server shutting down"));
}

} // namespace calnet::server
