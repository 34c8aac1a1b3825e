// NetworkSetup: connects one profile's interface to the host's network the way wg-quick(8)
// does on Linux, through rtnetlink (no ip(8)), with every change journaled before it is made.
//
// apply(), in wg-quick's order:
//   1. addresses          each [Interface] Address, host bits kept (the kernel adds the
//                         on-link prefix route)
//   2. MTU, link up       MTU from the profile; if unset, the smallest MTU on the way to the
//                         peers' endpoints (else of the IPv4 default route's device, else 1500)
//                         minus 80 bytes of WireGuard-over-IPv6 overhead
//   3. fwmark             a profile FwMark is handed to the tunnel socket (setFwmark)
//   4. DNS                servers + search domains through DnsConfigurator (only when the
//                         profile lists DNS servers, as wg-quick)
//   5. routes             per RoutePlan (routeplan.h), longest prefix first:
//        Table=N/name     "<prefix> dev IF table N" for every allowed IP, /0 included
//        Table=off        nothing
//        auto, not /0     "<prefix> dev IF" in main, unless a main route on IF covers it
//        auto, /0         policy routing for that family, with T = FwMark if the profile
//                         sets one, else the first of 51820, 51821, … with no route in it;
//                         the tunnel socket gets fwmark T (setFwmark), then:
//                           rule  P:   not fwmark T lookup T
//                           rule  P-1: lookup main suppress_prefixlength 0
//                           route      default dev IF table T
//                           nftables   table <ip|ip6> calnet-IF (packetfilter.h): the
//                                      tunnel addresses guarded against spoofing, the
//                                      fwmark saved to and restored from conntrack so
//                                      strict rp_filter passes the endpoint's replies
//                                      (skipped with a warning when nft is missing)
//                           sysctl     net.ipv4.conf.all.src_valid_mark=1 (IPv4 only)
//                         P is the priority the kernel would pick (the lowest non-zero
//                         priority minus one), but chosen here so the journal can name the
//                         exact rule. Unmarked packets take the tunnel; WireGuard's own marked
//                         packets fall through to main, so endpoints stay reachable; main's
//                         more specific routes (LAN, …) still win through the suppress rule.
//
// Any failure rolls everything back before apply() returns false. rollback() undoes what the
// journal holds (see rollback.h).
//
// Not thread-safe; one NetworkSetup per interface, driven by one thread at a time (calnetd
// --service: the connection controller's worker).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config/wgquick.h"
#include "core/net/ipaddress.h"
#include "helper/platform/linux/netconfig/dnsconfigurator.h"
#include "helper/platform/linux/netconfig/journal.h"
#include "helper/platform/linux/netconfig/packetfilter.h"
#include "helper/platform/linux/netconfig/rollback.h"
#include "helper/platform/linux/netconfig/routeplan.h"
#include "helper/platform/linux/netconfig/rtnetlink.h"

namespace calnet::helper::netconfig {

// wg-quick(8)'s first policy-routing table (and fwmark) for a full tunnel.
inline constexpr std::uint32_t kFirstAutoTable = 51820;
// WireGuard over IPv6: 40 (IPv6) + 8 (UDP) + 32 (WireGuard header and tag).
inline constexpr std::uint32_t kWireGuardOverhead = 80;
inline constexpr std::uint32_t kFallbackUnderlayMtu = 1500;

class NetworkSetup {
public:
    struct Options {
        // The peers' endpoints as resolved by the caller, for the automatic MTU; when empty,
        // the endpoints written as IP literals in the profile are used.
        std::vector<net::IpAddress> endpointAddresses;
        // iproute2 table-name files for Table = <name>.
        std::vector<std::string> rtTablesFiles = defaultRtTablesFiles();
    };

    // Must set SO_MARK on the tunnel's UDP socket(s) (Tunnel::setFwmark). Called before any
    // rule diverts traffic, so WireGuard's own packets never loop into the tunnel.
    using SetFwmark = std::function<bool(std::uint32_t mark, std::string& error)>;

    // All references must outlive this object. `journal` is this interface's
    // (Journal::pathFor(stateDir, link.name)).
    NetworkSetup(LinkRef link, Journal& journal, Rtnetlink& rtnl, DnsConfigurator& dns,
                 PacketFilter& filter = PacketFilter::system());

    // Leftovers in the journal are rolled back first. On failure, everything done so far is
    // rolled back and error says what failed (and what could not be undone, if anything).
    bool apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark, std::string& error);
    bool apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
               const Options& options, std::string& error);

    // Undoes everything journaled, newest first; the journal file is deleted when all is
    // undone. Safe to call more than once.
    RollbackResult rollback();

    // After apply(): the fwmark the tunnel socket was given (0 = none), the policy-routing
    // table of a full tunnel, the MTU set on the link, the DNS backend used.
    [[nodiscard]] std::uint32_t fwmark() const noexcept { return fwmark_; }
    [[nodiscard]] std::optional<std::uint32_t> policyTable() const noexcept { return table_; }
    [[nodiscard]] std::uint32_t mtu() const noexcept { return mtu_; }
    [[nodiscard]] std::optional<DnsBackend> dnsBackend() const noexcept { return dnsBackend_; }
    // After apply(): what worked but not fully (e.g. no nft for a full tunnel's rules).
    [[nodiscard]] const std::vector<std::string>& warnings() const noexcept { return warnings_; }
    // After apply(): IPv6 is disabled on the link, so its IPv6 addresses and routes were left out.
    [[nodiscard]] bool ipv6Disabled() const noexcept { return ipv6Off_; }

private:
    bool applySteps(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                    const Options& options, std::string& error);
    bool addAddresses(const config::WgQuickConfig& config, std::string& error);
    std::uint32_t automaticMtu(const config::WgQuickConfig& config, const Options& options);
    bool setDns(const config::WgQuickConfig& config, std::string& error);
    bool addRoutes(const RoutePlan& plan, const SetFwmark& setFwmark, std::string& error);
    bool addPolicyRouting(net::Family family, std::uint32_t table, std::string& error);
    bool addFilter(net::Family family, std::uint32_t fwmark, std::string& error);
    bool addRoute(const RouteSpec& route, std::string& error);
    std::optional<std::uint32_t> freeTable(std::string& error);
    bool change(const JournalEntry& entry, const std::function<int()>& apply, std::string& error);

    LinkRef link_;
    Journal& journal_;
    Rtnetlink& rtnl_;
    DnsConfigurator& dns_;
    PacketFilter& filter_;
    std::vector<net::IpAddress> addresses_; // the interface's, for the filter
    bool ipv6Off_ = false; // IPv6 is disabled on the link: IPv6 addresses and routes left out
    [[nodiscard]] bool skipped(const net::IpPrefix& route) const {
        return ipv6Off_ && route.address.family == net::Family::V6;
    }
    std::vector<std::string> warnings_;

    std::uint32_t fwmark_ = 0;
    std::optional<std::uint32_t> table_;
    std::uint32_t mtu_ = 0;
    std::optional<DnsBackend> dnsBackend_;
};

} // namespace calnet::helper::netconfig
