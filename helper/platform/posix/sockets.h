// BSD sockets: what helper/platform/sockets.h promises, on POSIX.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace calnet::helper {

inline const char* gaiErrorText(int code) {
    return ::gai_strerror(code);
}

} // namespace calnet::helper
