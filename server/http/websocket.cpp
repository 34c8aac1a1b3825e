#include "server/http/websocket.h"

#include <QTcpSocket>

#include "server/http/httplistener.h"

namespace calnet::server::http {

namespace {
constexpr int kCloseWaitMs = 5000;
constexpr qint64 kMaxPongBacklog = 1024 * 1024; // unsent bytes beyond which pings go unanswered
constexpr qint64 kFrameOverhead = 14;           // the largest client frame header
} // namespace

WebSocket::WebSocket(QTcpSocket* socket, QByteArray path, QByteArray leftover,
                     std::size_t maxMessage, std::unique_ptr<ConnectionSlot> slot)
    : socket_(socket), path_(std::move(path)), parser_(maxMessage), slot_(std::move(slot)) {
    socket_->setParent(this);
    // One message and its framing is the most we hold for a client.
    socket_->setReadBufferSize(qint64(maxMessage) + kFrameOverhead);
    connect(socket_, &QTcpSocket::readyRead, this, &WebSocket::onReadyRead);
    connect(socket_, &QTcpSocket::bytesWritten, this, &WebSocket::bytesWritten);
    connect(socket_, &QTcpSocket::disconnected, this, &WebSocket::finish);
    connect(socket_, &QTcpSocket::errorOccurred, this, [this] {
        if (socket_->state() != QAbstractSocket::ConnectedState)
            finish();
    });
    closeTimer_.setSingleShot(true);
    connect(&closeTimer_, &QTimer::timeout, this, &WebSocket::abort);
    if (!leftover.isEmpty()) {
        parser_.append(leftover.constData(), std::size_t(leftover.size()));
        // After the owner connected its slots: the first messages must not be lost.
        QMetaObject::invokeMethod(this, &WebSocket::process, Qt::QueuedConnection);
    }
}

WebSocket::~WebSocket() {
    socket_->disconnect(this);
    socket_->abort();
}

QHostAddress WebSocket::peerAddress() const {
    return socket_->peerAddress();
}

qint64 WebSocket::bytesToWrite() const {
    return socket_->bytesToWrite();
}

void WebSocket::setSendBufferSize(int bytes) {
    socket_->setSocketOption(QAbstractSocket::SendBufferSizeSocketOption, bytes);
}

void WebSocket::setLowDelay() {
    socket_->setSocketOption(QAbstractSocket::LowDelayOption, 1);
}

void WebSocket::sendFrame(WsOpcode opcode, const QByteArray& payload) {
    socket_->write(encodeWsFrame(opcode, payload));
}

qint64 WebSocket::sendText(const QByteArray& utf8) {
    if (state_ != State::Open)
        return 0;
    const QByteArray frame = encodeWsFrame(WsOpcode::Text, utf8);
    socket_->write(frame);
    return frame.size();
}

qint64 WebSocket::sendBinary(const QByteArray& data) {
    if (state_ != State::Open)
        return 0;
    const QByteArray frame = encodeWsFrame(WsOpcode::Binary, data);
    socket_->write(frame);
    return frame.size();
}

void WebSocket::ping(const QByteArray& payload) {
    if (state_ == State::Open)
        sendFrame(WsOpcode::Ping, payload.left(125));
}

void WebSocket::close(quint16 code, const QByteArray& reason) {
    if (state_ != State::Open)
        return;
    state_ = State::Closing;
    sendFrame(WsOpcode::Close, encodeWsClose(code, reason));
    socket_->flush();
    closeTimer_.start(kCloseWaitMs);
}

void WebSocket::abort() {
    if (state_ == State::Closed)
        return;
    socket_->abort();
    finish();
}

void WebSocket::finish() {
    if (state_ == State::Closed)
        return;
    state_ = State::Closed;
    closeTimer_.stop();
    slot_.reset(); // the listener counts this connection no more
    emit disconnected();
}

void WebSocket::onReadyRead() {
    const QByteArray bytes = socket_->readAll();
    parser_.append(bytes.constData(), std::size_t(bytes.size()));
    process();
}

void WebSocket::process() {
    while (state_ != State::Closed) {
        std::optional<WsEvent> ev = parser_.next();
        if (!ev)
            return;
        switch (ev->kind) {
        case WsEvent::Kind::Text:
            if (state_ == State::Open)
                emit textMessageReceived(ev->payload);
            break;
        case WsEvent::Kind::Binary:
            if (state_ == State::Open)
                emit binaryMessageReceived(ev->payload);
            break;
        case WsEvent::Kind::Ping:
            // A peer that pings without reading its pongs must not make them pile up here.
            if (state_ == State::Open && bytesToWrite() < kMaxPongBacklog)
                sendFrame(WsOpcode::Pong, ev->payload);
            break;
        case WsEvent::Kind::Pong:
            emit pong();
            break;
        case WsEvent::Kind::Close:
            if (state_ == State::Open) {
                // Echo the code (§5.5.1); 1005 must not be sent, so answer an empty close with
                // 1000.
                sendFrame(WsOpcode::Close,
                          encodeWsClose(ev->closeCode == 1005 ? 1000 : ev->closeCode, {}));
            }
            state_ = State::Closing;
            socket_->disconnectFromHost(); // flushes what is queued, then closes
            if (socket_->state() == QAbstractSocket::UnconnectedState)
                finish();
            return;
        case WsEvent::Kind::Error:
            if (state_ == State::Open) {
                close(ev->closeCode, ev->payload);
                socket_->disconnectFromHost();
            } else {
                abort();
            }
            return;
        }
    }
}

} // namespace calnet::server::http
