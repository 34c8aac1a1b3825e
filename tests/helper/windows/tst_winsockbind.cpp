// WinsockBind on Windows (under Wine in CI): binding port 0 yields a real port and a taken port
// is refused; datagrams between two binds over 127.0.0.1 and ::1 arrive intact with the sender's
// address (IPv4 as plain IPv4, not v4-mapped) and port; a batch of 64 arrives complete through
// small receive batches; a receive with nothing sent times out in bounded time; close() from
// another thread ends a 10-second receive at once with kClosed while sending keeps working; and
// an ICMP port unreachable from a closed port does not make the next receive fail (the
// WSAECONNRESET that SIO_UDP_CONNRESET turns off).
#include <QTest>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "helper/bindchecks.h"
#include "helper/platform/windows/winsockbind.h"

using calnet::helper::Bind;
using calnet::helper::WinsockBind;
using namespace bindchecks;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Bind> openBind(std::uint16_t port = 0) {
    std::string error;
    auto bind = WinsockBind::open(port, error);
    if (!bind)
        qWarning("WinsockBind::open(%u): %s", port, error.c_str());
    return bind;
}

const Open kOpen = [](std::uint16_t port) { return openBind(port); };

} // namespace

class TestWinsockBind : public QObject {
    Q_OBJECT

private slots:
    void bindsAFreePort() {
        bindchecks::bindsAFreePort(kOpen);
        auto a = openBind();
        QVERIFY(a);
        std::string error;
        QVERIFY(!WinsockBind::open(a->port(), error));
        QVERIFY2(error.starts_with("bind port " + std::to_string(a->port()) + ": "), error.c_str());
    }

    void fwmarkOnlyZero() {
        auto a = openBind();
        QVERIFY(a);
        QVERIFY(a->setFwmark(0));
        QVERIFY(!a->setFwmark(0x51820));
    }

    void ipv4Loopback() { bindchecks::ipv4Loopback(kOpen); }

    void ipv6Loopback() {
        auto a = openBind();
        QVERIFY(a);
        if (!static_cast<WinsockBind&>(*a).dualStack())
            QSKIP("no IPv6 on this host");
        bindchecks::ipv6Loopback(kOpen);
    }

    void batchOf64Arrives() { bindchecks::batchOf64Arrives(kOpen); }

    void timeoutReturnsZero() { bindchecks::timeoutReturnsZero(kOpen); }

    void closeUnblocksReceive() { bindchecks::closeUnblocksReceive(kOpen); }

    void closedPortDoesNotBreakReceive() {
        auto a = openBind();
        auto b = openBind();
        QVERIFY(a && b);
        std::uint16_t closedPort = 0;
        {
            auto gone = openBind();
            QVERIFY(gone);
            closedPort = gone->port();
        }
        // The ICMP port unreachable for these would surface as WSAECONNRESET on a's next
        // recvfrom without SIO_UDP_CONNRESET.
        for (int i = 0; i < 3; ++i)
            sendText(*a, loopback("127.0.0.1", closedPort), "nobody listens");
        std::this_thread::sleep_for(100ms);
        Batch batch(4);
        QCOMPARE(a->receive(batch.datagrams, 50ms), 0);
        QVERIFY(sendText(*b, loopback("127.0.0.1", a->port()), "still here"));
        const auto got = receiveSome(*a, 1).datagrams;
        QCOMPARE(got.size(), std::size_t(1));
        QCOMPARE(got[0].first, std::string("still here"));
    }
};

QTEST_GUILESS_MAIN(TestWinsockBind)
#include "tst_winsockbind.moc"
