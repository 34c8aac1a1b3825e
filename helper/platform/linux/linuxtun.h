// LinuxTunDevice: TunDevice on /dev/net/tun (IFF_TUN | IFF_NO_PI).
//
// With offload (IFF_VNET_HDR + TUNSETOFFLOAD) every read and write carries a 10-byte
// virtio_net_hdr and the kernel may hand over TCP segments up to 64 KiB (TSO) with checksums
// left to us: read() completes checksums and cuts super-packets into MTU-sized segments, and
// write() merges runs of one TCP flow into super-packets (offload.h), so the rest of the helper
// only ever sees plain IP packets.
//
// The interface exists as long as the object does.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "helper/platform/linux/offload.h"
#include "helper/platform/tundevice.h"

namespace calnet::helper {

class LinuxTunDevice final : public TunDevice {
public:
    // With offload, the kernel is told never to build a TSO packet of more segments than this.
    static constexpr std::uint32_t kMaxGsoSegments = 64;

    // Creates the interface `name` (at most 15 bytes). With `offload`, asks the kernel for
    // checksum and segmentation offload and falls back to plain packets where it refuses.
    static std::unique_ptr<LinuxTunDevice> create(const std::string& name, bool offload,
                                                  std::string& error);
    ~LinuxTunDevice() override;
    LinuxTunDevice(const LinuxTunDevice&) = delete;
    LinuxTunDevice& operator=(const LinuxTunDevice&) = delete;

    [[nodiscard]] const std::string& name() const override { return name_; }
    [[nodiscard]] int ifindex() const override;
    [[nodiscard]] int mtu() const override; // SIOCGIFMTU
    bool setMtu(int mtu) override;          // SIOCSIFMTU
    [[nodiscard]] std::size_t minBuffersPerRead() const override {
        return offload_ ? kMaxGsoSegments + 1 : 1;
    }
    ReadResult read(std::span<std::uint8_t*> buffers, std::span<std::size_t> sizes,
                    std::size_t capacity, std::chrono::milliseconds timeout) override;
    void write(std::span<const Packet> packets) override;
    void close() override;

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] bool offload() const noexcept { return offload_; }

private:
    LinuxTunDevice() = default;
    bool open(const std::string& name, bool offload, std::string& error);
    void release();
    // One packet; its length, 0 if none is waiting, -errno on error.
    long readOne(std::uint8_t* buffer, std::size_t capacity) noexcept;
    long writeOne(const std::uint8_t* packet, std::size_t length) noexcept;

    int fd_ = -1;
    int wakeFd_ = -1; // eventfd: close() wakes a waiting read
    std::atomic<bool> closed_{false};
    bool offload_ = false;
    std::string name_;

    // Writers share the coalescer and its scratch buffers.
    struct Writer;
    std::mutex writeMutex_;
    std::unique_ptr<Writer> writer_;
};

} // namespace calnet::helper
