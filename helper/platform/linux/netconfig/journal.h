// Journal: the durable list of every change the network setup made for one interface, so that
// disconnect, SIGTERM and the first start after a crash can undo exactly those changes.
//
// Protocol (write-ahead): an entry is on disk before the change it describes is made. A crash
// between the two leaves an entry for a change that never happened; undoing it finds nothing
// and that counts as done, which is why every undo must be idempotent (see rollback.h). An
// entry whose change turned out to be no change of ours (the kernel said EEXIST) is taken
// back with forget().
//
// File: <state dir>/netconfig-<ifname>.json, mode 0600, replaced atomically on every update
// (write a temp file, fsync it, rename it over the journal, fsync the directory), so it is
// always either the old or the new version. It is one JSON object, laid out one entry per line
// so that a damaged file can still be read line by line:
//
//   {"format":"calnet-netconfig-journal","version":1,"interface":"cn0","bootId":"…",
//    "netns":…,"entries":[                                          (one line in the file)
//   {"op":"address","ifindex":7,"ifname":"cn0","address":"10.0.0.2/24"},
//   {"op":"rule","family":4,"priority":32765,"table":51820,"fwmark":51820,"invert":true}
//   ]}
//
// The header names the boot (kernel boot id) and the network namespace (nsfs inode) it was
// written in: after a reboot none of the changes exist any more, and in another namespace they
// are not ours to touch (see origin()).
//
// Not thread-safe; one Journal object per interface, used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/net/ipaddress.h"
#include "helper/platform/linux/netconfig/rtnetlink.h"

namespace calnet::helper::netconfig {

// One entry per kind of change; the comment says how rollback undoes it.
struct AddressAdded { // delete the address
    LinkRef link;
    net::IpPrefix address;
    friend bool operator==(const AddressAdded&, const AddressAdded&) = default;
};
struct MtuChanged { // set the MTU back to `previous`
    LinkRef link;
    std::uint32_t previous = 0;
    std::uint32_t mtu = 0;
    friend bool operator==(const MtuChanged&, const MtuChanged&) = default;
};
struct LinkBroughtUp { // set the link down
    LinkRef link;
    friend bool operator==(const LinkBroughtUp&, const LinkBroughtUp&) = default;
};
struct RouteAdded { // delete the route (route.ifindex == link.ifindex)
    LinkRef link;
    RouteSpec route;
    friend bool operator==(const RouteAdded&, const RouteAdded&) = default;
};
struct RuleAdded { // delete the rule (matched by priority and every selector)
    RuleSpec rule;
    friend bool operator==(const RuleAdded&, const RuleAdded&) = default;
};
struct SysctlChanged { // write `previous` back (names limited to isManagedSysctl())
    std::string name;
    std::string previous;
    std::string value;
    friend bool operator==(const SysctlChanged&, const SysctlChanged&) = default;
};
struct ResolvedDnsSet { // systemd-resolved RevertLink(ifindex)
    LinkRef link;
    friend bool operator==(const ResolvedDnsSet&, const ResolvedDnsSet&) = default;
};
struct ResolvconfDnsSet { // resolvconf -d <record>
    std::string record;
    friend bool operator==(const ResolvconfDnsSet&, const ResolvconfDnsSet&) = default;
};

struct FilterTableAdded { // nft delete table <family> <table> (PacketFilter)
    net::Family family = net::Family::V4;
    std::string table; // always calnet-<ifname> (filterTableName)
    friend bool operator==(const FilterTableAdded&, const FilterTableAdded&) = default;
};

using JournalEntry = std::variant<AddressAdded, MtuChanged, LinkBroughtUp, RouteAdded, RuleAdded,
                                  SysctlChanged, ResolvedDnsSet, ResolvconfDnsSet,
                                  FilterTableAdded>;

// One line for logs, e.g. "route 0.0.0.0/0 dev cn0 table 51820".
[[nodiscard]] std::string describe(const JournalEntry& entry);

struct JournalHeader {
    std::string interface;
    std::string bootId;      // /proc/sys/kernel/random/boot_id when written
    std::uint64_t netns = 0; // inode of /proc/thread-self/ns/net when written
};

class Journal {
public:
    static constexpr int kVersion = 1;
    // A journal larger than this is not read (a sane one holds a few thousand entries at most).
    static constexpr std::size_t kMaxFileBytes = 16 * 1024 * 1024;

    // Where the journal of `ifname` lives; "" if ifname is not a valid interface name.
    [[nodiscard]] static std::string pathFor(const std::string& stateDir,
                                             const std::string& ifname);
    // Every journal file in stateDir (left behind by a helper that did not finish).
    [[nodiscard]] static std::vector<std::string> findAll(const std::string& stateDir);

    explicit Journal(std::string path);
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    struct LoadResult {
        bool existed = false;       // there was a file
        bool intact = false;        // it parsed as a whole
        std::size_t unreadable = 0; // lines that could not be turned into an entry
        std::string problem;        // why it did not parse as a whole, if it did not
    };
    // Replaces the in-memory state by the file's. Never fails: a missing file is an empty
    // journal; of a damaged one, every line that still reads as an entry is kept, in order.
    LoadResult load();

    [[nodiscard]] const JournalHeader& header() const noexcept { return header_; }
    [[nodiscard]] const std::vector<JournalEntry>& entries() const noexcept { return entries_; }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

    enum class Origin : std::uint8_t {
        Here,           // this boot and this network namespace: the changes may still exist
        PreviousBoot,   // written before the last reboot: none of the changes exist any more
        OtherNamespace, // another network namespace of this boot: not ours to touch
        Unknown,        // the header was unreadable: treat as Here
    };
    [[nodiscard]] Origin origin() const;

    // Starts an empty journal for `interface`, in this boot and namespace, and writes it.
    bool begin(const std::string& interface, std::string& error);
    // Appends and writes; when this returns true the entries are on disk. On false nothing may
    // be changed (the in-memory state is left as before).
    bool record(const JournalEntry& entry, std::string& error);
    bool record(const std::vector<JournalEntry>& entries, std::string& error);
    // Removes the last entry equal to `entry` and writes.
    bool forget(const JournalEntry& entry, std::string& error);
    // Replaces the entries (after a partial rollback: those still to undo) and writes.
    bool replaceEntries(std::vector<JournalEntry> entries, std::string& error);
    // Deletes the file (and clears the in-memory state); a missing file is fine.
    bool discard(std::string& error);

    // The serialised form (exposed for tests).
    [[nodiscard]] std::string serialise() const;

private:
    [[nodiscard]] std::string serialise(const std::vector<JournalEntry>& entries) const;
    bool write(const std::vector<JournalEntry>& entries, std::string& error);

    std::string path_;
    JournalHeader header_;
    bool headerRead_ = false;
    std::vector<JournalEntry> entries_;
};

// This boot's id and this thread's network namespace, as the header records them.
[[nodiscard]] std::string currentBootId();
[[nodiscard]] std::uint64_t currentNetns();

} // namespace calnet::helper::netconfig
