// AddressWatcher: says when this machine's links or interface addresses change, from the OS's
// announcements (Linux: rtnetlink RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR; Windows:
// NotifyUnicastIpAddressChange; macOS: the route socket), so that the control client reports
// its new local endpoints at once — a laptop that joins another network
// tells its peers within a fraction of a second — instead of at its next poll, which stays as
// the fallback.
//
// The messages are not parsed: any of them means "look again". An interface coming up sends a
// burst (link, addresses, IPv6 autoconfiguration), folded into one changed() once the socket
// has been quiet for `settle`. A receive buffer overrun (ENOBUFS) also counts as a change.
//
// Runs on the helper's event loop; never on the data path. platform/<os>/addresswatcher_<os>.cpp
// implements start() and the Source that feeds announced().
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

#include <chrono>
#include <memory>

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
    // The OS's announcements arrived (or some were lost): restarts the settle timer.
    Q_INVOKABLE void announced() { settle_.start(); }

    struct Source; // per OS: the socket or notification handle
    std::unique_ptr<Source> source_;
    QTimer settle_;
};

} // namespace calnet::helper
