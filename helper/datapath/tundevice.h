// TunDevice: a layer-3 TUN interface (Linux: /dev/net/tun with IFF_TUN | IFF_NO_PI).
//
// The interface exists as long as the descriptor is open; close() (or destruction) removes it.
// read()/write() move one IP packet each and are safe to call from two different threads (one
// reader, one writer). The descriptor is non-blocking; waitReadable() blocks with a wake-up fd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace calnet::helper {

class TunDevice {
public:
    // With offload, the kernel is told never to build a TSO packet of more segments than this.
    static constexpr std::uint32_t kMaxGsoSegments = 64;

    TunDevice() = default;
    ~TunDevice();
    TunDevice(const TunDevice&) = delete;
    TunDevice& operator=(const TunDevice&) = delete;

    // Creates the interface `name` (at most 15 bytes). Returns false and sets error on failure.
    // With `offload`, every read and write carries a 10-byte virtio_net_hdr and the kernel may
    // hand us TCP segments up to 64 KiB (TSO) with checksums left to us (see offload.h);
    // offload() tells whether the kernel agreed.
    bool open(const std::string& name, bool offload, std::string& error);
    void close();

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] bool offload() const noexcept { return offload_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] int ifindex() const;

    // MTU through SIOCGIFMTU/SIOCSIFMTU. mtu() returns 0 if the interface is gone.
    [[nodiscard]] int mtu() const;
    bool setMtu(int mtu);

    // One packet; returns its length, 0 if none is waiting (EAGAIN), -errno on error.
    long read(std::uint8_t* buffer, std::size_t capacity) noexcept;
    long write(const std::uint8_t* packet, std::size_t length) noexcept;

private:
    int fd_ = -1;
    bool offload_ = false;
    std::string name_;
};

} // namespace calnet::helper
