// UdpSocket: the one UDP socket of an interface, dual-stack (IPv6 with IPV6_V6ONLY off, so IPv4
// peers appear as v4-mapped addresses and are reported as plain IPv4), falling back to IPv4
// alone where IPv6 is disabled. Batched I/O with recvmmsg/sendmmsg, plus UDP segmentation
// offload where the kernel has it: send() packs runs of equal-sized datagrams to one
// destination into a single UDP_SEGMENT message (GSO), and receive() asks for UDP_GRO so a
// burst from one peer arrives as one buffer. Either is switched off for good on the first
// error that says the path does not support it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "core/net/ipaddress.h"

namespace calnet::helper {

struct Datagram {
    std::uint8_t* data = nullptr; // buffer
    std::size_t capacity = 0;     // receive: buffer size
    std::size_t length = 0;       // receive: bytes received; send: bytes to send
    net::SocketAddress peer;      // receive: source; send: destination
    // Receive with GRO: the kernel may hand several datagrams from one source back to back in
    // one buffer, segmentSize bytes each (the last may be shorter). 0 = a single datagram.
    std::uint16_t segmentSize = 0;
};

class UdpSocket {
public:
    UdpSocket() = default;
    ~UdpSocket();
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;

    // Binds to `port` on all addresses (0 = any free port). fwmark 0 = none.
    bool open(std::uint16_t port, std::uint32_t fwmark, std::string& error);
    void close();
    [[nodiscard]] bool isOpen() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    bool setFwmark(std::uint32_t mark);
    void swap(UdpSocket& other) noexcept {
        std::swap(fd_, other.fd_);
        std::swap(v6_, other.v6_);
        std::swap(port_, other.port_);
        std::swap(gso_, other.gso_);
        std::swap(gro_, other.gro_);
    }

    // Receives up to batch.size() datagrams without blocking; returns the count (0 if none),
    // or -errno.
    int receive(std::span<Datagram> batch) noexcept;
    // Sends every datagram in order; returns how many went out (failures are skipped, not
    // retried: UDP is lossy and the protocol copes).
    int send(std::span<const Datagram> batch) noexcept;
    bool sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                 std::size_t length) noexcept;

private:
    int fd_ = -1;
    bool v6_ = false;
    bool gso_ = false;
    bool gro_ = false;
    std::uint16_t port_ = 0;
};

} // namespace calnet::helper
