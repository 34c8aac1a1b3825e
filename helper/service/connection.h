// Connection: one connected profile — its Tunnel (TUN interface, keys, peers) and the
// host-side network configuration (addresses, MTU, routes, rules, DNS) made by NetworkSetup
// with a journal, so that close(), a SIGTERM and the next start after a crash all restore the
// host exactly.
#pragma once

#include <QString>
#include <QStringList>

#include <memory>

#include "core/config/wgquick.h"
#include "helper/netconfig/dnsconfigurator.h"
#include "helper/netconfig/journal.h"
#include "helper/netconfig/networksetup.h"
#include "helper/netconfig/rtnetlink.h"

namespace calnet::helper {

class Tunnel;

class Connection {
public:
    // Brings the profile up on interface `ifname`; nullptr and an error on failure, with
    // everything already done undone.
    static std::unique_ptr<Connection> open(const QString& profile,
                                            const config::WgQuickConfig& config,
                                            const QString& ifname, const QString& stateDir,
                                            QString* error);
    // Rolls back journals a crashed helper left in stateDir; returns what happened, "" if
    // nothing was there.
    static QString rollbackLeftovers(const QString& stateDir);

    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Restores routes, rules and DNS and removes the interface. Safe to call twice.
    bool close(QString* error);

    [[nodiscard]] const QString& profile() const { return profile_; }
    [[nodiscard]] const QString& interfaceName() const { return ifname_; }
    [[nodiscard]] const QStringList& addresses() const { return addresses_; }
    [[nodiscard]] Tunnel& tunnel() { return *tunnel_; }

private:
    Connection(QString profile, QString ifname, const QString& stateDir);

    QString profile_;
    QString ifname_;
    QStringList addresses_;
    std::unique_ptr<Tunnel> tunnel_;
    netconfig::Rtnetlink rtnl_;
    netconfig::Journal journal_;
    netconfig::DnsConfigurator dns_;
    std::unique_ptr<netconfig::NetworkSetup> setup_;
    bool closed_ = false;
};

} // namespace calnet::helper
