#include "helper/platform/linux/netconfig/networksetup.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "helper/platform/linux/netconfig/sysctl.h"
#include "helper/platform/netconfigurator.h"

namespace calnet::helper::netconfig {

namespace {

// The priority the kernel gives a rule added without one (fib_default_rule_pref(): one below
// the first rule after "local"), found the same way from a dump. 32765 if there is none.
std::optional<std::uint32_t> nextRulePriority(const std::vector<RuleSpec>& rules) {
    std::uint32_t lowest = 32766;
    for (const auto& r : rules)
        if (r.priority != 0)
            lowest = std::min(lowest, r.priority);
    if (lowest < 3)
        return std::nullopt; // no room for two rules above priority 0
    return lowest - 1;
}

} // namespace

NetworkSetup::NetworkSetup(LinkRef link, Journal& journal, Rtnetlink& rtnl, DnsConfigurator& dns,
                           PacketFilter& filter)
    : link_(std::move(link)), journal_(journal), rtnl_(rtnl), dns_(dns), filter_(filter) {}

bool NetworkSetup::apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                         std::string& error) {
    return apply(config, setFwmark, Options{}, error);
}

bool NetworkSetup::apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                         const Options& options, std::string& error) {
    error.clear();
    fwmark_ = 0;
    table_.reset();
    mtu_ = 0;
    dnsBackend_.reset();
    warnings_.clear();
    ipv6Off_ = false;
    addresses_.clear();
    for (const auto& a : config.interface.addresses)
        addresses_.push_back(a.address);
    if (!rtnl_.isOpen()) {
        error = "rtnetlink socket is not open";
        return false;
    }
    // What a previous run left behind goes first (normally done at helper start already).
    journal_.load();
    if (!journal_.empty()) {
        const RollbackResult leftover = rollback();
        if (!leftover.ok()) {
            error = "cannot undo a previous setup of " + link_.name + ": " + leftover.summary();
            return false;
        }
    }
    if (applySteps(config, setFwmark, options, error))
        return true;
    const RollbackResult undone = rollback();
    if (!undone.ok())
        error += "; rollback incomplete: " + undone.summary();
    return false;
}

RollbackResult NetworkSetup::rollback() {
    return rollbackJournal(journal_, rtnl_, dns_, filter_);
}

bool NetworkSetup::change(const JournalEntry& entry, const std::function<int()>& apply,
                          std::string& error) {
    if (!journal_.record(entry, error))
        return false;
    const int err = apply();
    if (err == 0)
        return true;
    if (err == EEXIST) {
        // Already there before us: not a change of ours, so not ours to undo.
        if (!journal_.forget(entry, error))
            return false;
        return true;
    }
    error = describe(entry) + ": " + rtnl_.describe(err);
    return false;
}

bool NetworkSetup::applySteps(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                              const Options& options, std::string& error) {
    const auto plan = planRoutes(config, error, options.rtTablesFiles);
    if (!plan)
        return false;
    LinkInfo info;
    if (const int err = rtnl_.getLink(link_.ifindex, info); err != 0) {
        error = "interface " + link_.name + ": " + rtnl_.describe(err);
        return false;
    }
    if (info.name != link_.name) {
        error = "interface index " + std::to_string(link_.ifindex) + " is " + info.name + ", not " +
                link_.name;
        return false;
    }
    if (!journal_.begin(link_.name, error))
        return false;

    // 1. Addresses.
    if (!addAddresses(config, error))
        return false;

    // 2. MTU, then up (routes need an up link).
    mtu_ = config.interface.mtu ? *config.interface.mtu : automaticMtu(config, options);
    if (info.mtu != mtu_ && !change(
                                MtuChanged{link_, info.mtu, mtu_},
                                [&] { return rtnl_.setMtu(link_.ifindex, mtu_); }, error))
        return false;
    if (!info.up() &&
        !change(
            LinkBroughtUp{link_}, [&] { return rtnl_.setLinkUp(link_.ifindex, true); }, error))
        return false;

    // 3. The profile's own FwMark is a socket option of the tunnel, routes or not.
    if (plan->configFwmark) {
        if (!setFwmark) {
            error = "the profile sets FwMark but no fwmark setter was given";
            return false;
        }
        if (!setFwmark(*plan->configFwmark, error))
            return false;
        fwmark_ = *plan->configFwmark;
    }

    // 4. DNS, 5. routes.
    return setDns(config, error) && addRoutes(*plan, setFwmark, error);
}

bool NetworkSetup::addAddresses(const config::WgQuickConfig& config, std::string& error) {
    std::vector<net::IpPrefix> addresses;
    for (const auto& a : config.interface.addresses)
        if (std::find(addresses.begin(), addresses.end(), a) == addresses.end())
            addresses.push_back(a);
    const bool anyV4 = std::any_of(addresses.begin(), addresses.end(), [](const net::IpPrefix& a) {
        return a.address.family == net::Family::V4;
    });
    for (const auto& a : addresses) {
        if (a.address.family == net::Family::V6 && ipv6Off_)
            continue;
        const AddressAdded entry{link_, a};
        if (!journal_.record(entry, error))
            return false;
        const int err = rtnl_.addAddress(link_.ifindex, a);
        if (err == 0)
            continue;
        if (err == EEXIST) { // there before us: not ours to undo
            if (!journal_.forget(entry, error))
                return false;
            continue;
        }
        // IPv6 switched off on the host (net.ipv6.conf.*.disable_ipv6=1: EACCES) or not in the
        // kernel at all (ipv6.disable=1: EAFNOSUPPORT). With an IPv4 address the tunnel still
        // works: connect with IPv4 alone and say so, as a mesh node must on such hosts.
        if (a.address.family == net::Family::V6 && anyV4 &&
            (err == EACCES || err == EAFNOSUPPORT)) {
            if (!journal_.forget(entry, error))
                return false;
            ipv6Off_ = true;
            warnings_.push_back(
                "IPv6 is disabled on " + link_.name + " (" + rtnl_.describe(err) +
                "): connected with IPv4 only, without its IPv6 addresses and routes");
            continue;
        }
        error = describe(entry) + ": " + rtnl_.describe(err);
        return false;
    }
    if (ipv6Off_)
        std::erase_if(addresses_,
                      [](const net::IpAddress& a) { return a.family == net::Family::V6; });
    return true;
}

std::uint32_t NetworkSetup::automaticMtu(const config::WgQuickConfig& config,
                                         const Options& options) {
    const std::vector<net::IpAddress> endpoints =
        NetworkConfigurator::endpointAddresses(config, options.endpointAddresses);

    const auto linkMtu = [&](int ifindex) -> std::uint32_t {
        LinkInfo info;
        return ifindex > 0 && rtnl_.getLink(ifindex, info) == 0 ? info.mtu : 0;
    };
    std::uint32_t smallest = 0;
    const auto consider = [&](std::uint32_t mtu) {
        if (mtu != 0 && (smallest == 0 || mtu < smallest))
            smallest = mtu;
    };
    // As `ip route get <endpoint>`: the route's MTU if it has one, else its device's.
    for (const auto& endpoint : endpoints) {
        RouteLookup route;
        if (rtnl_.lookupRoute(endpoint, route) == 0)
            consider(route.mtu != 0 ? route.mtu : linkMtu(route.oif));
    }
    if (smallest == 0) {
        // As `ip route show default`: the first IPv4 default route of the main table.
        std::vector<RouteInfo> routes;
        if (rtnl_.dumpRoutes(net::Family::V4, routes) == 0)
            for (const auto& r : routes)
                if (r.table == kTableMain && r.prefix.length == 0 && r.oif != 0) {
                    consider(r.mtu != 0 ? r.mtu : linkMtu(r.oif));
                    break;
                }
    }
    if (smallest == 0)
        smallest = kFallbackUnderlayMtu;
    // Never below what IPv4 must carry (RFC 791) even on a strange underlay.
    return std::max<std::uint32_t>(
        smallest > kWireGuardOverhead ? smallest - kWireGuardOverhead : 0, config::kMinMtu);
}

bool NetworkSetup::setDns(const config::WgQuickConfig& config, std::string& error) {
    if (config.interface.dnsServers.empty())
        return true; // wg-quick ignores search domains without servers too
    const DnsSettings settings{config.interface.dnsServers, config.interface.dnsSearch};
    const DnsBackend backend = dns_.detect();
    dnsBackend_ = backend;
    if (backend == DnsBackend::Resolved) {
        if (!journal_.record(ResolvedDnsSet{link_}, error))
            return false;
        return dns_.setResolved(link_, settings, error);
    }
    const ResolvconfDnsSet entry{dns_.resolvconfRecord(link_.name)};
    if (!journal_.record(entry, error))
        return false;
    switch (dns_.setResolvconf(entry.record, settings, error)) {
    case DnsConfigurator::RunResult::Ok:
        return true;
    case DnsConfigurator::RunResult::NotStarted: {
        // Nothing ran, so nothing to undo: do not make rollback run resolvconf either.
        std::string ignored;
        journal_.forget(entry, ignored);
        error = "no DNS backend: systemd-resolved is not running and " + error;
        return false;
    }
    case DnsConfigurator::RunResult::Failed:
        break;
    }
    return false;
}

std::optional<std::uint32_t> NetworkSetup::freeTable(std::string& error) {
    std::set<std::uint32_t> used;
    for (const auto family : {net::Family::V4, net::Family::V6}) {
        std::vector<RouteInfo> routes;
        if (const int err = rtnl_.dumpRoutes(family, routes); err != 0) {
            error = "route dump: " + rtnl_.describe(err);
            return std::nullopt;
        }
        for (const auto& r : routes)
            used.insert(r.table);
    }
    std::uint32_t table = kFirstAutoTable;
    while (used.count(table) != 0)
        ++table;
    return table;
}

bool NetworkSetup::addRoutes(const RoutePlan& plan, const SetFwmark& setFwmark,
                             std::string& error) {
    switch (plan.table.mode) {
    case TableMode::Off:
        return true;
    case TableMode::Explicit:
        for (const auto& p : plan.prefixes)
            if (!skipped(p) && !addRoute(RouteSpec{p, link_.ifindex, plan.table.table, 0}, error))
                return false;
        return true;
    case TableMode::Auto:
        break;
    }

    if (plan.fullTunnel()) {
        std::optional<std::uint32_t> table = plan.configFwmark;
        if (!table) {
            table = freeTable(error);
            if (!table)
                return false;
            if (!setFwmark) {
                error = "a full-tunnel profile needs a fwmark setter";
                return false;
            }
            if (!setFwmark(*table, error))
                return false;
            fwmark_ = *table;
        }
        table_ = table;
    }

    // `ip route show dev IF match PREFIX` for the main table, per family, taken once: the
    // routes we add are never broader than the ones still to come (longest first).
    std::vector<RouteInfo> existing[2];
    for (const auto family : {net::Family::V4, net::Family::V6}) {
        if (const int err = rtnl_.dumpRoutes(family, existing[family == net::Family::V6]);
            err != 0) {
            error = "route dump: " + rtnl_.describe(err);
            return false;
        }
    }
    for (const auto& p : plan.prefixes) {
        if (skipped(p))
            continue;
        if (p.length == 0) {
            if (!addPolicyRouting(p.address.family, *table_, error))
                return false;
            continue;
        }
        const auto& routes = existing[p.address.family == net::Family::V6];
        const bool covered = std::any_of(routes.begin(), routes.end(), [&](const RouteInfo& r) {
            return r.table == kTableMain && r.oif == link_.ifindex && r.prefix.length <= p.length &&
                   r.prefix.contains(p.address);
        });
        if (!covered && !addRoute(RouteSpec{p, link_.ifindex, kTableMain, 0}, error))
            return false;
    }
    return true;
}

bool NetworkSetup::addPolicyRouting(net::Family family, std::uint32_t table, std::string& error) {
    std::vector<RuleSpec> rules;
    if (const int err = rtnl_.dumpRules(family, rules); err != 0) {
        error = "rule dump: " + rtnl_.describe(err);
        return false;
    }
    const auto priority = nextRulePriority(rules);
    if (!priority) {
        error = "no free rule priority";
        return false;
    }
    RuleSpec tunnel{family, *priority, table, table, true, std::nullopt};
    RuleSpec suppress{family, *priority - 1, kTableMain, std::nullopt, false, std::uint8_t{0}};
    if (!change(
            RuleAdded{tunnel}, [&] { return rtnl_.addRule(tunnel); }, error) ||
        !change(
            RuleAdded{suppress}, [&] { return rtnl_.addRule(suppress); }, error) ||
        !addRoute(RouteSpec{net::IpPrefix{net::IpAddress{family, {}}, 0}, link_.ifindex, table, 0},
                  error))
        return false;
    if (!addFilter(family, table, error))
        return false;
    if (family != net::Family::V4)
        return true;
    std::string previous;
    if (const int err = readSysctl(kSrcValidMark, previous); err != 0) {
        error = std::string(kSrcValidMark) + ": " + std::strerror(err);
        return false;
    }
    if (previous == "1")
        return true;
    const SysctlChanged entry{std::string(kSrcValidMark), previous, "1"};
    if (!journal_.record(entry, error))
        return false;
    if (const int err = writeSysctl(kSrcValidMark, "1"); err != 0) {
        error = std::string(kSrcValidMark) + ": " + std::strerror(err);
        return false;
    }
    return true;
}

bool NetworkSetup::addFilter(net::Family family, std::uint32_t fwmark, std::string& error) {
    const FilterTableAdded entry{family, filterTableName(link_.name)};
    if (entry.table.empty()) {
        error = "interface name " + link_.name + " cannot name an nftables table";
        return false;
    }
    if (!journal_.record(entry, error))
        return false;
    const TunnelFilter filter{family, link_.name, fwmark, addresses_};
    switch (filter_.add(filter, error)) {
    case PacketFilter::Result::Ok:
        return true;
    case PacketFilter::Result::NotAvailable: {
        // Nothing was made. The tunnel works without the rules unless reverse-path filtering
        // is strict; say what is missing rather than refuse the whole connection.
        std::string ignored;
        journal_.forget(entry, ignored);
        warnings_.push_back(error + ": no nftables rules for the full tunnel (strict rp_filter "
                                    "will drop its replies; its addresses are not guarded "
                                    "against spoofed packets)");
        error.clear();
        return true;
    }
    case PacketFilter::Result::Failed:
        break;
    }
    return false;
}

bool NetworkSetup::addRoute(const RouteSpec& route, std::string& error) {
    const RouteAdded entry{link_, route};
    if (!journal_.record(entry, error))
        return false;
    const int err = rtnl_.addRoute(route);
    if (err == 0)
        return true;
    std::string ignored;
    if (err == EEXIST) {
        // Fine if the route there is already ours in effect (e.g. the kernel's prefix route of
        // an address in Table = main); a same-prefix route on another interface would take
        // the traffic away from the tunnel, so that is an error.
        journal_.forget(entry, ignored);
        std::vector<RouteInfo> routes;
        rtnl_.dumpRoutes(route.prefix.address.family, routes);
        const bool onOurLink = std::any_of(routes.begin(), routes.end(), [&](const RouteInfo& r) {
            return r.table == route.table && r.prefix == route.prefix.masked() &&
                   r.oif == link_.ifindex;
        });
        if (onOurLink)
            return true;
        error = describe(entry) + ": the table already has this route on another interface";
        return false;
    }
    error = describe(entry) + ": " + rtnl_.describe(err);
    return false;
}

} // namespace calnet::helper::netconfig
