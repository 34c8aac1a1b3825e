// Winsock: what helper/platform/sockets.h promises, on Windows. The caller has started Winsock
// (WSAStartup) before it resolves anything.
#pragma once

// winsock2.h before ws2tcpip.h.
#include <winsock2.h>
#include <ws2ipdef.h>
#include <ws2tcpip.h>

namespace calnet::helper {

// The narrow text: a UNICODE build's gai_strerror is the wide one.
inline const char* gaiErrorText(int code) {
    return ::gai_strerrorA(code);
}

} // namespace calnet::helper
