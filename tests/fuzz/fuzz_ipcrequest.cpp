// libFuzzer target for the IPC request JSON itself (fuzz_ipcframe reaches it through frames; this
// one mutates the JSON text directly, so the fuzzer explores fields and types rather than frame
// headers): every object the JSON parser yields goes through Request::parse and the params
// parser of its method; accepted requests satisfy the method table, refused ones get an error
// reply that fits in a frame.
#include <QJsonDocument>

#include <cstddef>
#include <cstdint>

#include "fuzzcheck.h"
#include "helper/ipc/frame.h"
#include "helper/ipc/protocol.h"

using namespace calnet::ipc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QJsonDocument doc =
        QJsonDocument::fromJson(QByteArray(reinterpret_cast<const char*>(data), qsizetype(size)));
    if (!doc.isObject())
        return 0;
    const auto parsed = Request::parse(doc.object());
    if (const auto* request = std::get_if<Request>(&parsed)) {
        CHECK(request->v == kProtocolVersion);
        CHECK(request->id >= 1 && request->id <= kMaxRequestId);
        CHECK(request->info && findMethod(request->method) == request->info);
        if (request->method == kMethodProfilesImport) {
            const auto r = parseImportParams(request->params);
            if (const auto* ok = std::get_if<ImportParams>(&r))
                CHECK(ok->config.size() <= kMaxConfigBytes);
        } else if (request->method == kMethodConnect) {
            const auto r = parseConnectParams(request->params);
            if (const auto* ok = std::get_if<ConnectParams>(&r))
                CHECK(!ok->name || isValidProfileName(*ok->name));
        } else if (request->method == kMethodProfilesRename) {
            const auto r = parseRenameParams(request->params);
            if (const auto* ok = std::get_if<RenameParams>(&r))
                CHECK(isValidProfileName(ok->name) && isValidProfileName(ok->newName));
        } else if (request->method == kMethodSubscribe) {
            const auto r = parseSubscribeParams(request->params);
            if (const auto* e = std::get_if<ParamsError>(&r))
                CHECK(!encodeFrame(e->toReply(request->id)).isEmpty());
        }
    } else {
        const auto& error = std::get<RequestError>(parsed);
        CHECK(!error.message.isEmpty());
        CHECK(!encodeFrame(error.toReply()).isEmpty());
    }
    return 0;
}
