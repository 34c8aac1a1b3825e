// The socket API's declarations for the code both Binds share (sockaddr.h, addrinfo.h): BSD
// sockets on POSIX, Winsock on Windows, and gaiErrorText() for getaddrinfo's error codes.
#pragma once

#if defined(_WIN32)
#include "helper/platform/windows/sockets.h"
#else
#include "helper/platform/posix/sockets.h"
#endif
