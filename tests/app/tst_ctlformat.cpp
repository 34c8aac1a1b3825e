// calnetctl's text output and exit codes, from helper JSON to what a person reads.
#include <QJsonArray>
#include <QTest>

#include "app/calnetctl/format.h"

using namespace calnet::ctl;

class tst_CtlFormat : public QObject {
    Q_OBJECT

private slots:
    void bytes_data() {
        QTest::addColumn<qint64>("in");
        QTest::addColumn<QString>("out");
        QTest::newRow("zero") << qint64(0) << "0 B";
        QTest::newRow("below KiB") << qint64(1023) << "1023 B";
        QTest::newRow("KiB") << qint64(1024) << "1.00 KiB";
        QTest::newRow("MiB") << qint64(1300000) << "1.24 MiB";
        QTest::newRow("GiB") << qint64(5) * 1024 * 1024 * 1024 << "5.00 GiB";
    }
    void bytes() {
        QFETCH(qint64, in);
        QFETCH(QString, out);
        QCOMPARE(formatBytes(in), out);
    }
    void age_data() {
        QTest::addColumn<qint64>("in");
        QTest::addColumn<QString>("out");
        QTest::newRow("now") << qint64(0) << "Now";
        QTest::newRow("one second") << qint64(1) << "1 second";
        QTest::newRow("minutes") << qint64(125) << "2 minutes, 5 seconds";
        QTest::newRow("hour") << qint64(3600) << "1 hour";
        QTest::newRow("days") << qint64(2 * 86400 + 61) << "2 days, 1 minute, 1 second";
    }
    void age() {
        QFETCH(qint64, in);
        QFETCH(QString, out);
        QCOMPARE(formatAge(in), out);
    }
    void peers() {
        const QJsonObject peer{{"publicKey", "PUB="},
                               {"name", QJsonValue()},
                               {"allowedIps", QJsonArray{"10.0.0.1/32", "fd00::1/128"}},
                               {"endpoint", "192.0.2.1:51820"},
                               {"handshakeAgeSeconds", 200},
                               {"health", "stale"},
                               {"rxBytes", 2048},
                               {"txBytes", 100},
                               {"persistentKeepalive", 25},
                               {"path", "direct"}};
        const QString text = formatPeers({{"peers", QJsonArray{peer}}});
        QCOMPARE(text, QStringLiteral("peer: PUB=\n"
                                      "  endpoint: 192.0.2.1:51820\n"
                                      "  allowed ips: 10.0.0.1/32, fd00::1/128\n"
                                      "  latest handshake: 3 minutes, 20 seconds ago (stale)\n"
                                      "  transfer: 2.00 KiB received, 100 B sent\n"
                                      "  persistent keepalive: every 25 seconds\n"
                                      "  path: direct\n"));
        QJsonObject never = peer;
        never["handshakeAgeSeconds"] = QJsonValue();
        never["health"] = "never";
        QVERIFY(formatPeers({{"peers", QJsonArray{never}}})
                    .contains("latest handshake: (none) (never)"));
        QCOMPARE(formatPeers({{"peers", QJsonArray{}}}),
                 QStringLiteral("no peers (not connected)\n"));
    }
    void netcheck() {
        const QString text =
            formatNetcheck({{"udp", true},
                            {"stun", true},
                            {"publicAddress", "203.0.113.11:41641"},
                            {"mappingVariesByDestination", false},
                            {"localEndpoints", QJsonArray{"203.0.113.11:41641", "10.1.0.2:41641"}},
                            {"relays", QJsonArray{QJsonObject{{"name", "default"},
                                                              {"home", true},
                                                              {"connected", true},
                                                              {"latencyMs", 2.25},
                                                              {"stunLatencyMs", 1.04}},
                                                  QJsonObject{{"name", "fra"},
                                                              {"home", false},
                                                              {"connected", false},
                                                              {"latencyMs", QJsonValue()},
                                                              {"stunLatencyMs", 31.5}},
                                                  QJsonObject{{"name", "nyc"},
                                                              {"home", false},
                                                              {"connected", false},
                                                              {"stunLatencyMs", QJsonValue()}}}},
                            {"homeRelay", "default"}});
        QCOMPARE(text, QStringLiteral("UDP: yes\n"
                                      "public address: 203.0.113.11:41641\n"
                                      "mapping varies by destination (symmetric NAT): no\n"
                                      "local endpoints: 203.0.113.11:41641, 10.1.0.2:41641\n"
                                      "relay default: connected, 2.3 ms (STUN 1.0 ms)\n"
                                      "relay fra: not in use (STUN 31.5 ms)\n"
                                      "relay nyc: not in use\n"
                                      "home relay: default\n"));
        const QString blocked =
            formatNetcheck({{"udp", false},
                            {"stun", true},
                            {"publicAddress", QJsonValue()},
                            {"mappingVariesByDestination", QJsonValue()},
                            {"localEndpoints", QJsonArray{}},
                            {"relays", QJsonArray{QJsonObject{{"name", "default"},
                                                              {"home", true},
                                                              {"connected", false},
                                                              {"latencyMs", QJsonValue()},
                                                              {"error", "connect: refused"}}}},
                            {"homeRelay", "default"}});
        QVERIFY(blocked.contains("UDP: no\n"));
        QVERIFY(blocked.contains("public address: unknown\n"));
        QVERIFY(blocked.contains("(symmetric NAT): unknown\n"));
        QVERIFY(blocked.contains("relay default: not connected: connect: refused\n"));
        QVERIFY(formatNetcheck(
                    {{"relays", QJsonArray{QJsonObject{
                                    {"name", "default"}, {"home", true}, {"connected", false}}}}})
                    .contains("relay default: connecting\n"));
    }
    void ping() {
        QCOMPARE(
            formatPing(
                {{"peer", "db"},
                 {"rounds", 2},
                 {"direct", true},
                 {"pongs",
                  QJsonArray{QJsonObject{{"via", "relay"}, {"direct", false}, {"latencyMs", 4.0}},
                             QJsonObject{{"via", "203.0.113.12:41641"},
                                         {"direct", true},
                                         {"latencyMs", 1.25}}}}}),
            QStringLiteral("pong from db via the relay in 4.0 ms\n"
                           "pong from db via 203.0.113.12:41641 in 1.3 ms\n"
                           "direct after 2 rounds\n"));
        QCOMPARE(
            formatPing({{"peer", "db"}, {"rounds", 3}, {"direct", false}, {"pongs", QJsonArray{}}}),
            QStringLiteral("no pong from db in 3 rounds\n"));
    }
    void paths() {
        QCOMPARE(formatPath({{"path", "direct"},
                             {"pathEndpoint", "203.0.113.12:41641"},
                             {"latencyMs", 1.26},
                             {"pathReason", QJsonValue()}}),
                 QStringLiteral("direct (203.0.113.12:41641, 1.3 ms)"));
        QCOMPARE(formatPath({{"path", "relayed"},
                             {"pathEndpoint", "default"},
                             {"latencyMs", 4.07},
                             {"pathReason", "peer is behind a symmetric NAT"}}),
                 QStringLiteral("relayed via default (4.1 ms): peer is behind a symmetric NAT"));
        QCOMPARE(formatPath({{"path", "relayed"},
                             {"pathEndpoint", "default"},
                             {"latencyMs", QJsonValue()},
                             {"pathReason", "trying direct…"}}),
                 QStringLiteral("relayed via default: trying direct…"));
        QCOMPARE(formatPath({{"path", "none"},
                             {"pathEndpoint", QJsonValue()},
                             {"latencyMs", QJsonValue()},
                             {"pathReason", "the relay is not reachable"}}),
                 QStringLiteral("no path: the relay is not reachable"));
    }
    void status() {
        QCOMPARE(formatStatus(QJsonObject{{"state", "connected"},
                                          {"profile", "vps"},
                                          {"interface", "calnet0"},
                                          {"addresses", QJsonArray{"10.0.0.2/24"}},
                                          {"error", QJsonValue()}},
                              0),
                 QStringLiteral("state: connected\nprofile: vps\ninterface: calnet0\n"
                                "addresses: 10.0.0.2/24\n"));
        QVERIFY(formatStatus(QJsonObject{{"state", "error"},
                                         {"profile", QJsonValue()},
                                         {"interface", QJsonValue()},
                                         {"addresses", QJsonArray{}},
                                         {"error", "boom"}},
                             0)
                    .contains("error: boom"));
        QCOMPARE(
            formatStatus(QJsonObject{{"state", "connected"},
                                     {"profile", "mesh"},
                                     {"interface", "calnet0"},
                                     {"addresses", QJsonArray{"100.70.0.2/32"}},
                                     {"error", QJsonValue()},
                                     {"warnings", QJsonArray{"IPv6 is disabled on calnet0"}}},
                         0),
            QStringLiteral("state: connected\nprofile: mesh\ninterface: calnet0\n"
                           "addresses: 100.70.0.2/32\nwarning: IPv6 is disabled on calnet0\n"));
    }
    void signedInStatus() {
        const QJsonObject s{{"state", "connected"},
                            {"profile", "calnet-example"},
                            {"kind", "mesh"},
                            {"server", "https://calnet.example"},
                            {"hostname", "laptop"},
                            {"nodeId", 7},
                            {"control", "connected"},
                            {"user", "ada@example.com"},
                            {"keyExpiry", 1'700'086'400},
                            {"signInRequired", false}};
        const QString text = formatStatus(s, 1'700'000'000);
        QVERIFY2(text.contains("user: ada@example.com\n"), qPrintable(text));
        QVERIFY2(text.contains("key expiry: 2023-11-15 22:13:20 UTC (1d 0h)\n"), qPrintable(text));
        QVERIFY(!text.contains("sign-in required"));
        QJsonObject expired = s;
        expired["signInRequired"] = true;
        const QString late = formatStatus(expired, 1'700'086'401);
        QVERIFY2(late.contains("(expired)"), qPrintable(late));
        QVERIFY2(late.contains("sign-in required: the node key has expired; run calnetctl login "
                               "--server https://calnet.example"),
                 qPrintable(late));
        QCOMPARE(formatTimeLeft(100, 100), QStringLiteral("expired"));
        QCOMPARE(formatTimeLeft(100 + 250, 100), QStringLiteral("4m 10s"));
        QCOMPARE(formatTimeLeft(100 + 3 * 3600 + 120, 100), QStringLiteral("3h 2m"));
    }
    void exitCodes() {
        QCOMPARE(exitCodeFor("permission_denied"), int(ExitDenied));
        QCOMPARE(exitCodeFor("not_found"), int(ExitNotFound));
        QCOMPARE(exitCodeFor("invalid_params"), int(ExitInvalid));
        QCOMPARE(exitCodeFor("conflict"), int(ExitConflict));
        QCOMPARE(exitCodeFor("failed"), int(ExitFailed));
        QCOMPARE(exitCodeFor("something new"), int(ExitFailed));
    }
};

QTEST_APPLESS_MAIN(tst_CtlFormat)
#include "tst_ctlformat.moc"
