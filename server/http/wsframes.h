// WebSocket framing (RFC 6455 §5) as the server side sees it: a strict, incremental parser of
// client frames and the encoder of server frames. No I/O: the WebSocket class feeds it socket
// bytes and writes what encode() returns.
//
// The parser refuses, with the close code to send (1002 protocol error unless noted):
//   - a client frame without the mask bit (§5.1: the server MUST close the connection);
//   - RSV bits set (no extension is ever negotiated), an unknown opcode;
//   - a control frame that is fragmented or longer than 125 bytes; a close frame of one byte,
//     with a code that may not appear on the wire, or a reason that is not UTF-8;
//   - a continuation frame with no message open, or a new data frame while one is open;
//   - a length not in its shortest form, or with the 64-bit form's top bit set;
//   - a message (all its fragments together) over maxMessage bytes (1009), counted from each
//     frame's header before its payload is buffered;
//   - a text message that is not valid UTF-8 (1007).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <QByteArray>

namespace calnet::server::http {

enum class WsOpcode : std::uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

struct WsEvent {
    enum class Kind { Text, Binary, Ping, Pong, Close, Error };
    Kind kind = Kind::Error;
    QByteArray payload;   // message, ping/pong data, or the close reason
    quint16 closeCode = 0; // Close: the peer's code (1005 if none); Error: the code to send
};

class WsFrameParser {
public:
    explicit WsFrameParser(std::size_t maxMessage) : maxMessage_(maxMessage) {}

    void append(const char* data, std::size_t size) { buffer_.append(data, qsizetype(size)); }
    // The next complete event, or nullopt when more bytes are needed. After an Error event
    // the parser stays failed and returns that error again.
    std::optional<WsEvent> next();
    [[nodiscard]] std::size_t buffered() const noexcept { return std::size_t(buffer_.size()); }

    static bool isValidUtf8(const QByteArray& bytes);
    // Codes a peer may send in a close frame (§7.4.1, §7.4.2).
    static bool isValidCloseCode(quint16 code);

private:
    WsEvent error(quint16 code, const char* reason);

    std::size_t maxMessage_;
    QByteArray buffer_;
    QByteArray message_;          // fragments of the open message
    std::optional<WsOpcode> open_; // Text or Binary while a fragmented message is open
    std::optional<WsEvent> failed_;
};

// One unmasked server frame (FIN set): header and payload.
QByteArray encodeWsFrame(WsOpcode opcode, const QByteArray& payload);
// A close frame's payload: the code big-endian, then the UTF-8 reason cut to fit 125 bytes.
QByteArray encodeWsClose(quint16 code, const QByteArray& reason);

} // namespace calnet::server::http
