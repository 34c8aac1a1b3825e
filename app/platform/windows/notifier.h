// Desktop notifications for tunnel transitions on Windows: the tray icon's balloon, which
// Windows 10 and 11 show as a toast from the notification area icon (Shell_NotifyIcon with
// NIF_INFO; Qt's QSystemTrayIcon::showMessage). A new message replaces the one on screen.
// Without a tray icon (none given yet, or no notification area) nothing is shown.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>

class QSystemTrayIcon;

namespace calnet::app {

class AppSettings;

class Notifier : public QObject {
    Q_OBJECT

public:
    enum class Kind { Connected, Disconnected, Failed };
    Q_ENUM(Kind)
    // Where the last notification went.
    enum class Channel { None, Tray };
    Q_ENUM(Channel)

    explicit Notifier(AppSettings* settings, QObject* parent = nullptr);
    ~Notifier() override;

    // Where the balloons come from; not owned.
    void setTray(QSystemTrayIcon* tray);

    // Shows `title`/`body` unless notifications are switched off in the settings.
    void notify(Kind kind, const QString& title, const QString& body);

    // Notifications delivered so far.
    [[nodiscard]] int sentCount() const { return sent_; }
    [[nodiscard]] Channel lastChannel() const { return lastChannel_; }

signals:
    // After a notification was delivered.
    void notified(calnet::app::Notifier::Kind kind);

private:
    AppSettings* settings_ = nullptr;
    QPointer<QSystemTrayIcon> tray_;
    int sent_ = 0;
    Channel lastChannel_ = Channel::None;
};

} // namespace calnet::app
