// The user a Windows process runs as, from its token (TokenUser), as a string SID
// ("S-1-5-21-...", "S-1-5-18" for LocalSystem). Shared by the IPC client's server check and the
// app's single-instance pipe.
#pragma once

#include <QString>

namespace calnet::platform::windows {

// The user SID of the process `pid`; "" when it cannot be opened or read.
[[nodiscard]] QString processUserSid(unsigned long pid);
// The user SID of this process.
[[nodiscard]] QString currentUserSid();
// The process serving the connected client end of a named pipe (a HANDLE), 0 when unknown.
[[nodiscard]] unsigned long pipeServerProcessId(void* pipe);

} // namespace calnet::platform::windows
