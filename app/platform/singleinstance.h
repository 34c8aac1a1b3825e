// One Calnet per user session, per OS: class calnet::app::SingleInstance with
//   SingleInstance(key, parent); bool listen(); bool isPrimary();
//   bool sendToPrimary(arguments, timeoutMs); signal messageReceived(arguments)
// Linux: an flock(2)ed lock file and a local socket in $XDG_RUNTIME_DIR
// (platform/linux/singleinstance.h); Windows: a named mutex and a named pipe; macOS: the Linux
// scheme under the per-user temporary directory (docs/platforms.md).
#pragma once

#if defined(_WIN32)
#include "app/platform/windows/singleinstance.h"
#else
#include "app/platform/linux/singleinstance.h"
#endif
