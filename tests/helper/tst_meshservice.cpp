// Tests for calnetd --service with Calnet network (mesh) profiles, end to end inside the
// process: a Service on a temporary socket and state directory, FakeControlServer as
// calnet-server, and a real TUN interface. The whole test runs in a network namespace of its
// own (unshare(CLONE_NEWNET) before any thread exists), so the interface, its addresses and
// routes never touch the host and vanish with the process. Needs root; skipped otherwise.
//
// Covered: `up` parameter validation; up -> registration (auth key) -> interface with the
// overlay addresses and a route for the prefix -> peers from the map -> live deltas ->
// the control connection dropping while the tunnel stays connected -> disconnect; the mesh
// profile file (0600) and a service restart reconnecting with the stored credential; a restart
// while the server is down coming up with the peers of the stored network map, resuming the
// stream from its seq, and ignoring a corrupt one; the node deleted by the server (4403); a new
// address on the machine reported to the server at once (rtnetlink), not at the next poll; a
// peer greeted with a handshake when its first endpoint arrives.
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkDatagram>
#include <QNetworkInterface>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>

#include <cstdlib>

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "fakecontrolserver.h"
#include "helper/ipc/client.h"
#include "helper/service/service.h"
#include "skip.h"

using namespace calnet;
using helper::Service;
using test::FakeControlServer;

namespace {

constexpr int kWaitMs = 8000;
const QString kIfname = QStringLiteral("cmesh0");
bool gIsolated = false;

QString newKey() {
    return QString::fromStdString(
        config::encodeKeyBase64(crypto::publicKeyOf(crypto::generatePrivateKey())));
}

QJsonObject registration(const QString& credential) {
    return {{"nodeId", 7},
            {"user", "default"},
            {"network", "default"},
            {"addresses", QJsonArray{"100.70.0.7/32", "fd70:6361:6c6e::7/128"}},
            {"prefixes", QJsonArray{"100.70.0.0/24", "fd70:6361:6c6e::/64"}},
            {"credential", credential},
            {"keyExpiry", 1780000000}};
}

QString run(const QString& program, const QStringList& args) {
    QProcess p;
    p.start(program, args);
    p.waitForFinished(5000);
    return QString::fromUtf8(p.readAllStandardOutput());
}

bool runOk(const QString& program, const QStringList& args) {
    QProcess p;
    p.start(program, args);
    return p.waitForFinished(5000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool interfaceExists() {
    return QNetworkInterface::interfaceFromName(kIfname).isValid();
}

} // namespace

class TestMeshService : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::unique_ptr<FakeControlServer> server_;
    std::unique_ptr<Service> service_;
    int registrations_ = 0;
    std::chrono::milliseconds endpointPoll_{200};

    Service::Options options() {
        Service::Options o;
        o.socketPath = dir_.filePath("calnetd.sock");
        o.stateDir = dir_.filePath("state");
        o.interfaceName = kIfname;
        o.control.minBackoff = std::chrono::milliseconds(40);
        o.control.maxBackoff = std::chrono::milliseconds(320);
        o.control.endpointPoll = endpointPoll_;
        o.control.registerTimeout = std::chrono::milliseconds(3000);
        return o;
    }

    void startService() {
        service_ = std::make_unique<Service>(options());
        QString error;
        QVERIFY2(service_->start(&error), qPrintable(error));
    }

    // One request through a real IPC client; the reply (or a local failure).
    ipc::Reply call(const QString& method, const QJsonObject& params = {}) {
        ipc::IpcClient client;
        client.connectToHelper(dir_.filePath("calnetd.sock"));
        std::optional<ipc::Reply> reply;
        client.call(method, params, [&](const ipc::Reply& r) { reply = r; });
        if (!QTest::qWaitFor([&] { return reply.has_value(); }, kWaitMs))
            return ipc::Reply::failure(0, ipc::ErrorCode::Timeout, QStringLiteral("no reply"));
        return *reply;
    }

    QJsonArray peers() { return call("peers").result.value("peers").toArray(); }

    QJsonObject peerNamed(const QString& hostname) {
        for (const QJsonValue& v : peers())
            if (v.toObject().value("hostname").toString() == hostname)
                return v.toObject();
        return {};
    }

    QJsonObject upParams() {
        return {{"server", server_->url()},
                {"authKey", "calnet-auth-000000000001-secret"},
                {"hostname", "testnode"}};
    }

    QJsonObject mapWith(qint64 seq, const QJsonArray& nodes) {
        return {{"type", "map"},
                {"seq", seq},
                {"self", test::node(7, newKey(), "testnode", {})},
                {"peers", nodes}};
    }

private slots:
    void initTestCase() {
        if (!gIsolated)
            CALNET_ENVIRONMENT_SKIP("needs root to run in a network namespace of its own");
        QVERIFY(dir_.isValid());
    }

    void init() {
        server_ = std::make_unique<FakeControlServer>();
        QVERIFY(server_->listen());
        registrations_ = 0;
        server_->onRegister = [this](const QJsonObject&) {
            ++registrations_;
            return std::pair{200,
                             registration(QStringLiteral("calnet-node-7-c%1").arg(registrations_))};
        };
        QDir(dir_.filePath("state")).removeRecursively();
        startService();
    }

    void cleanup() {
        service_.reset(); // disconnects: interface removed, journal rolled back
        server_.reset();
        QVERIFY(!interfaceExists());
    }

    void upValidation_data() {
        QTest::addColumn<QJsonObject>("params");
        QTest::addColumn<QString>("param");
        QTest::newRow("no server") << QJsonObject{{"authKey", "k"}} << "server";
        QTest::newRow("ftp") << QJsonObject{{"server", "ftp://example.com"}} << "server";
        QTest::newRow("no host") << QJsonObject{{"server", "http://"}} << "server";
        QTest::newRow("number") << QJsonObject{{"server", 5}} << "server";
        QTest::newRow("hostname") << QJsonObject{{"server", "http://a.example"},
                                                 {"hostname", "bad_name"}}
                                  << "hostname";
        QTest::newRow("long hostname")
            << QJsonObject{{"server", "http://a.example"}, {"hostname", QString(64, 'a')}}
            << "hostname";
        QTest::newRow("auth key space")
            << QJsonObject{{"server", "http://a.example"}, {"authKey", "a b"}} << "authKey";
        QTest::newRow("name") << QJsonObject{{"server", "http://a.example"}, {"name", ".x"}}
                              << "name";
        QTest::newRow("unknown key")
            << QJsonObject{{"server", "http://a.example"}, {"authkey", "k"}} << "authkey";
        QTest::newRow("first time without a key")
            << QJsonObject{{"server", "http://a.example"}} << "authKey";
    }
    void upValidation() {
        QFETCH(QJsonObject, params);
        QFETCH(QString, param);
        const ipc::Reply reply = call("up", params);
        QVERIFY(!reply.ok());
        QCOMPARE(ipc::toString(reply.error->code), QLatin1StringView("invalid_params"));
        QCOMPARE(reply.error->details.value("param").toString(), param);
        QCOMPARE(call("status").result.value("state").toString(), QStringLiteral("disconnected"));
        QVERIFY(server_->registerRequests.empty());
        QVERIFY(!interfaceExists());
    }

    // A new address on this machine reaches the server at once (rtnetlink), not at the next
    // poll: the poll is a minute here.
    void addressChangeIsReportedAtOnce() {
        endpointPoll_ = std::chrono::minutes(1);
        service_.reset();
        startService(); // with the long poll
        QVERIFY(call("up", upParams()).ok());
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);
        const QJsonArray before = server_->receivedOfType("hello")[0].value("endpoints").toArray();
        QVERIFY(!QJsonDocument(before).toJson().contains("198.51.100.77"));
        server_->send(mapWith(10, QJsonArray{}));

        const auto reported = [this](bool with) {
            const auto messages = server_->receivedOfType("endpoints");
            if (messages.empty())
                return false;
            const QByteArray last =
                QJsonDocument(messages.back().value("endpoints").toArray()).toJson();
            return last.contains("198.51.100.77:") == with;
        };
        // A veth pair stands in for a new network (this kernel may lack the dummy driver).
        QVERIFY(
            runOk("ip", {"link", "add", "cmwatch0", "type", "veth", "peer", "name", "cmwatch1"}));
        QVERIFY(runOk("ip", {"addr", "add", "198.51.100.77/24", "dev", "cmwatch0"}));
        QVERIFY(runOk("ip", {"link", "set", "cmwatch1", "up"}));
        QVERIFY(runOk("ip", {"link", "set", "cmwatch0", "up"}));
        QElapsedTimer t;
        t.start();
        QTRY_VERIFY_WITH_TIMEOUT(reported(true), 3000);
        qInfo("new address reported after %lld ms", t.elapsed());
        QVERIFY(runOk("ip", {"addr", "del", "198.51.100.77/24", "dev", "cmwatch0"}));
        QTRY_VERIFY_WITH_TIMEOUT(reported(false), 3000);
        QVERIFY(runOk("ip", {"link", "del", "cmwatch0"}));
        endpointPoll_ = std::chrono::milliseconds(200);
    }

    // A peer that enters the map without endpoints (it registered, its stream is not open yet)
    // is greeted with a handshake as soon as its first endpoint arrives, as one added with an
    // endpoint is: otherwise nothing reaches it until traffic does.
    void peerGreetedWhenItsFirstEndpointArrives() {
        QUdpSocket late;
        QVERIFY(late.bind(QHostAddress::LocalHost, 0));
        QVERIFY(call("up", upParams()).ok());
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);
        const QString key = newKey();
        server_->send(mapWith(10, QJsonArray{test::node(5, key, "late", {})}));
        QTRY_VERIFY_WITH_TIMEOUT(!peerNamed("late").isEmpty(), kWaitMs);
        QTest::qWait(300);
        QVERIFY(!late.hasPendingDatagrams());
        const QString endpoint = QStringLiteral("127.0.0.1:%1").arg(late.localPort());
        server_->send({{"type", "delta"},
                       {"seq", 11},
                       {"upsert", QJsonArray{test::node(5, key, "late", {endpoint})}},
                       {"remove", QJsonArray{}}});
        QTRY_VERIFY_WITH_TIMEOUT(late.hasPendingDatagrams(), 2000);
        const QNetworkDatagram first = late.receiveDatagram();
        QCOMPARE(first.data().size(), 148); // a handshake initiation
        QCOMPARE(int(quint8(first.data().at(0))), 1);
    }

    void upRegistersConnectsAndFollowsTheMap() {
        const ipc::Reply up = call("up", upParams());
        QVERIFY2(up.ok(), qPrintable(up.error ? up.error->message : QString()));
        QCOMPARE(up.result.value("state").toString(), QStringLiteral("connected"));
        QCOMPARE(up.result.value("kind").toString(), QStringLiteral("mesh"));
        QCOMPARE(up.result.value("profile").toString(), QStringLiteral("calnet-127.0.0.1"));
        QCOMPARE(up.result.value("nodeId").toInteger(), 7);
        QCOMPARE(up.result.value("addresses").toArray(),
                 (QJsonArray{"100.70.0.7/32", "fd70:6361:6c6e::7/128"}));

        // The registration: the auth key, our generated keys, the hostname.
        QCOMPARE(int(server_->registerRequests.size()), 1);
        const QJsonObject reg = server_->registerRequests[0];
        QCOMPARE(reg.value("authKey").toString(),
                 QStringLiteral("calnet-auth-000000000001-secret"));
        QCOMPARE(reg.value("hostname").toString(), QStringLiteral("testnode"));
        QVERIFY(!reg.contains("credential"));
        QCOMPARE(reg.value("nodeKey").toString().size(), 44);

        // The interface carries the overlay addresses and the prefix is routed to it.
        QVERIFY(interfaceExists());
        QStringList addresses;
        for (const auto& e : QNetworkInterface::interfaceFromName(kIfname).addressEntries())
            addresses << e.ip().toString();
        QVERIFY2(addresses.contains("100.70.0.7"), qPrintable(addresses.join(' ')));
        QVERIFY2(addresses.contains("fd70:6361:6c6e::7"), qPrintable(addresses.join(' ')));
        const QString routes = run("ip", {"route", "show", "dev", kIfname});
        QVERIFY2(routes.contains("100.70.0.0/24"), qPrintable(routes));
        const QString routes6 = run("ip", {"-6", "route", "show", "dev", kIfname});
        QVERIFY2(routes6.contains("fd70:6361:6c6e::/64"), qPrintable(routes6));

        // The hello carries the credential from the registration.
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);
        const QJsonObject hello = server_->receivedOfType("hello")[0];
        QCOMPARE(hello.value("credential").toString(), QStringLiteral("calnet-node-7-c1"));
        QCOMPARE(hello.value("nodeId").toInteger(), 7);

        // A full map becomes WireGuard peers.
        const QString a = newKey(), b = newKey(), c = newKey();
        server_->send(
            mapWith(10, QJsonArray{test::node(1, a, "alpha", {"192.0.2.1:41641"}),
                                   test::node(2, b, "beta", {"192.0.2.2:41642"}, false)}));
        QTRY_COMPARE_WITH_TIMEOUT(peers().size(), 2, kWaitMs);
        const QJsonObject alpha = peerNamed("alpha");
        QCOMPARE(alpha.value("publicKey").toString(), a);
        QCOMPARE(alpha.value("name").toString(), QStringLiteral("alpha"));
        QCOMPARE(alpha.value("online").toBool(), true);
        QCOMPARE(alpha.value("nodeId").toInteger(), 1);
        QCOMPARE(alpha.value("os").toString(), QStringLiteral("linux"));
        // No relay on this test server and no pong from 192.0.2.1: no path, and packets go to
        // the map's endpoint on the chance that it works.
        QCOMPARE(alpha.value("path").toString(), QStringLiteral("none"));
        QCOMPARE(alpha.value("pathReason").toString(),
                 QStringLiteral("the relay is not reachable"));
        QVERIFY(alpha.value("pathEndpoint").isNull());
        QCOMPARE(alpha.value("endpoint").toString(), QStringLiteral("192.0.2.1:41641"));
        QCOMPARE(alpha.value("persistentKeepalive").toInt(), 25);
        QCOMPARE(alpha.value("allowedIps").toArray(),
                 (QJsonArray{"100.70.0.1/32", "fd70:6361:6c6e::1/128"}));
        QCOMPARE(peerNamed("beta").value("online").toBool(), false); // configured all the same

        // Deltas apply live: beta leaves, gamma joins, alpha comes back online elsewhere.
        server_->send({{"type", "delta"},
                       {"seq", 11},
                       {"upsert", QJsonArray{test::node(3, c, "gamma", {"192.0.2.3:41643"}),
                                             test::node(1, a, "alpha", {"198.51.100.1:5"})}},
                       {"remove", QJsonArray{2}}});
        QTRY_VERIFY_WITH_TIMEOUT(!peerNamed("gamma").isEmpty(), kWaitMs);
        QCOMPARE(peers().size(), 2);
        QVERIFY(peerNamed("beta").isEmpty());
        QCOMPARE(peerNamed("alpha").value("endpoint").toString(), QStringLiteral("198.51.100.1:5"));
        QVERIFY(interfaceExists());

        // The server goes away: the tunnel stays connected with its peers, control reconnects.
        const quint16 port = server_->port();
        server_->stopListening();
        QTRY_COMPARE_WITH_TIMEOUT(call("status").result.value("control").toString(),
                                  QStringLiteral("reconnecting"), kWaitMs);
        QCOMPARE(call("status").result.value("state").toString(), QStringLiteral("connected"));
        QCOMPARE(peers().size(), 2);
        QVERIFY(server_->listen(port));
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
        QCOMPARE(server_->receivedOfType("hello").back().value("since").toInteger(), 11);
        server_->send({{"type", "delta"}, {"seq", 12}, {"remove", QJsonArray{3}}});
        QTRY_VERIFY_WITH_TIMEOUT(peerNamed("gamma").isEmpty(), kWaitMs);
        QCOMPARE(call("status").result.value("control").toString(), QStringLiteral("connected"));

        const ipc::Reply down = call("disconnect");
        QVERIFY(down.ok());
        QCOMPARE(down.result.value("state").toString(), QStringLiteral("disconnected"));
        QVERIFY(!interfaceExists());
    }

    void profileIsPrivateAndSurvivesARestart() {
        QVERIFY(call("up", upParams()).ok());
        const QString file = dir_.filePath("state/profiles/calnet-127.0.0.1.mesh");
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(file).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 07777), 0600);
        const QJsonArray list = call("profiles.list").result.value("profiles").toArray();
        QCOMPARE(list.size(), 1);
        const QJsonObject profile = list[0].toObject();
        QCOMPARE(profile.value("kind").toString(), QStringLiteral("mesh"));
        QCOMPARE(profile.value("server").toString(), server_->url());
        QCOMPARE(profile.value("connected").toBool(), true);
        for (const QString& key : profile.keys()) // nothing secret in the summary
            QVERIFY(!profile.value(key).toString().contains("calnet-node-"));
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);

        // A restart reconnects with the stored identity: no new registration, the newest
        // credential in the hello.
        service_.reset();
        QVERIFY(!interfaceExists());
        startService();
        // The restart's reconnect runs off the event loop: status answers "connecting" (marked
        // restored) until it is done.
        QTRY_COMPARE_WITH_TIMEOUT(call("status").result.value("state").toString(),
                                  QStringLiteral("connected"), kWaitMs);
        QVERIFY(call("status").result.value("restored").toBool());
        QVERIFY(interfaceExists());
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
        QCOMPARE(server_->receivedOfType("hello").back().value("credential").toString(),
                 QStringLiteral("calnet-node-7-c1"));
        QCOMPARE(registrations_, 1);

        // up again for the same server reuses the profile and renews by credential.
        QVERIFY(call("disconnect").ok());
        const ipc::Reply again = call("up", QJsonObject{{"server", server_->url()}});
        QVERIFY2(again.ok(), qPrintable(again.error ? again.error->message : QString()));
        QCOMPARE(registrations_, 2);
        QCOMPARE(server_->registerRequests.back().value("credential").toString(),
                 QStringLiteral("calnet-node-7-c1"));
        QVERIFY(!server_->registerRequests.back().contains("authKey"));
        QCOMPARE(server_->registerRequests.back().value("nodeKey"),
                 server_->registerRequests.front().value("nodeKey"));
        QCOMPARE(call("profiles.list").result.value("profiles").toArray().size(), 1);
    }

    void restartWithoutServerUsesTheStoredMap() {
        QVERIFY(call("up", upParams()).ok());
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);
        const QString a = newKey(), b = newKey(), c = newKey();
        // Key expiry by the wall clock calnetd reads: alpha and beta are valid for a day, omega's
        // key expires while calnetd is down (the server would then remove it).
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        auto expiring = [](QJsonObject node, qint64 at) {
            node.insert("keyExpiry", at);
            return node;
        };
        server_->send(mapWith(
            20,
            QJsonArray{expiring(test::node(1, a, "alpha", {"192.0.2.1:41641"}), now + 86400),
                       expiring(test::node(2, b, "beta", {"192.0.2.2:41642"}, false), now + 86400),
                       expiring(test::node(4, newKey(), "omega", {"192.0.2.4:41644"}), now + 1)}));
        QTRY_COMPARE_WITH_TIMEOUT(peers().size(), 3, kWaitMs);
        const QString cache = dir_.filePath("state/profiles/calnet-127.0.0.1.netmap");
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(cache), kWaitMs);
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(cache).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 07777), 0600);
        QVERIFY(!readAll(cache).contains("calnet-node-")); // no credential in it
        QCOMPARE(QJsonDocument::fromJson(readAll(cache)).object().value("seq").toInteger(), 20);

        // calnetd stops, the server goes away, calnetd starts again: the peers are there at
        // once, as the map had them.
        service_.reset();
        QVERIFY(!interfaceExists());
        const quint16 port = server_->port();
        server_->stopListening();
        QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentSecsSinceEpoch() > now + 1, kWaitMs);
        startService();
        QTRY_COMPARE_WITH_TIMEOUT(call("status").result.value("state").toString(),
                                  QStringLiteral("connected"), kWaitMs);
        QVERIFY(call("status").result.value("control").toString() != QStringLiteral("connected"));
        QCOMPARE(peers().size(), 2);
        const QJsonObject alpha = peerNamed("alpha");
        QCOMPARE(alpha.value("publicKey").toString(), a);
        QCOMPARE(alpha.value("endpoint").toString(), QStringLiteral("192.0.2.1:41641"));
        QCOMPARE(alpha.value("allowedIps").toArray(),
                 (QJsonArray{"100.70.0.1/32", "fd70:6361:6c6e::1/128"}));
        QCOMPARE(alpha.value("persistentKeepalive").toInt(), 25);
        QCOMPARE(alpha.value("online").toBool(), true);
        QCOMPARE(peerNamed("beta").value("online").toBool(), false);
        QCOMPARE(peerNamed("beta").value("endpoint").toString(), QStringLiteral("192.0.2.2:41642"));
        QVERIFY(peerNamed("omega").isEmpty()); // expired: not installed
        QCOMPARE(server_->receivedOfType("hello").size(), std::size_t(1));

        // The server is back: the hello resumes from the stored seq; a full map replaces the
        // stored peers.
        QVERIFY(server_->listen(port));
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
        QCOMPARE(server_->receivedOfType("hello").back().value("since").toInteger(), 20);
        server_->send(mapWith(30, QJsonArray{test::node(3, c, "gamma", {"192.0.2.3:41643"})}));
        QTRY_VERIFY_WITH_TIMEOUT(!peerNamed("gamma").isEmpty(), kWaitMs);
        QCOMPARE(peers().size(), 1);

        // A corrupt cache is ignored: connect still works, with no peers until the server
        // sends a map, and the hello asks for a full one.
        QVERIFY(call("disconnect").ok());
        QCOMPARE(QJsonDocument::fromJson(readAll(cache)).object().value("seq").toInteger(), 30);
        {
            QFile f(cache);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write("{\"kind\": \"netmap\", \"version\": 1, \"ser");
        }
        const ipc::Reply again = call("connect", {{"name", "calnet-127.0.0.1"}});
        QVERIFY2(again.ok(), qPrintable(again.error ? again.error->message : QString()));
        QCOMPARE(call("status").result.value("state").toString(), QStringLiteral("connected"));
        QCOMPARE(peers().size(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(3), kWaitMs);
        QCOMPARE(server_->receivedOfType("hello").back().value("since").toInteger(), 0);

        // Removing the profile removes its cache.
        QVERIFY(call("disconnect").ok());
        QVERIFY(call("profiles.remove", {{"name", "calnet-127.0.0.1"}}).ok());
        QVERIFY(!QFile::exists(cache));
    }

    void keyExpiryRenewsByCredential() {
        QVERIFY(call("up", upParams()).ok());
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);
        server_->send(mapWith(5, QJsonArray{test::node(1, newKey(), "alpha", {})}));
        QTRY_COMPARE_WITH_TIMEOUT(peers().size(), 1, kWaitMs);
        server_->closeStreams(QWebSocketProtocol::CloseCode(4410), "node key expired");
        // Registers again with the credential (same node key), then resumes with the new one.
        QTRY_COMPARE_WITH_TIMEOUT(registrations_, 2, kWaitMs);
        const QJsonObject renewal = server_->registerRequests.back();
        QCOMPARE(renewal.value("credential").toString(), QStringLiteral("calnet-node-7-c1"));
        QVERIFY(!renewal.contains("authKey"));
        QCOMPARE(renewal.value("nodeKey"), server_->registerRequests.front().value("nodeKey"));
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
        const QJsonObject hello = server_->receivedOfType("hello").back();
        QCOMPARE(hello.value("credential").toString(), QStringLiteral("calnet-node-7-c2"));
        QCOMPARE(hello.value("since").toInteger(), 5);
        QCOMPARE(call("status").result.value("state").toString(), QStringLiteral("connected"));
        QCOMPARE(peers().size(), 1); // the tunnel never dropped its peers
        // The renewed credential is what a restart uses.
        service_.reset();
        startService();
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(3), kWaitMs);
        QCOMPARE(server_->receivedOfType("hello").back().value("credential").toString(),
                 QStringLiteral("calnet-node-7-c2"));
    }

    void registrationRefused() {
        server_->onRegister = [](const QJsonObject&) {
            return std::pair{401, QJsonObject{{"error", QJsonObject{{"code", "unauthorized"},
                                                                    {"message", "bad key"}}}}};
        };
        const ipc::Reply reply = call("up", upParams());
        QVERIFY(!reply.ok());
        QCOMPARE(ipc::toString(reply.error->code), QLatin1StringView("failed"));
        QVERIFY2(reply.error->message.contains("bad key"), qPrintable(reply.error->message));
        const QJsonObject status = call("status").result;
        QCOMPARE(status.value("state").toString(), QStringLiteral("error"));
        QVERIFY(status.value("error").toString().contains("bad key"));
        QVERIFY(!interfaceExists());
    }

    void nodeDeletedByTheServer() {
        QVERIFY(call("up", upParams()).ok());
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(1), kWaitMs);
        server_->closeStreams(QWebSocketProtocol::CloseCode(4403), "node deleted");
        QTRY_COMPARE_WITH_TIMEOUT(call("status").result.value("state").toString(),
                                  QStringLiteral("error"), kWaitMs);
        QVERIFY(!call("status").result.value("error").toString().isEmpty());
        QVERIFY(!interfaceExists());
    }
};

int main(int argc, char** argv) {
    // Before QCoreApplication and before any thread: every thread made later inherits the
    // namespace, so the tunnel's threads and Qt's network threads all live in it.
    if (::geteuid() == 0 && ::unshare(CLONE_NEWNET) == 0) {
        gIsolated = std::system("ip link set lo up") == 0;
    }
    QCoreApplication app(argc, argv);
    TestMeshService test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_meshservice.moc"
