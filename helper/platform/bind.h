// Bind: the UDP socket of a WireGuard interface as the data path sees it (wireguard-go's
// conn.Bind). An implementation per OS (platform/linux: recvmmsg/sendmmsg with UDP GSO/GRO;
// Windows: Winsock) and a fake for tests (platform/fake).
//
// One thread receives; any threads send. close() unblocks a receive that is waiting, and the
// thread that owns the Bind destroys it only after the receiving thread has returned.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

#include "core/net/ipaddress.h"

namespace calnet::helper {

struct Datagram {
    std::uint8_t* data = nullptr; // buffer
    std::size_t capacity = 0;     // receive: buffer size
    std::size_t length = 0;       // receive: bytes received; send: bytes to send
    net::SocketAddress peer;      // receive: source; send: destination
    // Receive with GRO: the OS may hand several datagrams from one source back to back in one
    // buffer, segmentSize bytes each (the last may be shorter). 0 = a single datagram.
    std::uint16_t segmentSize = 0;
};

class Bind {
public:
    // receive()'s result once close() was called (below every -errno).
    static constexpr int kClosed = std::numeric_limits<int>::min();

    virtual ~Bind() = default;

    // The bound port (the one the OS picked if 0 was asked for).
    [[nodiscard]] virtual std::uint16_t port() const = 0;
    // Marks outgoing packets for policy routing (Linux SO_MARK). false where the OS has no such
    // mark (and mark != 0) or it failed; errno says why.
    virtual bool setFwmark(std::uint32_t mark) = 0;

    // Waits up to `timeout` for datagrams and receives up to batch.size() of them: the count,
    // 0 on timeout, kClosed after close(), or another negative errno.
    virtual int receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept = 0;
    // Sends every datagram in order; returns how many went out (failures are skipped, not
    // retried: UDP is lossy and the protocol copes).
    virtual int send(std::span<const Datagram> batch) noexcept = 0;
    virtual bool sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                         std::size_t length) noexcept = 0;
    // Unblocks a waiting receive(); later receives return kClosed. Sending keeps working until
    // the Bind is destroyed, so packets queued during a rebind still leave.
    virtual void close() = 0;
};

} // namespace calnet::helper
