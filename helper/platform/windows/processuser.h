// The user a Windows process runs as, from its token (TokenUser), as a string SID
// ("S-1-5-21-...", "S-1-5-18" for LocalSystem), and the token queries under it. Shared by the
// IPC client's server check, the app's single-instance pipe and calnetd's access policy.
#pragma once

#include <QString>

#include <vector>

namespace calnet::platform::windows {

// The text form of a SID ("S-1-5-18"); "" when it is not a valid SID.
[[nodiscard]] QString sidText(void* sid);
// GetTokenInformation of `token` for the TOKEN_INFORMATION_CLASS `what`, sized as it needs;
// empty when it cannot be read.
[[nodiscard]] std::vector<unsigned char> tokenInformation(void* token, int what);
// The user SID of the process `pid`; "" when it cannot be opened or read.
[[nodiscard]] QString processUserSid(unsigned long pid);
// The user SID of this process.
[[nodiscard]] QString currentUserSid();
// The process serving the connected client end of a named pipe (a HANDLE), 0 when unknown.
[[nodiscard]] unsigned long pipeServerProcessId(void* pipe);

} // namespace calnet::platform::windows
