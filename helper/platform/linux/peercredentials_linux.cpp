// SO_PEERCRED: the kernel's record of who connected to a Unix socket (macOS: getpeereid).
#include "helper/platform/posix/accesspolicy.h"

#include <sys/socket.h>

namespace calnet::helper {

std::optional<PeerCredentials> peerCredentials(qintptr socketDescriptor) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(int(socketDescriptor), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        len != sizeof cred)
        return std::nullopt;
    return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

} // namespace calnet::helper
