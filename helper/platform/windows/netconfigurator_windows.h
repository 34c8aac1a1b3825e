// WindowsNetworkConfigurator: connects one Wintun interface to the host's network through
// IpHelper (iphelper.h), with every change journaled before it is made, as the Linux
// NetworkSetup does (helper/platform/linux/netconfig/journal.h has the protocol).
//
// apply(), in this order:
//   1. the interface    its IPv4 and IPv6 sides must exist; no IPv6 side (IPv6 unbound or off)
//                       means IPv6 addresses, routes and DNS servers are left out (ipv6Disabled)
//   2. addresses        each [Interface] Address, host bits kept; Windows adds the on-link route
//   3. MTU, metric      the profile's MTU, else the smallest MTU of the interfaces the peers'
//                       endpoints are reached through (1500 when none is known) minus 80 bytes
//                       of WireGuard-over-IPv6 overhead, as Linux does; on both sides. The
//                       metric becomes 0 (manual) when the interface's DNS servers are meant to
//                       answer every name (see DNS below), so Windows asks them first.
//   4. fwmark           Windows has no fwmark: a profile FwMark is handed to setFwmark if one
//                       is given, and a failure is only a warning. Loops are avoided by routes:
//   5. endpoint pins    full tunnel only: for each peer endpoint, a host route through the
//                       interface and gateway GetBestRoute2 picks now, before any route points
//                       into the tunnel (what wireguard-windows and Mozilla VPN do in spirit:
//                       the tunnel's own UDP packets must never take the tunnel)
//   6. routes           every peer's allowed IPs on the tunnel, masked, longest first; a /0
//                       becomes two halves (0.0.0.0/1 + 128.0.0.0/1, ::/1 + 8000::/1) that win
//                       over the default route by length without touching it
//   7. DNS              only when the profile lists servers (as wg-quick): servers and search
//                       domains on the interface (SetInterfaceDnsSettings, or the registry)
//   8. NRPT             split DNS, see kNrpt… below
//
// A failure rolls back everything done so far before apply() returns false. rollback() undoes
// the journal newest first; undo is idempotent (what is already gone counts as done), entries
// that fail stay in the journal for the next attempt.
//
// Journal file: <state dir>/netconfig-<ifname>.json through statefile::writeAtomically, one JSON
// object laid out one entry per line (a damaged file is still read line by line):
//   {"format":"calnet-windows-netconfig-journal","version":1,"interface":"cn0",
//    "luid":"…","guid":"{…}","bootTime":…,"entries":[
//   {"op":"address","luid":"…","address":"10.0.0.2/24"},
//   ]}
// LUIDs are written as decimal strings (a JSON number cannot hold every 64-bit value).
//
// Not thread-safe: one per interface, driven by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "helper/platform/netconfigurator.h"
#include "helper/platform/windows/iphelper.h"

namespace calnet::helper::windows {

// WireGuard over IPv6: 40 (IPv6) + 8 (UDP) + 32 (WireGuard header and tag).
inline constexpr std::uint32_t kWireGuardOverhead = 80;
inline constexpr std::uint32_t kFallbackUnderlayMtu = 1500;

// NRPT (split DNS). A rule sends the queries for names under the profile's search domains to
// the profile's DNS servers, whatever the interface metrics say. It is written when the profile
// has DNS servers AND search domains AND is not a full tunnel: then the search domains name
// what lives behind the tunnel, and every other name keeps resolving as before (so the
// interface's metric is left alone). In a full tunnel every name belongs to the tunnel's
// servers, which the interface settings and metric 0 already achieve; without search domains
// there is no namespace to route. Rule keys are Calnet-<ifname>-<n>, kNrptSuffixesPerRule
// suffixes each (larger rules are known to be ignored by some Windows builds).
inline constexpr std::size_t kNrptSuffixesPerRule = 50;

// One entry per kind of change; the comment says how rollback undoes it.
struct AddressAdded { // delete the address
    std::uint64_t luid = 0;
    net::IpPrefix address;
    friend bool operator==(const AddressAdded&, const AddressAdded&) = default;
};
struct InterfaceChanged { // set `previous` again
    std::uint64_t luid = 0;
    net::Family family = net::Family::V4;
    InterfaceSettings previous;
    InterfaceSettings settings;
    friend bool operator==(const InterfaceChanged&, const InterfaceChanged&) = default;
};
struct RouteAdded { // delete the route (also an endpoint pin on the physical interface)
    RouteSpec route;
    friend bool operator==(const RouteAdded&, const RouteAdded&) = default;
};
struct DnsSet { // clear the interface's DNS servers and search list of this family
    std::string guid;
    net::Family family = net::Family::V4;
    friend bool operator==(const DnsSet&, const DnsSet&) = default;
};
struct NrptRuleAdded { // delete the rule's key, then refresh
    std::string ruleName;
    friend bool operator==(const NrptRuleAdded&, const NrptRuleAdded&) = default;
};

using JournalEntry =
    std::variant<AddressAdded, InterfaceChanged, RouteAdded, DnsSet, NrptRuleAdded>;

// One line for logs and errors, e.g. "route 0.0.0.0/1 on luid 123".
[[nodiscard]] std::string describe(const JournalEntry& entry);
// Whether the change outlives a reboot (registry values), so that a journal from another boot
// must still undo it.
[[nodiscard]] bool survivesReboot(const JournalEntry& entry);

// The journal of one interface (see the file comment for the format).
class WindowsJournal {
public:
    static constexpr int kVersion = 1;
    static constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;

    // "netconfig-<ifname>.json"; "" for a name that cannot be part of a file name.
    [[nodiscard]] static std::string fileNameFor(const std::string& ifname);

    WindowsJournal(std::string stateDir, std::string fileName);

    [[nodiscard]] std::string path() const;
    [[nodiscard]] const std::string& interface() const noexcept { return interface_; }
    [[nodiscard]] std::uint64_t luid() const noexcept { return luid_; }
    [[nodiscard]] const std::string& guid() const noexcept { return guid_; }
    [[nodiscard]] std::optional<std::int64_t> bootTime() const noexcept { return bootTime_; }
    [[nodiscard]] const std::vector<JournalEntry>& entries() const noexcept { return entries_; }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

    // Replaces the in-memory state by the file's. A missing file is an empty journal; of a
    // damaged one, every line that still reads as an entry is kept. false (and why) only when
    // the file exists but cannot be read.
    bool load(std::string& problem);
    // Starts an empty journal and writes it.
    bool begin(const std::string& interface, std::uint64_t luid, const std::string& guid,
               std::int64_t bootTime, std::string& error);
    // Appends and writes; on false nothing changed (memory or disk).
    bool record(const JournalEntry& entry, std::string& error);
    // Removes the last entry equal to `entry` (a change that turned out not to be ours).
    bool forget(const JournalEntry& entry, std::string& error);
    // Replaces the entries (those still to undo) and writes.
    bool replaceEntries(std::vector<JournalEntry> entries, std::string& error);
    // Deletes the file; a missing one is fine.
    bool discard(std::string& error);

    [[nodiscard]] std::string serialise(const std::vector<JournalEntry>& entries) const;

private:
    bool write(const std::vector<JournalEntry>& entries, std::string& error);

    std::string stateDir_;
    std::string fileName_;
    std::string interface_;
    std::uint64_t luid_ = 0;
    std::string guid_;
    std::optional<std::int64_t> bootTime_;
    std::vector<JournalEntry> entries_;
};

// Undoes a journal's entries newest first and deletes its file when all are undone. A journal
// of another boot (bootTime more than kBootTimeSlack away) undoes only what survivesReboot().
// When the journal's LUID no longer names the adapter with the journal's GUID, the adapter is
// gone (Wintun removes it with the process that made it): its addresses, routes and settings
// went with it and are counted as undone without a call, so that a new adapter that happens to
// get the same LUID is never touched.
UndoReport rollbackWindowsJournal(IpHelper& ip, WindowsJournal& journal);

// At helper start: undoes every netconfig-*.json a crashed helper left in stateDir.
UndoReport rollbackWindowsLeftovers(IpHelper& ip, const std::string& stateDir);

class WindowsNetworkConfigurator final : public NetworkConfigurator {
public:
    // The tunnel interface by name and index (TunDevice::name(), ifindex()). `ip` must outlive
    // this object. nullptr and error when the index names no interface.
    [[nodiscard]] static std::unique_ptr<WindowsNetworkConfigurator>
    create(IpHelper& ip, const std::string& ifname, std::uint32_t ifindex,
           const std::string& stateDir, std::string& error);

    WindowsNetworkConfigurator(IpHelper& ip, std::string ifname, std::uint64_t luid,
                               const std::string& stateDir);

    bool apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
               const Options& options, std::string& error) override;
    UndoReport rollback() override;
    [[nodiscard]] bool ipv6Disabled() const override { return ipv6Off_; }
    [[nodiscard]] std::vector<std::string> warnings() const override { return warnings_; }

    // After apply(): the MTU set on the interface.
    [[nodiscard]] std::uint32_t mtu() const noexcept { return mtu_; }

private:
    bool applySteps(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                    const Options& options, std::string& error);
    bool change(const JournalEntry& entry, const std::function<WinError()>& run,
                std::string& error);
    std::uint32_t automaticMtu(const std::vector<net::IpAddress>& endpoints);
    bool pinEndpoints(const std::vector<net::IpAddress>& endpoints, std::string& error);
    bool addRoutes(const std::vector<net::IpPrefix>& prefixes, std::string& error);
    bool setDns(const config::WgQuickConfig& config, bool useNrpt, std::string& error);

    IpHelper& ip_;
    std::string ifname_;
    std::uint64_t luid_ = 0;
    std::string guid_;
    WindowsJournal journal_;
    bool ipv6Off_ = false;
    std::uint32_t mtu_ = 0;
    std::vector<std::string> warnings_;
};

} // namespace calnet::helper::windows
