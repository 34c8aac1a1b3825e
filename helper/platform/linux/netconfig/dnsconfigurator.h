// DnsConfigurator: hands a tunnel's DNS servers and search domains to the system resolver and
// takes them back, through one of two backends:
//
//   systemd-resolved  when org.freedesktop.resolve1 has an owner on the system bus: per-link
//                     SetLinkDNS + SetLinkDomains on org.freedesktop.resolve1.Manager, undone
//                     with RevertLink. Besides the search domains the link gets the routing
//                     domain "~.", so every query goes to the tunnel's servers — what
//                     wg-quick(8) gets from `resolvconf -x` through resolved's resolvconf shim.
//   resolvconf(8)     otherwise: `resolvconf -a RECORD` with "nameserver …\nsearch …\n" on
//                     stdin, undone with `resolvconf -d RECORD`. RECORD is the interface name,
//                     prefixed as wg-quick does when Debian's resolvconf orders records by
//                     /etc/resolvconf/interface-order (the first "NAME*" line gives "NAME.").
//
// Calls block, each bounded by Options::timeoutMs. Use from the helper's control thread; a
// QCoreApplication must exist (QtDBus wants one).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/net/ipaddress.h"
#include "helper/platform/linux/netconfig/rtnetlink.h"

namespace calnet::helper::netconfig {

struct DnsSettings {
    std::vector<net::IpAddress> servers;
    std::vector<std::string> searchDomains;
};

enum class DnsBackend : std::uint8_t {
    Resolved,   // systemd-resolved over D-Bus
    Resolvconf, // the resolvconf(8) program
};

[[nodiscard]] const char* toString(DnsBackend backend);

class DnsConfigurator {
public:
    struct Options {
        // The resolvconf program: a path, or a name looked up in PATH.
        std::string resolvconf = "resolvconf";
        // Debian resolvconf's record order file (see the class comment).
        std::string interfaceOrder = "/etc/resolvconf/interface-order";
        // D-Bus address of the bus on which to look for systemd-resolved; "" = the system bus.
        std::string busAddress;
        // false: never use systemd-resolved, even where it runs.
        bool useResolved = true;
        int timeoutMs = 10000;
    };

    // Defaults: resolvconf from PATH, systemd-resolved on the system bus. No environment knob
    // names another program: tests put a fake resolvconf first in PATH (or pass Options).
    [[nodiscard]] static Options defaultOptions();

    DnsConfigurator();
    explicit DnsConfigurator(Options options);
    ~DnsConfigurator();
    DnsConfigurator(const DnsConfigurator&) = delete;
    DnsConfigurator& operator=(const DnsConfigurator&) = delete;

    [[nodiscard]] const Options& options() const noexcept { return options_; }

    // systemd-resolved if allowed and its bus name currently has an owner (no activation),
    // else resolvconf. Never fails: no bus at all means resolvconf.
    [[nodiscard]] DnsBackend detect();

    bool setResolved(const LinkRef& link, const DnsSettings& settings, std::string& error);
    // A link resolved does not know (it is gone, so resolved forgot it) counts as reverted.
    bool revertResolved(const LinkRef& link, std::string& error);

    // The record name for an interface (interface-order prefix applied when it applies).
    [[nodiscard]] std::string resolvconfRecord(const std::string& ifname) const;

    enum class RunResult : std::uint8_t {
        Ok,         // exit status 0
        NotStarted, // the program could not be run at all (missing, not executable, ...)
        Failed,     // it ran and failed, or timed out and was killed
    };
    RunResult setResolvconf(const std::string& record, const DnsSettings& settings,
                            std::string& error);
    RunResult removeResolvconf(const std::string& record, std::string& error);

    // "nameserver …" lines then one "search …" line (exposed for tests).
    [[nodiscard]] static std::string resolvconfText(const DnsSettings& settings);

private:
    struct Bus;
    RunResult runResolvconf(const std::vector<std::string>& args, const std::string& input,
                            std::string& error);

    Options options_;
    std::unique_ptr<Bus> bus_;
};

} // namespace calnet::helper::netconfig
