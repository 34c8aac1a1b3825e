// Tunnel over the fake platform: two interfaces in one process, joined by a FakeNetwork, with
// no root, TUN device or UDP socket. What a packet an application sends becomes at the other
// end, both ways, in order and in bulk; the listen port moving under traffic; stop() waking
// the blocked threads; the interface vanishing; a taken port.
#include <QTest>

#include <chrono>
#include <cstring>
#include <thread>

#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"
#include "helper/datapath/tunnel.h"
#include "helper/fakepeer.h"
#include "helper/platform/fake/fakeplatform.h"

using namespace calnet;
using helper::Tunnel;
using helper::fake::Bytes;
using helper::fake::FakeNetwork;
using helper::fake::FakePlatform;
using namespace std::chrono_literals;

namespace {

constexpr auto kWait = 5000ms;

using testing::ipv4;

struct Node {
    crypto::PrivateKey key = crypto::generatePrivateKey();
    crypto::PublicKey pub = crypto::publicKeyOf(key);
    std::unique_ptr<Tunnel> tunnel;
    helper::fake::FakeTunDevice* tun = nullptr;
};

} // namespace

class TestTunnel : public QObject {
    Q_OBJECT

    FakeNetwork network_;
    std::unique_ptr<FakePlatform> platform_;
    Node a_, b_;

    void start(Node& n, const char* ifname) {
        n.tunnel = std::make_unique<Tunnel>(*platform_);
        std::string error;
        QVERIFY2(n.tunnel->start(ifname, {}, error), error.c_str());
        n.tun = platform_->tun(ifname);
        QVERIFY(n.tun);
    }

    // self knows peer at 127.0.0.1:<peer's port> (if withEndpoint) with the peer's address.
    static void introduce(Node& self, const Node& peer, const char* peerAddress,
                          bool withEndpoint) {
        const auto endpoint =
            net::SocketAddress::parse("127.0.0.1:" + std::to_string(peer.tunnel->listenPort()));
        self.tunnel->withDevice(
            [&](wireguard::Device& device, wireguard::Now, wireguard::Actions&) {
                device.setPrivateKey(self.key);
                wireguard::Peer* p = device.addPeer(peer.pub);
                QVERIFY(p);
                if (withEndpoint)
                    device.setEndpoint(*p, *endpoint);
                device.allowedIps().insert(net::IpPrefix::parse(peerAddress)->masked(), p);
            });
    }

    // Sends one packet from `from` to `to` and checks it arrives intact.
    static void roundTrip(Node& from, Node& to, const char* src, const char* dst,
                          std::uint32_t tag) {
        const Bytes packet = ipv4(src, dst, 100, tag);
        from.tun->inject(packet);
        const auto got = to.tun->takeWritten(1, kWait);
        QCOMPARE(got.size(), std::size_t(1));
        QVERIFY(got[0] == packet);
    }

private slots:
    void init() {
        platform_ = std::make_unique<FakePlatform>(network_);
        start(a_, "fake-a");
        start(b_, "fake-b");
        introduce(a_, b_, "10.9.0.2/32", true);
        introduce(b_, a_, "10.9.0.1/32", false); // b learns a's endpoint from the handshake
    }

    void cleanup() {
        a_.tunnel.reset();
        b_.tunnel.reset();
        QCOMPARE(platform_->liveTuns(), std::size_t(0)); // stop() removed both interfaces
        platform_.reset();
    }

    void firstPacketHandshakesAndArrivesBothWays() {
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 1);
        roundTrip(b_, a_, "10.9.0.2", "10.9.0.1", 2);
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 3);
    }

    void bulkArrivesInOrderBothWays() {
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 0);
        roundTrip(b_, a_, "10.9.0.2", "10.9.0.1", 0);
        // 20,000 packets of every size from 1 to 1392 bytes, each way at once.
        constexpr std::uint32_t kCount = 20000;
        std::vector<Bytes> ab, ba;
        for (std::uint32_t i = 0; i < kCount; ++i) {
            ab.push_back(ipv4("10.9.0.1", "10.9.0.2", 1 + i % 1392, i));
            ba.push_back(ipv4("10.9.0.2", "10.9.0.1", 1 + (i * 7) % 1392, ~i));
        }
        std::thread senderA([&] {
            for (std::uint32_t i = 0; i < kCount; ++i) {
                a_.tun->inject(ab[i]);
                if (i % 256 == 255)
                    std::this_thread::sleep_for(1ms); // the fake network has no back-pressure
            }
        });
        for (std::uint32_t i = 0; i < kCount; ++i) {
            b_.tun->inject(ba[i]);
            if (i % 256 == 255)
                std::this_thread::sleep_for(1ms);
        }
        senderA.join();
        const auto atB = b_.tun->takeWritten(kCount, 30000ms);
        const auto atA = a_.tun->takeWritten(kCount, 30000ms);
        QCOMPARE(atB.size(), std::size_t(kCount));
        QCOMPARE(atA.size(), std::size_t(kCount));
        for (std::uint32_t i = 0; i < kCount; ++i) {
            QVERIFY2(atB[i] == ab[i], qPrintable(QStringLiteral("a->b packet %1").arg(i)));
            QVERIFY2(atA[i] == ba[i], qPrintable(QStringLiteral("b->a packet %1").arg(i)));
        }
    }

    void listenPortMovesUnderTraffic() {
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 1);
        const std::uint16_t before = a_.tunnel->listenPort();
        std::string error;
        QVERIFY2(a_.tunnel->setListenPort(before + 1000, error), error.c_str());
        QCOMPARE(a_.tunnel->listenPort(), std::uint16_t(before + 1000));
        // The old port is free again, and the session goes on from the new one: b roams to it.
        QVERIFY(platform_->openBind(before, 0, error));
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 2);
        roundTrip(b_, a_, "10.9.0.2", "10.9.0.1", 3);
        // Moved 20 more times while packets flow: none is lost on the way.
        std::vector<Bytes> sent;
        for (std::uint32_t i = 0; i < 20; ++i) {
            sent.push_back(ipv4("10.9.0.1", "10.9.0.2", 50, 100 + i));
            a_.tun->inject(sent.back());
            QVERIFY2(a_.tunnel->setListenPort(0, error), error.c_str());
        }
        QVERIFY(b_.tun->takeWritten(20, kWait) == sent);
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 4);
        roundTrip(b_, a_, "10.9.0.2", "10.9.0.1", 5);
    }

    void aTakenPortFailsStartAndLeavesNoInterface() {
        std::string error;
        auto holder = platform_->openBind(0, 0, error);
        QVERIFY(holder);
        Tunnel c(*platform_);
        Tunnel::Options options;
        options.listenPort = holder->port();
        QVERIFY(!c.start("fake-c", options, error));
        QVERIFY2(error.find("in use") != std::string::npos, error.c_str());
        QVERIFY(!platform_->tun("fake-c"));
    }

    void stopWakesBlockedThreadsAtOnce() {
        roundTrip(a_, b_, "10.9.0.1", "10.9.0.2", 1);
        // Every thread is blocked in a read or receive now (their fallback wake-up is 1 s):
        // stop() must close the device and the bind to wake them.
        std::this_thread::sleep_for(50ms);
        const auto t0 = std::chrono::steady_clock::now();
        a_.tunnel->stop();
        const auto took = std::chrono::steady_clock::now() - t0;
        QVERIFY2(
            took < 500ms,
            qPrintable(
                QStringLiteral("stop took %1 ms")
                    .arg(std::chrono::duration_cast<std::chrono::milliseconds>(took).count())));
        QVERIFY(!platform_->tun("fake-a"));
        a_.tunnel->stop(); // idempotent
    }

    void vanishedInterfaceFailsTheTunnel() {
        QVERIFY(!a_.tunnel->failed());
        a_.tun->remove();
        QVERIFY(QTest::qWaitFor([&] { return a_.tunnel->failed(); }, 5000));
        QVERIFY(a_.tunnel->stats().tunReadErrors.load() >= 1);
    }

    void fwmarkReachesTheBindAndFollowsARebind() {
        std::string error;
        QCOMPARE(platform_->bind(a_.tunnel->listenPort())->fwmark(), std::uint32_t(0));
        QVERIFY2(a_.tunnel->setFwmark(51820, error), error.c_str());
        QCOMPARE(a_.tunnel->fwmark(), std::uint32_t(51820));
        QCOMPARE(platform_->bind(a_.tunnel->listenPort())->fwmark(), std::uint32_t(51820));
        // A new listen port gets a new socket, marked like the old one.
        QVERIFY2(a_.tunnel->setListenPort(0, error), error.c_str());
        QCOMPARE(platform_->bind(a_.tunnel->listenPort())->fwmark(), std::uint32_t(51820));
    }

    void aStoppedTunnelRefusesConfiguration() {
        const std::uint16_t port = a_.tunnel->listenPort();
        a_.tunnel->stop();
        QCOMPARE(a_.tunnel->listenPort(), std::uint16_t(0));
        std::string error;
        QVERIFY(!a_.tunnel->setListenPort(port, error));
        QVERIFY(!a_.tunnel->setFwmark(1, error));
        QCOMPARE(error, std::string("the interface is not running"));
    }
};

QTEST_GUILESS_MAIN(TestTunnel)
#include "tst_tunnel.moc"
