#include "helper/platform/linux/linuxbind.h"

#include <array>
#include <cerrno>
#include <cstring>

#include <cstdlib>

#include <linux/udp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper/platform/sockaddr.h"

namespace calnet::helper {

namespace {

constexpr int kSocketBufferBytes = 7 << 20; // as wireguard-go: room for bursts at Gbit/s
constexpr std::size_t kMaxBatch = 128;
// Linux accepts at most 64 segments per UDP_SEGMENT send (UDP_MAX_SEGMENTS on older kernels)
// and a total that fits one IP datagram.
constexpr std::size_t kMaxGsoSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65535 - 8 - 40;
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

} // namespace

std::unique_ptr<LinuxBind> LinuxBind::open(std::uint16_t port, std::uint32_t fwmark,
                                           std::string& error) {
    std::unique_ptr<LinuxBind> bind(new LinuxBind);
    bind->wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (bind->wakeFd_ < 0) {
        error = std::string("eventfd: ") + std::strerror(errno);
        return nullptr;
    }
    if (!bind->bindPort(port, fwmark, error))
        return nullptr;
    return bind;
}

LinuxBind::~LinuxBind() {
    if (fd_ >= 0)
        ::close(fd_);
    if (wakeFd_ >= 0)
        ::close(wakeFd_);
}

bool LinuxBind::bindPort(std::uint16_t port, std::uint32_t fwmark, std::string& error) {
    int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool v6 = fd >= 0;
    if (v6) {
        const int off = 0;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    } else {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            error = std::string("socket: ") + std::strerror(errno);
            return false;
        }
    }
    // FORCE variants exceed rmem_max as root; fall back to the plain ones otherwise.
    for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, {SO_SNDBUFFORCE, SO_SNDBUF}})
        if (::setsockopt(fd, SOL_SOCKET, force, &kSocketBufferBytes, sizeof(int)) < 0)
            ::setsockopt(fd, SOL_SOCKET, plain, &kSocketBufferBytes, sizeof(int));

    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons(port);
        len = sizeof *s6;
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        s4->sin_port = htons(port);
        len = sizeof *s4;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        error = "bind port " + std::to_string(port) + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    fd_ = fd;
    v6_ = v6;
    gso_ = gro_ = false;
    if (!std::getenv("CALNET_NO_UDP_OFFLOAD")) {
        const int one = 1;
        const int zero = 0;
        gro_ = ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one) == 0;
        gso_ = ::setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
    }
    port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (fwmark != 0 && !setFwmark(fwmark)) {
        error = std::string("SO_MARK: ") + std::strerror(errno);
        return false;
    }
    return true;
}

void LinuxBind::close() {
    closed_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakeFd_, &one, sizeof one);
}

bool LinuxBind::setFwmark(std::uint32_t mark) {
    const int m = int(mark);
    return ::setsockopt(fd_, SOL_SOCKET, SO_MARK, &m, sizeof m) == 0;
}

int LinuxBind::receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept {
    if (closed_)
        return kClosed;
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wakeFd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, int(timeout.count()));
    if (ready < 0)
        return errno == EINTR ? 0 : -errno;
    if (fds[1].revents & POLLIN)
        return kClosed;
    if (ready == 0)
        return 0;
    const std::size_t n = std::min(batch.size(), kMaxBatch);
    std::array<mmsghdr, kMaxBatch> msgs;
    std::array<iovec, kMaxBatch> iov;
    std::array<sockaddr_storage, kMaxBatch> addrs;
    alignas(cmsghdr) std::array<std::array<char, CMSG_SPACE(sizeof(int))>, kMaxBatch> control;
    for (std::size_t i = 0; i < n; ++i) {
        iov[i] = {batch[i].data, batch[i].capacity};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = &addrs[i];
        msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        if (gro_) {
            msgs[i].msg_hdr.msg_control = control[i].data();
            msgs[i].msg_hdr.msg_controllen = control[i].size();
        }
    }
    const int got = ::recvmmsg(fd_, msgs.data(), unsigned(n), MSG_DONTWAIT, nullptr);
    if (got < 0)
        return (errno == EAGAIN || errno == EINTR) ? 0 : -errno;
    for (int i = 0; i < got; ++i) {
        batch[i].length = msgs[i].msg_len;
        batch[i].peer = fromSockaddr(addrs[i]);
        batch[i].segmentSize = 0;
        if (!gro_)
            continue;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
             c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
            if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
                int size = 0;
                std::memcpy(&size, CMSG_DATA(c), sizeof size);
                if (size > 0 && std::size_t(size) < batch[i].length)
                    batch[i].segmentSize = std::uint16_t(size);
            }
        }
    }
    return got;
}

int LinuxBind::send(std::span<const Datagram> batch) noexcept {
    int sent = 0;
    bool waited = false;
    std::array<mmsghdr, kMaxBatch> msgs;
    std::array<iovec, kMaxBatch> iov;
    std::array<sockaddr_storage, kMaxBatch> addrs;
    std::array<std::size_t, kMaxBatch + 1> firstDatagram{}; // message -> its first datagram
    alignas(cmsghdr) std::array<std::array<char, CMSG_SPACE(sizeof(std::uint16_t))>, kMaxBatch>
        control;
    while (!batch.empty()) {
        const std::size_t n = std::min(batch.size(), kMaxBatch);
        // Group runs to one destination: every datagram the size of the first, the last one
        // of a run possibly shorter (that is how UDP_SEGMENT splits).
        std::size_t m = 0;
        for (std::size_t i = 0; i < n;) {
            const Datagram& head = batch[i];
            std::size_t j = i + 1;
            std::size_t total = head.length;
            if (gso_) {
                while (j < n && j - i < kMaxGsoSegments && batch[j].peer == head.peer &&
                       batch[j].length <= head.length && total + batch[j].length <= kMaxGsoBytes) {
                    total += batch[j].length;
                    ++j;
                    if (batch[j - 1].length < head.length)
                        break;
                }
            }
            for (std::size_t k = i; k < j; ++k)
                iov[k] = {batch[k].data, batch[k].length};
            msgs[m] = {};
            msgs[m].msg_hdr.msg_name = &addrs[m];
            msgs[m].msg_hdr.msg_namelen = socklen_t(toSockaddr(head.peer, v6_, addrs[m]));
            msgs[m].msg_hdr.msg_iov = &iov[i];
            msgs[m].msg_hdr.msg_iovlen = j - i;
            if (j - i > 1) {
                msgs[m].msg_hdr.msg_control = control[m].data();
                msgs[m].msg_hdr.msg_controllen = control[m].size();
                cmsghdr* c = CMSG_FIRSTHDR(&msgs[m].msg_hdr);
                c->cmsg_level = IPPROTO_UDP;
                c->cmsg_type = UDP_SEGMENT;
                c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
                const std::uint16_t segment = std::uint16_t(head.length);
                std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
            }
            firstDatagram[m++] = i;
            i = j;
        }
        firstDatagram[m] = n;
        std::size_t done = 0;
        while (done < m) {
            const int r = ::sendmmsg(fd_, msgs.data() + done, unsigned(m - done), 0);
            if (r >= 0) {
                for (int k = 0; k < r; ++k)
                    sent += int(firstDatagram[done + std::size_t(k) + 1] -
                                firstDatagram[done + std::size_t(k)]);
                done += std::size_t(r);
                continue;
            }
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == ENOBUFS) && !waited) {
                // Socket buffer full: wait once, briefly, for room rather than drop a burst;
                // if it stays full the rest of the batch is dropped (UDP is lossy anyway, and
                // a stuck send must not hold up shutdown).
                waited = true;
                pollfd p{fd_, POLLOUT, 0};
                if (::poll(&p, 1, 100) > 0)
                    continue;
            }
            if (errno == EAGAIN || errno == ENOBUFS) {
                done = m;
                break;
            }
            if (errno == EIO && gso_ && msgs[done].msg_hdr.msg_iovlen > 1) {
                // The route's device cannot take segmented UDP: stop using GSO, resend the rest.
                gso_ = false;
                return sent + send(batch.subspan(firstDatagram[done], n - firstDatagram[done]));
            }
            ++done; // skip the message that failed (unreachable, no route, ...)
        }
        batch = batch.subspan(n);
    }
    return sent;
}

bool LinuxBind::sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                        std::size_t length) noexcept {
    sockaddr_storage ss;
    const auto len = socklen_t(toSockaddr(to, v6_, ss));
    return ::sendto(fd_, data, length, 0, reinterpret_cast<sockaddr*>(&ss), len) == ssize_t(length);
}

} // namespace calnet::helper
