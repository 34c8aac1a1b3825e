// Name resolution through the C library's getaddrinfo (POSIX and Winsock alike), for
// Platform::resolve(): the first address the system's resolver prefers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/net/ipaddress.h"

namespace calnet::helper {

[[nodiscard]] std::optional<net::SocketAddress>
resolveWithAddrinfo(const std::string& host, std::uint16_t port, std::string& error);

} // namespace calnet::helper
