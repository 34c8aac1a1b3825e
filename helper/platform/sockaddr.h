// The socket API's addresses (sockaddr_in, sockaddr_in6) to and from the core's SocketAddress,
// for the POSIX and the Winsock Binds alike. A dual-stack socket reaches an IPv4 peer through
// its IPv4-mapped IPv6 address (::ffff:a.b.c.d) and reports one the same way: the conversions
// map and unmap, so the rest of the helper only ever sees plain IPv4.
#pragma once

#include <cstddef>

#include "core/net/ipaddress.h"
#include "helper/platform/sockets.h"

namespace calnet::helper {

// Fills `ss` for a socket of the given kind (v6Socket: AF_INET6, dual-stack); the length.
std::size_t toSockaddr(const net::SocketAddress& a, bool v6Socket, sockaddr_storage& ss);
// An AF_INET or AF_INET6 address, IPv4-mapped ones as IPv4.
[[nodiscard]] net::SocketAddress fromSockaddr(const sockaddr_storage& ss);

} // namespace calnet::helper
