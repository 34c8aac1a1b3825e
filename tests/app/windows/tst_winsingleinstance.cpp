// SingleInstance on Windows (a named mutex and a named pipe; run under Wine in CI): one primary
// per key, a second launch's arguments delivered and acknowledged, the mutex freed when the
// primary goes so the next launch takes over, and a send with no primary failing in bounded
// time. The second launch runs on its own thread: a Windows mutex is recursive for the thread
// that owns it, as a second process never is.
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <memory>

#include "app/calnet/singleinstance.h"
#include "app/secondlaunch.h"
#include "helper/platform/windows/processuser.h"

using calnet::app::SingleInstance;

namespace {

const QString kKey = QStringLiteral("wintest");

struct Second : testapp::SecondLaunch {
    Second() { key = kKey; }
};

} // namespace

class TestWinSingleInstance : public QObject {
    Q_OBJECT

private slots:
    void channelIsPerSessionAndKey() {
        const QString channel = SingleInstance(QStringLiteral("../a b/c")).socketPath();
        QVERIFY2(channel.startsWith(QStringLiteral("calnet-")), qPrintable(channel));
        QVERIFY2(channel.endsWith(QStringLiteral("-..abc")), qPrintable(channel));
        // Per user as well as per session: the user's SID is in the name.
        const QString sid = calnet::platform::windows::currentUserSid();
        QVERIFY(sid.startsWith(QStringLiteral("S-1-")));
        QVERIFY2(channel.contains(QStringLiteral("-") + sid + QStringLiteral("-")),
                 qPrintable(channel));
        QVERIFY(!channel.contains(u'\\') && !channel.contains(u'/'));
        QCOMPARE(SingleInstance(kKey).lockName(),
                 QStringLiteral("Local\\") + SingleInstance(kKey).socketPath());
    }

    void secondLaunchDeliversArguments() {
        SingleInstance primary(kKey);
        QVERIFY(primary.listen());
        QVERIFY(primary.isPrimary());
        QSignalSpy received(&primary, &SingleInstance::messageReceived);

        Second second;
        second.arguments = {QStringLiteral("C:\\Program Files\\Calnet\\calnet.exe"),
                            QStringLiteral("--show"), QString(), QStringLiteral("Grüße 👋")};
        second.start();
        QVERIFY(received.wait(5000));
        QVERIFY(second.finish());
        QCOMPARE(second.listenResult, false); // the mutex is held
        QVERIFY(second.sent);                 // and the primary acknowledged
        QCOMPARE(received.count(), 1);
        QCOMPARE(received.at(0).at(0).toStringList(), second.arguments);

        Second again;
        again.arguments = {QStringLiteral("again")};
        again.start();
        QTRY_COMPARE_WITH_TIMEOUT(received.count(), 2, 5000);
        QVERIFY(again.finish());
        QVERIFY(again.sent);
    }

    void nextLaunchTakesOverWhenThePrimaryGoes() {
        {
            SingleInstance primary(kKey);
            QVERIFY(primary.listen());
        }
        Second next;
        next.start(300);
        QVERIFY(next.finish());
        QCOMPARE(next.listenResult, true); // became the primary itself
    }

    void sendWithoutPrimaryFails() {
        SingleInstance lonely(kKey);
        QElapsedTimer timer;
        timer.start();
        QVERIFY(!lonely.sendToPrimary({QStringLiteral("x")}, 300));
        QVERIFY(timer.elapsed() >= 250);
        QVERIFY(timer.elapsed() < 5000);
    }
};

QTEST_MAIN(TestWinSingleInstance)
#include "tst_winsingleinstance.moc"
