// WinsockBind on Windows (under Wine in CI): binding port 0 yields a real port and a taken port
// is refused; datagrams between two binds over 127.0.0.1 and ::1 arrive intact with the sender's
// address (IPv4 as plain IPv4, not v4-mapped) and port; a batch of 64 arrives complete through
// small receive batches; a receive with nothing sent times out in bounded time; close() from
// another thread ends a 10-second receive at once with kClosed while sending keeps working; and
// an ICMP port unreachable from a closed port does not make the next receive fail (the
// WSAECONNRESET that SIO_UDP_CONNRESET turns off).
#include <QElapsedTimer>
#include <QTest>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "helper/platform/windows/winsockbind.h"

using calnet::helper::Bind;
using calnet::helper::Datagram;
using calnet::helper::WinsockBind;
using calnet::net::IpAddress;
using calnet::net::SocketAddress;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Bind> openBind(std::uint16_t port = 0) {
    std::string error;
    auto bind = WinsockBind::open(port, error);
    if (!bind)
        qWarning("WinsockBind::open(%u): %s", port, error.c_str());
    return bind;
}

SocketAddress loopback(const char* address, std::uint16_t port) {
    return {*IpAddress::parse(address), port};
}

// Receive buffers for up to `count` datagrams.
struct Batch {
    std::vector<std::array<std::uint8_t, 2048>> buffers;
    std::vector<Datagram> datagrams;

    explicit Batch(std::size_t count) : buffers(count), datagrams(count) {
        for (std::size_t i = 0; i < count; ++i)
            datagrams[i] = Datagram{buffers[i].data(), buffers[i].size(), 0, {}, 0};
    }
};

// Receives until `want` datagrams came or 5 s passed; every payload and source, in order.
std::vector<std::pair<std::string, SocketAddress>> receiveSome(Bind& bind, std::size_t want,
                                                               std::size_t batchSize = 16) {
    std::vector<std::pair<std::string, SocketAddress>> got;
    Batch batch(batchSize);
    QElapsedTimer timer;
    timer.start();
    while (got.size() < want && timer.elapsed() < 5000) {
        const int n = bind.receive(batch.datagrams, 100ms);
        if (n < 0) {
            qWarning("receive: %d", n);
            break;
        }
        for (int i = 0; i < n; ++i) {
            const Datagram& d = batch.datagrams[std::size_t(i)];
            if (d.segmentSize != 0)
                qWarning("segmentSize %u", d.segmentSize);
            got.emplace_back(std::string(reinterpret_cast<const char*>(d.data), d.length), d.peer);
        }
    }
    return got;
}

bool sendText(Bind& bind, const SocketAddress& to, const std::string& text) {
    return bind.sendOne(to, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

} // namespace

class TestWinsockBind : public QObject {
    Q_OBJECT

private slots:
    void bindsAFreePort() {
        auto a = openBind();
        QVERIFY(a);
        QVERIFY(a->port() != 0);
        auto again = openBind(a->port());
        QVERIFY(!again); // taken (no SO_REUSEADDR)
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

    void ipv4Loopback() {
        auto a = openBind();
        auto b = openBind();
        QVERIFY(a && b);
        QVERIFY(sendText(*a, loopback("127.0.0.1", b->port()), "hello over IPv4"));
        const auto got = receiveSome(*b, 1);
        QCOMPARE(got.size(), std::size_t(1));
        QCOMPARE(got[0].first, std::string("hello over IPv4"));
        // The dual-stack socket sees ::ffff:127.0.0.1; the Bind reports plain IPv4.
        QCOMPARE(got[0].second.address.family, calnet::net::Family::V4);
        QCOMPARE(got[0].second.toString(), "127.0.0.1:" + std::to_string(a->port()));
        // And the reply goes back to that IPv4 address.
        QVERIFY(sendText(*b, got[0].second, "reply"));
        const auto reply = receiveSome(*a, 1);
        QCOMPARE(reply.size(), std::size_t(1));
        QCOMPARE(reply[0].first, std::string("reply"));
        QCOMPARE(reply[0].second.toString(), "127.0.0.1:" + std::to_string(b->port()));
    }

    void ipv6Loopback() {
        auto a = openBind();
        auto b = openBind();
        QVERIFY(a && b);
        if (!static_cast<WinsockBind&>(*a).dualStack())
            QSKIP("no IPv6 on this host");
        if (!sendText(*a, loopback("::1", b->port()), "hello over IPv6"))
            QSKIP("::1 is not reachable on this host");
        const auto got = receiveSome(*b, 1);
        QCOMPARE(got.size(), std::size_t(1));
        QCOMPARE(got[0].first, std::string("hello over IPv6"));
        QCOMPARE(got[0].second.address.family, calnet::net::Family::V6);
        QCOMPARE(got[0].second.toString(), "[::1]:" + std::to_string(a->port()));
    }

    void batchOf64Arrives() {
        auto a = openBind();
        auto b = openBind();
        QVERIFY(a && b);
        constexpr std::size_t kCount = 64;
        std::vector<std::string> payloads;
        std::vector<Datagram> out(kCount);
        for (std::size_t i = 0; i < kCount; ++i)
            payloads.push_back("datagram " + std::to_string(i) + std::string(i * 7, 'x'));
        for (std::size_t i = 0; i < kCount; ++i)
            out[i] = Datagram{reinterpret_cast<std::uint8_t*>(payloads[i].data()), 0,
                              payloads[i].size(), loopback("127.0.0.1", b->port()), 0};
        QCOMPARE(a->send(out), int(kCount));
        // Batches of 16: the receive that fills its batch leaves the rest for the next one.
        const auto got = receiveSome(*b, kCount, 16);
        QCOMPARE(got.size(), kCount);
        std::set<std::string> expected(payloads.begin(), payloads.end());
        std::set<std::string> received;
        for (const auto& [text, from] : got) {
            received.insert(text);
            QCOMPARE(from.port, a->port());
        }
        QVERIFY(received == expected);
    }

    void timeoutReturnsZero() {
        auto a = openBind();
        QVERIFY(a);
        Batch batch(4);
        QElapsedTimer timer;
        timer.start();
        const int n = a->receive(batch.datagrams, 50ms);
        const qint64 elapsed = timer.elapsed();
        QCOMPARE(n, 0);
        // Windows' timer ticks are about 15 ms; the upper bound only catches a hang.
        QVERIFY2(elapsed >= 30 && elapsed < 1000, qPrintable(QString::number(elapsed)));
        QCOMPARE(a->receive(batch.datagrams, 0ms), 0);
    }

    void closeUnblocksReceive() {
        auto a = openBind();
        auto b = openBind();
        QVERIFY(a && b);
        std::atomic<int> result{1};
        std::atomic<qint64> took{-1};
        std::thread receiver([&] {
            Batch batch(4);
            QElapsedTimer timer;
            timer.start();
            result = a->receive(batch.datagrams, 10s);
            took = timer.elapsed();
        });
        std::this_thread::sleep_for(200ms);
        a->close();
        receiver.join();
        QCOMPARE(result.load(), Bind::kClosed);
        QVERIFY2(took.load() < 1200, qPrintable(QString::number(took.load()))); // 200 + 1000
        Batch batch(4);
        QCOMPARE(a->receive(batch.datagrams, 1s), Bind::kClosed);
        // Sending still works after close (a rebind's queued packets leave).
        QVERIFY(sendText(*a, loopback("127.0.0.1", b->port()), "after close"));
        const auto got = receiveSome(*b, 1);
        QCOMPARE(got.size(), std::size_t(1));
        QCOMPARE(got[0].first, std::string("after close"));
    }

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
        const auto got = receiveSome(*a, 1);
        QCOMPARE(got.size(), std::size_t(1));
        QCOMPARE(got[0].first, std::string("still here"));
    }
};

QTEST_GUILESS_MAIN(TestWinsockBind)
#include "tst_winsockbind.moc"
