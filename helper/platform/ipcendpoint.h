// Where calnetd --service listens for the app and calnetctl unless told otherwise
// (docs/ipc.md): each OS's own (QLocalSocket and QLocalServer speak both kinds).
#pragma once

#if defined(_WIN32)
#include "helper/platform/windows/ipcendpoint.h"
#else
#include "helper/platform/posix/ipcendpoint.h"
#endif
