// Rollback: undoes a Journal's changes, newest first, and then deletes the journal.
//
// Every undo is idempotent: what is already gone counts as undone (an address, route or rule
// that does not exist; a link that disappeared, taking its addresses, routes and resolved DNS
// with it). Link-bound entries are only undone while the recorded index still names the
// recorded interface, so a reused index never makes us touch another interface.
//
// Entries whose undo fails for another reason stay in the journal (rewritten) for the next
// attempt; rollback goes on with the older entries regardless, so one stubborn entry never
// keeps the rest in place.
//
// A journal written before the last reboot describes nothing that still exists and is just
// deleted; one written in another network namespace is left alone.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "helper/platform/linux/netconfig/dnsconfigurator.h"
#include "helper/platform/linux/netconfig/journal.h"
#include "helper/platform/linux/netconfig/packetfilter.h"
#include "helper/platform/linux/netconfig/rtnetlink.h"

namespace calnet::helper::netconfig {

struct RollbackResult {
    std::size_t undone = 0;            // entries undone or found already undone
    std::vector<std::string> failures; // entries kept for a later attempt, with the reason
    std::vector<std::string> notes;    // things worth a log line that are not failures

    [[nodiscard]] bool ok() const { return failures.empty(); }
    // Failures then notes, "; "-separated.
    [[nodiscard]] std::string summary() const;
    void merge(const RollbackResult& other);
};

// Undoes the entries in `journal` (as loaded, or as left by NetworkSetup) and, when all are
// undone, deletes its file.
RollbackResult rollbackJournal(Journal& journal, Rtnetlink& rtnl, DnsConfigurator& dns,
                               PacketFilter& filter = PacketFilter::system());

// At helper start, before any profile connects: loads and rolls back every journal left in
// stateDir by a helper that died without cleaning up.
RollbackResult rollbackLeftoverJournals(const std::string& stateDir, Rtnetlink& rtnl,
                                        DnsConfigurator& dns,
                                        PacketFilter& filter = PacketFilter::system());

} // namespace calnet::helper::netconfig
