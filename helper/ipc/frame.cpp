// Frame codec: header fill -> length check -> body fill -> JSON parse, repeated per frame.
#include "helper/ipc/frame.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QtEndian>

#include <algorithm>

namespace calnet::ipc {

QByteArray encodeFrame(const QJsonObject& object) {
    const QByteArray body = QJsonDocument(object).toJson(QJsonDocument::Compact);
    if (body.isEmpty() || quint64(body.size()) > kMaxFrameSize) {
        return {};
    }
    QByteArray frame(kFrameHeaderSize + body.size(), Qt::Uninitialized);
    qToBigEndian(quint32(body.size()), frame.data());
    std::copy(body.cbegin(), body.cend(), frame.begin() + kFrameHeaderSize);
    return frame;
}

QLatin1StringView toString(FrameError error) {
    switch (error) {
    case FrameError::TooLarge:
        return QLatin1StringView("frame too large");
    case FrameError::ZeroLength:
        return QLatin1StringView("zero-length frame");
    case FrameError::NotJsonObject:
        return QLatin1StringView("frame is not a JSON object");
    }
    return QLatin1StringView("unknown frame error");
}

void FrameDecoder::append(const char* data, qsizetype size) {
    while (size > 0 && !error_) {
        if (headerFill_ < kFrameHeaderSize) {
            const qsizetype take = std::min(size, kFrameHeaderSize - headerFill_);
            std::copy_n(reinterpret_cast<const unsigned char*>(data), take,
                        header_.begin() + headerFill_);
            headerFill_ += take;
            data += take;
            size -= take;
            if (headerFill_ < kFrameHeaderSize) {
                return;
            }
            // The prefix is judged before any body byte is kept (docs/ipc.md "Framing").
            bodyLength_ = qFromBigEndian<quint32>(header_.data());
            if (bodyLength_ == 0) {
                error_ = FrameError::ZeroLength;
                return;
            }
            if (bodyLength_ > kMaxFrameSize) {
                error_ = FrameError::TooLarge;
                return;
            }
            continue;
        }
        // Grow with the bytes that actually arrived, never by the announced length: a client
        // announcing 1 MiB and sending nothing costs us nothing.
        const qsizetype take = std::min(size, qsizetype(bodyLength_) - body_.size());
        body_.append(data, take);
        data += take;
        size -= take;
        if (body_.size() == qsizetype(bodyLength_)) {
            finishBody();
        }
    }
}

void FrameDecoder::finishBody() {
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(body_, &parseError);
    body_.clear();
    headerFill_ = 0;
    bodyLength_ = 0;
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        error_ = FrameError::NotJsonObject;
        return;
    }
    ready_.push_back(doc.object());
}

std::optional<QJsonObject> FrameDecoder::next() {
    if (ready_.empty()) {
        return std::nullopt;
    }
    QJsonObject object = std::move(ready_.front());
    ready_.pop_front();
    return object;
}

void FrameDecoder::reset() {
    header_ = {};
    headerFill_ = 0;
    bodyLength_ = 0;
    body_ = QByteArray();
    ready_.clear();
    error_.reset();
}

} // namespace calnet::ipc
