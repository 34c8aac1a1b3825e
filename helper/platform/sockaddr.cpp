#include "helper/platform/sockaddr.h"

#include <cstdint>
#include <cstring>

namespace calnet::helper {

namespace {
constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

std::size_t toSockaddr(const net::SocketAddress& a, bool v6Socket, sockaddr_storage& ss) {
    std::memset(&ss, 0, sizeof ss);
    if (!v6Socket) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a.port);
        std::memcpy(&s4->sin_addr, a.address.bytes.data(), 4);
        return sizeof *s4;
    }
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    auto* b = reinterpret_cast<std::uint8_t*>(&s6->sin6_addr);
    if (a.address.family == net::Family::V4) {
        std::memcpy(b, kMappedPrefix, sizeof kMappedPrefix);
        std::memcpy(b + 12, a.address.bytes.data(), 4);
    } else {
        std::memcpy(b, a.address.bytes.data(), 16);
    }
    return sizeof *s6;
}

net::SocketAddress fromSockaddr(const sockaddr_storage& ss) {
    net::SocketAddress out;
    if (ss.ss_family == AF_INET) {
        const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
        out.address.family = net::Family::V4;
        std::memcpy(out.address.bytes.data(), &s4->sin_addr, 4);
        out.port = ntohs(s4->sin_port);
        return out;
    }
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&s6->sin6_addr);
    if (std::memcmp(b, kMappedPrefix, sizeof kMappedPrefix) == 0) {
        out.address.family = net::Family::V4;
        std::memcpy(out.address.bytes.data(), b + 12, 4);
    } else {
        out.address.family = net::Family::V6;
        std::memcpy(out.address.bytes.data(), b, 16);
    }
    out.port = ntohs(s6->sin6_port);
    return out;
}

} // namespace calnet::helper
