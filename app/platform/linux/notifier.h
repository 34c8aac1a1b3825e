// Desktop notifications for tunnel transitions, through the freedesktop Desktop Notifications
// spec (org.freedesktop.Notifications on the session bus). Each new notification replaces the
// previous one (replaces_id), so a flapping tunnel leaves one bubble, not a stack.
//
// Calls are asynchronous: notify() returns at once, and while a call is in flight only the
// newest request waits behind it (it would replace the older ones anyway), so it carries the id
// the server just returned. When the bus or the notification server is missing, or the call
// fails, the message goes to the tray icon's balloon instead, if a tray icon was given.
#pragma once

#include <QDBusConnection>
#include <QObject>
#include <QPointer>
#include <QString>

#include <optional>

class QDBusPendingCallWatcher;
class QSystemTrayIcon;

namespace calnet::app {

class AppSettings;

class Notifier : public QObject {
    Q_OBJECT

public:
    enum class Kind { Connected, Disconnected, Failed };
    Q_ENUM(Kind)
    // Where the last notification went.
    enum class Channel { None, DBus, Tray };
    Q_ENUM(Channel)

    // Uses the session bus, looked up on the first notification.
    explicit Notifier(AppSettings* settings, QObject* parent = nullptr);
    // Uses `bus` instead (tests run a private bus).
    Notifier(AppSettings* settings, const QDBusConnection& bus, QObject* parent = nullptr);
    ~Notifier() override;

    // The fallback when D-Bus notifications are unavailable; not owned.
    void setTray(QSystemTrayIcon* tray);

    // Shows `title`/`body` unless notifications are switched off in the settings.
    void notify(Kind kind, const QString& title, const QString& body);

    // Notifications delivered so far (by either channel).
    [[nodiscard]] int sentCount() const { return sent_; }
    [[nodiscard]] Channel lastChannel() const { return lastChannel_; }
    // The server's id of the notification on screen, 0 when none.
    [[nodiscard]] quint32 currentId() const { return currentId_; }

signals:
    // After a notification was delivered.
    void notified(calnet::app::Notifier::Kind kind);

private slots:
    void onNotificationClosed(uint id, uint reason);

private:
    struct Request {
        Kind kind = Kind::Connected;
        QString title;
        QString body;
    };

    QDBusConnection& bus();
    void send(const Request& request);
    void onReply(QDBusPendingCallWatcher* watcher, const Request& request);
    void showInTray(const Request& request);
    void delivered(Channel channel, Kind kind);

    AppSettings* settings_ = nullptr;
    QPointer<QSystemTrayIcon> tray_;
    std::optional<QDBusConnection> bus_;
    bool subscribed_ = false;
    bool inFlight_ = false;
    std::optional<Request> queued_;
    quint32 currentId_ = 0;
    int sent_ = 0;
    Channel lastChannel_ = Channel::None;
};

} // namespace calnet::app
