// Tests for ControlClient against FakeControlServer on 127.0.0.1: the register request and
// reply, the hello, a full map then deltas, reconnecting with backoff and resuming with
// `since`, the close codes 4401/4403/4410, and endpoint reports. Backoff is shortened (40 ms
// doubling to 320 ms) so every wait is bounded to a few seconds.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "fakecontrolserver.h"
#include "helper/service/controlclient.h"

using namespace calnet;
using helper::ControlClient;
using test::FakeControlServer;

namespace {

constexpr int kWaitMs = 5000;

QString newKey() {
    return QString::fromStdString(
        config::encodeKeyBase64(crypto::publicKeyOf(crypto::generatePrivateKey())));
}

QJsonObject registration(qint64 id, const QString& credential) {
    return {{"nodeId", id},
            {"user", "default"},
            {"network", "default"},
            {"addresses", QJsonArray{QStringLiteral("100.70.0.%1/32").arg(id),
                                     QStringLiteral("fd70:6361:6c6e::%1/128").arg(id)}},
            {"prefixes", QJsonArray{"100.70.0.0/24", "fd70:6361:6c6e::/64"}},
            {"credential", credential},
            {"keyExpiry", 1780000000}};
}

} // namespace

class TestControlClient : public QObject {
    Q_OBJECT

    std::unique_ptr<FakeControlServer> server_;
    QStringList endpoints_;

    ControlClient::Options options() {
        ControlClient::Options o;
        o.minBackoff = std::chrono::milliseconds(40);
        o.maxBackoff = std::chrono::milliseconds(320);
        o.endpointPoll = std::chrono::milliseconds(100);
        o.registerTimeout = std::chrono::milliseconds(3000);
        o.endpoints = [this] { return endpoints_; };
        return o;
    }

    // Starts a client and waits for its hello.
    void startAndHello(ControlClient& client, qint64 since = 0) {
        const auto before = server_->receivedOfType("hello").size();
        client.start(7, "calnet-node-7-secret", since);
        QTRY_VERIFY_WITH_TIMEOUT(server_->receivedOfType("hello").size() > before, kWaitMs);
    }

    QJsonObject fullMap(qint64 seq, const QString& a, const QString& b) {
        return {{"type", "map"},
                {"seq", seq},
                {"self", test::node(7, newKey(), "me", {})},
                {"peers", QJsonArray{test::node(1, a, "alpha", {"192.0.2.1:41641"}),
                                     test::node(2, b, "beta", {"192.0.2.2:41641"})}}};
    }

private slots:
    void init() {
        server_ = std::make_unique<FakeControlServer>();
        QVERIFY(server_->listen());
        endpoints_ = {"192.168.1.20:41641", "[2001:db8::20]:41641"};
    }
    void cleanup() { server_.reset(); }

    void urls() {
        ControlClient plain("http://example.com:8080", options());
        QCOMPARE(plain.registerUrl().toString(),
                 QStringLiteral("http://example.com:8080/api/v1/register"));
        QCOMPARE(plain.mapUrl().toString(), QStringLiteral("ws://example.com:8080/api/v1/map"));
        ControlClient tls("https://example.com/calnet", options());
        QCOMPARE(tls.mapUrl().toString(), QStringLiteral("wss://example.com/calnet/api/v1/map"));
        QCOMPARE(tls.registerUrl().toString(),
                 QStringLiteral("https://example.com/calnet/api/v1/register"));
    }

    void registerRequestAndReply() {
        server_->onRegister = [](const QJsonObject&) {
            return std::pair{200, registration(7, "calnet-node-7-abc")};
        };
        ControlClient client(server_->url(), options());
        ControlClient::RegisterRequest request;
        request.nodeKey = newKey();
        request.discoKey = newKey();
        request.hostname = "laptop";
        request.authKey = "calnet-auth-000000000001-secret";
        std::optional<ControlClient::Registration> got;
        bool done = false;
        client.registerNode(request, [&](const auto& r, const auto&) {
            got = r;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QVERIFY(got);
        QCOMPARE(got->nodeId, 7);
        QCOMPARE(got->credential, QStringLiteral("calnet-node-7-abc"));
        QCOMPARE(got->addresses.size(), 2);
        QCOMPARE(got->prefixes, (QStringList{"100.70.0.0/24", "fd70:6361:6c6e::/64"}));
        QCOMPARE(got->keyExpiry, 1780000000);

        QCOMPARE(int(server_->registerRequests.size()), 1);
        const QJsonObject body = server_->registerRequests[0];
        QStringList keys = body.keys();
        keys.sort();
        // Exactly the contract's fields: the server rejects unknown ones.
        QCOMPARE(keys, (QStringList{"authKey", "clientVersion", "discoKey", "hostname", "nodeKey",
                                    "os"}));
        QCOMPARE(body.value("nodeKey").toString(), request.nodeKey);
        QCOMPARE(body.value("os").toString(), QStringLiteral("linux"));
        QCOMPARE(body.value("authKey").toString(), request.authKey);
    }

    void registerErrors() {
        server_->onRegister = [](const QJsonObject& body) {
            if (body.contains("credential"))
                return std::pair{401, QJsonObject{{"error", QJsonObject{{"code", "unauthorized"},
                                                                        {"message", "nope"}}}}};
            return std::pair{200, QJsonObject{{"nodeId", 0}}}; // not what the protocol says
        };
        ControlClient client(server_->url(), options());
        ControlClient::RegisterRequest request;
        request.nodeKey = newKey();
        request.credential = "calnet-node-7-old";
        ControlClient::RegisterError error;
        bool done = false;
        client.registerNode(request, [&](const auto& r, const auto& e) {
            QVERIFY(!r);
            error = e;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QCOMPARE(error.httpStatus, 401);
        QCOMPARE(error.code, QStringLiteral("unauthorized"));
        QCOMPARE(error.message, QStringLiteral("nope"));
        QVERIFY(!server_->registerRequests.back().contains("authKey"));

        request.credential.clear();
        done = false;
        client.registerNode(request, [&](const auto& r, const auto& e) {
            QVERIFY(!r);
            error = e;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QCOMPARE(error.code, QStringLiteral("bad_reply"));

        // Nobody listening: a network error, no HTTP status.
        const QString url = server_->url();
        server_->stopListening();
        ControlClient offline(url, options());
        done = false;
        offline.registerNode(request, [&](const auto& r, const auto& e) {
            QVERIFY(!r);
            error = e;
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, kWaitMs);
        QCOMPARE(error.httpStatus, 0);
        QCOMPARE(error.code, QStringLiteral("network"));
    }

    void helloMapAndDeltas() {
        ControlClient client(server_->url(), options());
        QSignalSpy changed(&client, &ControlClient::mapChanged);
        startAndHello(client);
        QCOMPARE(client.state(), ControlClient::State::Connecting);
        const QJsonObject hello = server_->receivedOfType("hello").front();
        QCOMPARE(hello.value("nodeId").toInteger(), 7);
        QCOMPARE(hello.value("credential").toString(), QStringLiteral("calnet-node-7-secret"));
        QCOMPARE(hello.value("since").toInteger(), 0);
        QCOMPARE(hello.value("endpoints").toArray().toVariantList(),
                 QJsonArray::fromStringList(endpoints_).toVariantList());

        const QString a = newKey(), b = newKey(), c = newKey();
        server_->send(fullMap(42, a, b));
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, kWaitMs);
        QCOMPARE(client.state(), ControlClient::State::Connected);
        QCOMPARE(client.map().seq(), 42);
        QCOMPARE(int(client.map().peers().size()), 2);

        server_->send({{"type", "delta"},
                       {"seq", 43},
                       {"upsert", QJsonArray{test::node(2, b, "beta", {"198.51.100.2:1"}, false),
                                             test::node(3, c, "gamma", {})}},
                       {"remove", QJsonArray{1}}});
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 2, kWaitMs);
        QCOMPARE(client.map().seq(), 43);
        QVERIFY(!client.map().peers().count(1));
        QCOMPARE(client.map().peers().at(2).endpoints, QStringList{"198.51.100.2:1"});
        QVERIFY(!client.map().peers().at(2).online);
        QCOMPARE(client.map().peers().at(3).hostname, QStringLiteral("gamma"));
    }

    void reconnectWithBackoffAndSince() {
        ControlClient client(server_->url(), options());
        QSignalSpy changed(&client, &ControlClient::mapChanged);
        startAndHello(client);
        server_->send(fullMap(42, newKey(), newKey()));
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, kWaitMs);

        // The server drops the stream: the client comes back and asks for changes since 42.
        QElapsedTimer timer;
        timer.start();
        server_->closeStreams(QWebSocketProtocol::CloseCodeGoingAway);
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
        QVERIFY2(timer.elapsed() >= 20, "reconnected without waiting (backoff min 40 ms, /2)");
        QCOMPARE(server_->receivedOfType("hello").back().value("since").toInteger(), 42);
        QCOMPARE(client.map().seq(), 42); // kept across the reconnect

        // The server is down for a while: attempts pile up with a growing delay, and the
        // tunnel's map stays as it was.
        const quint16 port = server_->port();
        server_->stopListening();
        QTRY_COMPARE_WITH_TIMEOUT(client.state(), ControlClient::State::Reconnecting, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(client.attempts() >= 4, kWaitMs);
        QCOMPARE(int(client.map().peers().size()), 2);
        QVERIFY(server_->listen(port));
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(3), kWaitMs);
        QCOMPARE(server_->receivedOfType("hello").back().value("since").toInteger(), 42);
        server_->send({{"type", "delta"}, {"seq", 44}, {"remove", QJsonArray{1}}});
        QTRY_COMPARE_WITH_TIMEOUT(client.map().seq(), 44, kWaitMs);
        QCOMPARE(client.state(), ControlClient::State::Connected);
        QCOMPARE(client.attempts(), 0); // backoff reset by a working session
    }

    void nodeDeletedStops() {
        ControlClient client(server_->url(), options());
        QSignalSpy deleted(&client, &ControlClient::nodeDeleted);
        startAndHello(client);
        server_->closeStreams(QWebSocketProtocol::CloseCode(4403), "node deleted");
        QTRY_COMPARE_WITH_TIMEOUT(deleted.size(), 1, kWaitMs);
        QCOMPARE(client.state(), ControlClient::State::Error);
        QVERIFY(!client.errorString().isEmpty());
        QTest::qWait(800); // more than two maximum backoffs: no new attempt
        QCOMPARE(server_->streamsOpened, 1);
    }

    void badCredentialStops() {
        ControlClient client(server_->url(), options());
        QSignalSpy rejected(&client, &ControlClient::credentialRejected);
        startAndHello(client);
        server_->closeStreams(QWebSocketProtocol::CloseCode(4401), "bad credential");
        QTRY_COMPARE_WITH_TIMEOUT(rejected.size(), 1, kWaitMs);
        QCOMPARE(client.state(), ControlClient::State::Error);
        QTest::qWait(800);
        QCOMPARE(server_->streamsOpened, 1);
    }

    void keyExpiredWaitsForNewCredential() {
        ControlClient client(server_->url(), options());
        QSignalSpy expired(&client, &ControlClient::keyExpired);
        QSignalSpy changed(&client, &ControlClient::mapChanged);
        startAndHello(client);
        server_->send(fullMap(9, newKey(), newKey()));
        QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, kWaitMs);
        server_->closeStreams(QWebSocketProtocol::CloseCode(4410), "key expired");
        QTRY_COMPARE_WITH_TIMEOUT(expired.size(), 1, kWaitMs);
        QCOMPARE(client.state(), ControlClient::State::Reconnecting);
        QTest::qWait(800);
        QCOMPARE(server_->streamsOpened, 1); // waits for the owner to register again
        client.start(7, "calnet-node-7-renewed");
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
        const QJsonObject hello = server_->receivedOfType("hello").back();
        QCOMPARE(hello.value("credential").toString(), QStringLiteral("calnet-node-7-renewed"));
        QCOMPARE(hello.value("since").toInteger(), 9);
    }

    void otherCloseCodesReconnect() {
        ControlClient client(server_->url(), options());
        startAndHello(client);
        server_->closeStreams(QWebSocketProtocol::CloseCode(4400), "bad message");
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("hello").size(), std::size_t(2), kWaitMs);
    }

    void endpointsReportedWhenTheyChange() {
        ControlClient client(server_->url(), options());
        startAndHello(client);
        QCOMPARE(client.reportedEndpoints(), endpoints_);
        QTest::qWait(350); // three polls with nothing new: nothing sent
        QVERIFY(server_->receivedOfType("endpoints").empty());
        endpoints_ = {"10.1.2.3:41641"};
        QTRY_COMPARE_WITH_TIMEOUT(server_->receivedOfType("endpoints").size(), std::size_t(1),
                                  kWaitMs);
        const QJsonObject report = server_->receivedOfType("endpoints").front();
        QCOMPARE(report.value("endpoints").toArray(), QJsonArray{"10.1.2.3:41641"});
        QTest::qWait(350);
        QCOMPARE(server_->receivedOfType("endpoints").size(), std::size_t(1));
    }

    void quietHealthyConnectionIsKept() {
        ControlClient::Options o = options();
        o.pingInterval = std::chrono::milliseconds(50);
        o.idleTimeout = std::chrono::milliseconds(10000);
        ControlClient client(server_->url(), o);
        startAndHello(client);
        // Pongs answer our pings, so a quiet but healthy server is never dropped.
        QTest::qWait(400);
        QCOMPARE(server_->streamsOpened, 1);
        QCOMPARE(server_->openStreams(), 1);
    }

    void localEndpointsSkipLoopback() {
        const QStringList list = helper::localEndpoints(41641, QStringLiteral("calnet0"));
        for (const QString& e : list) {
            QVERIFY2(e.endsWith(QStringLiteral(":41641")), qPrintable(e));
            QVERIFY2(!e.startsWith(QStringLiteral("127.")), qPrintable(e));
            QVERIFY2(!e.startsWith(QStringLiteral("[::1]")), qPrintable(e));
            QVERIFY2(!e.startsWith(QStringLiteral("[fe80")), qPrintable(e));
        }
    }
};

QTEST_GUILESS_MAIN(TestControlClient)
#include "tst_controlclient.moc"
