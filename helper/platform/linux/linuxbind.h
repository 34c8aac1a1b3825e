// LinuxBind: Bind on one dual-stack UDP socket (IPv6 with IPV6_V6ONLY off, so IPv4 peers
// appear as v4-mapped addresses and are reported as plain IPv4), falling back to IPv4 alone
// where IPv6 is disabled. Batched I/O with recvmmsg/sendmmsg, plus UDP segmentation offload
// where the kernel has it: send() packs runs of equal-sized datagrams to one destination into
// a single UDP_SEGMENT message (GSO), and receive() asks for UDP_GRO so a burst from one peer
// arrives as one buffer. Either is switched off for good on the first error that says the path
// does not support it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "helper/platform/bind.h"

namespace calnet::helper {

class LinuxBind final : public Bind {
public:
    // Binds to `port` on all addresses (0 = any free port). fwmark 0 = none.
    static std::unique_ptr<LinuxBind> open(std::uint16_t port, std::uint32_t fwmark,
                                           std::string& error);
    ~LinuxBind() override;
    LinuxBind(const LinuxBind&) = delete;
    LinuxBind& operator=(const LinuxBind&) = delete;

    [[nodiscard]] std::uint16_t port() const override { return port_; }
    bool setFwmark(std::uint32_t mark) override; // SO_MARK
    int receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept override;
    int send(std::span<const Datagram> batch) noexcept override;
    bool sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                 std::size_t length) noexcept override;
    void close() override;

    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    LinuxBind() = default;
    bool bindPort(std::uint16_t port, std::uint32_t fwmark, std::string& error);

    int fd_ = -1;
    int wakeFd_ = -1; // eventfd: close() wakes a waiting receive
    std::atomic<bool> closed_{false};
    bool v6_ = false;
    bool gso_ = false;
    bool gro_ = false;
    std::uint16_t port_ = 0;
};

} // namespace calnet::helper
