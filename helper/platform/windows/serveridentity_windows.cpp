// Windows: the pipe's server must be LocalSystem or this user (helper/ipc/serveridentity.h).
#include "helper/ipc/serveridentity.h"

#include <QLocalSocket>

#include "helper/platform/windows/processuser.h"

namespace calnet::ipc {

bool serverIsTrusted(const QLocalSocket& socket, QString* why) {
    namespace win = calnet::platform::windows;
    const unsigned long pid =
        win::pipeServerProcessId(reinterpret_cast<void*>(socket.socketDescriptor()));
    const QString serverSid = pid ? win::processUserSid(pid) : QString();
    if (trustedServerSid(serverSid, win::currentUserSid()))
        return true;
    if (why) {
        *why = pid == 0 ? QStringLiteral("the pipe's server process is unknown")
               : serverSid.isEmpty()
                   ? QStringLiteral("the pipe's server (process %1) cannot be identified").arg(pid)
                   : QStringLiteral("the pipe is served by process %1 running as %2, neither "
                                    "LocalSystem nor you")
                         .arg(pid)
                         .arg(serverSid);
    }
    return false;
}

} // namespace calnet::ipc
