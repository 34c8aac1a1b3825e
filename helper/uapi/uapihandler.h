// UapiHandler: WireGuard's cross-platform userspace configuration protocol (the text that
// `wg` speaks to wireguard-go over /var/run/wireguard/IFNAME.sock).
//
//   request:  "get=1\n\n"                         response: key=value lines, "errno=0\n\n"
//   request:  "set=1\n" key=value lines "\n"      response: "errno=0\n\n" or "errno=-22\n\n"
//
// Interface keys (set): private_key, listen_port, fwmark, replace_peers. A public_key line
// starts a peer section: remove, update_only, preshared_key, endpoint,
// persistent_keepalive_interval, replace_allowed_ips, allowed_ip, protocol_version. Keys and
// public keys are lowercase hex. Errors are negative errno values as wireguard-go reports them.
// A peer section is applied as a whole when the next one starts or the request ends; sections
// before a bad line stay applied (wireguard-go behaves the same way).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/wireguard/device.h"
#include "helper/uapi/devicehost.h"

namespace calnet::helper {

class UapiHandler {
public:
    explicit UapiHandler(DeviceHost& host) : host_(host) {}

    // One complete request (its first line up to and including the terminating blank line).
    // Returns the full response, including the final "\n\n".
    [[nodiscard]] std::string handle(std::string_view request);

    // The last error in words, for the log (the protocol itself carries only errno).
    [[nodiscard]] const std::string& lastError() const noexcept { return lastError_; }

private:
    std::string get();
    int set(std::string_view body);

    DeviceHost& host_;
    std::string lastError_;
};

} // namespace calnet::helper
