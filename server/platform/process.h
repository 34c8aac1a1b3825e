// What calnet-server needs from the OS besides Qt: its open-file budget (every connection is a
// descriptor), stop requests, and a half-close that lets a peer read the last reply. POSIX
// implementation: platform/posix/process_posix.cpp (the server runs on Linux; docs/platforms.md).
#pragma once

#include <QtGlobal>

#include <optional>

namespace calnet::server::process {

// Raises the soft open-file limit to the hard one: the usual soft limit of 1,024 is what an
// attacker with 1,100 idle connections would hit.
void raiseOpenFileLimit();
// The soft open-file limit; nullopt when unlimited or unknown.
[[nodiscard]] std::optional<quint64> openFileLimit();
// SIGTERM and SIGINT quit the application's event loop; SIGPIPE is ignored. Call once, after
// the QCoreApplication exists.
bool quitOnStopSignals();
// Gives memory the allocator keeps after a flood of connections back to the system (glibc:
// malloc_trim), so RSS does not stay at the flood's peak.
void releaseFreedMemory();
// Shuts the sending side of a connected socket (the receiving side keeps draining).
void shutdownWrite(qintptr socketDescriptor);

} // namespace calnet::server::process
