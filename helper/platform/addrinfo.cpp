#include "helper/platform/addrinfo.h"

#include <algorithm>
#include <cstring>

#if defined(_WIN32)
// winsock2.h before ws2tcpip.h. The caller has started Winsock (WSAStartup).
#include <winsock2.h>
#include <ws2tcpip.h>
// The narrow text (a UNICODE build's gai_strerror is the wide one).
#define CALNET_GAI_STRERROR gai_strerrorA
#else
#include <netdb.h>
#include <sys/socket.h>
#define CALNET_GAI_STRERROR gai_strerror
#endif

#include "helper/platform/sockaddr.h"

namespace calnet::helper {

std::optional<net::SocketAddress> resolveWithAddrinfo(const std::string& host, std::uint16_t port,
                                                      std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* result = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
    if (rc != 0 || !result) {
        error = "cannot resolve " + host + ": " + CALNET_GAI_STRERROR(rc);
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
