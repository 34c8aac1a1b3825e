// The tray-state mapping table (app/calnet/traystate.h), row by row, and the tooltip text.
#include <QTest>

#include "app/calnet/traystate.h"

using namespace calnet::app;
using calnet::ipc::Health;

class TestTrayState : public QObject {
    Q_OBJECT

private slots:
    void mapping_data() {
        QTest::addColumn<bool>("available");
        QTest::addColumn<QString>("state");
        QTest::addColumn<QList<Health>>("peers");
        QTest::addColumn<QString>("expected");

        const QList<Health> none;
        const QList<Health> healthy{Health::Healthy, Health::Healthy};
        const QList<Health> withNever{Health::Healthy, Health::Never};
        const QList<Health> withStale{Health::Healthy, Health::Stale};
        const QList<Health> withDead{Health::Dead};

        // An unreachable helper wins over everything it said before.
        QTest::newRow("unavailable/connected") << false << "connected" << healthy << "unavailable";
        QTest::newRow("unavailable/error") << false << "error" << none << "unavailable";
        QTest::newRow("disconnected") << true << "disconnected" << none << "disconnected";
        QTest::newRow("unknown state") << true << "hibernating" << none << "disconnected";
        QTest::newRow("connecting") << true << "connecting" << none << "connecting";
        QTest::newRow("disconnecting") << true << "disconnecting" << healthy << "connecting";
        QTest::newRow("connected, no peers") << true << "connected" << none << "connected";
        QTest::newRow("connected, healthy") << true << "connected" << healthy << "connected";
        QTest::newRow("connected, never") << true << "connected" << withNever << "connected";
        QTest::newRow("connected, stale") << true << "connected" << withStale << "degraded";
        QTest::newRow("connected, dead") << true << "connected" << withDead << "degraded";
        QTest::newRow("error") << true << "error" << healthy << "error";
        // Peer health only matters while connected.
        QTest::newRow("disconnected, dead") << true << "disconnected" << withDead << "disconnected";
    }

    void mapping() {
        QFETCH(bool, available);
        QFETCH(QString, state);
        QFETCH(QList<Health>, peers);
        QFETCH(QString, expected);
        QCOMPARE(trayStateId(trayStateFor({available, state, peers})), expected);
    }

    void everyStateHasItsOwnIdIconAndText() {
        const QList<TrayState> all{TrayState::Unavailable, TrayState::Disconnected,
                                   TrayState::Connecting,  TrayState::Connected,
                                   TrayState::Degraded,    TrayState::Error};
        QSet<QString> ids, icons, texts;
        for (TrayState s : all) {
            ids << trayStateId(s);
            icons << trayIconPath(s);
            texts << trayStateText(s);
            QVERIFY(trayIconPath(s).startsWith(QStringLiteral(":/calnet/icons/calnet-")));
        }
        QCOMPARE(ids.size(), all.size());
        QCOMPARE(icons.size(), all.size());
        QCOMPARE(texts.size(), all.size());
    }

    void tooltip() {
        TooltipInputs in;
        in.state = TrayState::Connected;
        in.profile = QStringLiteral("office");
        in.addresses = {QStringLiteral("10.0.0.2/32")};
        in.peers = 3;
        QString t = trayTooltip(in);
        QVERIFY2(t.startsWith(QStringLiteral("Calnet\nConnected")), qPrintable(t));
        QVERIFY(t.contains(QStringLiteral("office")));
        QVERIFY(t.contains(QStringLiteral("10.0.0.2/32")));
        QVERIFY2(t.contains(QStringLiteral("3 peer")), qPrintable(t));

        in.state = TrayState::Degraded;
        in.peersUnhealthy = 2;
        t = trayTooltip(in);
        QVERIFY2(t.contains(QStringLiteral("2 not responding")), qPrintable(t));
        QVERIFY2(!t.contains(QStringLiteral("relay")), qPrintable(t));
        in.peersRelayed = 2;
        t = trayTooltip(in);
        QVERIFY2(t.contains(QStringLiteral("2 peer(s) through a relay")) ||
                     t.contains(QStringLiteral("2 peers through a relay")),
                 qPrintable(t));

        // Disconnected: no stale profile or address lines.
        in.state = TrayState::Disconnected;
        t = trayTooltip(in);
        QVERIFY(!t.contains(QStringLiteral("office")));
        QVERIFY(!t.contains(QStringLiteral("10.0.0.2")));

        in.state = TrayState::Error;
        in.error = QStringLiteral("RTNETLINK answers: File exists");
        QVERIFY(trayTooltip(in).contains(in.error));

        in.state = TrayState::Unavailable;
        QVERIFY(trayTooltip(in).contains(QStringLiteral("not running")));
    }
};

QTEST_GUILESS_MAIN(TestTrayState)
#include "tst_traystate.moc"
