// Notifier against a fake org.freedesktop.Notifications on a private dbus-daemon (ours, killed
// by PID at the end): the Notify arguments, replaces_id chaining, urgency, the settings switch,
// the in-flight queue, NotificationClosed, and the tray fallback.
#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusVirtualObject>
#include <QMutex>
#include <QProcess>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <csignal>
#include <memory>
#include <sys/types.h>

#include "app/calnet/appsettings.h"
#include "app/platform/linux/notifier.h"
#include "skip.h"

using calnet::app::AppSettings;
using calnet::app::Notifier;

namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");

// The notification server, as far as Notify goes: records each call and answers with a fresh
// id, or with replaces_id when that is set (as the spec requires). With holdReplies set, calls
// are recorded but answered only by release().
class FakeNotifications : public QDBusVirtualObject {
public:
    QString introspect(const QString&) const override { return {}; }
    bool handleMessage(const QDBusMessage& m, const QDBusConnection& connection) override {
        if (m.member() != QLatin1StringView("Notify"))
            return false;
        QMutexLocker lock(&mutex_);
        calls_ << m;
        const uint replaces = m.arguments().value(1).toUInt();
        const uint id = replaces != 0 ? replaces : nextId_++;
        m.setDelayedReply(true);
        const QDBusMessage reply = m.createReply(QVariant::fromValue(id));
        if (holdReplies)
            held_ << reply;
        else
            connection.send(reply);
        return true;
    }
    void release(QDBusConnection connection) {
        QMutexLocker lock(&mutex_);
        for (const QDBusMessage& reply : std::as_const(held_))
            connection.send(reply);
        held_.clear();
    }
    QList<QDBusMessage> calls() const {
        QMutexLocker lock(&mutex_);
        return calls_;
    }
    void reset() {
        QMutexLocker lock(&mutex_);
        calls_.clear();
        held_.clear();
        holdReplies = false;
    }
    std::atomic<bool> holdReplies = false;

private:
    mutable QMutex mutex_;
    QList<QDBusMessage> calls_;
    QList<QDBusMessage> held_;
    uint nextId_ = 100;
};

QVariantMap hintsOf(const QDBusMessage& call) {
    QVariantMap hints;
    call.arguments().value(6).value<QDBusArgument>() >> hints;
    return hints;
}

} // namespace

class tst_Notifier : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();
    void notifyArguments();
    void secondReplacesFirst();
    void failedIsCritical();
    void disabledSendsNothing();
    void asynchronousAndCoalesced();
    void closedNotificationIsNotReplaced();
    void missingServiceFallsBackToTray();
    void missingServiceWithoutTrayDoesNothing();
    void noBusFallsBackToTray();
    void defaultUsesSessionBus();

private:
    QDBusConnection client() const { return QDBusConnection(QStringLiteral("notifier-client")); }
    QDBusConnection service() const { return QDBusConnection(QStringLiteral("notifier-fake")); }

    QTemporaryDir dir_;
    QProcess daemon_;
    QString address_;
    FakeNotifications fake_;
    std::unique_ptr<AppSettings> settings_;
};

void tst_Notifier::initTestCase() {
    QVERIFY(dir_.isValid());
    daemon_.start(QStringLiteral("dbus-daemon"),
                  {QStringLiteral("--session"), QStringLiteral("--nofork"),
                   QStringLiteral("--nopidfile"), QStringLiteral("--print-address=1"),
                   QStringLiteral("--address=unix:path=") + dir_.path() + QStringLiteral("/bus")});
    if (!daemon_.waitForStarted(5000))
        CALNET_ENVIRONMENT_SKIP("dbus-daemon is not installed");
    QVERIFY(daemon_.waitForReadyRead(5000));
    address_ = QString::fromUtf8(daemon_.readLine()).trimmed();
    QVERIFY(!address_.isEmpty());
    // Anything that reaches for the session bus lands on ours, never the user's.
    qputenv("DBUS_SESSION_BUS_ADDRESS", address_.toUtf8());

    QVERIFY(
        QDBusConnection::connectToBus(address_, QStringLiteral("notifier-client")).isConnected());
    QDBusConnection fakeBus =
        QDBusConnection::connectToBus(address_, QStringLiteral("notifier-fake"));
    QVERIFY(fakeBus.isConnected());
    QVERIFY(fakeBus.registerVirtualObject(kPath, &fake_));
    QVERIFY(fakeBus.registerService(kService));
}

void tst_Notifier::cleanupTestCase() {
    QDBusConnection::disconnectFromBus(QStringLiteral("notifier-client"));
    QDBusConnection::disconnectFromBus(QStringLiteral("notifier-fake"));
    if (daemon_.state() != QProcess::NotRunning) {
        ::kill(pid_t(daemon_.processId()), SIGTERM);
        if (!daemon_.waitForFinished(5000)) {
            daemon_.kill();
            daemon_.waitForFinished(5000);
        }
    }
}

void tst_Notifier::init() {
    fake_.reset();
    settings_ = std::make_unique<AppSettings>(dir_.filePath(QStringLiteral("settings.ini")));
    settings_->setNotificationsEnabled(true);
}

void tst_Notifier::cleanup() {
    settings_.reset();
    QDBusConnection fakeBus = service();
    if (!fakeBus.interface()->isServiceRegistered(kService).value())
        QVERIFY(fakeBus.registerService(kService));
}

void tst_Notifier::notifyArguments() {
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("Connected"),
                    QStringLiteral("Tunnel “office” is up"));
    QVERIFY(spy.wait(5000));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).value<Notifier::Kind>(), Notifier::Kind::Connected);
    QCOMPARE(notifier.sentCount(), 1);
    QCOMPARE(notifier.lastChannel(), Notifier::Channel::DBus);

    const QList<QDBusMessage> calls = fake_.calls();
    QCOMPARE(calls.size(), 1);
    const QDBusMessage& call = calls.first();
    QCOMPARE(call.interface(), kService);
    QCOMPARE(call.signature(), QStringLiteral("susssasa{sv}i"));
    const QVariantList args = call.arguments();
    QCOMPARE(args.at(0).toString(), QStringLiteral("Calnet"));
    QCOMPARE(args.at(1).toUInt(), 0u);
    QCOMPARE(args.at(2).toString(), QStringLiteral("io.calnet.Calnet"));
    QCOMPARE(args.at(3).toString(), QStringLiteral("Connected"));
    QCOMPARE(args.at(4).toString(), QStringLiteral("Tunnel “office” is up"));
    QCOMPARE(args.at(5).toStringList(), QStringList());
    QCOMPARE(args.at(7).toInt(), -1);
    const QVariantMap hints = hintsOf(call);
    QCOMPARE(hints.value(QStringLiteral("urgency")).metaType(), QMetaType::fromType<uchar>());
    QCOMPARE(hints.value(QStringLiteral("urgency")).value<uchar>(), uchar(1));
    QCOMPARE(hints.value(QStringLiteral("desktop-entry")).toString(),
             QStringLiteral("io.calnet.Calnet"));
    QCOMPARE(hints.value(QStringLiteral("category")).toString(),
             QStringLiteral("network.connected"));
    QVERIFY(notifier.currentId() >= 100u); // the fake numbers from 100
}

void tst_Notifier::secondReplacesFirst() {
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("Connected"), QStringLiteral("a"));
    QVERIFY(spy.wait(5000));
    const uint firstId = notifier.currentId();
    QVERIFY(firstId != 0);
    notifier.notify(Notifier::Kind::Disconnected, QStringLiteral("Disconnected"),
                    QStringLiteral("b"));
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
    const QList<QDBusMessage> calls = fake_.calls();
    QCOMPARE(calls.size(), 2);
    QCOMPARE(calls.at(0).arguments().at(1).toUInt(), 0u);
    QCOMPARE(calls.at(1).arguments().at(1).toUInt(), firstId);
    QCOMPARE(calls.at(1).arguments().at(3).toString(), QStringLiteral("Disconnected"));
    QCOMPARE(hintsOf(calls.at(1)).value(QStringLiteral("category")).toString(),
             QStringLiteral("network.disconnected"));
    QCOMPARE(spy.at(1).at(0).value<Notifier::Kind>(), Notifier::Kind::Disconnected);
    QCOMPARE(notifier.sentCount(), 2);
}

void tst_Notifier::failedIsCritical() {
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Failed, QStringLiteral("Connection failed"),
                    QStringLiteral("handshake timed out"));
    QVERIFY(spy.wait(5000));
    const QVariantMap hints = hintsOf(fake_.calls().value(0));
    QCOMPARE(hints.value(QStringLiteral("urgency")).value<uchar>(), uchar(2));
    QCOMPARE(hints.value(QStringLiteral("category")).toString(), QStringLiteral("network.error"));
    QCOMPARE(spy.at(0).at(0).value<Notifier::Kind>(), Notifier::Kind::Failed);
}

void tst_Notifier::disabledSendsNothing() {
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    settings_->setNotificationsEnabled(false);
    notifier.notify(Notifier::Kind::Failed, QStringLiteral("hidden"), QStringLiteral("x"));
    QCOMPARE(notifier.sentCount(), 0);
    settings_->setNotificationsEnabled(true);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("shown"), QStringLiteral("y"));
    QVERIFY(spy.wait(5000));
    // Calls arrive in order on one connection: had the first gone out, it would be first.
    const QList<QDBusMessage> calls = fake_.calls();
    QCOMPARE(calls.size(), 1);
    QCOMPARE(calls.at(0).arguments().at(3).toString(), QStringLiteral("shown"));
    QCOMPARE(notifier.sentCount(), 1);
}

void tst_Notifier::asynchronousAndCoalesced() {
    fake_.holdReplies = true;
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("one"), QString());
    // notify() returned although the server has not answered.
    QTRY_COMPARE_WITH_TIMEOUT(fake_.calls().size(), 1, 5000);
    QCOMPARE(notifier.sentCount(), 0);
    QCOMPARE(spy.count(), 0);
    notifier.notify(Notifier::Kind::Disconnected, QStringLiteral("two"), QString());
    notifier.notify(Notifier::Kind::Failed, QStringLiteral("three"), QString());
    fake_.holdReplies = false;
    fake_.release(service());
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
    // "two" would have been replaced by "three" at once: only the newest went out, and with the
    // id of "one".
    const QList<QDBusMessage> calls = fake_.calls();
    QCOMPARE(calls.size(), 2);
    QCOMPARE(calls.at(1).arguments().at(3).toString(), QStringLiteral("three"));
    QCOMPARE(calls.at(1).arguments().at(1).toUInt(), notifier.currentId());
    QVERIFY(notifier.currentId() != 0);
    QCOMPARE(spy.at(1).at(0).value<Notifier::Kind>(), Notifier::Kind::Failed);
}

void tst_Notifier::closedNotificationIsNotReplaced() {
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("one"), QString());
    QVERIFY(spy.wait(5000));
    const uint id = notifier.currentId();
    QVERIFY(id != 0);

    // Another notification's closing changes nothing.
    QDBusMessage other =
        QDBusMessage::createSignal(kPath, kService, QStringLiteral("NotificationClosed"));
    other << uint(id + 1000) << uint(2);
    QVERIFY(service().send(other));
    // The user dismissed ours (reason 2).
    QDBusMessage closed =
        QDBusMessage::createSignal(kPath, kService, QStringLiteral("NotificationClosed"));
    closed << uint(id) << uint(2);
    QVERIFY(service().send(closed));
    QTRY_COMPARE_WITH_TIMEOUT(notifier.currentId(), 0u, 5000);

    notifier.notify(Notifier::Kind::Disconnected, QStringLiteral("two"), QString());
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
    QCOMPARE(fake_.calls().at(1).arguments().at(1).toUInt(), 0u);
}

void tst_Notifier::missingServiceFallsBackToTray() {
    QSystemTrayIcon tray;
    Notifier notifier(settings_.get(), client());
    notifier.setTray(&tray);
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("Connected"), QString());
    QVERIFY(spy.wait(5000));
    QCOMPARE(notifier.lastChannel(), Notifier::Channel::DBus);
    QVERIFY(notifier.currentId() != 0);

    // The server goes away (it crashed, or the session has none).
    QVERIFY(service().unregisterService(kService));
    notifier.notify(Notifier::Kind::Failed, QStringLiteral("Connection failed"), QString());
    QVERIFY(spy.wait(5000));
    QCOMPARE(notifier.lastChannel(), Notifier::Channel::Tray);
    QCOMPARE(notifier.sentCount(), 2);
    QCOMPARE(spy.at(1).at(0).value<Notifier::Kind>(), Notifier::Kind::Failed);
    QCOMPARE(fake_.calls().size(), 1);

    // Once a server is back, D-Bus is used again, and the old id means nothing to it.
    QVERIFY(service().registerService(kService));
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("Connected"), QString());
    QVERIFY(spy.wait(5000));
    QCOMPARE(notifier.lastChannel(), Notifier::Channel::DBus);
    QCOMPARE(fake_.calls().size(), 2);
    QCOMPARE(fake_.calls().at(1).arguments().at(1).toUInt(), 0u);
}

void tst_Notifier::missingServiceWithoutTrayDoesNothing() {
    QVERIFY(service().unregisterService(kService));
    Notifier notifier(settings_.get(), client());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("lost"), QString());
    // Not blocked behind the failed call: the next one goes out once the server is back.
    QVERIFY(service().registerService(kService));
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("found"), QString());
    QTRY_COMPARE_WITH_TIMEOUT(fake_.calls().size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
    QCOMPARE(fake_.calls().at(0).arguments().at(3).toString(), QStringLiteral("found"));
    QCOMPARE(notifier.sentCount(), 1);
}

void tst_Notifier::noBusFallsBackToTray() {
    const QString name = QStringLiteral("notifier-nobus");
    const auto disconnect = qScopeGuard([&] { QDBusConnection::disconnectFromBus(name); });
    QDBusConnection noBus = QDBusConnection::connectToBus(
        QStringLiteral("unix:path=") + dir_.filePath(QStringLiteral("no-such-bus")), name);
    QVERIFY(!noBus.isConnected());

    Notifier withoutTray(settings_.get(), noBus);
    withoutTray.notify(Notifier::Kind::Connected, QStringLiteral("x"), QString());
    QCOMPARE(withoutTray.sentCount(), 0);

    QSystemTrayIcon tray;
    Notifier notifier(settings_.get(), noBus);
    notifier.setTray(&tray);
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Disconnected, QStringLiteral("x"), QString());
    // No bus: the tray is used synchronously.
    QCOMPARE(spy.count(), 1);
    QCOMPARE(notifier.lastChannel(), Notifier::Channel::Tray);

    // Switched off means off for the tray too.
    settings_->setNotificationsEnabled(false);
    notifier.notify(Notifier::Kind::Disconnected, QStringLiteral("x"), QString());
    QCOMPARE(spy.count(), 1);
}

void tst_Notifier::defaultUsesSessionBus() {
    Notifier notifier(settings_.get());
    QSignalSpy spy(&notifier, &Notifier::notified);
    notifier.notify(Notifier::Kind::Connected, QStringLiteral("session"), QString());
    QVERIFY(spy.wait(5000));
    QCOMPARE(fake_.calls().size(), 1);
    QCOMPARE(fake_.calls().at(0).arguments().at(3).toString(), QStringLiteral("session"));
}

QTEST_MAIN(tst_Notifier)
#include "tst_notifier.moc"
