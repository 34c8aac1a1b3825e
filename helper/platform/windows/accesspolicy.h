// Who is calling, and what they may do, on Windows. The IPC is a named pipe; when a client
// connects, the pipe names the client's process (GetNamedPipeClientProcessId) and that process's
// access token says who it runs as and in which groups. The token is read while the client's
// end is still connected, so the process cannot have exited and handed its id to another.
//
// Admin: LocalSystem, a member of the local Administrators group whose token has the group
// enabled (an elevated process: under UAC a non-elevated administrator holds it deny-only, the
// same rule wireguard-windows applies), or a member of this machine's local group "Calnet
// Operators" (looked up as COMPUTER\Calnet Operators, so no domain group of that name counts).
// Everyone else is a Reader.
#pragma once

#include <QString>
#include <QStringList>
#include <QtGlobal>

#include <optional>
#include <string>

#include "helper/ipc/protocol.h"

namespace calnet::helper {

struct PeerCredentials {
    unsigned long pid = 0;
    QString userSid;         // "S-1-5-21-…", "S-1-5-18" for LocalSystem
    QStringList enabledSids; // the token's groups that are enabled (not deny-only)

    [[nodiscard]] QString describe() const {
        return QStringLiteral("%1 (process %2)").arg(userSid).arg(pid);
    }
};

// The credentials of the process at the other end of a connected pipe
// (QLocalSocket::socketDescriptor() is the pipe's HANDLE on Windows).
[[nodiscard]] std::optional<PeerCredentials> peerCredentials(qintptr socketDescriptor);

class AccessPolicy {
public:
    // Who is admin, for messages.
    inline static const QString kAdminRule =
        QStringLiteral("LocalSystem, an elevated administrator or the Calnet Operators group");
    inline static const QString kOperatorsGroup = QStringLiteral("Calnet Operators");
    inline static const QString kLocalSystemSid = QStringLiteral("S-1-5-18");
    inline static const QString kAdministratorsSid = QStringLiteral("S-1-5-32-544");

    // operatorsGroup: the local group whose members are admins (its SID is looked up each time,
    // so a group made after the service started counts).
    explicit AccessPolicy(QString operatorsGroup = kOperatorsGroup)
        : operatorsGroup_(std::move(operatorsGroup)) {}

    [[nodiscard]] ipc::Role roleFor(const PeerCredentials& caller) const;
    [[nodiscard]] static bool allows(ipc::Role callerRole, ipc::Role required) {
        return callerRole == ipc::Role::Admin || required == ipc::Role::Reader;
    }

    // The SID of the local group `name` of this machine, "" when there is none.
    [[nodiscard]] static QString sidOfAccount(const QString& name);

private:
    QString operatorsGroup_;
};

} // namespace calnet::helper
