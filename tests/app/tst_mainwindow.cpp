// MainWindow (the no-tray main window and the tray's peer browser window) against a fake
// helper: the header follows the session (state, profile, address, banner while the helper is
// away), the Connect/Disconnect button and the profile box act through the session, and every
// control has an accessible name.
#include <QAbstractButton>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

#include "app/calnet/mainwindow.h"
#include "app/calnet/peerbrowser.h"
#include "app/calnet/session.h"
#include "fakehelper.h"

using namespace calnet::app;
using calnet::test::FakeHelper;
namespace ipc = calnet::ipc;

namespace {
constexpr int kWaitMs = 5000;
const qint64 kRecent = QDateTime::currentSecsSinceEpoch() - 3;
} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void showsTheHelperIsAway() {
        HelperSession session;
        session.start(QStringLiteral("/nonexistent/dir/calnetd.sock"));
        MainWindow window(&session, MainWindow::Mode::Main);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_VERIFY_WITH_TIMEOUT(window.bannerLabel()->isVisible(), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(
            window.bannerLabel()->text().contains(QStringLiteral("/nonexistent/dir/calnetd.sock")),
            kWaitMs);
        QCOMPARE(window.stateLabel()->text(), trayStateText(TrayState::Unavailable));
        QVERIFY(!window.connectButton()->isEnabled());
        QCOMPARE(window.windowTitle(), QStringLiteral("Calnet"));
        // The banner counts down to the next attempt.
        QTRY_VERIFY_WITH_TIMEOUT(
            window.bannerLabel()->text().contains(QStringLiteral("Retrying in")), kWaitMs);
    }

    void connectsAndDisconnectsFromTheButton() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home"), FakeHelper::profile("office")};
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent, 1000, 2000)};
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        MainWindow window(&session, MainWindow::Mode::Main);
        window.setSelectedProfile(QStringLiteral("office"));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_VERIFY_WITH_TIMEOUT(window.connectButton()->isEnabled(), kWaitMs);
        QVERIFY(!window.bannerLabel()->isVisible());
        QCOMPARE(window.profileBox()->currentText(), QStringLiteral("office"));
        QCOMPARE(window.stateLabel()->text(), trayStateText(TrayState::Disconnected));

        QTest::mouseClick(window.connectButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(window.stateLabel()->text(), trayStateText(TrayState::Connected),
                                  kWaitMs);
        QCOMPARE(helper.last(ipc::kMethodConnect).params.value("name").toString(),
                 QStringLiteral("office"));
        QVERIFY(window.detailLabel()->text().contains(QStringLiteral("10.0.0.2/32")));
        QVERIFY(window.detailLabel()->text().contains(QStringLiteral("office")));
        QVERIFY(window.connectButton()->text().contains(QStringLiteral("Disconnect")));
        QTRY_COMPARE_WITH_TIMEOUT(window.browser()->table()->model()->rowCount(), 1, kWaitMs);

        // Choosing another profile while connected only selects it (arrow keys and the wheel
        // activate a combo box too); Switch moves the tunnel there.
        QVERIFY(window.switchButton()->isHidden());
        QSignalSpy selected(&window, &MainWindow::profileSelected);
        window.profileBox()->setFocus();
        QTest::keyClick(window.profileBox(), Qt::Key_Up);
        QCOMPARE(window.profileBox()->currentText(), QStringLiteral("home"));
        QCOMPARE(selected.count(), 1);
        QCOMPARE(selected[0][0].toString(), QStringLiteral("home"));
        QTest::qWait(100);
        QCOMPARE(helper.count(ipc::kMethodConnect), 1);
        QCOMPARE(session.status().profile, QStringLiteral("office"));
        QVERIFY(!window.switchButton()->isHidden());
        QVERIFY(window.switchButton()->text().contains(QStringLiteral("home")));
        QTest::mouseClick(window.switchButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(session.status().profile, QStringLiteral("home"), kWaitMs);
        QCOMPARE(helper.last(ipc::kMethodConnect).params.value("name").toString(),
                 QStringLiteral("home"));
        QTRY_VERIFY_WITH_TIMEOUT(window.switchButton()->isHidden(), kWaitMs);

        QTest::mouseClick(window.connectButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(window.stateLabel()->text(),
                                  trayStateText(TrayState::Disconnected), kWaitMs);
        QCOMPARE(helper.count(ipc::kMethodDisconnect), 1);
        QCOMPARE(window.browser()->table()->model()->rowCount(), 0);
        QVERIFY(window.connectButton()->text().contains(QStringLiteral("Connect")));
    }

    void errorsAreShown() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home")};
        helper.connectError = QStringLiteral("endpoint vpn.invalid: name does not resolve");
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        MainWindow window(&session, MainWindow::Mode::PeerBrowser);
        window.show();
        QTRY_VERIFY_WITH_TIMEOUT(window.connectButton()->isEnabled(), kWaitMs);
        QTest::mouseClick(window.connectButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(window.stateLabel()->text(), trayStateText(TrayState::Error),
                                  kWaitMs);
        QVERIFY(window.detailLabel()->text().contains(helper.connectError));
        QVERIFY(window.windowTitle().contains(QStringLiteral("Peers")));
    }

    void everyControlHasAnAccessibleName() {
        HelperSession session;
        MainWindow window(&session, MainWindow::Mode::Main);
        window.show();
        int checked = 0;
        for (QWidget* w : window.findChildren<QWidget*>()) {
            // Our controls; Qt's internal helpers (the table's corner button, the filter's clear
            // button) are named by Qt's accessibility bridge itself.
            static const QSet<QString> kControls{"QPushButton", "QToolButton", "QCheckBox",
                                                 "QComboBox",   "QLineEdit",   "QTableView"};
            if (!kControls.contains(QString::fromLatin1(w->metaObject()->className())) ||
                w->objectName().startsWith(QStringLiteral("qt_")))
                continue;
            ++checked;
            QVERIFY2(!w->accessibleName().isEmpty(),
                     qPrintable(QStringLiteral("%1 (%2) has no accessible name")
                                    .arg(QString::fromLatin1(w->metaObject()->className()),
                                         w->objectName())));
        }
        // connect, copy address, profile box, filter, table, and the detail pane's copy buttons
        QVERIFY2(checked >= 7, qPrintable(QString::number(checked)));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
