// LinuxPlatform: the helper's Platform on Linux — /dev/net/tun with offload, a dual-stack UDP
// socket with GSO/GRO, and wg-quick's network setup through rtnetlink, nftables and
// systemd-resolved or resolvconf (netconfig/), journaled in the state directory.
#pragma once

#include "helper/platform/linux/netconfig/dnsconfigurator.h"
#include "helper/platform/platform.h"

namespace calnet::helper {

class LinuxPlatform final : public Platform {
public:
    struct Options {
        // How DNS reaches the system resolver (tests use a fake resolvconf).
        netconfig::DnsConfigurator::Options dns = netconfig::DnsConfigurator::defaultOptions();
        // TUN checksum/segmentation offload; CALNET_NO_TUN_OFFLOAD=1 turns it off.
        bool tunOffload = true;
    };

    LinuxPlatform();
    explicit LinuxPlatform(Options options);

    std::unique_ptr<TunDevice> createTun(const std::string& name, std::string& error) override;
    std::unique_ptr<Bind> openBind(std::uint16_t port, std::uint32_t fwmark,
                                   std::string& error) override;
    std::unique_ptr<NetworkConfigurator>
    configurator(const TunDevice& tun, const std::string& stateDir, std::string& error) override;
    UndoReport rollbackLeftovers(const std::string& stateDir) override;
    std::optional<net::SocketAddress> resolve(const std::string& host, std::uint16_t port,
                                              std::string& error) override;

private:
    Options options_;
};

} // namespace calnet::helper
