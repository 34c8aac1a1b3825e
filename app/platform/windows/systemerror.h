// The system's own sentence for a Win32 error code (FormatMessageW), for the messages the app's
// Windows platform code shows; "error N" when the system has none.
#pragma once

#include <QString>

namespace calnet::app::windows {

[[nodiscard]] QString systemErrorText(unsigned long code);

} // namespace calnet::app::windows
