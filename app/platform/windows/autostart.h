// Start at login through the Run key: the value "Calnet" under
// HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run holds calnet.exe's quoted path
// and --autostart. The registry is the setting; nothing is mirrored in QSettings. Task Manager's
// Startup page switches an entry off without removing it (an odd first byte in the value of the
// same name under ...\Explorer\StartupApproved\Run), and isEnabled() honours that, so the dialog
// shows what the next login will do; enabling from Calnet clears such a switch.
#pragma once

#include <QString>

namespace calnet::app::autostart {

// The application id (shared with the other OSes' notification and desktop files).
inline constexpr char kDesktopId[] = "io.calnet.Calnet";
// The value's name under the Run key.
inline constexpr char kValueName[] = "Calnet";

[[nodiscard]] bool isEnabled();

// Writes or removes the Run value. On failure returns false and, when `error` is given, a
// translated sentence naming the key and the reason.
bool setEnabled(bool on, QString* error = nullptr);

// The command line stored for a program: its native path in double quotes, then --autostart.
[[nodiscard]] QString commandLine(const QString& applicationFilePath);

// Task Manager's switch: a StartupApproved value whose first byte is odd means "off".
[[nodiscard]] bool approvedByTaskManager(const QByteArray& startupApprovedValue);

} // namespace calnet::app::autostart
