// Who may do what over the helper's IPC, per OS: the caller's identity as the OS reports it on
// the accepted connection (PeerCredentials, peerCredentials(descriptor)) and the AccessPolicy
// that turns it into an ipc::Role (AccessPolicy::roleFor, AccessPolicy::allows). POSIX: uid,
// gid and the calnet group; Windows (docs/platforms.md): the pipe client's token, with
// Administrators and "Calnet Operators" as admins.
#pragma once

#if defined(_WIN32)
#include "helper/platform/windows/accesspolicy.h"
#else
#include "helper/platform/posix/accesspolicy.h"
#endif
