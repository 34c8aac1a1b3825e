// Linux half of TunDevice.
#include "helper/datapath/tundevice.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if_tun.h>
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
