// libFuzzer target for calnet-server's HTTP request path: HttpParser on bytes from anyone on the
// internet, fed whole and in chunks whose sizes come from the input. Both must reach the same
// end (same requests, same error status), the parser must never hold more than its limits
// allow, and every completed request must satisfy what the parser promises (origin-form
// target, a known version, a body within the limit, one Host for HTTP/1.1, never both
// Content-Length and chunked).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzzcheck.h"
#include "server/http/httpparser.h"

using calnet::server::http::HttpParser;
using calnet::server::http::Request;

namespace {

struct Outcome {
    std::vector<QByteArray> requests; // method, target, body of each completed request
    int errorStatus = 0;
};

void checkRequest(const Request& r) {
    CHECK(!r.method.isEmpty());
    CHECK(r.target.startsWith('/'));
    CHECK(r.path.size() <= r.target.size());
    CHECK(r.version == 10 || r.version == 11);
    CHECK(std::size_t(r.body.size()) <= HttpParser::Limits{}.maxBody);
    if (r.version == 11) {
        int hosts = 0;
        for (const auto& h : r.headers)
            hosts += h.first == "host";
        CHECK(hosts == 1);
    }
    CHECK(!(r.chunked && r.hasHeader("content-length")));
    CHECK(r.headers.size() <= HttpParser::kMaxHeaderFields);
}

template <class Piece> Outcome run(const char* data, std::size_t size, Piece piece) {
    Outcome out;
    HttpParser p;
    std::size_t offset = 0;
    HttpParser::State s = HttpParser::State::NeedMore;
    // Feed until the input is used up, then drain what is buffered (pipelined requests).
    for (int guard = 0; guard < 100000; ++guard) {
        if (s == HttpParser::State::NeedMore) {
            if (offset >= size)
                break;
            const std::size_t n = std::min(piece(offset), size - offset);
            s = p.feed(data + offset, n);
            offset += n;
            CHECK(p.buffered() <= HttpParser::kMaxHeadBytes + 65536 + n);
        } else if (s == HttpParser::State::HeadReady) {
            s = p.acceptBody();
        } else if (s == HttpParser::State::Complete) {
            checkRequest(p.request());
            out.requests.push_back(p.request().method + ' ' + p.request().target + ' ' +
                                   p.request().body);
            s = p.reset();
        } else {
            out.errorStatus = p.status();
            CHECK(p.status() >= 400 && p.status() < 600);
            CHECK(p.reason() && *p.reason());
            break;
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto* bytes = reinterpret_cast<const char*>(data);
    const Outcome whole =
        run(bytes, size, [size](std::size_t) { return std::max<std::size_t>(size, 1); });
    const Outcome chunked = run(bytes, size, [data](std::size_t offset) {
        return std::size_t(1) + (data[offset] * 31u + offset) % 97u;
    });
    CHECK(whole.requests == chunked.requests);
    CHECK(whole.errorStatus == chunked.errorStatus);
    return 0;
}
