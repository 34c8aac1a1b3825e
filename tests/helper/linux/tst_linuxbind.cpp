// LinuxBind (recvmmsg/sendmmsg, UDP GSO and GRO) over loopback, without root: what every Bind
// must do (tests/helper/bindchecks.h: a free port, then taken; IPv4 reported as plain IPv4 and
// IPv6; a batch of 64; the receive timeout; close() ending a 10-second receive at once while
// sending keeps working), and what the offloads must not change: a run of equal-sized datagrams
// to one peer, which send() packs into one GSO message and the receiver may get as one GRO
// buffer, arrives as the same datagrams in the same order, with a shorter last one and with
// runs to two peers interleaved. SO_MARK: set and read back as root, refused (EPERM) otherwise.
#include <QTest>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include "helper/bindchecks.h"
#include "helper/platform/linux/linuxbind.h"

using calnet::helper::Bind;
using calnet::helper::Datagram;
using calnet::helper::LinuxBind;
using namespace bindchecks;

namespace {

std::unique_ptr<LinuxBind> openLinuxBind(std::uint16_t port = 0) {
    std::string error;
    auto bind = LinuxBind::open(port, 0, error);
    if (!bind)
        qWarning("LinuxBind::open(%u): %s", port, error.c_str());
    return bind;
}

const Open kOpen = [](std::uint16_t port) -> std::unique_ptr<Bind> { return openLinuxBind(port); };

// Payload `index` of a run: its number, then filler up to `size` bytes.
std::string payload(std::size_t index, std::size_t size) {
    std::string text = "datagram " + std::to_string(index) + " ";
    text.resize(size, char('a' + index % 26));
    return text;
}

} // namespace

class TestLinuxBind : public QObject {
    Q_OBJECT

private slots:
    void bindsAFreePort() { bindchecks::bindsAFreePort(kOpen); }
    void ipv4Loopback() { bindchecks::ipv4Loopback(kOpen); }
    void ipv6Loopback() { bindchecks::ipv6Loopback(kOpen); }
    void batchOf64Arrives() { bindchecks::batchOf64Arrives(kOpen); }
    void timeoutReturnsZero() { bindchecks::timeoutReturnsZero(kOpen); }
    void closeUnblocksReceive() { bindchecks::closeUnblocksReceive(kOpen); }

    // 40 datagrams of 1,200 bytes and a last one of 300 to one peer, in one send(): the GSO
    // path. They arrive complete and in order, however the receiver's GRO groups them.
    void equalSizedRunArrivesInOrder() {
        auto a = openLinuxBind();
        auto b = openLinuxBind();
        QVERIFY(a && b);
        std::vector<std::string> payloads;
        for (std::size_t i = 0; i < 40; ++i)
            payloads.push_back(payload(i, 1200));
        payloads.push_back(payload(40, 300));
        std::vector<Datagram> out;
        for (auto& p : payloads)
            out.push_back(Datagram{reinterpret_cast<std::uint8_t*>(p.data()), 0, p.size(),
                                   loopback("127.0.0.1", b->port()), 0});
        QCOMPARE(a->send(out), int(out.size()));
        const Received got = receiveSome(*b, payloads.size(), 8);
        QCOMPARE(got.datagrams.size(), payloads.size());
        for (std::size_t i = 0; i < payloads.size(); ++i) {
            QCOMPARE(got.datagrams[i].first, payloads[i]);
            QCOMPARE(got.datagrams[i].second.port, a->port());
        }
        qInfo("%zu receive buffer(s) held a coalesced run (GRO)", got.coalesced);
    }

    // Runs to two peers interleaved (A A A B B A ...): each peer gets its own datagrams, in
    // order, and nothing of the other's.
    void interleavedPeersStayApart() {
        auto a = openLinuxBind();
        auto b = openLinuxBind();
        auto c = openLinuxBind();
        QVERIFY(a && b && c);
        std::vector<std::string> payloads;
        std::vector<Datagram> out;
        std::vector<std::string> toB, toC;
        const char pattern[] = "bbbccbbbbcccbcbbbbbbccccc";
        for (std::size_t i = 0; pattern[i] != '\0'; ++i)
            payloads.push_back(payload(i, 900));
        for (std::size_t i = 0; pattern[i] != '\0'; ++i) {
            const bool forB = pattern[i] == 'b';
            (forB ? toB : toC).push_back(payloads[i]);
            out.push_back(Datagram{reinterpret_cast<std::uint8_t*>(payloads[i].data()), 0,
                                   payloads[i].size(),
                                   loopback("127.0.0.1", (forB ? b : c)->port()), 0});
        }
        QCOMPARE(a->send(out), int(out.size()));
        for (auto [bind, want] : {std::pair{b.get(), &toB}, std::pair{c.get(), &toC}}) {
            const Received got = receiveSome(*bind, want->size(), 4);
            QCOMPARE(got.datagrams.size(), want->size());
            for (std::size_t i = 0; i < want->size(); ++i)
                QCOMPARE(got.datagrams[i].first, (*want)[i]);
        }
    }

    void fwmark() {
        auto a = openLinuxBind();
        QVERIFY(a);
        if (::geteuid() != 0) { // SO_MARK needs CAP_NET_ADMIN, even to clear it
            QVERIFY(!a->setFwmark(0x51820));
            QCOMPARE(errno, EPERM);
            return;
        }
        QVERIFY(a->setFwmark(0));
        QVERIFY(a->setFwmark(0x51820));
        std::uint32_t mark = 0;
        socklen_t length = sizeof mark;
        QCOMPARE(::getsockopt(a->fd(), SOL_SOCKET, SO_MARK, &mark, &length), 0);
        QCOMPARE(mark, std::uint32_t(0x51820));
    }
};

QTEST_GUILESS_MAIN(TestLinuxBind)
#include "tst_linuxbind.moc"
