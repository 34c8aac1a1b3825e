// The system's own sentence for a Win32 or Winsock error code, as UTF-8 for calnetd's
// std::string errors (the interfaces' `std::string& error`). The text comes from the one
// FormatMessageW formatter the Windows code shares (helper/platform/windows/systemerror.h, in
// calnet-ipc, which returns a QString).
#pragma once

#include <string>

namespace calnet::helper::windows {

// "The system cannot find the file specified."; "error N" when the system has no text.
[[nodiscard]] std::string systemErrorText(unsigned long code);

} // namespace calnet::helper::windows
