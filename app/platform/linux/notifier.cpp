#include "app/platform/linux/notifier.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QSystemTrayIcon>
#include <QVariantMap>

#include "app/calnet/appsettings.h"
#include "app/platform/linux/autostart.h"

namespace calnet::app {

namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QString kInterface = QStringLiteral("org.freedesktop.Notifications");

// A server that does not answer within this time is treated as absent (tray fallback).
constexpr int kCallTimeoutMs = 5000;

// Desktop Notifications spec, "Urgency Levels".
constexpr uchar kUrgencyNormal = 1;
constexpr uchar kUrgencyCritical = 2;

QString categoryFor(Notifier::Kind kind) {
    switch (kind) {
    case Notifier::Kind::Connected:
        return QStringLiteral("network.connected");
    case Notifier::Kind::Disconnected:
        return QStringLiteral("network.disconnected");
    case Notifier::Kind::Failed:
        return QStringLiteral("network.error");
    }
    return {};
}

} // namespace

Notifier::Notifier(AppSettings* settings, QObject* parent) : QObject(parent), settings_(settings) {}

Notifier::Notifier(AppSettings* settings, const QDBusConnection& bus, QObject* parent)
    : QObject(parent), settings_(settings), bus_(bus) {}

Notifier::~Notifier() = default;

void Notifier::setTray(QSystemTrayIcon* tray) {
    tray_ = tray;
}

QDBusConnection& Notifier::bus() {
    if (!bus_)
        bus_ = QDBusConnection::sessionBus();
    // A dismissed notification must not be "replaced": the server may reject or reuse the id.
    if (!subscribed_ && bus_->isConnected())
        subscribed_ =
            bus_->connect(kService, kPath, kInterface, QStringLiteral("NotificationClosed"), this,
                          SLOT(onNotificationClosed(uint, uint)));
    return *bus_;
}

void Notifier::notify(Kind kind, const QString& title, const QString& body) {
    if (settings_ && !settings_->notificationsEnabled())
        return;
    Request request{kind, title, body};
    if (inFlight_) {
        queued_ = std::move(request);
        return;
    }
    send(request);
}

void Notifier::send(const Request& request) {
    QDBusConnection& connection = bus();
    if (!connection.isConnected()) {
        showInTray(request);
        return;
    }
    QDBusMessage call =
        QDBusMessage::createMethodCall(kService, kPath, kInterface, QStringLiteral("Notify"));
    const QVariantMap hints{
        {QStringLiteral("urgency"),
         QVariant::fromValue<uchar>(request.kind == Kind::Failed ? kUrgencyCritical
                                                                 : kUrgencyNormal)},
        {QStringLiteral("category"), categoryFor(request.kind)},
        {QStringLiteral("desktop-entry"), QString::fromLatin1(autostart::kDesktopId)},
    };
    call << QStringLiteral("Calnet") << uint(currentId_)
         << QString::fromLatin1(autostart::kDesktopId) << request.title << request.body
         << QStringList() << hints << qint32(-1);
    inFlight_ = true;
    auto* watcher = new QDBusPendingCallWatcher(connection.asyncCall(call, kCallTimeoutMs), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this,
            [this, request](QDBusPendingCallWatcher* w) { onReply(w, request); });
}

void Notifier::onReply(QDBusPendingCallWatcher* watcher, const Request& request) {
    watcher->deleteLater();
    inFlight_ = false;
    const QDBusPendingReply<uint> reply = *watcher;
    if (reply.isError()) {
        currentId_ = 0;
        showInTray(request);
    } else {
        currentId_ = reply.value();
        delivered(Channel::DBus, request.kind);
    }
    if (queued_) {
        const Request next = std::move(*queued_);
        queued_.reset();
        send(next);
    }
}

void Notifier::showInTray(const Request& request) {
    if (!tray_)
        return;
    tray_->showMessage(request.title, request.body,
                       request.kind == Kind::Failed ? QSystemTrayIcon::Critical
                                                    : QSystemTrayIcon::Information);
    delivered(Channel::Tray, request.kind);
}

void Notifier::delivered(Channel channel, Kind kind) {
    ++sent_;
    lastChannel_ = channel;
    emit notified(kind);
}

void Notifier::onNotificationClosed(uint id, uint reason) {
    Q_UNUSED(reason);
    if (id == currentId_)
        currentId_ = 0;
}

} // namespace calnet::app
