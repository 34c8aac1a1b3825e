// Start at login through the XDG Autostart spec: a desktop entry in
// $XDG_CONFIG_HOME/autostart (default ~/.config/autostart) that session managers launch at login.
// The file itself is the setting; nothing is mirrored in QSettings, so a user who removes the
// entry by hand (or through GNOME Tweaks / KDE's autostart page) sees the truth in the dialog.
#pragma once

#include <QByteArray>
#include <QMap>
#include <QString>

namespace calnet::app::autostart {

// The desktop file id; shared with the .desktop file and the notification "desktop-entry" hint.
inline constexpr char kDesktopId[] = "io.calnet.Calnet";

// $XDG_CONFIG_HOME/autostart/io.calnet.Calnet.desktop, or ~/.config/... when XDG_CONFIG_HOME
// is unset or not absolute (the Base Directory spec says to ignore relative values).
[[nodiscard]] QString entryPath();

// True when the entry exists and neither hides itself (Hidden=true) nor is switched off with
// X-GNOME-Autostart-enabled=false; both are what session managers honour.
[[nodiscard]] bool isEnabled();

// Writes the entry atomically (creating the directory) or removes it. On failure returns false
// and, when `error` is given, a translated sentence naming the file and the reason.
bool setEnabled(bool on, QString* error = nullptr);

// The Exec value for a program: the absolute path of an installed `calnet` binary (so a copy
// outside $PATH still starts), otherwise plain `calnet` looked up in $PATH; then --autostart.
// Quoted and escaped per the Desktop Entry spec ("The Exec key"), ready to write to the file.
[[nodiscard]] QString execLine(const QString& applicationFilePath);

// The whole entry as written for `applicationFilePath`.
[[nodiscard]] QByteArray entryContents(const QString& applicationFilePath);

// Keys of the [Desktop Entry] group of a desktop file, values unescaped (\s \n \t \r \\).
// Other groups, comments and blank lines are skipped.
[[nodiscard]] QMap<QString, QString> parseDesktopEntry(const QByteArray& contents);

} // namespace calnet::app::autostart
