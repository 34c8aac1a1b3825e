// What every Bind must do, for each OS's bind test (tests/helper/linux/tst_linuxbind.cpp,
// tests/helper/windows/tst_winsockbind.cpp): each check takes a function that opens a Bind on a
// port (0: any free one) and reports failures through QTest.
#pragma once

#include <QElapsedTimer>
#include <QTest>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "helper/platform/bind.h"

namespace bindchecks {

using calnet::helper::Bind;
using calnet::helper::Datagram;
using calnet::net::IpAddress;
using calnet::net::SocketAddress;
using namespace std::chrono_literals;

using Open = std::function<std::unique_ptr<Bind>(std::uint16_t port)>;

inline SocketAddress loopback(const char* address, std::uint16_t port) {
    return {*IpAddress::parse(address), port};
}

// Receive buffers for up to `count` datagrams (or GRO runs of them).
struct Batch {
    std::vector<std::array<std::uint8_t, 65536>> buffers;
    std::vector<Datagram> datagrams;

    explicit Batch(std::size_t count) : buffers(count), datagrams(count) {
        for (std::size_t i = 0; i < count; ++i)
            datagrams[i] = Datagram{buffers[i].data(), buffers[i].size(), 0, {}, 0};
    }
};

struct Received {
    std::vector<std::pair<std::string, SocketAddress>> datagrams; // payload and source, in order
    std::size_t coalesced = 0; // buffers that held more than one datagram (GRO)
};

// Receives until `want` datagrams came or 5 s passed. A buffer with segmentSize set holds a run
// of datagrams (GRO): it is split back into them.
inline Received receiveSome(Bind& bind, std::size_t want, std::size_t batchSize = 16) {
    Received got;
    Batch batch(batchSize);
    QElapsedTimer timer;
    timer.start();
    while (got.datagrams.size() < want && timer.elapsed() < 5000) {
        const int n = bind.receive(batch.datagrams, 100ms);
        if (n < 0) {
            qWarning("receive: %d", n);
            break;
        }
        for (int i = 0; i < n; ++i) {
            const Datagram& d = batch.datagrams[std::size_t(i)];
            const std::size_t step = d.segmentSize != 0 ? d.segmentSize : d.length;
            if (d.segmentSize != 0 && d.length > d.segmentSize)
                ++got.coalesced;
            for (std::size_t off = 0; off < d.length; off += step)
                got.datagrams.emplace_back(std::string(reinterpret_cast<const char*>(d.data) + off,
                                                       std::min(step, d.length - off)),
                                           d.peer);
        }
    }
    return got;
}

inline bool sendText(Bind& bind, const SocketAddress& to, const std::string& text) {
    return bind.sendOne(to, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// Port 0 gives a real port; that port is then taken.
inline void bindsAFreePort(const Open& open) {
    auto a = open(0);
    QVERIFY(a);
    QVERIFY(a->port() != 0);
    QVERIFY(!open(a->port()));
}

// IPv4 over a dual-stack socket: the peer is reported as plain IPv4, and a reply to it arrives.
inline void ipv4Loopback(const Open& open) {
    auto a = open(0);
    auto b = open(0);
    QVERIFY(a && b);
    QVERIFY(sendText(*a, loopback("127.0.0.1", b->port()), "hello over IPv4"));
    const auto got = receiveSome(*b, 1).datagrams;
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0].first, std::string("hello over IPv4"));
    QCOMPARE(got[0].second.address.family, calnet::net::Family::V4);
    QCOMPARE(got[0].second.toString(), "127.0.0.1:" + std::to_string(a->port()));
    QVERIFY(sendText(*b, got[0].second, "reply"));
    const auto reply = receiveSome(*a, 1).datagrams;
    QCOMPARE(reply.size(), std::size_t(1));
    QCOMPARE(reply[0].first, std::string("reply"));
    QCOMPARE(reply[0].second.toString(), "127.0.0.1:" + std::to_string(b->port()));
}

// IPv6 over the same socket, when the host has ::1.
inline void ipv6Loopback(const Open& open) {
    auto a = open(0);
    auto b = open(0);
    QVERIFY(a && b);
    if (!sendText(*a, loopback("::1", b->port()), "hello over IPv6"))
        QSKIP("::1 is not reachable on this host");
    const auto got = receiveSome(*b, 1).datagrams;
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0].first, std::string("hello over IPv6"));
    QCOMPARE(got[0].second.address.family, calnet::net::Family::V6);
    QCOMPARE(got[0].second.toString(), "[::1]:" + std::to_string(a->port()));
}

// 64 datagrams of different sizes in one send() all arrive, through receive batches of 16.
inline void batchOf64Arrives(const Open& open) {
    auto a = open(0);
    auto b = open(0);
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
    const auto got = receiveSome(*b, kCount, 16).datagrams;
    QCOMPARE(got.size(), kCount);
    std::set<std::string> expected(payloads.begin(), payloads.end());
    std::set<std::string> received;
    for (const auto& [text, from] : got) {
        received.insert(text);
        QCOMPARE(from.port, a->port());
    }
    QVERIFY(received == expected);
}

// A receive with nothing sent returns 0 after about its timeout, and at once with no timeout.
inline void timeoutReturnsZero(const Open& open) {
    auto a = open(0);
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

// close() from another thread ends a 10-second receive at once with kClosed; later receives
// return kClosed too, and sending still works (a rebind's queued packets leave).
inline void closeUnblocksReceive(const Open& open) {
    auto a = open(0);
    auto b = open(0);
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
    QVERIFY(sendText(*a, loopback("127.0.0.1", b->port()), "after close"));
    const auto got = receiveSome(*b, 1).datagrams;
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0].first, std::string("after close"));
}

} // namespace bindchecks
