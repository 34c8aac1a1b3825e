// WebSocket framing: see wsframes.h. Frame layout (RFC 6455 §5.2):
//
//   0               1               2               3
//   |F|R|R|R| opcode|M| len (7)     | extended length (16 or 64 bits, if len is 126 or 127)
//   | masking key (4 bytes, client frames)           | payload, XORed with the key
#include "server/http/wsframes.h"

#include <cstring>

namespace calnet::server::http {

namespace {

constexpr unsigned char kFin = 0x80;
constexpr unsigned char kRsv = 0x70;
constexpr unsigned char kMask = 0x80;
constexpr std::size_t kMaxControlPayload = 125;

bool isControl(WsOpcode op) {
    return (std::uint8_t(op) & 0x8) != 0;
}

} // namespace

bool WsFrameParser::isValidUtf8(const QByteArray& bytes) {
    // RFC 3629: shortest forms only, no surrogates, nothing above U+10FFFF.
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.constData());
    const auto* end = p + bytes.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra;
        std::uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= extra)
            return false;
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += extra + 1;
    }
    return true;
}

bool WsFrameParser::isValidCloseCode(quint16 code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

WsEvent WsFrameParser::error(quint16 code, const char* reason) {
    WsEvent e;
    e.kind = WsEvent::Kind::Error;
    e.closeCode = code;
    e.payload = QByteArray(reason);
    failed_ = e;
    buffer_.clear();
    message_.clear();
    return e;
}

std::optional<WsEvent> WsFrameParser::next() {
    if (failed_)
        return failed_;
    for (;;) {
        const auto* b = reinterpret_cast<const unsigned char*>(buffer_.constData());
        const std::size_t have = std::size_t(buffer_.size());
        if (have < 2)
            return std::nullopt;
        const bool fin = b[0] & kFin;
        const auto op = WsOpcode(b[0] & 0x0F);
        if (b[0] & kRsv)
            return error(1002, "reserved bits set");
        switch (op) {
        case WsOpcode::Continuation:
        case WsOpcode::Text:
        case WsOpcode::Binary:
        case WsOpcode::Close:
        case WsOpcode::Ping:
        case WsOpcode::Pong:
            break;
        default:
            return error(1002, "unknown opcode");
        }
        if (!(b[1] & kMask))
            return error(1002, "client frames must be masked");
        std::uint64_t len = b[1] & 0x7F;
        std::size_t header = 2;
        if (len == 126) {
            if (have < 4)
                return std::nullopt;
            len = std::uint64_t(b[2]) << 8 | b[3];
            if (len < 126)
                return error(1002, "length not in its shortest form");
            header = 4;
        } else if (len == 127) {
            if (have < 10)
                return std::nullopt;
            len = 0;
            for (int i = 2; i < 10; ++i)
                len = len << 8 | b[i];
            if (len >> 63)
                return error(1002, "length with the top bit set");
            if (len <= 0xFFFF)
                return error(1002, "length not in its shortest form");
            header = 10;
        }
        if (isControl(op)) {
            if (!fin)
                return error(1002, "fragmented control frame");
            if (len > kMaxControlPayload)
                return error(1002, "control frame over 125 bytes");
        } else {
            if (op == WsOpcode::Continuation && !open_)
                return error(1002, "continuation without a message");
            if (op != WsOpcode::Continuation && open_)
                return error(1002, "new message inside a fragmented one");
            // Judged from the header, before the payload is buffered.
            if (std::uint64_t(message_.size()) + len > maxMessage_)
                return error(1009, "message too big");
        }
        const std::size_t total = header + 4 + std::size_t(len);
        if (have < total)
            return std::nullopt;
        const unsigned char* key = b + header;
        QByteArray payload(reinterpret_cast<const char*>(b + header + 4), qsizetype(len));
        for (std::size_t i = 0; i < std::size_t(len); ++i)
            payload[qsizetype(i)] = char(payload[qsizetype(i)] ^ key[i & 3]);
        buffer_.remove(0, qsizetype(total));

        WsEvent ev;
        switch (op) {
        case WsOpcode::Ping:
            ev.kind = WsEvent::Kind::Ping;
            ev.payload = payload;
            return ev;
        case WsOpcode::Pong:
            ev.kind = WsEvent::Kind::Pong;
            ev.payload = payload;
            return ev;
        case WsOpcode::Close: {
            ev.kind = WsEvent::Kind::Close;
            if (payload.isEmpty()) {
                ev.closeCode = 1005; // no status code present
                return ev;
            }
            if (payload.size() == 1)
                return error(1002, "close frame of one byte");
            ev.closeCode = quint16(quint8(payload[0]) << 8 | quint8(payload[1]));
            if (!isValidCloseCode(ev.closeCode))
                return error(1002, "invalid close code");
            ev.payload = payload.mid(2);
            if (!isValidUtf8(ev.payload))
                return error(1007, "close reason is not UTF-8");
            return ev;
        }
        default:
            break;
        }
        if (op != WsOpcode::Continuation)
            open_ = op;
        message_.append(payload);
        if (!fin)
            continue;
        ev.kind = *open_ == WsOpcode::Text ? WsEvent::Kind::Text : WsEvent::Kind::Binary;
        ev.payload = std::move(message_);
        message_ = QByteArray();
        open_.reset();
        if (ev.kind == WsEvent::Kind::Text && !isValidUtf8(ev.payload))
            return error(1007, "text message is not UTF-8");
        return ev;
    }
}

QByteArray encodeWsFrame(WsOpcode opcode, const QByteArray& payload) {
    QByteArray out;
    const auto n = std::uint64_t(payload.size());
    out.reserve(qsizetype(n) + 10);
    out.append(char(kFin | std::uint8_t(opcode)));
    if (n < 126) {
        out.append(char(n));
    } else if (n <= 0xFFFF) {
        out.append(char(126));
        out.append(char(n >> 8));
        out.append(char(n));
    } else {
        out.append(char(127));
        for (int i = 7; i >= 0; --i)
            out.append(char(n >> (8 * i)));
    }
    out.append(payload);
    return out;
}

QByteArray encodeWsClose(quint16 code, const QByteArray& reason) {
    QByteArray p;
    p.append(char(code >> 8));
    p.append(char(code & 0xFF));
    QByteArray r = reason.left(qsizetype(kMaxControlPayload - 2));
    // Do not cut a UTF-8 sequence in half.
    while (!r.isEmpty() && !WsFrameParser::isValidUtf8(r))
        r.chop(1);
    p.append(r);
    return p;
}

} // namespace calnet::server::http
