// Rtnetlink: the Linux routing netlink socket (NETLINK_ROUTE) as blocking, acknowledged
// requests, for the few objects a tunnel needs: link MTU and state, addresses, routes and
// policy-routing rules. It is what ip(8) does for `link set`, `address add/del`, `route
// add/del/get/show` and `rule add/del/show`, without running ip.
//
// Every change is sent with NLM_F_ACK and waits for the kernel's answer, so when a call returns
// the change is in place (or not at all). Errors are errno values (0 = success); the kernel's
// extended-ack text ("Nexthop device is not up", ...) is kept in lastErrorMessage().
//
// Not thread-safe: one owner at a time (the helper's control thread). Requests are bounded in
// time by a receive timeout, so a wedged kernel answer cannot hang the caller forever.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/net/ipaddress.h"

namespace calnet::helper::netconfig {

// Well-known routing table ids (linux/rtnetlink.h, RT_TABLE_*).
inline constexpr std::uint32_t kTableDefault = 253;
inline constexpr std::uint32_t kTableMain = 254;
inline constexpr std::uint32_t kTableLocal = 255;

// A link as the journal remembers it: the index for the kernel, the name to make sure the index
// still means the same interface (indexes can be reused once an interface is gone).
struct LinkRef {
    int ifindex = 0;
    std::string name;

    friend bool operator==(const LinkRef&, const LinkRef&) = default;
};

struct LinkInfo {
    int ifindex = 0;
    std::string name;
    std::uint32_t mtu = 0;
    std::uint32_t flags = 0; // IFF_*
    [[nodiscard]] bool up() const;
};

// A device route without a gateway: "<prefix> dev <ifindex> table <table> metric <metric>".
struct RouteSpec {
    net::IpPrefix prefix; // masked
    int ifindex = 0;
    std::uint32_t table = kTableMain;
    std::uint32_t metric = 0; // 0 = the kernel's default (0 for IPv4, 1024 for IPv6)

    friend bool operator==(const RouteSpec&, const RouteSpec&) = default;
};

// One route of a dump (only what the network setup needs to look at).
struct RouteInfo {
    net::IpPrefix prefix;
    std::uint32_t table = 0;
    int oif = 0; // 0 = none (e.g. blackhole, multipath)
    std::uint32_t metric = 0;
    std::uint8_t type = 0;     // RTN_*
    std::uint8_t protocol = 0; // RTPROT_*
    std::uint32_t mtu = 0;     // RTAX_MTU, 0 = not set
};

// A policy-routing rule that selects a table ("ip rule").
//   invert + fwmark:       "not fwmark M lookup T"
//   suppressPrefixLength:  "lookup T suppress_prefixlength N"
// priority 0 is a real priority (the "local" rule's); callers pick one explicitly so that the
// rule they delete later is exactly the one they added.
struct RuleSpec {
    net::Family family = net::Family::V4;
    std::uint32_t priority = 0;
    std::uint32_t table = kTableMain;
    std::optional<std::uint32_t> fwmark; // matched with mask 0xffffffff
    bool invert = false;
    std::optional<std::uint8_t> suppressPrefixLength;

    friend bool operator==(const RuleSpec&, const RuleSpec&) = default;
};

// Result of a route lookup ("ip route get").
struct RouteLookup {
    int oif = 0;
    std::uint32_t mtu = 0; // route MTU metric if the route has one, else 0
};

class Rtnetlink {
public:
    Rtnetlink() = default;
    ~Rtnetlink();
    Rtnetlink(const Rtnetlink&) = delete;
    Rtnetlink& operator=(const Rtnetlink&) = delete;

    // Opens the socket in the caller's network namespace. Returns 0 or an errno.
    int open();
    void close();
    [[nodiscard]] bool isOpen() const noexcept { return fd_ >= 0; }

    // Links (RTM_GETLINK / RTM_NEWLINK).
    int getLink(int ifindex, LinkInfo& out);
    int setMtu(int ifindex, std::uint32_t mtu);
    int setLinkUp(int ifindex, bool up);

    // Interface addresses; host bits are kept ("10.0.0.2/24"), as `ip address add` does.
    // addAddress fails with EEXIST when the address is already there.
    int addAddress(int ifindex, const net::IpPrefix& address);
    int delAddress(int ifindex, const net::IpPrefix& address);

    // Routes. addRoute fails with EEXIST if the table already has that route (same prefix and
    // metric); delRoute fails with ESRCH if there is no such route on that interface.
    int addRoute(const RouteSpec& route);
    int delRoute(const RouteSpec& route);
    int dumpRoutes(net::Family family, std::vector<RouteInfo>& out);
    // "ip route get <dst>" in the main routing decision (rules included).
    int lookupRoute(const net::IpAddress& destination, RouteLookup& out);

    // Rules. addRule fails with EEXIST for an identical rule at the same priority; delRule
    // fails with ENOENT when no rule matches.
    int addRule(const RuleSpec& rule);
    int delRule(const RuleSpec& rule);
    int dumpRules(net::Family family, std::vector<RuleSpec>& out);

    // The kernel's extended-ack message of the last failed request, or "".
    [[nodiscard]] const std::string& lastErrorMessage() const noexcept { return lastMessage_; }
    // "strerror(err)" plus the extended-ack message when there is one.
    [[nodiscard]] std::string describe(int err) const;

private:
    // Sends one request and reads until its ACK (or, for a dump, NLMSG_DONE); each data
    // message of the answer is passed to onMessage (a const nlmsghdr&). Returns 0 or an errno.
    int transact(std::vector<std::uint8_t>& request,
                 const std::function<void(const void* message)>& onMessage = {});

    int fd_ = -1;
    std::uint32_t seq_ = 0;
    std::string lastMessage_;
};

} // namespace calnet::helper::netconfig
