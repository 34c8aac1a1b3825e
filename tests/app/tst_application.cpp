// Application wiring against a fake helper: without a tray host the main window is the app;
// connect / disconnect / failure each produce exactly one notification; a second launch brings
// the window back; an imported profile becomes the one Connect uses.
#include <QApplication>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "app/calnet/application.h"
#include "app/calnet/appsettings.h"
#include "app/calnet/importer.h"
#include "app/calnet/mainwindow.h"
#include "app/calnet/session.h"
#include "app/platform/notifier.h"
#include "fakehelper.h"

using namespace calnet::app;
using calnet::test::FakeHelper;

namespace {
constexpr int kWaitMs = 5000;
} // namespace

class TestApplication : public QObject {
    Q_OBJECT

private slots:
    void init() {
        QVERIFY(dir_.isValid());
        // No session bus: notifications can only be observed through the signal.
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + dir_.filePath("no-bus").toUtf8());
    }

    void noTrayHostMeansAMainWindow() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home")};
        QVERIFY(helper.start());
        AppSettings settings(dir_.filePath(QStringLiteral("a.ini")));
        Application app({helper.path(), /*noTray=*/true}, &settings);
        app.start();
        QVERIFY(!app.usesTray());
        QVERIFY(app.window());
        QCOMPARE(app.window()->mode(), MainWindow::Mode::Main);
        QVERIFY(app.window()->isVisible());
        QVERIFY(qApp->quitOnLastWindowClosed());

        // A second launch while the window is hidden brings it back.
        app.window()->hide();
        app.handleSecondLaunch({QStringLiteral("calnet")});
        QVERIFY(app.window()->isVisible());
    }

    void oneNotificationPerTransition() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home")};
        QVERIFY(helper.start());
        AppSettings settings(dir_.filePath(QStringLiteral("b.ini")));
        Application app({helper.path(), true}, &settings);
        QSignalSpy notes(&app, &Application::notificationRequested);
        app.start();
        QPushButton* button = app.window()->connectButton();
        QTRY_VERIFY_WITH_TIMEOUT(button->isEnabled(), kWaitMs);

        QTest::mouseClick(button, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(notes.count(), 1, kWaitMs);
        QCOMPARE(notes[0][0].toInt(), int(Notifier::Kind::Connected));
        QVERIFY(notes[0][2].toString().contains(QStringLiteral("home")));

        QTRY_VERIFY_WITH_TIMEOUT(button->isEnabled(), kWaitMs);
        QTest::mouseClick(button, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(notes.count(), 2, kWaitMs);
        QCOMPARE(notes[1][0].toInt(), int(Notifier::Kind::Disconnected));

        helper.connectError = QStringLiteral("no route to endpoint");
        QTRY_VERIFY_WITH_TIMEOUT(button->isEnabled(), kWaitMs);
        QTest::mouseClick(button, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(notes.count(), 3, kWaitMs);
        QCOMPARE(notes[2][0].toInt(), int(Notifier::Kind::Failed));
        QVERIFY(notes[2][2].toString().contains(helper.connectError));
        // The error reply that follows the error state must not notify a second time.
        QTest::qWait(200);
        QCOMPARE(notes.count(), 3);
    }

    void importedProfileBecomesTheDefault() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home")};
        QVERIFY(helper.start());
        AppSettings settings(dir_.filePath(QStringLiteral("c.ini")));
        Application app({helper.path(), true}, &settings);
        app.start();
        QTRY_VERIFY_WITH_TIMEOUT(app.session()->isAvailable(), kWaitMs);
        emit app.importer()->imported(QStringLiteral("vps"));
        QCOMPARE(settings.lastProfile(), QStringLiteral("vps"));
        QCOMPARE(app.window()->selectedProfile(), QStringLiteral("vps"));
    }

private:
    QTemporaryDir dir_;
};

QTEST_MAIN(TestApplication)
#include "tst_application.moc"
