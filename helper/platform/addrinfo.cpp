#include "helper/platform/addrinfo.h"

#include <algorithm>
#include <cstring>

#include "helper/platform/sockaddr.h"
#include "helper/platform/sockets.h"

namespace calnet::helper {

std::optional<net::SocketAddress> resolveWithAddrinfo(const std::string& host, std::uint16_t port,
                                                      std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* result = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
    if (rc != 0 || !result) {
        error = "cannot resolve " + host + ": " + gaiErrorText(rc);
        return std::nullopt;
    }
    sockaddr_storage ss{};
    std::memcpy(&ss, result->ai_addr, std::min<std::size_t>(result->ai_addrlen, sizeof ss));
    net::SocketAddress out = fromSockaddr(ss);
    out.port = port;
    ::freeaddrinfo(result);
    return out;
}

} // namespace calnet::helper
