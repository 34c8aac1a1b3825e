// PathTable: where a mesh peer's datagrams go, and the handshake messages it keeps so that a
// route change does not cost a 5 s WireGuard retry. An initiation or a response that went out
// while the peer had no route (or a route that lost it) is sent again, once per message, when
// a route appears; ordinary data is not; a forgotten node's messages never reach the node
// that reuses its entry.
#include <QTest>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "helper/datapath/pathtable.h"
#include "helper/platform/bind.h"

using namespace calnet;
using namespace calnet::helper;

namespace {

crypto::PublicKey keyOf(std::uint8_t fill) {
    crypto::PublicKey k{};
    k.fill(fill);
    return k;
}

net::SocketAddress udp(std::uint8_t last, std::uint16_t port) {
    return *net::SocketAddress::parse("192.0.2." + std::to_string(last) + ":" +
                                      std::to_string(port));
}

// A WireGuard message of the given type and size, tagged so copies can be told apart.
std::vector<std::uint8_t> message(std::uint8_t type, std::size_t size, std::uint8_t tag) {
    std::vector<std::uint8_t> m(size, tag);
    m[0] = type;
    m[1] = m[2] = m[3] = 0;
    return m;
}

struct Relay final : RelaySender {
    std::mutex mutex;
    std::vector<std::pair<crypto::PublicKey, std::vector<std::uint8_t>>> sent;
    bool sendTo(const crypto::PublicKey& node, std::span<const std::uint8_t> packet) override {
        std::lock_guard lock(mutex);
        sent.emplace_back(node, std::vector<std::uint8_t>(packet.begin(), packet.end()));
        return true;
    }
    [[nodiscard]] std::string regionFor(const crypto::PublicKey&) const override { return {}; }
};

struct Fixture {
    PathTable table;
    std::vector<std::pair<net::SocketAddress, std::vector<std::uint8_t>>> udpSent;
    std::shared_ptr<Relay> relay = std::make_shared<Relay>();
    Fixture() {
        table.setUdpSender([this](const net::SocketAddress& to, std::span<const std::uint8_t> b) {
            udpSent.emplace_back(to, std::vector<std::uint8_t>(b.begin(), b.end()));
        });
        table.setRelay(relay);
    }
    // Sends one datagram to the handle through resolve(); true if it is to leave on UDP.
    bool send(const net::SocketAddress& handle, std::vector<std::uint8_t> bytes,
              std::uint64_t& dropped) {
        Datagram d;
        d.data = bytes.data();
        d.capacity = d.length = bytes.size();
        d.peer = handle;
        return table.resolve(std::span(&d, 1), dropped) == 1;
    }
};

} // namespace

class TestPathTable : public QObject {
    Q_OBJECT

private slots:
    void handlesAreDiscardAddresses() {
        Fixture f;
        const auto h = f.table.handleFor(keyOf(1));
        QVERIFY(PathTable::isHandle(h));
        QCOMPARE(f.table.handleFor(keyOf(1)), h);
        QVERIFY(f.table.handleFor(keyOf(2)) != h);
        QVERIFY(!PathTable::isHandle(udp(1, 51820)));
    }

    void routesDecideWhereDatagramsGo() {
        Fixture f;
        const auto peer = keyOf(1);
        const auto h = f.table.handleFor(peer);
        std::uint64_t dropped = 0;
        QVERIFY(!f.send(h, message(4, 100, 0xaa), dropped));
        QCOMPARE(dropped, std::uint64_t(1));

        f.table.setRoute(peer, {PathTable::Route::Kind::Relay, {}});
        QVERIFY(!f.send(h, message(4, 100, 0xab), dropped));
        QCOMPARE(dropped, std::uint64_t(1));
        QCOMPARE(f.relay->sent.size(), std::size_t(1));

        f.table.setRoute(peer, {PathTable::Route::Kind::Udp, udp(7, 4000)});
        net::SocketAddress to = h;
        auto bytes = message(4, 100, 0xac);
        QVERIFY(f.table.resolveOne(to, bytes));
        QCOMPARE(to, udp(7, 4000));
    }

    // The case of two replicas: each side's first handshake message went out before it had a
    // route to the other. When the route appears, both the initiation and the response are
    // sent on it, once each, and only the latest of each kind.
    void heldHandshakeGoesOutOnANewRoute() {
        Fixture f;
        const auto peer = keyOf(1);
        const auto h = f.table.handleFor(peer);
        std::uint64_t dropped = 0;
        QVERIFY(!f.send(h, message(1, 148, 0x01), dropped)); // an older initiation
        QVERIFY(!f.send(h, message(1, 148, 0x02), dropped)); // the latest initiation
        QVERIFY(!f.send(h, message(2, 92, 0x03), dropped));  // a response
        QVERIFY(!f.send(h, message(4, 148, 0x04), dropped)); // data of an initiation's size
        QVERIFY(!f.send(h, message(4, 92, 0x05), dropped));  // data of a response's size
        QCOMPARE(dropped, std::uint64_t(5));
        QVERIFY(f.udpSent.empty());

        f.table.setRoute(peer, {PathTable::Route::Kind::Udp, udp(9, 5000)});
        QCOMPARE(f.udpSent.size(), std::size_t(2));
        QCOMPARE(f.udpSent[0].first, udp(9, 5000));
        QCOMPARE(f.udpSent[0].second, message(1, 148, 0x02));
        QCOMPARE(f.udpSent[1].second, message(2, 92, 0x03));

        // The same route again is no change: nothing is repeated.
        f.table.setRoute(peer, {PathTable::Route::Kind::Udp, udp(9, 5000)});
        QCOMPARE(f.udpSent.size(), std::size_t(2));
        // A drop route sends nothing; the relay route that follows sends both again.
        f.table.setRoute(peer, {PathTable::Route::Kind::Drop, {}});
        QCOMPARE(f.udpSent.size(), std::size_t(2));
        f.table.setRoute(peer, {PathTable::Route::Kind::Relay, {}});
        QCOMPARE(f.relay->sent.size(), std::size_t(2));
        QCOMPARE(f.relay->sent[0].first, peer);
        QCOMPARE(f.relay->sent[1].second, message(2, 92, 0x03));

        // resendHeld(): the peer just showed up at the relay.
        f.table.resendHeld(peer);
        QCOMPARE(f.relay->sent.size(), std::size_t(4));
    }

    void aReusedEntryDoesNotInheritHeldMessages() {
        Fixture f;
        const auto first = keyOf(1);
        const auto h = f.table.handleFor(first);
        std::uint64_t dropped = 0;
        QVERIFY(!f.send(h, message(1, 148, 0x11), dropped));
        f.table.forget(first);
        const auto second = keyOf(2);
        QCOMPARE(f.table.handleFor(second), h); // the freed entry is reused
        f.table.setRoute(second, {PathTable::Route::Kind::Udp, udp(3, 6000)});
        QVERIFY(f.udpSent.empty());
        f.table.resendHeld(second);
        QVERIFY(f.udpSent.empty());
    }
};

QTEST_GUILESS_MAIN(TestPathTable)
#include "tst_pathtable.moc"
