// Who is calling, and what they may do, on POSIX systems. The kernel tells us the caller's
// uid/gid/pid when the connection is accepted (Linux SO_PEERCRED: platform/linux); the
// credentials cannot be forged by the client.
//
// Admin: uid 0, the operator uid from the helper's configuration, or a user who is a member of
// the `calnet` group (primary group or /etc/group membership, via getgrouplist). Everyone else
// is a Reader. The check is the same in every build type.
#pragma once

#include <optional>
#include <string>

#include <QString>
#include <QtGlobal>

#include <sys/types.h>

#include "helper/ipc/protocol.h"

namespace calnet::helper {

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;

    // For messages: who the caller is.
    [[nodiscard]] QString describe() const { return QStringLiteral("uid %1").arg(uid); }
};

// The credentials of the process at the other end of a connected local socket
// (QLocalSocket::socketDescriptor()).
[[nodiscard]] std::optional<PeerCredentials> peerCredentials(qintptr socketDescriptor);

class AccessPolicy {
public:
    // Who is admin, for messages.
    inline static const QString kAdminRule =
        QStringLiteral("root, the calnet group or the operator");

    explicit AccessPolicy(std::optional<uid_t> operatorUid = std::nullopt,
                          std::string adminGroup = "calnet")
        : operatorUid_(operatorUid), adminGroup_(std::move(adminGroup)) {}

    [[nodiscard]] ipc::Role roleFor(const PeerCredentials& caller) const;
    [[nodiscard]] static bool allows(ipc::Role callerRole, ipc::Role required) {
        return callerRole == ipc::Role::Admin || required == ipc::Role::Reader;
    }

private:
    [[nodiscard]] bool inAdminGroup(const PeerCredentials& caller) const;

    std::optional<uid_t> operatorUid_;
    std::string adminGroup_;
};

} // namespace calnet::helper
