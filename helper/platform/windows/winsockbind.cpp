#include "helper/platform/windows/winsockbind.h"

#include <winsock2.h>
#include <ws2tcpip.h>
// mswsock.h needs the Winsock types first.
#include <mswsock.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "helper/platform/sockaddr.h"
#include "helper/platform/windows/winerror.h"
#include "helper/platform/windows/winsock.h"

// Not every SDK names these (mingw-w64 10 lacks SIO_UDP_NETRESET); the values are Windows'.
#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif
#ifndef SIO_UDP_NETRESET
#define SIO_UDP_NETRESET _WSAIOW(IOC_VENDOR, 15)
#endif

namespace calnet::helper {

using windows::systemErrorText;

namespace {

SOCKET asSocket(std::uintptr_t s) {
    return static_cast<SOCKET>(s);
}

} // namespace

std::unique_ptr<Bind> WinsockBind::open(std::uint16_t port, std::string& error) {
    if (!windows::startWinsock(error))
        return nullptr;
    std::unique_ptr<WinsockBind> bind(new WinsockBind);
    bind->readEvent_ = ::WSACreateEvent();
    bind->closeEvent_ = ::WSACreateEvent();
    if (bind->readEvent_ == WSA_INVALID_EVENT || bind->closeEvent_ == WSA_INVALID_EVENT) {
        error = "WSACreateEvent: " + systemErrorText(DWORD(::WSAGetLastError()));
        return nullptr;
    }
    if (!bind->bindPort(port, error))
        return nullptr;
    return bind;
}

WinsockBind::~WinsockBind() {
    if (asSocket(socket_) != INVALID_SOCKET)
        ::closesocket(asSocket(socket_));
    for (void* event : {readEvent_, closeEvent_})
        if (event && event != WSA_INVALID_EVENT)
            ::WSACloseEvent(event);
}

bool WinsockBind::bindPort(std::uint16_t port, std::string& error) {
    // Not inherited by the programs calnetd starts.
    const auto open = [](int family) {
        SOCKET s =
            ::WSASocketW(family, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, WSA_FLAG_NO_HANDLE_INHERIT);
        if (s == INVALID_SOCKET && ::WSAGetLastError() == WSAEINVAL) // before Windows 7 SP1
            s = ::WSASocketW(family, SOCK_DGRAM, IPPROTO_UDP, nullptr, 0, 0);
        return s;
    };
    SOCKET s = open(AF_INET6);
    const bool v6 = s != INVALID_SOCKET;
    if (v6) {
        const DWORD off = 0;
        ::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<const char*>(&off), sizeof off);
    } else {
        s = open(AF_INET); // IPv6 is not installed
        if (s == INVALID_SOCKET) {
            error = "socket: " + systemErrorText(DWORD(::WSAGetLastError()));
            return false;
        }
    }
    socket_ = std::uintptr_t(s);
    for (const int option : {SO_RCVBUF, SO_SNDBUF})
        ::setsockopt(s, SOL_SOCKET, option, reinterpret_cast<const char*>(&kSocketBufferBytes),
                     sizeof kSocketBufferBytes);
    // See the header: no ICMP unreachable may surface as a failed recvfrom. Best effort: if
    // the system refuses, receive() still skips such errors.
    for (const DWORD code : {DWORD(SIO_UDP_CONNRESET), DWORD(SIO_UDP_NETRESET)}) {
        BOOL report = FALSE;
        DWORD bytes = 0;
        ::WSAIoctl(s, code, &report, sizeof report, nullptr, 0, &bytes, nullptr, nullptr);
    }

    sockaddr_storage ss{};
    int len;
    if (v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = ::htons(port);
        len = sizeof *s6;
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = ::htonl(INADDR_ANY);
        s4->sin_port = ::htons(port);
        len = sizeof *s4;
    }
    if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) == SOCKET_ERROR) {
        error = "bind port " + std::to_string(port) + ": " +
                systemErrorText(DWORD(::WSAGetLastError()));
        return false;
    }
    len = sizeof ss;
    if (::getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) == SOCKET_ERROR) {
        error = "getsockname: " + systemErrorText(DWORD(::WSAGetLastError()));
        return false;
    }
    port_ = fromSockaddr(ss).port;
    // FD_READ signals readEvent_; this also makes the socket non-blocking, so drain() stops at
    // WSAEWOULDBLOCK and a full send buffer drops a datagram instead of stalling a sender.
    if (::WSAEventSelect(s, readEvent_, FD_READ) == SOCKET_ERROR) {
        error = "WSAEventSelect: " + systemErrorText(DWORD(::WSAGetLastError()));
        return false;
    }
    v6_ = v6;
    return true;
}

bool WinsockBind::setFwmark(std::uint32_t mark) {
    if (mark == 0)
        return true;
    errno = ENOTSUP;
    return false;
}

int WinsockBind::drain(std::span<Datagram> batch) noexcept {
    const SOCKET s = asSocket(socket_);
    int n = 0;
    while (std::size_t(n) < batch.size()) {
        Datagram& d = batch[std::size_t(n)];
        sockaddr_storage ss;
        int len = sizeof ss;
        const int got = ::recvfrom(s, reinterpret_cast<char*>(d.data),
                                   int(std::min<std::size_t>(d.capacity, INT_MAX)), 0,
                                   reinterpret_cast<sockaddr*>(&ss), &len);
        if (got == SOCKET_ERROR) {
            const int e = ::WSAGetLastError();
            if (e == WSAEWOULDBLOCK)
                break;
            // Per-datagram failures: an ICMP report the ioctls above did not silence, or a
            // datagram larger than the buffer (Windows discards its rest). Skip it.
            if (e == WSAECONNRESET || e == WSAENETRESET || e == WSAEMSGSIZE)
                continue;
            return n > 0 ? n : -e;
        }
        d.length = std::size_t(got);
        d.peer = fromSockaddr(ss);
        d.segmentSize = 0;
        ++n;
    }
    return n;
}

int WinsockBind::receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept {
    if (closed_)
        return kClosed;
    if (batch.empty())
        return 0;
    // Reset before reading: every recvfrom re-arms FD_READ, so a datagram that arrives after
    // the reset signals the event again and the wait below cannot miss it.
    ::WSAResetEvent(readEvent_);
    const int n = drain(batch);
    if (n != 0)
        return n;
    const WSAEVENT events[2] = {closeEvent_, readEvent_}; // close first: it wins a tie
    const DWORD wait =
        timeout.count() <= 0
            ? 0
            : DWORD(std::min<std::chrono::milliseconds::rep>(timeout.count(), WSA_INFINITE - 1));
    const DWORD woke = ::WSAWaitForMultipleEvents(2, events, FALSE, wait, FALSE);
    if (woke == WSA_WAIT_EVENT_0 || closed_)
        return kClosed;
    if (woke == WSA_WAIT_TIMEOUT)
        return 0;
    if (woke != WSA_WAIT_EVENT_0 + 1)
        return -::WSAGetLastError();
    ::WSAResetEvent(readEvent_);
    return drain(batch);
}

bool WinsockBind::sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                          std::size_t length) noexcept {
    if (to.address.family == net::Family::V6 && !v6_)
        return false; // an IPv4-only host cannot reach an IPv6 peer
    if (length > std::size_t(INT_MAX))
        return false;
    sockaddr_storage ss;
    const int len = int(toSockaddr(to, v6_, ss));
    return ::sendto(asSocket(socket_), reinterpret_cast<const char*>(data), int(length), 0,
                    reinterpret_cast<const sockaddr*>(&ss), len) == int(length);
}

int WinsockBind::send(std::span<const Datagram> batch) noexcept {
    int sent = 0;
    for (const Datagram& d : batch)
        if (sendOne(d.peer, d.data, d.length))
            ++sent;
    return sent;
}

void WinsockBind::close() {
    closed_ = true;
    ::WSASetEvent(closeEvent_);
}

} // namespace calnet::helper
