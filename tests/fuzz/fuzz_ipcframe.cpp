// libFuzzer target for the helper's first line of defence: FrameDecoder on bytes from any local
// user, then Request::parse and the per-method params parsers on every decoded object (and
// parseIncoming, the client's reader, on the same objects).
//
// The input is decoded three ways: in one piece, in chunks whose sizes come from the bytes at
// each chunk start, and (for small inputs) one byte at a time. All three must agree exactly,
// the decoder's buffer must stay within one frame plus header, and every error reply must fit
// in a frame. Checks use CHECK, not assert: the fuzz preset builds with NDEBUG.
#include <QJsonDocument>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "helper/ipc/frame.h"
#include "helper/ipc/protocol.h"

using namespace calnet::ipc;

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition);     \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace {

constexpr qsizetype kBufferBound = kFrameHeaderSize + qsizetype(kMaxFrameSize);
constexpr size_t kByteByByteLimit = 4096;

struct Outcome {
    std::vector<QJsonObject> objects;
    std::optional<FrameError> error;
};

// Feeds [data, data+size) in pieces of pieceSize(offset) bytes, draining after each append.
template <typename PieceSize> Outcome decode(const char* data, size_t size, PieceSize pieceSize) {
    Outcome out;
    FrameDecoder decoder;
    size_t offset = 0;
    while (offset < size) {
        const size_t piece = std::min(pieceSize(offset), size - offset);
        decoder.append(data + offset, qsizetype(piece));
        offset += piece;
        CHECK(decoder.bufferedBytes() >= 0 && decoder.bufferedBytes() <= kBufferBound);
        while (auto object = decoder.next()) {
            out.objects.push_back(std::move(*object));
        }
        if (decoder.hasError()) {
            // Input after an error must be ignored, not buffered.
            const qsizetype before = decoder.bufferedBytes();
            decoder.append(data, qsizetype(std::min<size_t>(size, 64)));
            CHECK(decoder.bufferedBytes() == before && !decoder.next());
            break;
        }
    }
    out.error = decoder.error();
    return out;
}

void checkParams(const Request& request) {
    const QJsonObject& params = request.params;
    if (request.method == kMethodProfilesImport) {
        const auto result = parseImportParams(params);
        if (const auto* ok = std::get_if<ImportParams>(&result)) {
            CHECK(ok->config.size() <= kMaxConfigBytes);
            CHECK(!ok->name || isValidProfileName(*ok->name));
        }
    } else if (request.method == kMethodProfilesRename) {
        const auto result = parseRenameParams(params);
        if (const auto* ok = std::get_if<RenameParams>(&result)) {
            CHECK(isValidProfileName(ok->name) && isValidProfileName(ok->newName));
        }
    } else if (request.method == kMethodProfilesRemove || request.method == kMethodProfilesExport) {
        const auto result = parseNameParams(params);
        if (const auto* ok = std::get_if<NameParams>(&result)) {
            CHECK(isValidProfileName(ok->name));
        }
    } else if (request.method == kMethodConnect) {
        const auto result = parseConnectParams(params);
        if (const auto* ok = std::get_if<ConnectParams>(&result)) {
            CHECK(!ok->name || isValidProfileName(*ok->name));
        }
    } else if (request.method == kMethodSubscribe) {
        const auto result = parseSubscribeParams(params);
        if (const auto* error = std::get_if<ParamsError>(&result)) {
            CHECK(!encodeFrame(error->toReply(request.id)).isEmpty());
        }
    } else {
        (void)parseNoParams(params);
    }
}

void checkObject(const QJsonObject& object) {
    // Whatever encodes within the cap decodes back to the same object.
    const QByteArray frame = encodeFrame(object);
    if (!frame.isEmpty()) {
        FrameDecoder again;
        again.feed(frame);
        CHECK(!again.hasError());
        const auto back = again.next();
        CHECK(back && *back == object);
    }

    const auto parsed = Request::parse(object);
    if (const auto* request = std::get_if<Request>(&parsed)) {
        CHECK(request->v == kProtocolVersion);
        CHECK(request->id >= 1 && request->id <= kMaxRequestId);
        CHECK(request->info && findMethod(request->method) == request->info);
        checkParams(*request);
    } else {
        const auto& error = std::get<RequestError>(parsed);
        CHECK(!error.message.isEmpty());
        CHECK(!error.id || (*error.id >= 1 && *error.id <= kMaxRequestId));
        // The helper can always answer: an error reply never outgrows a frame.
        CHECK(!encodeFrame(error.toReply()).isEmpty());
    }
    (void)parseIncoming(object);
}

bool sameOutcome(const Outcome& a, const Outcome& b) {
    return a.error == b.error && a.objects == b.objects;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto* bytes = reinterpret_cast<const char*>(data);

    const Outcome whole = decode(bytes, size, [size](size_t) { return std::max<size_t>(size, 1); });
    // Split points from the input itself: 1..64 bytes, chosen by the byte at the chunk start.
    const Outcome chunked = decode(bytes, size, [data](size_t offset) {
        return size_t(1) + (data[offset] * 37u + offset) % 64u;
    });
    CHECK(sameOutcome(whole, chunked));
    if (size <= kByteByByteLimit) {
        const Outcome single = decode(bytes, size, [](size_t) { return size_t(1); });
        CHECK(sameOutcome(whole, single));
    }

    for (const QJsonObject& object : whole.objects) {
        checkObject(object);
    }
    return 0;
}
