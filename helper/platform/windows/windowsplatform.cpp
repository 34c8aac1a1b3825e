// The helper's Platform on Windows: Wintun for the tunnel (wintun.dll loaded at run time),
// a dual-stack Winsock UDP socket, and the IP Helper API with the interface's DNS settings
// (and NRPT rules for split DNS) for the network, journaled in the state directory.
#include "helper/platform/platform.h"

#include "helper/platform/addrinfo.h"
#include "helper/platform/windows/iphelper.h"
#include "helper/platform/windows/netconfigurator_windows.h"
#include "helper/platform/windows/winsock.h"
#include "helper/platform/windows/winsockbind.h"
#include "helper/platform/windows/wintun.h"

namespace calnet::helper {

namespace {

class WindowsPlatform final : public Platform {
public:
    std::unique_ptr<TunDevice> createTun(const std::string& name, std::string& error) override {
        return WintunDevice::create(name, error);
    }

    // Windows has no fwmark: the configurator keeps the tunnel's own UDP out of the tunnel
    // with routes that pin the peers' endpoints to the physical interface instead.
    std::unique_ptr<Bind> openBind(std::uint16_t port, std::uint32_t, std::string& error) override {
        return WinsockBind::open(port, error);
    }

    std::unique_ptr<NetworkConfigurator>
    configurator(const TunDevice& tun, const std::string& stateDir, std::string& error) override {
        return windows::WindowsNetworkConfigurator::create(
            windows::systemIpHelper(), tun.name(), std::uint32_t(tun.ifindex()), stateDir, error);
    }

    UndoReport rollbackLeftovers(const std::string& stateDir) override {
        return windows::rollbackWindowsLeftovers(windows::systemIpHelper(), stateDir);
    }

    std::optional<net::SocketAddress> resolve(const std::string& host, std::uint16_t port,
                                              std::string& error) override {
        if (!windows::startWinsock(error))
            return std::nullopt;
        return resolveWithAddrinfo(host, port, error);
    }
};

} // namespace

Platform& Platform::system() {
    static WindowsPlatform platform;
    return platform;
}

} // namespace calnet::helper
