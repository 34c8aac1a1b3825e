// Starting Calnet at login, per OS, in namespace calnet::app::autostart:
//   bool isEnabled();                         what the OS will do at the next login
//   bool setEnabled(bool on, QString* error); error: a translated sentence
//   inline constexpr char kDesktopId[];       the application id ("io.calnet.Calnet")
// Linux: an XDG Autostart desktop entry (platform/linux/autostart.h); Windows: the Run key;
// macOS: a LaunchAgent (docs/platforms.md).
#pragma once

#if defined(_WIN32)
#include "app/platform/windows/autostart.h"
#else
#include "app/platform/linux/autostart.h"
#endif
