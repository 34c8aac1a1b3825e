// Who may serve the IPC endpoint a client connects to. On POSIX the socket's directory decides
// it (/run/calnet belongs to root), so every server found there is calnetd. On Windows a named
// pipe's name is open to whoever creates it first: any local user could serve \\.\pipe\calnetd
// while calnetd is not running and receive what the app sends it (imported configurations with
// their private keys, sign-in tokens). So the client asks who serves the pipe before its first
// write and talks only to LocalSystem (calnetd's service account) or to its own user (a helper
// started by hand, the tests). Implementations: platform/posix/serveridentity_posix.cpp,
// platform/windows/serveridentity_windows.cpp.
#pragma once

#include <QString>

class QLocalSocket;

namespace calnet::ipc {

// The Windows rule on string SIDs: LocalSystem (S-1-5-18) or the caller's own user.
[[nodiscard]] inline bool trustedServerSid(const QString& serverSid, const QString& ownSid) {
    return !serverSid.isEmpty() && (serverSid == QLatin1String("S-1-5-18") || serverSid == ownSid);
}

// Whether the process at the other end of the connected `socket` may be talked to. When not,
// `why` (if given) names it, for the error the caller reports.
[[nodiscard]] bool serverIsTrusted(const QLocalSocket& socket, QString* why = nullptr);

} // namespace calnet::ipc
