// HelperSession against a fake helper on a temporary socket: start-up (subscribe, state, peers,
// profiles), live state and peer events, the user-facing transitions (each once, none for the
// state found at connect), failing actions with readable messages, import outcomes with line
// errors, and a helper that goes away and comes back (Unavailable, backoff, full recovery).
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include "app/calnet/session.h"
#include "fakehelper.h"

using namespace calnet::app;
using calnet::test::FakeHelper;
namespace ipc = calnet::ipc;

namespace {
constexpr int kWaitMs = 5000;
const qint64 kRecent = QDateTime::currentSecsSinceEpoch() - 3;
} // namespace

class TestHelperSession : public QObject {
    Q_OBJECT

private slots:
    void startsBlindAndCatchesUp() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home", true), FakeHelper::profile("office")};
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent),
                        FakeHelper::peer("K2", "10.0.0.3/32", std::nullopt)};
        helper.setState("connected", "home");
        QVERIFY(helper.start());

        HelperSession session;
        QSignalSpy connected(&session, &HelperSession::tunnelConnected);
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("unavailable"));
        session.start(helper.path());
        QTRY_VERIFY_WITH_TIMEOUT(session.isAvailable(), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 2, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(session.profileModel()->rowCount(), 2, kWaitMs);
        QCOMPARE(session.status().state, QStringLiteral("connected"));
        QCOMPARE(session.status().profile, QStringLiteral("home"));
        QCOMPARE(session.status().addresses, QStringList{"10.0.0.2/32"});
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("connected"));
        QCOMPARE(helper.count(ipc::kMethodSubscribe), 1);
        // Finding the tunnel already up is not news: no "connected" notification.
        QCOMPARE(connected.count(), 0);
        const auto tip = session.tooltipInputs();
        QCOMPARE(tip.peers, 2);
        QCOMPARE(tip.profile, QStringLiteral("home"));
    }

    void followsEventsAndReportsTransitionsOnce() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home")};
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent)};
        QVERIFY(helper.start());
        HelperSession session;
        QSignalSpy up(&session, &HelperSession::tunnelConnected);
        QSignalSpy down(&session, &HelperSession::tunnelDisconnected);
        QSignalSpy failed(&session, &HelperSession::tunnelFailed);
        QSignalSpy tray(&session, &HelperSession::trayStateChanged);
        session.start(helper.path());
        QTRY_VERIFY_WITH_TIMEOUT(session.isAvailable(), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(trayStateId(session.trayState()), QStringLiteral("disconnected"),
                                  kWaitMs);

        session.connectProfile(QStringLiteral("home"));
        QTRY_COMPARE_WITH_TIMEOUT(up.count(), 1, kWaitMs);
        QCOMPARE(up[0][0].toString(), QStringLiteral("home"));
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 1, kWaitMs);
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("connected"));
        QCOMPARE(helper.last(ipc::kMethodConnect).params.value("name").toString(),
                 QStringLiteral("home"));
        // The profile list follows the state (its "connected" flag).
        QTRY_VERIFY_WITH_TIMEOUT(
            session.profileModel()->index(0).data(ProfileModel::ConnectedRole).toBool(), kWaitMs);

        // A peer goes stale: degraded, without a state event.
        helper.peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent - 400)};
        helper.pushPeers();
        QTRY_COMPARE_WITH_TIMEOUT(trayStateId(session.trayState()), QStringLiteral("degraded"),
                                  kWaitMs);
        QCOMPARE(session.tooltipInputs().peersUnhealthy, 1);

        session.disconnectTunnel();
        QTRY_COMPARE_WITH_TIMEOUT(down.count(), 1, kWaitMs);
        QCOMPARE(down[0][0].toString(), QStringLiteral("home"));
        QCOMPARE(session.peerModel()->rowCount(), 0);
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("disconnected"));

        helper.connectError = QStringLiteral("could not create calnet0: Operation not permitted");
        session.connectProfile(QStringLiteral("home"));
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kWaitMs);
        QCOMPARE(failed[0][1].toString(), helper.connectError);
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("error"));
        QCOMPARE(session.tooltipInputs().error, helper.connectError);
        QCOMPARE(up.count(), 1);
        QCOMPARE(down.count(), 1);
        QVERIFY(tray.count() >= 5);
        QVERIFY(!session.isBusy());
    }

    void failedActionsSayWhy() {
        FakeHelper helper;
        helper.profiles = {FakeHelper::profile("home")};
        helper.override = [](const ipc::Request& r) -> std::optional<QJsonObject> {
            if (r.method == ipc::kMethodConnect)
                return ipc::makeError(r.id, ipc::ErrorCode::PermissionDenied,
                                      QStringLiteral("connect needs the admin role"));
            return std::nullopt;
        };
        QVERIFY(helper.start());
        HelperSession session;
        QSignalSpy failed(&session, &HelperSession::actionFailed);
        QSignalSpy busy(&session, &HelperSession::busyChanged);
        session.start(helper.path());
        QTRY_VERIFY_WITH_TIMEOUT(session.isAvailable(), kWaitMs);
        session.connectProfile(QStringLiteral("home"));
        QVERIFY(session.isBusy());
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kWaitMs);
        QVERIFY2(failed[0][1].toString().contains(QStringLiteral("calnet")),
                 qPrintable(failed[0][1].toString()));
        QVERIFY(session.lastError().contains(QStringLiteral("usermod")));
        QVERIFY(!session.isBusy());
        QCOMPARE(busy.count(), 2);
    }

    void importOutcomes() {
        FakeHelper helper;
        helper.override = [](const ipc::Request& r) -> std::optional<QJsonObject> {
            if (r.method != ipc::kMethodProfilesImport ||
                r.params.value("name").toString() != QStringLiteral("broken"))
                return std::nullopt;
            return ipc::makeError(
                r.id, ipc::ErrorCode::InvalidParams, QStringLiteral("config does not parse"),
                {{"param", "config"},
                 {"errors", QJsonArray{QJsonObject{{"line", 3}, {"reason", "bad key"}},
                                       QJsonObject{{"line", 9}, {"reason", "no peers"}}}}});
        };
        QVERIFY(helper.start());
        HelperSession session;
        session.start(helper.path());
        QTRY_VERIFY_WITH_TIMEOUT(session.isAvailable(), kWaitMs);

        std::optional<ImportOutcome> bad;
        session.importProfile(QStringLiteral("[Interface]\n"), QStringLiteral("broken"),
                              [&](const ImportOutcome& o) { bad = o; });
        QTRY_VERIFY_WITH_TIMEOUT(bad.has_value(), kWaitMs);
        QVERIFY(!bad->ok);
        QCOMPARE(bad->errors.size(), 2);
        QCOMPARE(bad->errors[0].line, 3);
        QCOMPARE(bad->errors[1].reason, QStringLiteral("no peers"));

        std::optional<ImportOutcome> good;
        session.importProfile(QStringLiteral("[Interface]\n"), QStringLiteral("vps"),
                              [&](const ImportOutcome& o) { good = o; });
        QTRY_VERIFY_WITH_TIMEOUT(good.has_value(), kWaitMs);
        QVERIFY(good->ok);
        QCOMPARE(good->profile, QStringLiteral("vps"));
        // The new profile shows up without anyone asking.
        QTRY_COMPARE_WITH_TIMEOUT(session.profileModel()->rowOf(QStringLiteral("vps")), 0, kWaitMs);
    }

    void recoversWhenTheHelperRestarts() {
        auto helper = std::make_unique<FakeHelper>();
        helper->profiles = {FakeHelper::profile("home", true)};
        helper->peers = {FakeHelper::peer("K1", "10.0.0.1/32", kRecent)};
        helper->setState("connected", "home");
        QVERIFY(helper->start());
        const QString path = helper->path();

        HelperSession session;
        QSignalSpy availability(&session, &HelperSession::availabilityChanged);
        QSignalSpy reconnecting(&session, &HelperSession::reconnecting);
        session.start(path);
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 1, kWaitMs);

        helper->stop();
        QTRY_COMPARE_WITH_TIMEOUT(trayStateId(session.trayState()), QStringLiteral("unavailable"),
                                  kWaitMs);
        QCOMPARE(session.peerModel()->rowCount(), 0);
        QCOMPARE(session.status().state, QStringLiteral("disconnected"));
        QTRY_VERIFY_WITH_TIMEOUT(reconnecting.count() >= 2, kWaitMs); // backing off
        QVERIFY(reconnecting[1][0].toInt() > reconnecting[0][0].toInt());

        // Same socket path, a new helper process: state comes back with no help from the user.
        QVERIFY(helper->start());
        QTRY_VERIFY_WITH_TIMEOUT(session.isAvailable(), 15000);
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(), 1, kWaitMs);
        QCOMPARE(trayStateId(session.trayState()), QStringLiteral("connected"));
        QTRY_COMPARE_WITH_TIMEOUT(session.profileModel()->rowCount(), 1, kWaitMs);
        QCOMPARE(helper->count(ipc::kMethodSubscribe), 2); // counted across both lives
        QCOMPARE(availability.count(), 3);                 // up, down, up
    }
};

QTEST_GUILESS_MAIN(TestHelperSession)
#include "tst_helpersession.moc"
