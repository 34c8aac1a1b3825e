// WebSocket: the server end of one WebSocket connection (RFC 6455), after HttpListener checked
// the opening handshake and answered 101. It owns the TCP (or TLS) socket, parses client frames
// with WsFrameParser, answers pings, completes the close handshake, and sends text or binary
// messages unmasked in one frame each.
//
//   open --close(code) sent--> closing --peer's close or 5 s--> disconnected
//   open --peer's close--> echo it --> disconnected
//   open --protocol error (unmasked frame, bad UTF-8, too big ...)--> close(1002/1007/1009)
//
// The socket's read buffer is bounded (a message's limit plus framing), so a client that
// floods costs at most that much before it is refused.
#pragma once

#include <memory>

#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include "server/http/wsframes.h"

class QTcpSocket;

namespace calnet::server::http {

class ConnectionSlot;

class WebSocket : public QObject {
    Q_OBJECT
public:
    // Takes the socket (already past the 101 reply) and the bytes the client sent after its
    // handshake request.
    WebSocket(QTcpSocket* socket, QByteArray path, QByteArray leftover, std::size_t maxMessage,
              std::unique_ptr<ConnectionSlot> slot);
    ~WebSocket() override;

    [[nodiscard]] const QByteArray& path() const noexcept { return path_; }
    [[nodiscard]] QHostAddress peerAddress() const;
    [[nodiscard]] bool isOpen() const noexcept { return state_ == State::Open; }

    // Queue a message; returns the bytes queued (frame included), 0 when not open.
    qint64 sendText(const QByteArray& utf8);
    qint64 sendBinary(const QByteArray& data);
    void ping(const QByteArray& payload = {});
    // Starts the close handshake; the socket is dropped once the peer answers or after 5 s.
    void close(quint16 code, const QByteArray& reason = {});
    // Drops the connection at once, no close frame.
    void abort();
    [[nodiscard]] qint64 bytesToWrite() const;
    // The kernel's send buffer for this connection (SO_SNDBUF), so that what a peer does not
    // read queues where the application can see and bound it.
    void setSendBufferSize(int bytes);
    // TCP_NODELAY: small frames leave at once instead of waiting for the last one's ACK.
    void setLowDelay();

signals:
    void textMessageReceived(const QByteArray& message);
    void binaryMessageReceived(const QByteArray& message);
    void pong();
    void bytesWritten(qint64 bytes);
    // Emitted once, when the connection is gone (either side, any reason).
    void disconnected();

private:
    enum class State { Open, Closing, Closed };

    void onReadyRead();
    void process();
    void sendFrame(WsOpcode opcode, const QByteArray& payload);
    void finish();

    QTcpSocket* socket_;
    QByteArray path_;
    WsFrameParser parser_;
    std::unique_ptr<ConnectionSlot> slot_;
    State state_ = State::Open;
    QTimer closeTimer_;
};

} // namespace calnet::server::http
