#include "helper/platform/linux/linuxplatform.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "helper/platform/addrinfo.h"
#include "helper/platform/linux/linuxbind.h"
#include "helper/platform/linux/linuxtun.h"
#include "helper/platform/linux/netconfig/journal.h"
#include "helper/platform/linux/netconfig/networksetup.h"
#include "helper/platform/linux/netconfig/rollback.h"
#include "helper/platform/linux/netconfig/rtnetlink.h"

namespace calnet::helper {

namespace {

UndoReport reportOf(const netconfig::RollbackResult& result) {
    return {result.undone, result.failures, result.summary()};
}

// NetworkSetup with what it needs alive beside it: its rtnetlink socket, journal and DNS
// configurator.
class LinuxConfigurator final : public NetworkConfigurator {
public:
    LinuxConfigurator(const TunDevice& tun, const std::string& stateDir,
                      const netconfig::DnsConfigurator::Options& dns)
        : journal_(netconfig::Journal::pathFor(stateDir, tun.name())),
          dns_(dns), link_{tun.ifindex(), tun.name()} {}

    bool open(std::string& error) {
        if (const int rc = rtnl_.open(); rc != 0) {
            error = std::string("rtnetlink: ") + std::strerror(rc);
            return false;
        }
        setup_ = std::make_unique<netconfig::NetworkSetup>(link_, journal_, rtnl_, dns_);
        return true;
    }

    bool apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
               const Options& options, std::string& error) override {
        netconfig::NetworkSetup::Options o;
        o.endpointAddresses = options.endpointAddresses;
        return setup_->apply(config, setFwmark, o, error);
    }
    UndoReport rollback() override { return reportOf(setup_->rollback()); }
    [[nodiscard]] bool ipv6Disabled() const override { return setup_->ipv6Disabled(); }
    [[nodiscard]] std::vector<std::string> warnings() const override { return setup_->warnings(); }

private:
    netconfig::Rtnetlink rtnl_;
    netconfig::Journal journal_;
    netconfig::DnsConfigurator dns_;
    netconfig::LinkRef link_;
    std::unique_ptr<netconfig::NetworkSetup> setup_;
};

} // namespace

Platform& Platform::system() {
    static LinuxPlatform platform;
    return platform;
}

LinuxPlatform::LinuxPlatform() : LinuxPlatform(Options{}) {}

LinuxPlatform::LinuxPlatform(Options options) : options_(std::move(options)) {
    if (std::getenv("CALNET_NO_TUN_OFFLOAD"))
        options_.tunOffload = false;
}

std::unique_ptr<TunDevice> LinuxPlatform::createTun(const std::string& name, std::string& error) {
    return LinuxTunDevice::create(name, options_.tunOffload, error);
}

std::unique_ptr<Bind> LinuxPlatform::openBind(std::uint16_t port, std::uint32_t fwmark,
                                              std::string& error) {
    return LinuxBind::open(port, fwmark, error);
}

std::unique_ptr<NetworkConfigurator>
LinuxPlatform::configurator(const TunDevice& tun, const std::string& stateDir, std::string& error) {
    auto c = std::make_unique<LinuxConfigurator>(tun, stateDir, options_.dns);
    if (!c->open(error))
        return nullptr;
    return c;
}

UndoReport LinuxPlatform::rollbackLeftovers(const std::string& stateDir) {
    netconfig::Rtnetlink rtnl;
    if (const int rc = rtnl.open(); rc != 0) {
        const std::string why = std::string("rtnetlink unavailable: ") + std::strerror(rc);
        return {0, {why}, why};
    }
    netconfig::DnsConfigurator dns(options_.dns);
    return reportOf(netconfig::rollbackLeftoverJournals(stateDir, rtnl, dns));
}

std::optional<net::SocketAddress> LinuxPlatform::resolve(const std::string& host,
                                                         std::uint16_t port, std::string& error) {
    return resolveWithAddrinfo(host, port, error);
}

} // namespace calnet::helper
