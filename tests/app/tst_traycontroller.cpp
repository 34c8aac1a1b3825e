// TrayController against a fake helper: the menu in each state (what is there, what is
// enabled), actions that reach the helper (connect the right profile, disconnect, switch
// profile), click-to-copy for this device's and the peers' addresses, the peer overflow entry,
// and the icon/tooltip following the session.
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QMenu>
#include <QPointer>
#include <QSignalSpy>
#include <QSystemTrayIcon>
#include <QTest>

#include "app/calnet/session.h"
#include "app/calnet/trayicon.h"
#include "fakehelper.h"

using namespace calnet::app;
using calnet::test::FakeHelper;
namespace ipc = calnet::ipc;

namespace {
constexpr int kWaitMs = 5000;
const qint64 kRecent = QDateTime::currentSecsSinceEpoch() - 3;

QStringList visibleTexts(QMenu* menu) {
    QStringList out;
    for (QAction* a : menu->actions())
        if (!a->isSeparator() && a->isVisible())
            out << a->text();
    return out;
}
} // namespace

class TestTrayController : public QObject {
    Q_OBJECT

private slots:
    void unavailableHelper() {
        HelperSession session;
        session.start(QStringLiteral("/nonexistent/calnetd.sock"));
        TrayController tray(&session);
        tray.rebuildMenu();
        QVERIFY(tray.action("state"));
        QCOMPARE(tray.action("state")->text(), trayStateText(TrayState::Unavailable));
        QVERIFY(!tray.action("state")->isEnabled());
        QVERIFY(tray.action("connect"));
        QVERIFY(!tray.action("connect")->isEnabled());
        QVERIFY(!tray.action("import")->isEnabled());
        QVERIFY(tray.action("peerBrowser")->isEnabled());
        QVERIFY(tray.action("settings")->isEnabled());
        QVERIFY(tray.action("about"));
        QVERIFY(tray.action("quit")->isEnabled());
        QVERIFY(tray.trayIcon()->toolTip().contains(QStringLiteral("not running")));
        QVERIFY(!tray.trayIcon()->icon().isNull());
    }

    void connectDisconnectAndSwitch() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home"), FakeHelper::profile("office")};
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent),
                        FakeHelper::peer("K2", "10.0.0.3/32", std::nullopt)};
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        TrayController tray(&session);
        tray.setSelectedProfile(QStringLiteral("office"));
        QTRY_COMPARE_WITH_TIMEOUT(session.profileModel()->rowCount(), 2, kWaitMs);
        tray.rebuildMenu();

        // Disconnected: Connect names the selected profile; the switcher marks it.
        QAction* connectAction = tray.action("connect");
        QVERIFY(connectAction);
        QVERIFY(connectAction->isEnabled());
        QVERIFY2(connectAction->text().contains(QStringLiteral("office")),
                 qPrintable(connectAction->text()));
        QVERIFY(tray.action("profile:office")->isChecked());
        QVERIFY(!tray.action("profile:home")->isChecked());
        QVERIFY(!tray.action("address"));
        QVERIFY(!tray.action("disconnect"));

        connectAction->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(session.status().state, QStringLiteral("connected"), kWaitMs);
        QCOMPARE(helper.count(ipc::kMethodConnect), 1);
        QCOMPARE(helper.last(ipc::kMethodConnect).params.value("name").toString(),
                 QStringLiteral("office"));
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 2, kWaitMs);
        tray.rebuildMenu();
        QVERIFY(tray.action("state")->text().contains(QStringLiteral("office")));
        QVERIFY(tray.action("disconnect"));
        QVERIFY(!tray.action("connect"));
        QVERIFY(tray.trayIcon()->toolTip().contains(QStringLiteral("10.0.0.2")));

        // This device's address and a peer's address are copied on click.
        QSignalSpy copied(&tray, &TrayController::copied);
        QVERIFY(tray.action("address"));
        tray.action("address")->trigger();
        QCOMPARE(copied.last()[0].toString(), QStringLiteral("10.0.0.2"));
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("10.0.0.2"));
        QAction* peer = tray.action("peer:K1");
        QVERIFY(peer);
        QVERIFY2(peer->text().contains(QStringLiteral("10.0.0.1")), qPrintable(peer->text()));
        QVERIFY2(peer->text().contains(QStringLiteral("ago")), qPrintable(peer->text()));
        peer->trigger();
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("10.0.0.1"));
        QVERIFY(tray.action("peer:K2")->text().contains(QStringLiteral("never")));
        QVERIFY(!tray.action("morePeers"));

        // Switching profile while connected moves the tunnel.
        QSignalSpy selected(&tray, &TrayController::profileSelected);
        tray.action("profile:home")->trigger();
        QCOMPARE(selected.count(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(session.status().profile, QStringLiteral("home"), kWaitMs);

        tray.rebuildMenu();
        tray.action("disconnect")->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(session.status().state, QStringLiteral("disconnected"), kWaitMs);
        QCOMPARE(helper.count(ipc::kMethodDisconnect), 1);
        tray.rebuildMenu();
        QVERIFY(tray.action("connect")->text().contains(QStringLiteral("home")));
    }

    void manyPeersOverflowUnhealthyFirst() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("big", true)};
        for (int i = 0; i < 20; ++i)
            helper.peers.append(FakeHelper::peer(QStringLiteral("K%1").arg(i, 2, 10, QChar('0')),
                                                 QStringLiteral("10.0.0.%1/32").arg(i + 10),
                                                 i == 17 ? kRecent - 900 : kRecent));
        helper.setState("connected", "big");
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        TrayController tray(&session);
        QSignalSpy browser(&tray, &TrayController::peerBrowserRequested);
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 20, kWaitMs);
        tray.rebuildMenu();
        int peerEntries = 0;
        for (QAction* a : tray.menu()->actions())
            peerEntries += a->objectName().startsWith(QStringLiteral("peer:"));
        QCOMPARE(peerEntries, TrayController::kMaxMenuPeers);
        // The dead peer is listed although it sorts last by name.
        QVERIFY(tray.action("peer:K17"));
        QVERIFY(tray.action("morePeers"));
        QVERIFY(tray.action("morePeers")->text().contains(QStringLiteral("20")));
        tray.action("morePeers")->trigger();
        QCOMPARE(browser.count(), 1);
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("degraded"));
        QVERIFY(tray.trayIcon()->toolTip().contains(QStringLiteral("not responding")));
        QVERIFY(!visibleTexts(tray.menu()).isEmpty());
    }

    void openMenuUpdatesInPlace() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home", true)};
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent - 40),
                        FakeHelper::peer("K2", "10.0.0.2/32", kRecent)};
        helper.setState("connected", "home");
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        TrayController tray(&session);
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 2, kWaitMs);
        tray.menu()->popup(QPoint(10, 10));
        QTRY_VERIFY_WITH_TIMEOUT(tray.menu()->isVisible(), kWaitMs);
        const QPointer<QAction> peer = tray.action("peer:K1");
        const QPointer<QAction> state = tray.action("state");
        QVERIFY(peer && state);
        tray.menu()->setActiveAction(peer);
        const QString before = peer->text();

        // A new handshake (and the model's clock) change texts, not which entries exist: the
        // open menu keeps its actions, its highlight and stays open.
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent + 1),
                        FakeHelper::peer("K2", "10.0.0.2/32", kRecent)};
        helper.pushPeers();
        QTRY_VERIFY_WITH_TIMEOUT(peer && peer->text() != before, kWaitMs);
        QVERIFY(state);
        QCOMPARE(tray.action("peer:K1"), peer.data());
        QCOMPARE(tray.menu()->activeAction(), peer.data());
        QVERIFY(tray.menu()->isVisible());

        // An address that changes under the open menu is what its click copies.
        helper.peers = {FakeHelper::peer("K1", "10.0.0.9/32", kRecent + 1),
                        FakeHelper::peer("K2", "10.0.0.2/32", kRecent)};
        helper.pushPeers();
        QTRY_VERIFY_WITH_TIMEOUT(peer && peer->text().contains(QStringLiteral("10.0.0.9")),
                                 kWaitMs);
        QCOMPARE(tray.action("peer:K1"), peer.data());
        peer->trigger();
        QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("10.0.0.9"));

        // A peer joining changes the shape: the menu is rebuilt and lists it.
        helper.peers.append(FakeHelper::peer("K3", "10.0.0.3/32", kRecent));
        helper.pushPeers();
        QTRY_VERIFY_WITH_TIMEOUT(tray.action("peer:K3") != nullptr, kWaitMs);
        QVERIFY(!peer); // the old entries went with the rebuild
        tray.menu()->hide();
    }

    void noProfilesSaysHowToStart() {
        FakeHelper helper;
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        TrayController tray(&session);
        QTRY_VERIFY_WITH_TIMEOUT(session.isAvailable(), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(helper.count(ipc::kMethodProfilesList) > 0, kWaitMs);
        QTest::qWait(50);
        tray.rebuildMenu();
        QVERIFY(tray.action("noProfiles"));
        QVERIFY(!tray.action("connect")->isEnabled());
        QVERIFY(tray.action("import")->isEnabled());
        QSignalSpy import(&tray, &TrayController::importRequested);
        tray.action("import")->trigger();
        QCOMPARE(import.count(), 1);
    }

    void helpers() {
        QCOMPARE(addressWithoutHostPrefix("10.0.0.2/32"), QStringLiteral("10.0.0.2"));
        QCOMPARE(addressWithoutHostPrefix("fd00::2/128"), QStringLiteral("fd00::2"));
        QCOMPARE(addressWithoutHostPrefix("10.0.0.0/24"), QStringLiteral("10.0.0.0/24"));
        QCOMPARE(addressWithoutHostPrefix("fd00::/64"), QStringLiteral("fd00::/64"));
    }
};

QTEST_MAIN(TestTrayController)
#include "tst_traycontroller.moc"
