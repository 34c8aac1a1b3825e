// Connection on the fake platform (no root): a profile brought up makes its interface through
// the platform, resolves an endpoint name through it, hands the tunnel socket the fwmark before
// routes exist, and applies addresses, routes and DNS through the configurator; traffic then
// flows to a real Tunnel peer over the fake network. close() rolls the configuration back and
// removes the interface; a failed apply, an unresolvable endpoint or a taken port leave
// nothing behind; leftovers of a crashed helper are reported in one line.
#include <QTest>

#include <chrono>
#include <cstring>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "helper/datapath/tunnel.h"
#include "helper/fakepeer.h"
#include "helper/platform/fake/fakeplatform.h"
#include "helper/service/connection.h"

using namespace calnet;
using helper::Connection;
using helper::Tunnel;
using helper::fake::Bytes;
using helper::fake::FakeNetwork;
using helper::fake::FakePlatform;
using namespace std::chrono_literals;

namespace {

std::string base64(const crypto::PublicKey& key) {
    return config::encodeKeyBase64(key);
}

} // namespace

class TestConnection : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    FakeNetwork network_;
    std::unique_ptr<FakePlatform> platform_;
    crypto::PrivateKey selfKey_ = crypto::generatePrivateKey();
    crypto::PrivateKey peerKey_ = crypto::generatePrivateKey();
    std::unique_ptr<Tunnel> peer_; // the other end, a plain Tunnel on the same network

    Connection::Place place() { return {QStringLiteral("fake0"), dir_.path(), platform_.get()}; }

    config::WgQuickConfig profile(const std::string& endpoint) {
        const std::string text =
            "[Interface]\nPrivateKey = " + config::encodeKeyBase64(selfKey_.span()) +
            "\nAddress = 10.7.0.1/24, fd07::1/64\nDNS = 10.7.0.53, corp.test\n\n"
            "[Peer]\nPublicKey = " +
            base64(crypto::publicKeyOf(peerKey_)) +
            "\nAllowedIPs = 10.7.0.0/24, 192.168.70.0/23\nEndpoint = " + endpoint +
            "\nPersistentKeepalive = 25\n";
        auto parsed = config::parseWgQuick(text);
        if (!parsed.config)
            qFatal("bad test profile: %s", parsed.errors.front().reason.c_str());
        return *parsed.config;
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void init() {
        platform_ = std::make_unique<FakePlatform>(network_);
        peer_ =
            testing::startPeer(*platform_, peerKey_, crypto::publicKeyOf(selfKey_), "10.7.0.1/32");
        QVERIFY(peer_);
        platform_->addHost("vpn.corp.test", *net::SocketAddress::parse("127.0.0.1:1"));
    }

    void cleanup() {
        peer_.reset();
        QCOMPARE(platform_->liveTuns(), std::size_t(0));
        platform_.reset();
    }

    void upConfiguresTheHostAndCarriesTraffic() {
        platform_->markTunnelSocket(51820); // as a full tunnel's policy routing would
        QString error;
        const std::string endpoint = "vpn.corp.test:" + std::to_string(peer_->listenPort());
        auto c = Connection::open(QStringLiteral("corp"), profile(endpoint), place(), &error);
        QVERIFY2(c, qPrintable(error));
        const auto log = platform_->log();
        QCOMPARE(log->applied, std::vector<std::string>{"fake0"});
        QCOMPARE(log->addresses, (std::vector<std::string>{"10.7.0.1/24", "fd07::1/64"}));
        QCOMPARE(log->routes, (std::vector<std::string>{"10.7.0.0/24", "192.168.70.0/23"}));
        QCOMPARE(log->dns, std::vector<std::string>{"10.7.0.53"});
        QCOMPARE(c->tunnel().fwmark(), std::uint32_t(51820));
        QCOMPARE(platform_->bind(c->tunnel().listenPort())->fwmark(), std::uint32_t(51820));
        QCOMPARE(c->addresses(), (QStringList{"10.7.0.1/24", "fd07::1/64"}));

        // The name was resolved through the platform, and packets reach the peer.
        auto* self = platform_->tun("fake0");
        auto* other = platform_->tun("fake-peer");
        QVERIFY(self && other);
        const Bytes packet = testing::ipv4("10.7.0.1", "10.7.0.9", 32, 0xab);
        self->inject(packet);
        bool arrived = false;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!arrived && std::chrono::steady_clock::now() < deadline)
            for (const Bytes& b : other->takeWritten(1, 100ms))
                arrived = arrived || b == packet;
        QVERIFY(arrived);

        QVERIFY2(c->close(&error), qPrintable(error));
        QCOMPARE(log->rollbacks, 1);
        QVERIFY(!platform_->tun("fake0")); // interface removed
        QVERIFY(c->close(&error));         // twice is fine
        QCOMPARE(log->rollbacks, 1);
    }

    void aFailedApplyLeavesNothing() {
        platform_->failApplyWith(std::string("RTM_NEWROUTE 10.7.0.0/24: File exists"));
        QString error;
        auto c = Connection::open(QStringLiteral("corp"), profile("127.0.0.1:9"), place(), &error);
        QVERIFY(!c);
        QCOMPARE(error, QStringLiteral("RTM_NEWROUTE 10.7.0.0/24: File exists"));
        QVERIFY(!platform_->tun("fake0"));
    }

    void anUnresolvableEndpointCreatesNoInterface() {
        QString error;
        auto c = Connection::open(QStringLiteral("corp"), profile("nowhere.test:51820"), place(),
                                  &error);
        QVERIFY(!c);
        QVERIFY2(error.contains(QStringLiteral("cannot resolve nowhere.test")), qPrintable(error));
        QVERIFY(!platform_->tun("fake0"));
        QVERIFY(platform_->log()->applied.empty());
    }

    void aTakenPortFailsWithItsReason() {
        std::string why;
        auto holder = platform_->openBind(0, 0, why);
        QVERIFY(holder);
        auto config = profile("127.0.0.1:9");
        config.interface.listenPort = holder->port();
        QString error;
        QVERIFY(!Connection::open(QStringLiteral("corp"), config, place(), &error));
        QVERIFY2(error.contains(QStringLiteral("in use")), qPrintable(error));
        QVERIFY(!platform_->tun("fake0"));
    }

    void leftoversAreReportedInOneLine() {
        QCOMPARE(Connection::rollbackLeftovers(*platform_, dir_.path()), QString());
        QCOMPARE(platform_->leftoverCalls(), std::vector<std::string>{dir_.path().toStdString()});

        platform_->setLeftovers({7, {}, ""});
        QCOMPARE(Connection::rollbackLeftovers(*platform_, dir_.path()),
                 QStringLiteral("7 change(s) undone"));
        platform_->setLeftovers({3,
                                 {"route 10.0.0.0/8: Operation not permitted"},
                                 "route 10.0.0.0/8: Operation not permitted"});
        QCOMPARE(Connection::rollbackLeftovers(*platform_, dir_.path()),
                 QStringLiteral("3 change(s) undone; route 10.0.0.0/8: Operation not permitted"));
        platform_->setLeftovers({0,
                                 {"rtnetlink unavailable: Permission denied"},
                                 "rtnetlink unavailable: Permission denied"});
        QCOMPARE(Connection::rollbackLeftovers(*platform_, dir_.path()),
                 QStringLiteral("rtnetlink unavailable: Permission denied"));
    }
};

QTEST_GUILESS_MAIN(TestConnection)
#include "tst_connection.moc"
