// IpcClient: one QLocalSocket per connection attempt, a FrameDecoder per connection, pending
// calls keyed by id, and a single-shot timer for the reconnect backoff.
#include "helper/ipc/client.h"

#include "helper/ipc/serveridentity.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QLocalSocket>
#include <QMetaObject>
#include <QTimer>

#include <algorithm>
#include <utility>

namespace calnet::ipc {

using namespace Qt::StringLiterals;

namespace {

constexpr qint64 kReadChunk = 64 * 1024;

QString connectionClosedMessage() {
    return u"the connection to calnetd closed before it replied"_s;
}

} // namespace

IpcClient::IpcClient(QObject* parent) : QObject(parent), reconnectTimer_(new QTimer(this)) {
    reconnectTimer_->setSingleShot(true);
    connect(reconnectTimer_, &QTimer::timeout, this, &IpcClient::startConnecting);
}

IpcClient::~IpcClient() {
    // The socket is our child; without this it would signal into a half-destroyed client.
    if (socket_) {
        socket_->disconnect(this);
        delete socket_;
    }
}

void IpcClient::connectToHelper(const QString& path) {
    const bool wasConnected = state_ == State::Connected;
    reconnectTimer_->stop();
    dropSocket();
    path_ = path;
    backoff_.reset();
    state_ = State::Idle;
    QPointer<IpcClient> self(this);
    failAllPending(connectionClosedMessage());
    if (!self) {
        return;
    }
    if (wasConnected) {
        emit disconnected();
        if (!self) {
            return;
        }
    }
    if (state_ == State::Idle) { // a handler above may already have reconnected
        startConnecting();
    }
}

void IpcClient::disconnectFromHelper() {
    const bool wasConnected = state_ == State::Connected;
    reconnectTimer_->stop();
    dropSocket();
    state_ = State::Idle;
    QPointer<IpcClient> self(this);
    failAllPending(connectionClosedMessage());
    if (self && wasConnected) {
        emit disconnected();
    }
}

void IpcClient::setAutoReconnect(bool enabled) {
    autoReconnect_ = enabled;
    if (!enabled && state_ == State::WaitingToReconnect) {
        reconnectTimer_->stop();
        state_ = State::Idle;
    }
}

void IpcClient::startConnecting() {
    dropSocket();
    state_ = State::Connecting;
    auto* socket = new QLocalSocket(this);
    socket_ = socket;
    // Queued, so that no handler of ours (nor the user code it calls, which may delete us) runs
    // inside QLocalSocket's own emit. The generation drops signals of a replaced socket.
    const quint64 generation = ++generation_;
    connect(
        socket, &QLocalSocket::connected, this,
        [this, generation] {
            if (generation == generation_ && socket_) {
                onConnected();
            }
        },
        Qt::QueuedConnection);
    connect(
        socket, &QLocalSocket::readyRead, this,
        [this, generation] {
            if (generation == generation_ && socket_) {
                onReadyRead();
            }
        },
        Qt::QueuedConnection);
    // Unconnected covers both a refused attempt (no disconnected() then) and a lost connection.
    connect(
        socket, &QLocalSocket::stateChanged, this,
        [this, generation](QLocalSocket::LocalSocketState state) {
            if (generation == generation_ && socket_ && state == QLocalSocket::UnconnectedState) {
                onSocketGone();
            }
        },
        Qt::QueuedConnection);
    socket->connectToServer(path_);
}

void IpcClient::onConnected() {
    if (socket_->state() != QLocalSocket::ConnectedState) {
        return; // closed again already; the queued stateChanged() follows
    }
    // Nothing is written before the server is known to be calnetd (serveridentity.h); an
    // impostor is dropped like a failed attempt, and the backoff retries.
    QString why;
    if (!serverIsTrusted(*socket_, &why)) {
        qWarning("calnet-ipc: not talking to %s: %s", qPrintable(path_), qPrintable(why));
        socket_->abort();
        return;
    }
    state_ = State::Connected;
    backoff_.reset();
    decoder_.reset();
    const bool subscribeQueued = subscribeQueued_;
    subscribeQueued_ = false;
    for (const QByteArray& frame : std::as_const(outbox_)) {
        socket_->write(frame);
    }
    outbox_.clear();
    if (!events_.isEmpty() && !subscribeQueued) {
        sendSubscribe({});
    }
    emit connected();
}

void IpcClient::onReadyRead() {
    QPointer<IpcClient> self(this);
    QLocalSocket* const socket = socket_;
    const quint64 generation = generation_;
    while (socket->bytesAvailable() > 0) {
        const QByteArray chunk = socket->read(kReadChunk);
        decoder_.feed(chunk);
        while (auto message = decoder_.next()) {
            dispatch(*message);
            // A handler may have closed, replaced or deleted us.
            if (!self || generation_ != generation || state_ != State::Connected) {
                return;
            }
        }
        if (const auto error = decoder_.error()) {
            emit protocolError(u"calnetd sent a bad frame: %1"_s.arg(toString(*error)));
            if (self && generation_ == generation) {
                onSocketGone();
            }
            return;
        }
    }
}

void IpcClient::dispatch(const QJsonObject& message) {
    auto incoming = parseIncoming(message);
    if (const auto* problem = std::get_if<QString>(&incoming)) {
        emit protocolError(*problem);
        return;
    }
    if (const auto* event = std::get_if<Event>(&incoming)) {
        QPointer<IpcClient> self(this);
        emit eventReceived(event->name, event->data);
        if (!self) {
            return;
        }
        if (event->name == kEventState) {
            emit stateEvent(event->data);
        } else if (event->name == kEventPeers) {
            emit peersEvent(event->data);
        }
        return;
    }
    const Reply& reply = std::get<Reply>(incoming);
    if (reply.id == 0) {
        emit protocolError(u"calnetd could not read a request: %1"_s.arg(
            reply.error ? reply.error->message : QString()));
        return;
    }
    const auto it = pending_.find(reply.id);
    if (it == pending_.end()) {
        // Ids below nextId_ were ours: a late answer to a timed-out call is expected.
        if (reply.id >= nextId_) {
            emit protocolError(u"reply to unknown request %1"_s.arg(reply.id));
        }
        return;
    }
    ReplyHandler handler = std::move(it->second);
    pending_.erase(it);
    if (handler) {
        handler(reply);
    }
}

void IpcClient::onSocketGone() {
    const bool wasConnected = state_ == State::Connected;
    dropSocket();
    state_ = State::Idle;
    if (autoReconnect_) {
        scheduleReconnect();
    }
    QPointer<IpcClient> self(this);
    failAllPending(connectionClosedMessage());
    if (self && wasConnected) {
        emit disconnected();
    }
}

void IpcClient::scheduleReconnect() {
    state_ = State::WaitingToReconnect;
    const auto delay = backoff_.next();
    reconnectTimer_->start(delay);
    emit reconnecting(int(delay.count()));
}

void IpcClient::dropSocket() {
    if (socket_) {
        socket_->disconnect(this);
        socket_->abort();
        socket_->deleteLater();
        socket_ = nullptr;
    }
    outbox_.clear();
    subscribeQueued_ = false;
    decoder_.reset();
}

qint64 IpcClient::call(QAnyStringView method, const QJsonObject& params, ReplyHandler done) {
    const qint64 id = nextId_++;
    const QByteArray frame = encodeFrame(makeRequest(id, method, params));
    const auto failSoon = [this, id, &done](ErrorCode code, const QString& message) {
        QMetaObject::invokeMethod(
            this,
            [id, code, message, handler = std::move(done)] {
                if (handler) {
                    handler(Reply::failure(id, code, message));
                }
            },
            Qt::QueuedConnection);
    };
    if (frame.isEmpty()) {
        failSoon(ErrorCode::InvalidParams, u"request larger than %1 bytes"_s.arg(kMaxFrameSize));
        return id;
    }
    if (state_ == State::Connected) {
        // A socket that just closed fails the call through the queued stateChanged().
        if (socket_->state() == QLocalSocket::ConnectedState) {
            socket_->write(frame);
        }
    } else if (state_ == State::Connecting) {
        outbox_.append(frame);
    } else {
        failSoon(ErrorCode::Disconnected, u"not connected to calnetd"_s);
        return id;
    }
    pending_.emplace(id, std::move(done));
    if (callTimeout_.count() > 0) {
        QTimer::singleShot(callTimeout_, this, [this, id] {
            failCall(id, ErrorCode::Timeout, u"calnetd did not reply in time"_s);
        });
    }
    return id;
}

qint64 IpcClient::subscribe(const QStringList& events, ReplyHandler done) {
    events_ = events;
    if (state_ == State::Connected || state_ == State::Connecting) {
        return sendSubscribe(std::move(done));
    }
    // Not connected: the subscription is sent by onConnected(); report this attempt now.
    return call(kMethodSubscribe, {}, std::move(done));
}

qint64 IpcClient::sendSubscribe(ReplyHandler done) {
    if (state_ == State::Connecting) {
        subscribeQueued_ = true; // onConnected() must not send a second one
    }
    return call(kMethodSubscribe, QJsonObject{{"events"_L1, QJsonArray::fromStringList(events_)}},
                std::move(done));
}

void IpcClient::failCall(qint64 id, ErrorCode code, const QString& message) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) {
        return;
    }
    ReplyHandler handler = std::move(it->second);
    pending_.erase(it);
    if (handler) {
        handler(Reply::failure(id, code, message));
    }
}

void IpcClient::failAllPending(const QString& message) {
    // Handlers may call back into us (even delete us): work on a detached copy.
    auto calls = std::exchange(pending_, {});
    QPointer<IpcClient> self(this);
    for (auto& [id, handler] : calls) {
        if (!self) {
            return;
        }
        if (handler) {
            handler(Reply::failure(id, ErrorCode::Disconnected, message));
        }
    }
}

std::optional<Reply> IpcClient::callBlocking(const QString& socketPath, QAnyStringView method,
                                             const QJsonObject& params, int timeoutMs,
                                             QString* error) {
    const auto fail = [error](const QString& message) -> std::optional<Reply> {
        if (error) {
            *error = message;
        }
        return std::nullopt;
    };
    const QDeadlineTimer deadline(std::max(timeoutMs, 0));
    const auto remaining = [&deadline] {
        return int(std::max<qint64>(deadline.remainingTime(), 0));
    };

    constexpr qint64 kId = 1;
    const QByteArray frame = encodeFrame(makeRequest(kId, method, params));
    if (frame.isEmpty()) {
        return fail(u"request larger than %1 bytes"_s.arg(kMaxFrameSize));
    }
    QLocalSocket socket;
    socket.connectToServer(socketPath);
    if (!socket.waitForConnected(remaining())) {
        return fail(u"cannot connect to calnetd at %1: %2"_s.arg(socketPath, socket.errorString()));
    }
    if (QString why; !serverIsTrusted(socket, &why)) {
        return fail(u"refusing to talk to %1: %2"_s.arg(socketPath, why));
    }
    socket.write(frame);
    while (socket.bytesToWrite() > 0) {
        if (!socket.waitForBytesWritten(remaining())) {
            return fail(u"cannot send to calnetd: %1"_s.arg(
                deadline.hasExpired() ? u"timed out"_s : socket.errorString()));
        }
    }

    FrameDecoder decoder;
    for (;;) {
        while (socket.bytesAvailable() > 0) {
            decoder.feed(socket.read(kReadChunk));
            while (auto message = decoder.next()) {
                auto incoming = parseIncoming(*message);
                if (const auto* problem = std::get_if<QString>(&incoming)) {
                    return fail(u"calnetd sent a bad message: %1"_s.arg(*problem));
                }
                // Events cannot come (we never subscribe); a null-id error answers our request.
                if (const auto* reply = std::get_if<Reply>(&incoming);
                    reply && (reply->id == kId || (reply->id == 0 && reply->error))) {
                    return *reply;
                }
            }
            if (const auto frameError = decoder.error()) {
                return fail(u"calnetd sent a bad frame: %1"_s.arg(toString(*frameError)));
            }
        }
        if (socket.state() != QLocalSocket::ConnectedState) {
            return fail(connectionClosedMessage());
        }
        if (deadline.hasExpired()) {
            return fail(u"calnetd did not reply within %1 ms"_s.arg(timeoutMs));
        }
        if (!socket.waitForReadyRead(remaining()) && socket.bytesAvailable() == 0) {
            return fail(deadline.hasExpired()
                            ? u"calnetd did not reply within %1 ms"_s.arg(timeoutMs)
                            : connectionClosedMessage());
        }
    }
}

} // namespace calnet::ipc
