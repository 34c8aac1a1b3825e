// libFuzzer target for the STUN codec (core/net/stun.h), which reads datagrams from anyone: the
// server's Binding request parser and calnetd's response parser. Whatever parses as a request
// gets an answer no larger than itself that decodes back to the source it names; whatever
// parses as a response names an IPv4 or IPv6 address; looksLikeStun() holds for both.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/net/stun.h"
#include "fuzzcheck.h"

using namespace calnet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    if (const auto request = stun::parseBindingRequest(in)) {
        CHECK(stun::looksLikeStun(in));
        net::SocketAddress source;
        source.address.family = size % 2 == 0 ? net::Family::V4 : net::Family::V6;
        for (std::size_t i = 0; i < 16 && i < size; ++i)
            source.address.bytes[i] =
                source.address.family == net::Family::V4 && i >= 4 ? 0 : data[i];
        source.port = std::uint16_t(size * 257);
        const auto answer = stun::encodeBindingSuccess(request->id, source, size);
        CHECK(answer.size() <= size);
        if (!answer.empty()) {
            const auto decoded = stun::parseBindingResponse(answer);
            CHECK(decoded.has_value());
            CHECK(decoded->id == request->id);
            CHECK(decoded->mapped == source);
        }
        CHECK(!stun::parseBindingResponse(in).has_value());
    }
    if (const auto response = stun::parseBindingResponse(in)) {
        CHECK(stun::looksLikeStun(in));
        CHECK(response->mapped.address.family == net::Family::V4 ||
              response->mapped.address.family == net::Family::V6);
    }
    return 0;
}
