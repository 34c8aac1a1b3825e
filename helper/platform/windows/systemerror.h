// The system's own sentence for a Win32 error code (FormatMessageW), for the messages of the
// Windows platform code of the app, calnetd and calnet-ipc; "error N" when the system has none.
#pragma once

#include <QString>

namespace calnet::platform::windows {

[[nodiscard]] QString systemErrorText(unsigned long code);

} // namespace calnet::platform::windows
