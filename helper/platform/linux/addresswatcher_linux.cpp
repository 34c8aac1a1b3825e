#include "helper/platform/addresswatcher.h"

#include <QSocketNotifier>

#include <array>
#include <cerrno>
#include <cstring>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

namespace calnet::helper {

AddressWatcher::AddressWatcher(std::chrono::milliseconds settle, QObject* parent)
    : QObject(parent) {
    settle_.setSingleShot(true);
    settle_.setInterval(settle);
    connect(&settle_, &QTimer::timeout, this, &AddressWatcher::changed);
}

// The rtnetlink socket and its notifier.
struct AddressWatcher::Source {
    int fd = -1;
    std::unique_ptr<QSocketNotifier> notifier;
    ~Source() {
        notifier.reset();
        if (fd >= 0)
            ::close(fd);
    }
    // Reads what is queued; true if anything was announced.
    bool drain() const {
        std::array<char, 8192> buffer{};
        bool any = false;
        // Bounded: a flood of announcements is read in at most 64 datagrams per wake-up; the
        // notifier fires again for the rest.
        for (int i = 0; i < 64; ++i) {
            const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
            if (n > 0 || (n < 0 && errno == ENOBUFS)) {
                any = true; // ENOBUFS: announcements were lost, so something changed
                continue;
            }
            break; // EAGAIN, or an error the next wake-up will see again
        }
        return any;
    }
};

AddressWatcher::~AddressWatcher() = default;

bool AddressWatcher::start(QString* error) {
    auto source = std::make_unique<Source>();
    source->fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (source->fd < 0) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (::bind(source->fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    source->notifier = std::make_unique<QSocketNotifier>(source->fd, QSocketNotifier::Read);
    const Source* raw = source.get();
    connect(source->notifier.get(), &QSocketNotifier::activated, this, [this, raw] {
        if (raw->drain())
            announced(); // one changed() after the burst
    });
    source_ = std::move(source);
    return true;
}

} // namespace calnet::helper
