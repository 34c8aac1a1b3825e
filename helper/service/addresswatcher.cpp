#include "helper/service/addresswatcher.h"

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

AddressWatcher::~AddressWatcher() {
    notifier_.reset();
    if (fd_ >= 0)
        ::close(fd_);
}

bool AddressWatcher::start(QString* error) {
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd_ < 0) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        *error = QString::fromLocal8Bit(std::strerror(errno));
        ::close(fd_);
        fd_ = -1;
        return false;
    }
    notifier_ = std::make_unique<QSocketNotifier>(fd_, QSocketNotifier::Read);
    connect(notifier_.get(), &QSocketNotifier::activated, this, &AddressWatcher::onReadable);
    return true;
}

void AddressWatcher::onReadable() {
    std::array<char, 8192> buffer{};
    bool any = false;
    // Bounded: a flood of announcements is read in at most 64 datagrams per wake-up; the
    // notifier fires again for the rest.
    for (int i = 0; i < 64; ++i) {
        const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n > 0 || (n < 0 && errno == ENOBUFS)) {
            any = true; // ENOBUFS: announcements were lost, so something changed
            continue;
        }
        break; // EAGAIN, or an error the next wake-up will see again
    }
    if (any)
        settle_.start(); // restarts: one changed() after the burst
}

} // namespace calnet::helper
