// AddressWatcher: says when this machine's links or interface addresses change, from the kernel's
// rtnetlink announcements (RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR), so that the
// control client reports its new local endpoints at once — a laptop that joins another network
// tells its peers within a fraction of a second — instead of at its next poll, which stays as
// the fallback.
//
// The messages are not parsed: any of them means "look again". An interface coming up sends a
// burst (link, addresses, IPv6 autoconfiguration), folded into one changed() once the socket
// has been quiet for `settle`. A receive buffer overrun (ENOBUFS) also counts as a change.
//
// Runs on the helper's event loop (a QSocketNotifier on a non-blocking socket); never on the
// data path.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

#include <chrono>
#include <memory>

class QSocketNotifier;

namespace calnet::helper {

class AddressWatcher : public QObject {
    Q_OBJECT
public:
    explicit AddressWatcher(std::chrono::milliseconds settle = std::chrono::milliseconds(100),
                            QObject* parent = nullptr);
    ~AddressWatcher() override;
    AddressWatcher(const AddressWatcher&) = delete;
    AddressWatcher& operator=(const AddressWatcher&) = delete;

    // Opens the socket in the caller's network namespace; false and the reason when it cannot.
    bool start(QString* error);

signals:
    void changed();

private:
    void onReadable();

    int fd_ = -1;
    std::unique_ptr<QSocketNotifier> notifier_;
    QTimer settle_;
};

} // namespace calnet::helper
