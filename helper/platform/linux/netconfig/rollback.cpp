#include "helper/platform/linux/netconfig/rollback.h"

#include "helper/platform/statefile.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "helper/platform/linux/netconfig/sysctl.h"

namespace calnet::helper::netconfig {

namespace {

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

enum class LinkState : std::uint8_t {
    Same,     // the index still names the recorded interface
    Gone,     // no interface with that index
    Replaced, // the index now names another interface
    Unknown,  // could not ask the kernel
};

// The outcome of undoing one entry: done (or nothing to do), or a failure to keep.
struct Undo {
    bool done = true;
    std::string reason;

    static Undo ok() { return {}; }
    static Undo fail(std::string why) { return {false, std::move(why)}; }
};

class Undoer {
public:
    Undoer(Rtnetlink& rtnl, DnsConfigurator& dns, PacketFilter& filter, RollbackResult& result)
        : rtnl_(rtnl), dns_(dns), filter_(filter), result_(result) {}

    Undo operator()(const AddressAdded& e) {
        return linkBound(e.link, [&] {
            return netlink(rtnl_.delAddress(e.link.ifindex, e.address),
                           {EADDRNOTAVAIL, ENOENT, ENODEV});
        });
    }
    Undo operator()(const MtuChanged& e) {
        return linkBound(
            e.link, [&] { return netlink(rtnl_.setMtu(e.link.ifindex, e.previous), {ENODEV}); });
    }
    Undo operator()(const LinkBroughtUp& e) {
        return linkBound(e.link,
                         [&] { return netlink(rtnl_.setLinkUp(e.link.ifindex, false), {ENODEV}); });
    }
    Undo operator()(const RouteAdded& e) {
        // ESRCH: no such route (or table); ENODEV: the interface went away meanwhile.
        return linkBound(e.link, [&] {
            return netlink(rtnl_.delRoute(e.route), {ESRCH, ENOENT, ENODEV});
        });
    }
    Undo operator()(const RuleAdded& e) {
        // Rules are not bound to a link: they outlive a crashed helper's interface.
        return netlink(rtnl_.delRule(e.rule), {ENOENT});
    }
    Undo operator()(const SysctlChanged& e) {
        if (!isManagedSysctl(e.name)) {
            result_.notes.push_back("ignored journal entry for unmanaged sysctl " + e.name);
            return Undo::ok();
        }
        if (e.previous.empty() || e.previous.size() > 16 ||
            e.previous.find_first_not_of("0123456789") != std::string::npos) {
            result_.notes.push_back("ignored journal entry with a non-numeric value for " + e.name);
            return Undo::ok();
        }
        const int err = writeSysctl(e.name, e.previous);
        if (err == 0 || err == ENOENT)
            return Undo::ok();
        return Undo::fail(std::strerror(err));
    }
    Undo operator()(const ResolvedDnsSet& e) {
        // resolved drops a link's settings when the link goes away.
        return linkBound(e.link, [&] {
            std::string error;
            return dns_.revertResolved(e.link, error) ? Undo::ok() : Undo::fail(error);
        });
    }
    Undo operator()(const ResolvconfDnsSet& e) {
        std::string error;
        switch (dns_.removeResolvconf(e.record, error)) {
        case DnsConfigurator::RunResult::Ok:
            return Undo::ok();
        case DnsConfigurator::RunResult::Failed:
            // resolvconf ran and refused; implementations differ on deleting a record they do
            // not have (openresolv fails without -f, Debian's does not), and that is the likely
            // case here. Retrying would fail the same way at every start.
            result_.notes.push_back(error);
            return Undo::ok();
        case DnsConfigurator::RunResult::NotStarted:
            break;
        }
        return Undo::fail(error);
    }
    Undo operator()(const FilterTableAdded& e) {
        // Tables are not bound to a link: an interface that went away leaves its rules.
        std::string error;
        return filter_.remove(e.family, e.table, error) ? Undo::ok() : Undo::fail(error);
    }

private:
    LinkState linkState(const LinkRef& link) {
        LinkInfo info;
        const int err = rtnl_.getLink(link.ifindex, info);
        if (err == ENODEV)
            return LinkState::Gone;
        if (err != 0)
            return LinkState::Unknown;
        return info.name == link.name ? LinkState::Same : LinkState::Replaced;
    }

    template <typename F> Undo linkBound(const LinkRef& link, F&& undo) {
        switch (linkState(link)) {
        case LinkState::Same:
            return undo();
        case LinkState::Gone:
        case LinkState::Replaced:
            return Undo::ok(); // whatever was bound to the old link went with it
        case LinkState::Unknown:
            break;
        }
        return Undo::fail("cannot query interface " + link.name);
    }

    Undo netlink(int err, std::initializer_list<int> alreadyGone) {
        if (err == 0)
            return Undo::ok();
        for (const int e : alreadyGone)
            if (err == e)
                return Undo::ok();
        return Undo::fail(rtnl_.describe(err));
    }

    Rtnetlink& rtnl_;
    DnsConfigurator& dns_;
    PacketFilter& filter_;
    RollbackResult& result_;
};

} // namespace

std::string RollbackResult::summary() const {
    std::string text;
    for (const auto* list : {&failures, &notes})
        for (const auto& s : *list)
            text += (text.empty() ? "" : "; ") + s;
    return text;
}

void RollbackResult::merge(const RollbackResult& other) {
    undone += other.undone;
    failures.insert(failures.end(), other.failures.begin(), other.failures.end());
    notes.insert(notes.end(), other.notes.begin(), other.notes.end());
}

RollbackResult rollbackJournal(Journal& journal, Rtnetlink& rtnl, DnsConfigurator& dns,
                               PacketFilter& filter) {
    RollbackResult result;
    std::string error;
    switch (journal.origin()) {
    case Journal::Origin::PreviousBoot:
        result.notes.push_back(journal.path() + ": written before the last reboot; discarded");
        if (!journal.discard(error))
            result.failures.push_back(error);
        return result;
    case Journal::Origin::OtherNamespace:
        result.failures.push_back(journal.path() +
                                  ": written in another network namespace; left alone");
        return result;
    case Journal::Origin::Here:
    case Journal::Origin::Unknown:
        break;
    }

    const std::vector<JournalEntry> entries = journal.entries();
    std::vector<JournalEntry> remaining;
    Undoer undoer(rtnl, dns, filter, result);
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        const Undo undo = std::visit(undoer, *it);
        if (undo.done) {
            ++result.undone;
        } else {
            result.failures.push_back("undo " + describe(*it) + ": " + undo.reason);
            remaining.insert(remaining.begin(), *it);
        }
    }
    if (remaining.empty()) {
        if (!journal.discard(error))
            result.failures.push_back(error);
    } else if (!journal.replaceEntries(std::move(remaining), error)) {
        result.failures.push_back(error);
    }
    return result;
}

RollbackResult rollbackLeftoverJournals(const std::string& stateDir, Rtnetlink& rtnl,
                                        DnsConfigurator& dns, PacketFilter& filter) {
    RollbackResult result;
    for (const auto& path : Journal::findAll(stateDir)) {
        Journal journal(path);
        const Journal::LoadResult loaded = journal.load();
        if (!loaded.intact && loaded.existed)
            result.notes.push_back(path + ": damaged (" + loaded.problem + "), " +
                                   std::to_string(loaded.unreadable) +
                                   " unreadable line(s); rolling back what is readable");
        else if (loaded.unreadable != 0)
            result.notes.push_back(path + ": " + std::to_string(loaded.unreadable) +
                                   " unreadable entr(y/ies) skipped");
        result.merge(rollbackJournal(journal, rtnl, dns, filter));
    }
    // Temp files of writes that a crash interrupted; the journals they belonged to are intact.
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(stateDir, ec)) {
        const std::string name = e.path().filename().string();
        // Temporary files of an interrupted journal write: ".netconfig-IF.json.tmp-XXXXXX"
        // (statefile.h), and "netconfig-IF.json.tmp" from helpers before 0.1.
        const bool current = name.rfind(".netconfig-", 0) == 0 &&
                             name.find(std::string(".json") + statefile::kTempMarker) != std::string::npos;
        const bool older = name.rfind("netconfig-", 0) == 0 && name.size() > 9 &&
                           name.compare(name.size() - 9, 9, ".json.tmp") == 0;
        if (current || older)
            std::filesystem::remove(e.path(), ec);
    }
    return result;
}

} // namespace calnet::helper::netconfig
