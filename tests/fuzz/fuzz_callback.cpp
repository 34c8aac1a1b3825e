// libFuzzer target for the sign-in's loopback receiver (app/signin/loopbackreceiver.h
// parseCallback): the head of any request a local program or web page can send to it. Whatever
// the bytes, a code comes out only for a GET of /callback on Host 127.0.0.1:PORT carrying the
// state, exactly once, and then the code is not empty.
#include <cstddef>
#include <cstdint>

#include <QUrlQuery>

#include "app/signin/loopbackreceiver.h"
#include "fuzzcheck.h"

using calnet::signin::Callback;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray head(reinterpret_cast<const char*>(data), qsizetype(size));
    const QString state = QStringLiteral("st4te");
    const Callback c = calnet::signin::parseCallback(head, 43210, state);
    if (c.kind == Callback::Kind::Code || c.kind == Callback::Kind::NoCode ||
        c.kind == Callback::Kind::ProviderError) {
        CHECK(head.startsWith("GET /callback?"));
        CHECK(head.contains("127.0.0.1:43210"));
        CHECK(head.contains("st4te") || head.contains("%73") || head.contains("%74") ||
              head.contains("%34") || head.contains("%61") || head.contains("%65"));
    }
    if (c.kind == Callback::Kind::Code)
        CHECK(!c.code.isEmpty());
    return 0;
}
