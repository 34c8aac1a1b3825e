// DeviceHost: what configuration code (the UAPI handler, later the IPC service) needs from a
// running interface: the locked Device, and the socket settings that live outside it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/wireguard/device.h"

namespace calnet::helper {

// What the handler needs from the running interface besides the Device itself.
class DeviceHost {
public:
    virtual ~DeviceHost() = default;
    virtual void withDevice(
        const std::function<void(wireguard::Device&, wireguard::Now, wireguard::Actions&)>& fn) = 0;
    [[nodiscard]] virtual std::uint16_t listenPort() const noexcept = 0;
    virtual bool setListenPort(std::uint16_t port, std::string& error) = 0;
    [[nodiscard]] virtual std::uint32_t fwmark() const noexcept = 0;
    virtual bool setFwmark(std::uint32_t mark, std::string& error) = 0;
};

} // namespace calnet::helper
