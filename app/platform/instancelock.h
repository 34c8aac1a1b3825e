// The OS side of SingleInstance (app/calnet/singleinstance.h), per OS, in namespace
// calnet::app::instance:
//   QString channelFor(const QString& safeKey);  where the primary listens (QLocalServer name)
//   class Lock { Outcome acquire(channel); bool held(); static nameFor(channel); }  the primary
//   bool peerIsSameUser(const QLocalSocket&);     who is at the other end of a connection
// Linux: an flock(2)ed file beside a socket in $XDG_RUNTIME_DIR (platform/linux/instancelock.h);
// Windows: a named mutex in the session's Local\ namespace and a named pipe
// (platform/windows/instancelock.h); macOS: the Linux scheme under the per-user temporary
// directory (docs/platforms.md).
#pragma once

#if defined(_WIN32)
#include "app/platform/windows/instancelock.h"
#else
#include "app/platform/linux/instancelock.h"
#endif
