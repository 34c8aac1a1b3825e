// Linux half of TunDevice.
#include "helper/datapath/tundevice.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
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

TunDevice::~TunDevice() {
    close();
}

bool TunDevice::open(const std::string& name, bool offload, std::string& error) {
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
        close();
        return open(name, false, error);
    }
    return true;
}

void TunDevice::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

int TunDevice::ifindex() const {
    return int(::if_nametoindex(name_.c_str()));
}

int TunDevice::mtu() const {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    return ifreqIoctl(SIOCGIFMTU, ifr) < 0 ? 0 : ifr.ifr_mtu;
}

bool TunDevice::setMtu(int mtu) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    ifr.ifr_mtu = mtu;
    return ifreqIoctl(SIOCSIFMTU, ifr) == 0;
}

long TunDevice::read(std::uint8_t* buffer, std::size_t capacity) noexcept {
    const ssize_t n = ::read(fd_, buffer, capacity);
    if (n >= 0)
        return long(n);
    if (errno == EAGAIN || errno == EINTR)
        return 0;
    return -errno;
}

long TunDevice::write(const std::uint8_t* packet, std::size_t length) noexcept {
    for (;;) {
        const ssize_t n = ::write(fd_, packet, length);
        if (n >= 0)
            return long(n);
        if (errno != EINTR)
            return -errno;
    }
}

} // namespace calnet::helper
