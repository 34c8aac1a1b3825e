// TunDevice: a layer-3 tunnel interface as the data path sees it. One short interface with an
// implementation per OS (platform/linux: /dev/net/tun; Windows: Wintun; macOS: utun) and a fake
// for tests (platform/fake).
//
// Packets are moved in batches. Each buffer handed to read() or write() has kHeadroom writable
// bytes before it that the device may use for its own framing (Linux: the virtio header), so
// no packet is copied to make room. One thread reads and any threads write; close() unblocks a
// read that is waiting.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace calnet::helper {

class TunDevice {
public:
    // Bytes before every buffer that read() and write() may overwrite.
    static constexpr std::size_t kHeadroom = 16;

    struct ReadResult {
        std::size_t packets = 0;   // buffers filled, from the first
        std::size_t malformed = 0; // packets the device dropped (bad offload metadata)
        int error = 0;             // errno of a failed read, 0 if none
        bool gone = false;         // the interface was removed or closed: stop reading
    };

    struct Packet {
        std::uint8_t* data = nullptr; // kHeadroom writable bytes before it
        std::size_t length = 0;
    };

    virtual ~TunDevice() = default;

    [[nodiscard]] virtual const std::string& name() const = 0;
    // The OS's index of the interface (Linux ifindex, Windows IfIndex), 0 if it is gone.
    [[nodiscard]] virtual int ifindex() const = 0;
    // 0 if the interface is gone.
    [[nodiscard]] virtual int mtu() const = 0;
    virtual bool setMtu(int mtu) = 0;
    // The fewest free buffers read() needs to take one more packet of the OS: 1, or more where
    // one TCP segmentation offload super-packet is cut into several packets (plus a spare).
    [[nodiscard]] virtual std::size_t minBuffersPerRead() const = 0;

    // Waits up to `timeout` for packets, then reads what is waiting while at least
    // minBuffersPerRead() buffers are left (each `capacity` bytes after its headroom). Packet i
    // ends up in buffers[i], sizes[i] long: the device may reorder the buffer pointers to avoid
    // a copy. packets == 0 on timeout or after close().
    virtual ReadResult read(std::span<std::uint8_t*> buffers, std::span<std::size_t> sizes,
                            std::size_t capacity, std::chrono::milliseconds timeout) = 0;
    // Writes every packet, in order (the device may merge runs of one TCP flow when the OS
    // takes offload packets). Safe to call from several threads.
    virtual void write(std::span<const Packet> packets) = 0;
    // Unblocks a waiting read(); later reads return gone. The interface itself goes when the
    // object is destroyed.
    virtual void close() = 0;
};

} // namespace calnet::helper
