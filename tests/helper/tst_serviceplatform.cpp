// Service over the fake platform: the whole of calnetd --service (IPC, profile store, the
// connection state machine) with fake TUN devices, binds and configurator, so it runs without
// root and checks what the service asks of the OS: a connect makes the interface and applies
// the profile's addresses, routes and DNS; the peers verb sees traffic a peer answers; a
// disconnect rolls back and removes the interface; a configurator that fails leaves the
// service disconnected with the reason and nothing behind; the leftovers of a crashed helper
// are rolled back at start; the connected profile comes back after a restart.
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "helper/datapath/tunnel.h"
#include "helper/fakepeer.h"
#include "helper/ipc/client.h"
#include "helper/platform/fake/fakeplatform.h"
#include "helper/selfadmin.h"
#include "helper/service/service.h"

using namespace calnet;
using helper::Service;
using helper::Tunnel;
using helper::fake::FakeNetwork;
using helper::fake::FakePlatform;

namespace {

constexpr int kWaitMs = 10000;
const QString kIfname = QStringLiteral("fakesvc0");

QString base64(const crypto::PublicKey& key) {
    return QString::fromStdString(config::encodeKeyBase64(key));
}

} // namespace

class TestServicePlatform : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    FakeNetwork network_;
    std::unique_ptr<FakePlatform> platform_;
    std::unique_ptr<Service> service_;
    crypto::PrivateKey selfKey_ = crypto::generatePrivateKey();
    crypto::PrivateKey peerKey_ = crypto::generatePrivateKey();
    std::unique_ptr<Tunnel> peer_;

    QString socketPath() const { return dir_.filePath("calnetd.sock"); }

    void startService() {
        Service::Options o;
        o.socketPath = socketPath();
        o.stateDir = dir_.filePath("state");
        o.interfaceName = kIfname;
        o.access = selfAdminPolicy(); // the test process may change things without root
        o.platform = platform_.get();
        service_ = std::make_unique<Service>(o);
        QString error;
        QVERIFY2(service_->start(&error), qPrintable(error));
    }

    ipc::Reply call(const QString& method, const QJsonObject& params = {}) {
        ipc::IpcClient client;
        client.connectToHelper(socketPath());
        std::optional<ipc::Reply> reply;
        client.call(method, params, [&reply](const ipc::Reply& r) { reply = r; });
        if (!QTest::qWaitFor([&] { return reply.has_value(); }, kWaitMs))
            return ipc::Reply::failure(0, ipc::ErrorCode::Timeout, QStringLiteral("no reply"));
        return *reply;
    }

    QString profileText() const {
        return QStringLiteral(
                   "[Interface]\nPrivateKey = %1\nAddress = 10.6.0.1/24\nDNS = 10.6.0.53\n"
                   "\n[Peer]\nPublicKey = %2\nAllowedIPs = 10.6.0.0/24\n"
                   "Endpoint = 127.0.0.1:%3\nPersistentKeepalive = 1\n")
            .arg(QString::fromStdString(config::encodeKeyBase64(selfKey_.span())),
                 base64(crypto::publicKeyOf(peerKey_)))
            .arg(peer_->listenPort());
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void init() {
        QDir(dir_.filePath("state")).removeRecursively();
        platform_ = std::make_unique<FakePlatform>(network_);
        peer_ =
            testing::startPeer(*platform_, peerKey_, crypto::publicKeyOf(selfKey_), "10.6.0.1/32");
        QVERIFY(peer_);
        startService();
        QVERIFY(call("profiles.import", {{"config", profileText()}, {"name", "office"}}).ok());
    }

    void cleanup() {
        service_.reset();
        peer_.reset();
        QCOMPARE(platform_->liveTuns(), std::size_t(0));
        platform_.reset();
    }

    void startRollsBackLeftovers() {
        QCOMPARE(platform_->leftoverCalls(),
                 std::vector<std::string>{dir_.filePath("state").toStdString()});
    }

    void connectConfiguresAndDisconnectRestores() {
        const ipc::Reply connected = call("connect", {{"name", "office"}});
        QVERIFY2(connected.ok(), qPrintable(connected.error ? connected.error->message : ""));
        QCOMPARE(connected.result.value("state").toString(), QStringLiteral("connected"));
        const auto log = platform_->log();
        QCOMPARE(log->applied, std::vector<std::string>{kIfname.toStdString()});
        QCOMPARE(log->addresses, std::vector<std::string>{"10.6.0.1/24"});
        QCOMPARE(log->routes, std::vector<std::string>{"10.6.0.0/24"});
        QCOMPARE(log->dns, std::vector<std::string>{"10.6.0.53"});
        QVERIFY(platform_->tun(kIfname.toStdString()));

        // The keepalive makes a handshake with the peer; the peers verb reports it.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const QJsonArray peers = call("peers").result.value("peers").toArray();
                return peers.size() == 1 &&
                       peers.at(0).toObject().value("lastHandshake").toInteger() > 0;
            }(),
            kWaitMs);

        const ipc::Reply disconnected = call("disconnect");
        QVERIFY(disconnected.ok());
        QCOMPARE(disconnected.result.value("state").toString(), QStringLiteral("disconnected"));
        QCOMPARE(log->rollbacks, 1);
        QVERIFY(!platform_->tun(kIfname.toStdString()));
    }

    void aFailingConfiguratorLeavesNothing() {
        platform_->failApplyWith(std::string("resolvconf: exit status 1"));
        const ipc::Reply connected = call("connect", {{"name", "office"}});
        QVERIFY(!connected.ok());
        QVERIFY2(connected.error->message.contains(QStringLiteral("resolvconf: exit status 1")),
                 qPrintable(connected.error->message));
        QVERIFY(!platform_->tun(kIfname.toStdString()));
        QCOMPARE(call("status").result.value("state").toString(), QStringLiteral("error"));
    }

    void theConnectedProfileComesBackAfterARestart() {
        QVERIFY(call("connect", {{"name", "office"}}).ok());
        service_.reset(); // as a SIGTERM: disconnects, keeps the intent
        QVERIFY(!platform_->tun(kIfname.toStdString()));
        QCOMPARE(platform_->log()->rollbacks, 1);
        startService();
        QTRY_COMPARE_WITH_TIMEOUT(call("status").result.value("state").toString(),
                                  QStringLiteral("connected"), kWaitMs);
        QCOMPARE(call("status").result.value("profile").toString(), QStringLiteral("office"));
        QVERIFY(platform_->tun(kIfname.toStdString()));
        QCOMPARE(platform_->log()->applied.size(), std::size_t(2));
    }
};

QTEST_GUILESS_MAIN(TestServicePlatform)
#include "tst_serviceplatform.moc"
