#include "app/platform/windows/notifier.h"

#include <QSystemTrayIcon>

#include "app/calnet/appsettings.h"

namespace calnet::app {

Notifier::Notifier(AppSettings* settings, QObject* parent) : QObject(parent), settings_(settings) {}

Notifier::~Notifier() = default;

void Notifier::setTray(QSystemTrayIcon* tray) {
    tray_ = tray;
}

void Notifier::notify(Kind kind, const QString& title, const QString& body) {
    if (settings_ && !settings_->notificationsEnabled())
        return;
    if (!tray_ || !QSystemTrayIcon::supportsMessages())
        return;
    tray_->showMessage(title, body,
                       kind == Kind::Failed ? QSystemTrayIcon::Critical
                                            : QSystemTrayIcon::Information);
    ++sent_;
    lastChannel_ = Channel::Tray;
    emit notified(kind);
}

} // namespace calnet::app
