// Framing of the local IPC stream (docs/ipc.md "Framing"):
//
//   +----------------+---------------------------------+
//   | N: u32 big-end | N bytes of UTF-8 JSON, 1 object |
//   +----------------+---------------------------------+
//   1 <= N <= kMaxFrameSize
//
// FrameDecoder is sans-I/O: the socket owner feeds it whatever bytes arrived, in any split, and
// pulls complete objects out. It validates the length prefix as soon as the 4 header bytes are
// in, before it keeps a single body byte, and never sizes a buffer from the untrusted prefix.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QLatin1StringView>

#include <array>
#include <deque>
#include <optional>

namespace calnet::ipc {

constexpr quint32 kMaxFrameSize = 1u << 20; // largest body N, 1 MiB
constexpr qsizetype kFrameHeaderSize = 4;

// The frame for `object`: header + compact JSON. Empty when the JSON would exceed
// kMaxFrameSize: the caller must not send it (the helper answers with a `failed` error instead).
[[nodiscard]] QByteArray encodeFrame(const QJsonObject& object);

// Why a stream stopped decoding. Every error is final: the connection must be closed.
enum class FrameError {
    TooLarge,      // length prefix > kMaxFrameSize; seen from the header alone
    ZeroLength,    // length prefix 0
    NotJsonObject, // body is not valid UTF-8 JSON holding one object
};
[[nodiscard]] QLatin1StringView toString(FrameError error);

class FrameDecoder {
public:
    // Consumes bytes until the stream is complete or broken. Decoded objects queue up for next();
    // drain them after each append so the queue stays as small as the chunk that filled it.
    // After an error, further input is ignored.
    void append(const char* data, qsizetype size);
    void feed(const QByteArray& bytes) { append(bytes.constData(), bytes.size()); }

    // The oldest decoded object. Objects completed before an error are still returned.
    [[nodiscard]] std::optional<QJsonObject> next();

    [[nodiscard]] std::optional<FrameError> error() const { return error_; }
    [[nodiscard]] bool hasError() const { return error_.has_value(); }

    // Bytes held for the frame in progress: at most kFrameHeaderSize + kMaxFrameSize.
    [[nodiscard]] qsizetype bufferedBytes() const { return headerFill_ + body_.size(); }
    [[nodiscard]] qsizetype pendingObjects() const { return qsizetype(ready_.size()); }

    void reset();

private:
    void finishBody();

    std::array<unsigned char, kFrameHeaderSize> header_{};
    qsizetype headerFill_ = 0;
    quint32 bodyLength_ = 0; // valid once headerFill_ == kFrameHeaderSize
    QByteArray body_;        // grows only as body bytes arrive
    std::deque<QJsonObject> ready_;
    std::optional<FrameError> error_;
};

} // namespace calnet::ipc
