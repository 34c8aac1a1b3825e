// libFuzzer target for the WebSocket frames a client sends calnet-server (WsFrameParser): fed
// whole and in input-chosen chunks, the events must agree; every text message and close reason
// it delivers is valid UTF-8, every message is within the limit, a close code is one a peer may
// send, and an error carries a code the server may answer with.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzzcheck.h"
#include "server/http/wsframes.h"

using namespace calnet::server::http;

namespace {

constexpr std::size_t kMax = 4096;

std::vector<QByteArray> run(const char* data, std::size_t size, std::size_t piece) {
    std::vector<QByteArray> events;
    WsFrameParser p(kMax);
    for (std::size_t offset = 0; offset < size; offset += piece) {
        p.append(data + offset, std::min(piece, size - offset));
        CHECK(p.buffered() <= size);
        while (auto ev = p.next()) {
            switch (ev->kind) {
            case WsEvent::Kind::Text:
                CHECK(WsFrameParser::isValidUtf8(ev->payload));
                [[fallthrough]];
            case WsEvent::Kind::Binary:
                CHECK(std::size_t(ev->payload.size()) <= kMax);
                break;
            case WsEvent::Kind::Ping:
            case WsEvent::Kind::Pong:
                CHECK(ev->payload.size() <= 125);
                break;
            case WsEvent::Kind::Close:
                CHECK(ev->closeCode == 1005 || WsFrameParser::isValidCloseCode(ev->closeCode));
                CHECK(WsFrameParser::isValidUtf8(ev->payload));
                break;
            case WsEvent::Kind::Error:
                CHECK(ev->closeCode == 1002 || ev->closeCode == 1007 || ev->closeCode == 1009);
                break;
            }
            events.push_back(QByteArray::number(int(ev->kind)) + ':' +
                             QByteArray::number(ev->closeCode) + ':' + ev->payload);
            if (ev->kind == WsEvent::Kind::Error)
                return events;
        }
    }
    return events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto* bytes = reinterpret_cast<const char*>(data);
    const auto whole = run(bytes, size, std::max<std::size_t>(size, 1));
    const auto split = run(bytes, size, 1 + (size ? data[0] % 13 : 0));
    CHECK(whole == split);
    // What the server sends parses back (after masking it as a client would).
    if (size > 0 && size < 200) {
        QByteArray frame = encodeWsFrame(WsOpcode::Binary, QByteArray(bytes, qsizetype(size)));
        const int header = frame.size() - int(size);
        frame[1] = char(frame[1] | 0x80);
        frame.insert(header, QByteArray(4, '\0')); // an all-zero mask key
        WsFrameParser back(kMax);
        back.append(frame.constData(), std::size_t(frame.size()));
        const auto ev = back.next();
        CHECK(ev && ev->kind == WsEvent::Kind::Binary &&
              ev->payload == QByteArray(bytes, qsizetype(size)));
    }
    return 0;
}
