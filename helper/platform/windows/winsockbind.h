// WinsockBind: Bind on one dual-stack Winsock UDP socket (IPv6 with IPV6_V6ONLY off, so IPv4
// peers appear as v4-mapped addresses and are reported as plain IPv4), falling back to IPv4
// alone where the host has no IPv6. One recvfrom/sendto per datagram: no GSO/GRO, so
// segmentSize is always 0.
//
// receive() returns, like every Bind, the count, 0 on timeout or kClosed after close(); any
// other failure is the negative Winsock error code (-WSAGetLastError(), e.g. -10050 for
// WSAENETDOWN), which stays well above kClosed.
//
// Windows reports an ICMP port or network unreachable for an earlier sendto as a failed
// recvfrom (WSAECONNRESET / WSAENETRESET) on an unconnected UDP socket; one peer that went away
// would then disturb everyone's traffic. Both reports are switched off (SIO_UDP_CONNRESET,
// SIO_UDP_NETRESET), as wireguard-go does.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "helper/platform/bind.h"

namespace calnet::helper {

class WinsockBind final : public Bind {
public:
    static constexpr int kSocketBufferBytes = 4 << 20; // room for bursts at Gbit/s

    // Binds to `port` on all addresses (0 = any free port).
    static std::unique_ptr<Bind> open(std::uint16_t port, std::string& error);
    ~WinsockBind() override;
    WinsockBind(const WinsockBind&) = delete;
    WinsockBind& operator=(const WinsockBind&) = delete;

    [[nodiscard]] std::uint16_t port() const override { return port_; }
    // Windows has no per-socket routing mark: only 0 (none) is accepted. The network
    // configurator keeps the tunnel's own UDP out of the tunnel with routes to the peers'
    // endpoints over the physical interface instead (errno = ENOTSUP for any other mark).
    bool setFwmark(std::uint32_t mark) override;
    int receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept override;
    int send(std::span<const Datagram> batch) noexcept override;
    bool sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                 std::size_t length) noexcept override;
    void close() override;

    // Whether the socket is dual-stack (false: IPv4 only).
    [[nodiscard]] bool dualStack() const noexcept { return v6_; }

private:
    WinsockBind() = default;
    bool bindPort(std::uint16_t port, std::string& error);
    // recvfrom until the socket has nothing more or the batch is full: the count, or the
    // negative Winsock error if the first one failed.
    int drain(std::span<Datagram> batch) noexcept;

    std::uintptr_t socket_ = ~std::uintptr_t(0); // SOCKET; INVALID_SOCKET until bound
    void* readEvent_ = nullptr;                  // WSAEVENT: FD_READ on the socket
    void* closeEvent_ = nullptr;                 // WSAEVENT: close() wakes a waiting receive
    std::atomic<bool> closed_{false};
    bool v6_ = false;
    std::uint16_t port_ = 0;
};

} // namespace calnet::helper
