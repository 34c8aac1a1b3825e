// PeerModel and PeerFilterModel: parsing the helper's Peer objects, formatting, in-place
// updates that touch exactly the changed cells (no reset, persistent indexes survive), ages
// against the model's clock, health, sorting and filtering — every step under
// QAbstractItemModelTester — and a 1,000-peer update.
#include <QAbstractItemModelTester>
#include <QColor>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QLocale>
#include <QSignalSpy>
#include <QTest>

#include "app/calnet/peermodel.h"

using namespace calnet::app;
using calnet::ipc::Health;

namespace {

constexpr qint64 kNow = 1'800'000'000;

PeerInfo make(int i, std::optional<qint64> handshake = kNow - 5) {
    PeerInfo p;
    p.publicKey = QStringLiteral("key%1").arg(i, 4, 10, QLatin1Char('0'));
    p.allowedIps = {QStringLiteral("10.0.%1.%2/32").arg(i / 250).arg(i % 250 + 1)};
    p.endpoint = QStringLiteral("192.0.2.%1:51820").arg(i % 250 + 1);
    p.lastHandshake = handshake;
    p.rxBytes = 1000 * i;
    p.txBytes = 10 * i;
    return p;
}

QList<PeerInfo> many(int n) {
    QList<PeerInfo> out;
    for (int i = 0; i < n; ++i)
        out << make(i);
    return out;
}

} // namespace

class TestPeerModel : public QObject {
    Q_OBJECT

private slots:
    void parsesPeerObjects() {
        const QJsonObject data{
            {"peers", QJsonArray{
                          QJsonObject{{"publicKey", "AAAA"},
                                      {"name", QJsonValue()},
                                      {"allowedIps", QJsonArray{"10.0.0.1/32", "fd00::1/128"}},
                                      {"endpoint", "192.0.2.1:51820"},
                                      {"lastHandshake", 1700000000},
                                      {"handshakeAgeSeconds", 12},
                                      {"rxBytes", 4096},
                                      {"txBytes", 8192},
                                      {"persistentKeepalive", 25},
                                      {"path", "direct"}},
                          QJsonObject{{"publicKey", "BBBB"},
                                      {"name", "laptop"},
                                      {"endpoint", QJsonValue()},
                                      {"lastHandshake", QJsonValue()},
                                      {"path", "relayed"},
                                      {"online", false}},
                          QJsonObject{{"name", "no key"}}, // skipped
                      }}};
        const auto peers = peersFromJson(data);
        QCOMPARE(peers.size(), 2);
        QCOMPARE(peers[0].allowedIps.size(), 2);
        QCOMPARE(peers[0].lastHandshake.value(), 1700000000);
        QCOMPARE(peers[0].reportedAge.value(), 12);
        QCOMPARE(peers[0].rxBytes, 4096);
        QCOMPARE(peers[0].persistentKeepalive, 25);
        QCOMPARE(peers[0].displayName(), QStringLiteral("AAAA…"));
        QVERIFY(!peers[0].online.has_value());
        QCOMPARE(peers[1].displayName(), QStringLiteral("laptop"));
        QVERIFY(peers[1].endpoint.isEmpty());
        QVERIFY(!peers[1].lastHandshake);
        QCOMPARE(peers[1].path, QStringLiteral("relayed"));
        QCOMPARE(peers[1].online, std::optional<bool>(false));

        // The path column tells a mesh peer the server reports offline.
        QCOMPARE(pathText(peers[0]), QStringLiteral("direct"));
        QCOMPARE(pathText(peers[1]), QStringLiteral("offline"));
        PeerInfo online = peers[1];
        online.online = true;
        QCOMPARE(pathText(online), QStringLiteral("relayed"));
        PeerModel model;
        model.setPeers(peers);
        QCOMPARE(model.index(1, PeerModel::Path).data().toString(), QStringLiteral("offline"));
    }

    // What the helper says about a mesh peer's path becomes the column, its tooltip and the
    // details sentence: where packets go, how fast, since when and why not directly.
    void paths() {
        const QJsonObject relayed{{"publicKey", "BBBB"},
                                  {"path", "relayed"},
                                  {"pathEndpoint", "default"},
                                  {"latencyMs", 4.04},
                                  {"pathSince", 1700000000},
                                  {"pathReason", "peer is behind a symmetric NAT"},
                                  {"online", true}};
        const auto r = PeerInfo::fromJson(relayed);
        QVERIFY(r);
        QCOMPARE(r->pathEndpoint, QStringLiteral("default"));
        QCOMPARE(r->latencyMs.value(), 4.04);
        QCOMPARE(r->pathSince.value(), 1700000000);
        QCOMPARE(pathText(*r), QStringLiteral("relayed via default · 4.0 ms"));
        const QString since = QLocale().toString(QDateTime::fromSecsSinceEpoch(1700000000).time(),
                                                 QLocale::ShortFormat);
        QCOMPARE(pathDetails(*r),
                 QStringLiteral("Relayed via default since %1, 4.0 ms — peer is behind a "
                                "symmetric NAT")
                     .arg(since));
        QJsonObject direct = relayed;
        direct["publicKey"] = "CCCC";
        direct["path"] = "direct";
        direct["pathEndpoint"] = "203.0.113.12:41641";
        direct["pathReason"] = QJsonValue();
        direct["latencyMs"] = 1.26;
        QCOMPARE(pathText(*PeerInfo::fromJson(direct)), QStringLiteral("direct · 1.3 ms"));
        QCOMPARE(pathDetails(*PeerInfo::fromJson(direct)),
                 QStringLiteral("Direct to 203.0.113.12:41641 since %1, 1.3 ms").arg(since));
        QJsonObject none = relayed;
        none["path"] = "none";
        none["pathEndpoint"] = QJsonValue();
        none["latencyMs"] = QJsonValue();
        none["pathSince"] = QJsonValue();
        none["pathReason"] = "the relay is not reachable";
        QCOMPARE(pathText(*PeerInfo::fromJson(none)), QStringLiteral("no path"));
        QCOMPARE(pathDetails(*PeerInfo::fromJson(none)),
                 QStringLiteral("No path — the relay is not reachable"));
        PeerModel model;
        model.setPeers({*r, *PeerInfo::fromJson(direct)});
        QCOMPARE(model.relayedCount(), 1);
        QCOMPARE(model.index(0, PeerModel::Path).data(Qt::ToolTipRole).toString(), pathDetails(*r));
    }

    void formats() {
        QCOMPARE(formatBytes(0), QStringLiteral("0 B"));
        QCOMPARE(formatBytes(1023), QStringLiteral("1023 B"));
        QCOMPARE(formatBytes(1536), QStringLiteral("1.50 KiB"));
        QCOMPARE(formatBytes(5LL * 1024 * 1024 * 1024), QStringLiteral("5.00 GiB"));
        QCOMPARE(formatAge(0), QStringLiteral("0 s"));
        QCOMPARE(formatAge(59), QStringLiteral("59 s"));
        QCOMPARE(formatAge(184), QStringLiteral("3 min 4 s"));
        QCOMPARE(formatAge(7500), QStringLiteral("2 h 5 min"));
        QCOMPARE(formatAge(3 * 86400 + 3700), QStringLiteral("3 d 1 h"));
        QCOMPARE(formatAge(-5), QStringLiteral("0 s"));
    }

    void agesAndHealthFollowTheClock() {
        PeerModel model;
        model.setNow(kNow);
        model.setPeers(
            {make(1, kNow - 10), make(2, kNow - 200), make(3, kNow - 700), make(4, std::nullopt)});
        QCOMPARE(calnet::ipc::toString(model.health(model.peer(0))),
                 calnet::ipc::toString(Health::Healthy));
        QCOMPARE(calnet::ipc::toString(model.health(model.peer(1))),
                 calnet::ipc::toString(Health::Stale));
        QCOMPARE(calnet::ipc::toString(model.health(model.peer(2))),
                 calnet::ipc::toString(Health::Dead));
        QCOMPARE(calnet::ipc::toString(model.health(model.peer(3))),
                 calnet::ipc::toString(Health::Never));
        QCOMPARE(model.unhealthyCount(), 2);
        QCOMPARE(model.index(0, PeerModel::Handshake).data().toString(),
                 QStringLiteral("10 s ago · healthy"));
        QCOMPARE(model.index(3, PeerModel::Handshake).data().toString(), QStringLiteral("never"));
        QCOMPARE(model.index(1, PeerModel::Handshake).data(Qt::ForegroundRole).value<QColor>(),
                 healthColor(Health::Stale));
        QCOMPARE(
            model.index(0, PeerModel::Handshake).data(PeerModel::HandshakeAgeRole).toLongLong(),
            10);
        QVERIFY(!model.index(3, PeerModel::Handshake).data(PeerModel::HandshakeAgeRole).isValid());

        // The clock moves: only the handshake column changes, and health crosses 180 s.
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setNow(kNow + 175);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed[0][0].toModelIndex().column(), int(PeerModel::Handshake));
        QCOMPARE(changed[0][1].toModelIndex().column(), int(PeerModel::Handshake));
        QCOMPARE(changed[0][1].toModelIndex().row(), 3);
        QCOMPARE(calnet::ipc::toString(model.health(model.peer(0))),
                 calnet::ipc::toString(Health::Stale));
        QCOMPARE(model.unhealthyCount(), 3);
        model.setNow(kNow + 175); // same time: nothing
        QCOMPARE(changed.count(), 1);

        // Without a clock the helper's own age figure is used.
        PeerModel unclocked;
        PeerInfo p = make(9, std::nullopt);
        p.reportedAge = 250;
        unclocked.setPeers({p});
        QCOMPARE(calnet::ipc::toString(unclocked.health(unclocked.peer(0))),
                 calnet::ipc::toString(Health::Stale));
    }

    void updatesChangeOnlyWhatChanged() {
        PeerModel model;
        model.setNow(kNow);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setPeers({make(0), make(1), make(2), make(3), make(4)});
        QCOMPARE(model.rowCount(), 5);
        const QPersistentModelIndex third = model.index(2, 0);

        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);

        // Peer 2 received bytes; 0 and 1 left (one contiguous run); 3 and 4 unchanged; 7 joined.
        QList<PeerInfo> next{make(2), make(3), make(4), make(7)};
        next[0].rxBytes += 4096;
        model.setPeers(next);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed[0][1].toInt(), 0);
        QCOMPARE(removed[0][2].toInt(), 1);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed[0][0].toModelIndex().column(), int(PeerModel::Received));
        QCOMPARE(changed[0][1].toModelIndex().column(), int(PeerModel::Received));
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(model.rowCount(), 4);
        QVERIFY(third.isValid());
        QCOMPARE(third.row(), 0);
        QCOMPARE(third.data(PeerModel::PublicKeyRole).toString(), QStringLiteral("key0002"));
        QCOMPARE(model.rowOf(QStringLiteral("key0007")), 3);
        QCOMPARE(model.rowOf(QStringLiteral("key0000")), -1);

        // Removal runs that are not contiguous: two separate signals, rows stay consistent.
        removed.clear();
        model.setPeers({make(3), make(7)});
        QCOMPARE(removed.count(), 2);
        QCOMPARE(model.rowOf(QStringLiteral("key0003")), 0);
        QCOMPARE(model.rowOf(QStringLiteral("key0007")), 1);

        // A duplicate key from a confused helper appears once.
        model.setPeers({make(3), make(7), make(7)});
        QCOMPARE(model.rowCount(), 2);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(reset.count(), 0);
    }

    void sortsAndFilters() {
        PeerModel model;
        model.setNow(kNow);
        PeerFilterModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QList<PeerInfo> peers{make(1, kNow - 100), make(2, std::nullopt), make(3, kNow - 5)};
        peers[0].name = QStringLiteral("zeta");
        peers[1].name = QStringLiteral("Alpha");
        peers[2].name = QStringLiteral("mike");
        peers[0].rxBytes = 2048; // "2.00 KiB" sorts before "1023 B" as text, after it as a number
        peers[1].rxBytes = 1023;
        peers[2].rxBytes = 10 * 1024 * 1024;
        model.setPeers(peers);

        const auto order = [&] {
            QStringList names;
            for (int r = 0; r < proxy.rowCount(); ++r)
                names << proxy.index(r, PeerModel::Name).data().toString();
            return names;
        };
        proxy.sort(PeerModel::Name, Qt::AscendingOrder);
        QCOMPARE(order(), (QStringList{"Alpha", "mike", "zeta"}));
        proxy.sort(PeerModel::Received, Qt::AscendingOrder);
        QCOMPARE(order(), (QStringList{"Alpha", "zeta", "mike"}));
        proxy.sort(PeerModel::Handshake, Qt::AscendingOrder); // most recent first, never last
        QCOMPARE(order(), (QStringList{"mike", "zeta", "Alpha"}));

        // A live update re-sorts in place (dynamic sort) without a reset.
        QSignalSpy reset(&proxy, &QAbstractItemModel::modelReset);
        peers[0].lastHandshake = kNow; // zeta handshakes now
        model.setPeers(peers);
        QCOMPARE(order(), (QStringList{"zeta", "mike", "Alpha"}));
        QCOMPARE(reset.count(), 0);

        proxy.setFilterFixedString(QStringLiteral("ALPHA"));
        QCOMPARE(order(), (QStringList{"Alpha"}));
        proxy.setFilterFixedString(QStringLiteral("10.0.0.4")); // by address
        QCOMPARE(order(), (QStringList{"mike"}));
        proxy.setFilterFixedString(QStringLiteral("key0001")); // by public key
        QCOMPARE(order(), (QStringList{"zeta"}));
        proxy.setFilterFixedString(QStringLiteral("192.0.2.")); // by endpoint
        QCOMPARE(proxy.rowCount(), 3);

        // Names with numbers sort as people count: host-4 before host-38.
        proxy.setFilterFixedString({});
        peers[0].name = QStringLiteral("host-38");
        peers[1].name = QStringLiteral("host-4");
        peers[2].name = QStringLiteral("Host-100");
        model.setPeers(peers);
        proxy.sort(PeerModel::Name, Qt::AscendingOrder);
        QCOMPARE(order(), (QStringList{"host-4", "host-38", "Host-100"}));
    }

    void thousandPeersUpdateInPlace() {
        PeerModel model;
        model.setNow(kNow);
        PeerFilterModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(PeerModel::Received, Qt::DescendingOrder);
        QList<PeerInfo> peers = many(1000);
        model.setPeers(peers);
        QCOMPARE(proxy.rowCount(), 1000);

        QSignalSpy reset(&proxy, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        for (int i = 0; i < 1000; i += 100)
            peers[i].txBytes += 1;
        QElapsedTimer timer;
        timer.start();
        model.setPeers(peers);
        const qint64 ns = timer.nsecsElapsed();
        QCOMPARE(changed.count(), 10);
        QCOMPARE(reset.count(), 0);
        qInfo("1,000 peers, 10 changed: setPeers + re-sort took %.2f ms", double(ns) / 1e6);
    }
};

QTEST_GUILESS_MAIN(TestPeerModel)
#include "tst_peermodel.moc"
