// Human-readable output of calnetctl, in the spirit of `wg show`: pure functions from the
// helper's JSON to text, so they can be tested without a helper.
#pragma once

#include <QJsonObject>
#include <QString>

namespace calnet::ctl {

// "1.24 MiB", "860 B" (binary units, two decimals, as wg).
[[nodiscard]] QString formatBytes(qint64 bytes);
// "1 hour, 2 minutes, 5 seconds" (as wg's latest handshake).
[[nodiscard]] QString formatAge(qint64 seconds);
// `now` (Unix seconds) is for the time left on the node key.
[[nodiscard]] QString formatStatus(const QJsonObject& status, qint64 now);
// "23h 59m", "4m 10s", "expired": how long until `expiry`.
[[nodiscard]] QString formatTimeLeft(qint64 expiry, qint64 now);
[[nodiscard]] QString formatPeers(const QJsonObject& peers);
// One peer's path in words: "direct (203.0.113.12:41641, 1.3 ms)", "relayed via default
// (4.1 ms): trying direct…", "no path: the relay is not reachable".
[[nodiscard]] QString formatPath(const QJsonObject& peer);
[[nodiscard]] QString formatNetcheck(const QJsonObject& netcheck);
// One line per pong ("pong from db via 203.0.113.12:41641 in 1.2 ms"), then how it ended.
[[nodiscard]] QString formatPing(const QJsonObject& ping);
[[nodiscard]] QString formatProfiles(const QJsonObject& profiles);

// Exit codes (documented in `calnetctl --help`).
enum ExitCode : int {
    ExitOk = 0,
    ExitFailed = 1,
    ExitUsage = 2,
    ExitUnavailable = 3, // no helper on the socket
    ExitDenied = 4,      // permission_denied
    ExitNotFound = 5,
    ExitInvalid = 6, // invalid_params (e.g. a bad wg-quick file)
    ExitConflict = 7,
};
// The exit code for an error code string of docs/ipc.md.
[[nodiscard]] int exitCodeFor(const QString& errorCode);

} // namespace calnet::ctl
