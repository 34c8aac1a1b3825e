#include "helper/platform/linux/linuxtun.h"

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <array>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace calnet::helper {

namespace {

// SIOC[GS]IFMTU want any socket; a throwaway datagram socket is what ip(8) uses too.
int ifreqIoctl(unsigned long request, ifreq& ifr) {
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        s = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    const int rc = ::ioctl(s, request, &ifr);
    const int err = errno;
    ::close(s);
    return rc < 0 ? -err : 0;
}

// Sets IFLA_GSO_MAX_SEGS of an interface through rtnetlink (what `ip link set dev X
// gso_max_segs N` does). The kernel then never builds a TSO packet of more segments, whatever
// MSS the remote end advertises, which bounds the buffers one TUN read can need.
bool setGsoMaxSegments(int ifindex, std::uint32_t segments) {
    const int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return false;
    struct {
        nlmsghdr nh;
        ifinfomsg ifi;
        alignas(NLMSG_ALIGNTO) char attrs[RTA_SPACE(sizeof(std::uint32_t))];
    } req{};
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg)) + RTA_SPACE(sizeof(std::uint32_t));
    req.nh.nlmsg_type = RTM_NEWLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.nh.nlmsg_seq = 1;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = ifindex;
    auto* rta = reinterpret_cast<rtattr*>(req.attrs);
    rta->rta_type = IFLA_GSO_MAX_SEGS;
    rta->rta_len = RTA_LENGTH(sizeof(std::uint32_t));
    std::memcpy(RTA_DATA(rta), &segments, sizeof segments);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    bool ok = ::sendto(s, &req, req.nh.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                       sizeof kernel) == ssize_t(req.nh.nlmsg_len);
    if (ok) {
        alignas(nlmsghdr) char reply[512];
        const ssize_t n = ::recv(s, reply, sizeof reply, 0);
        const auto* rh = reinterpret_cast<const nlmsghdr*>(reply);
        ok = n >= ssize_t(NLMSG_LENGTH(sizeof(nlmsgerr))) && rh->nlmsg_type == NLMSG_ERROR &&
             reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(rh))->error == 0;
    }
    ::close(s);
    return ok;
}

} // namespace

// Buffers and state of write(): the coalescer and its scratch super-packets.
struct LinuxTunDevice::Writer {
    static constexpr std::size_t kScratchBuffers = 16; // super-packets built per pass
    offload::TcpCoalescer coalescer{4096};
    std::vector<std::uint8_t> scratch =
        std::vector<std::uint8_t>(kScratchBuffers * offload::kScratchLen);
    std::array<std::uint8_t*, kScratchBuffers> scratchBuffers{};
    std::vector<offload::TcpCoalescer::Input> inputs;
    std::vector<offload::TcpCoalescer::Output> outputs;

    Writer() {
        for (std::size_t i = 0; i < kScratchBuffers; ++i)
            scratchBuffers[i] = scratch.data() + i * offload::kScratchLen;
        inputs.reserve(4096);
        outputs.reserve(4096);
    }
};

std::unique_ptr<LinuxTunDevice> LinuxTunDevice::create(const std::string& name, bool offload,
                                                       std::string& error) {
    std::unique_ptr<LinuxTunDevice> tun(new LinuxTunDevice);
    if (!tun->open(name, offload, error))
        return nullptr;
    tun->wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (tun->wakeFd_ < 0) {
        error = std::string("eventfd: ") + std::strerror(errno);
        return nullptr;
    }
    tun->writer_ = std::make_unique<Writer>();
    return tun;
}

LinuxTunDevice::~LinuxTunDevice() {
    release();
    if (wakeFd_ >= 0)
        ::close(wakeFd_);
}

bool LinuxTunDevice::open(const std::string& name, bool offload, std::string& error) {
    if (name.empty() || name.size() >= IFNAMSIZ) {
        error = "interface name must be 1 to 15 bytes";
        return false;
    }
    const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        error = std::string("open /dev/net/tun: ") + std::strerror(errno);
        return false;
    }
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error = "TUNSETIFF " + name + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    offload_ = false;
    if (offload) {
        // Checksums and TCP segmentation for IPv4 and IPv6 are left to us; if the kernel
        // refuses, we still speak the virtio header but get plain packets.
        const unsigned flags = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        int hdrLen = 10;
        ::ioctl(fd, TUNSETVNETHDRSZ, &hdrLen);
        if (::ioctl(fd, TUNSETOFFLOAD, flags) < 0) {
            // No offload here: start over without the virtio header at all.
            ::close(fd);
            return open(name, false, error);
        }
        offload_ = true;
    }
    fd_ = fd;
    name_ = ifr.ifr_name;
    if (offload_ && !setGsoMaxSegments(ifindex(), kMaxGsoSegments)) {
        // Without the cap a small peer MSS could produce reads we cannot split: no offload.
        release();
        return open(name, false, error);
    }
    return true;
}

void LinuxTunDevice::release() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void LinuxTunDevice::close() {
    closed_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakeFd_, &one, sizeof one);
}

int LinuxTunDevice::ifindex() const {
    return int(::if_nametoindex(name_.c_str()));
}

int LinuxTunDevice::mtu() const {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    return ifreqIoctl(SIOCGIFMTU, ifr) < 0 ? 0 : ifr.ifr_mtu;
}

bool LinuxTunDevice::setMtu(int mtu) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    ifr.ifr_mtu = mtu;
    return ifreqIoctl(SIOCSIFMTU, ifr) == 0;
}

long LinuxTunDevice::readOne(std::uint8_t* buffer, std::size_t capacity) noexcept {
    const ssize_t n = ::read(fd_, buffer, capacity);
    if (n >= 0)
        return long(n);
    if (errno == EAGAIN || errno == EINTR)
        return 0;
    return -errno;
}

long LinuxTunDevice::writeOne(const std::uint8_t* packet, std::size_t length) noexcept {
    for (;;) {
        const ssize_t n = ::write(fd_, packet, length);
        if (n >= 0)
            return long(n);
        if (errno != EINTR)
            return -errno;
    }
}

TunDevice::ReadResult LinuxTunDevice::read(std::span<std::uint8_t*> buffers,
                                           std::span<std::size_t> sizes, std::size_t capacity,
                                           std::chrono::milliseconds timeout) {
    ReadResult result;
    if (closed_ || fd_ < 0) {
        result.gone = true;
        return result;
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, int(timeout.count()));
    if (ready <= 0)
        return result;
    if (fds[1].revents & POLLIN) {
        result.gone = true;
        return result;
    }
    const std::size_t need = minBuffersPerRead();
    std::size_t n = 0;
    while (buffers.size() - n >= need) {
        // With offload the virtio header lands in the headroom right before the packet.
        std::uint8_t* at = offload_ ? buffers[n] - offload::kVirtioNetHdrLen : buffers[n];
        const long len = readOne(at, offload_ ? capacity + offload::kVirtioNetHdrLen : capacity);
        if (len == 0)
            break;
        if (len < 0) {
            result.error = int(-len);
            result.gone = len == -EBADFD || len == -EIO || len == -ENODEV; // interface gone
            break;
        }
        if (!offload_) {
            sizes[n++] = std::size_t(len);
            continue;
        }
        if (std::size_t(len) < offload::kVirtioNetHdrLen) {
            ++result.malformed;
            continue;
        }
        const auto hdr = offload::VirtioNetHdr::decode(at);
        const auto packet =
            std::span<std::uint8_t>(buffers[n], std::size_t(len) - offload::kVirtioNetHdrLen);
        if (hdr.gsoType == offload::kVirtioNetHdrGsoNone) {
            if (!offload::completeChecksum(hdr, packet)) {
                ++result.malformed;
                continue;
            }
            sizes[n++] = packet.size();
            continue;
        }
        // A TSO super-packet: cut it into MTU-sized segments in the following buffers, then
        // move its own buffer behind them so the packets stay contiguous.
        const int count = offload::segmentCount(hdr, packet);
        if (count <= 0 || std::size_t(count) > kMaxGsoSegments) {
            ++result.malformed;
            continue;
        }
        const auto out = buffers.subspan(n + 1, std::size_t(count));
        const int made =
            offload::segment(hdr, packet, out, capacity, sizes.subspan(n, std::size_t(count)));
        if (made <= 0) {
            ++result.malformed;
            continue;
        }
        std::rotate(buffers.begin() + std::ptrdiff_t(n), buffers.begin() + std::ptrdiff_t(n) + 1,
                    buffers.begin() + std::ptrdiff_t(n) + 1 + made);
        n += std::size_t(made);
    }
    result.packets = n;
    return result;
}

void LinuxTunDevice::write(std::span<const Packet> packets) {
    if (!offload_) {
        for (const Packet& p : packets)
            writeOne(p.data, p.length);
        return;
    }
    // Merge runs of one TCP flow into super-packets: one write and one pass through the
    // kernel's TCP receive path instead of dozens.
    std::lock_guard lock(writeMutex_);
    Writer& w = *writer_;
    w.inputs.clear();
    for (const Packet& p : packets)
        w.inputs.push_back({p.data, p.length});
    for (std::size_t done = 0; done < w.inputs.size();) {
        done += w.coalescer.build(std::span(w.inputs).subspan(done), w.scratchBuffers, w.outputs);
        for (const auto& out : w.outputs)
            writeOne(out.data, out.length);
    }
}

} // namespace calnet::helper
