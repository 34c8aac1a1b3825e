// Platform: everything the helper asks of the operating system to run a tunnel, as one
// factory: the TUN device, the UDP bind, the network configurator, name resolution and the
// clean-up after a crash. The data path (Tunnel) and the service logic (Connection, Service)
// only see these interfaces; platform/<os>/ implements them (Linux today, Windows and macOS
// per docs/platforms.md) and platform/fake/ fakes them for tests that need no root.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/net/ipaddress.h"
#include "helper/platform/bind.h"
#include "helper/platform/netconfigurator.h"
#include "helper/platform/tundevice.h"

namespace calnet::helper {

class Platform {
public:
    virtual ~Platform() = default;

    // Creates the interface `name`; nullptr and error on failure.
    virtual std::unique_ptr<TunDevice> createTun(const std::string& name, std::string& error) = 0;
    // Binds UDP `port` on all addresses (0 = any free port), dual-stack where the host has
    // IPv6; fwmark 0 = none.
    virtual std::unique_ptr<Bind> openBind(std::uint16_t port, std::uint32_t fwmark,
                                           std::string& error) = 0;
    // The configurator of interface `tun`, journaling into stateDir.
    virtual std::unique_ptr<NetworkConfigurator>
    configurator(const TunDevice& tun, const std::string& stateDir, std::string& error) = 0;
    // At helper start, before any profile connects: undoes what a helper that died left
    // journaled in stateDir.
    virtual UndoReport rollbackLeftovers(const std::string& stateDir) = 0;
    // Resolves a peer's endpoint host name (wg-quick allows names; resolved once at connect).
    virtual std::optional<net::SocketAddress> resolve(const std::string& host, std::uint16_t port,
                                                      std::string& error) = 0;

    // This OS's implementation, with default settings.
    static Platform& system();
};

} // namespace calnet::helper
