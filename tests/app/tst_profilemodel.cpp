// ProfileModel: parsing profiles.list, in-place updates keyed by name, sorted inserts, and the
// model contract under QAbstractItemModelTester.
#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include "app/calnet/profilemodel.h"

using namespace calnet::app;

namespace {
ProfileInfo make(const QString& name, bool connected = false, int peers = 1) {
    ProfileInfo p;
    p.name = name;
    p.kind = QStringLiteral("wireguard");
    p.peers = peers;
    p.connected = connected;
    return p;
}
} // namespace

class TestProfileModel : public QObject {
    Q_OBJECT

private slots:
    void parses() {
        const QJsonObject data{
            {"profiles",
             QJsonArray{QJsonObject{{"name", "home"},
                                    {"kind", "wireguard"},
                                    {"addresses", QJsonArray{"10.0.0.2/32", "fd00::2/128"}},
                                    {"peers", 2},
                                    {"endpoints", QJsonArray{"vpn.example:51820"}},
                                    {"fullTunnel", true},
                                    {"connected", true}},
                        QJsonObject{{"kind", "wireguard"}}, // no name: skipped
                        QJsonValue(7)}}};
        const auto list = profilesFromJson(data);
        QCOMPARE(list.size(), 1);
        QCOMPARE(list[0].name, QStringLiteral("home"));
        QCOMPARE(list[0].addresses.size(), 2);
        QCOMPARE(list[0].peers, 2);
        QVERIFY(list[0].fullTunnel);
        QVERIFY(list[0].connected);
    }

    void updatesInPlace() {
        ProfileModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setProfiles({make("office"), make("home")});
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(0).data().toString(), QStringLiteral("home")); // sorted by name
        QCOMPARE(model.index(1).data().toString(), QStringLiteral("office"));

        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        const QPersistentModelIndex office = model.index(1);

        model.setProfiles({make("office", true), make("home"), make("lab")});
        QCOMPARE(reset.count(), 0);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(office.data().toString(), QStringLiteral("office"));
        QVERIFY(office.data(ProfileModel::ConnectedRole).toBool());
        QCOMPARE(office.data(Qt::CheckStateRole).toInt(), int(Qt::Checked));
        QCOMPARE(model.rowOf(QStringLiteral("lab")), 1);

        model.setProfiles({make("lab")});
        QCOMPARE(removed.count(), 2);
        QCOMPARE(model.rowCount(), 1);
        QVERIFY(!office.isValid());
        QCOMPARE(model.rowOf(QStringLiteral("office")), -1);

        // Same data again: no signal at all.
        changed.clear();
        model.setProfiles({make("lab")});
        QCOMPARE(changed.count(), 0);
        model.setProfiles({});
        QCOMPARE(model.rowCount(), 0);
    }

    void tooltipSaysWhatTheProfileDoes() {
        ProfileModel model;
        ProfileInfo p = make("full", false, 3);
        p.fullTunnel = true;
        p.addresses = {QStringLiteral("10.9.0.2/32")};
        model.setProfiles({p});
        const QString tip = model.index(0).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("10.9.0.2/32")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("3 peer")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("all traffic")), qPrintable(tip));
    }
};

QTEST_GUILESS_MAIN(TestProfileModel)
#include "tst_profilemodel.moc"
