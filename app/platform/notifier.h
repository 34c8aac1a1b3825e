// Desktop notifications for tunnel transitions, per OS: class calnet::app::Notifier with
//   Notifier(AppSettings*, QObject* parent);  notify(Kind, title, body); setTray(QSystemTrayIcon*);
//   sentCount(), lastChannel(), signal notified(Kind)
// Linux: the freedesktop Notifications service on the session bus, the tray balloon as the
// fallback (platform/linux/notifier.h); Windows: the tray balloon; macOS: the tray balloon
// until UNUserNotificationCenter (docs/platforms.md).
#pragma once

#if defined(_WIN32)
#include "app/platform/windows/notifier.h"
#else
#include "app/platform/linux/notifier.h"
#endif
