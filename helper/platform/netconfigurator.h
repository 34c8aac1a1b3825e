// NetworkConfigurator: connects one tunnel interface to the host's network — addresses, MTU,
// routes (policy routing for a full tunnel), DNS — and undoes it all again. Every change is
// journaled before it is made, so close(), a SIGTERM and the next start after a crash restore
// the host exactly. platform/linux: rtnetlink, nftables, systemd-resolved or resolvconf
// (wg-quick's behaviour); Windows: the IP Helper API and the interface's DNS settings; a fake
// records the calls for tests.
//
// Not thread-safe: one per interface, driven by one thread at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/config/wgquick.h"
#include "core/net/ipaddress.h"

namespace calnet::helper {

// What undoing a journal did.
struct UndoReport {
    std::size_t undone = 0;            // changes undone (or found already gone)
    std::vector<std::string> failures; // changes that stay journaled for a later attempt
    std::string summary;               // failures then notes, "; "-separated
    [[nodiscard]] bool ok() const { return failures.empty(); }
};

class NetworkConfigurator {
public:
    // Must mark the tunnel's own UDP packets (Tunnel::setFwmark) so they never loop into the
    // tunnel. Called before any route diverts traffic.
    using SetFwmark = std::function<bool(std::uint32_t mark, std::string& error)>;

    struct Options {
        // The peers' endpoints as resolved by the caller, for the automatic MTU; when empty,
        // the endpoints written as IP literals in the profile are used.
        std::vector<net::IpAddress> endpointAddresses;
    };

    // The peers' endpoint addresses for the automatic MTU: `resolved` (the caller's
    // Options::endpointAddresses), else the endpoints written as IP literals in the profile;
    // sorted, each once.
    [[nodiscard]] static std::vector<net::IpAddress>
    endpointAddresses(const config::WgQuickConfig& config,
                      const std::vector<net::IpAddress>& resolved) {
        std::vector<net::IpAddress> out = resolved;
        if (out.empty())
            for (const auto& peer : config.peers)
                if (peer.endpoint)
                    if (auto literal = peer.endpoint->literalAddress())
                        out.push_back(*literal);
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    virtual ~NetworkConfigurator() = default;

    // Applies the profile's [Interface] addresses, MTU, DNS and the routes of every peer's
    // allowed IPs. On failure everything done so far is undone and error says what failed.
    virtual bool apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                       const Options& options, std::string& error) = 0;
    // Undoes everything applied, newest first. Safe to call more than once.
    virtual UndoReport rollback() = 0;

    // After apply(): IPv6 is disabled on the host, so IPv6 addresses and routes were left out.
    [[nodiscard]] virtual bool ipv6Disabled() const = 0;
    // After apply(): what worked only in part (e.g. no nft for a full tunnel's rules).
    [[nodiscard]] virtual std::vector<std::string> warnings() const = 0;
};

} // namespace calnet::helper
