// Two wireguard::Device engines wired back to back in one process, with a clock moved by hand:
// handshakes, data, rekeying, expiry, retries, keepalives, cookies and replay protection.
#include <QTest>

#include <deque>
#include <functional>

#include "core/wireguard/device.h"

using namespace calnet;
using namespace calnet::wireguard;
using namespace std::chrono_literals;

namespace {

net::SocketAddress addr(const char* text) {
    return *net::SocketAddress::parse(text);
}

std::vector<std::uint8_t> ipv4Packet(const char* src, const char* dst, std::size_t payload = 20) {
    std::vector<std::uint8_t> p(20 + payload, 0);
    p[0] = 0x45;
    p[2] = std::uint8_t(p.size() >> 8);
    p[3] = std::uint8_t(p.size());
    p[9] = 17;
    auto s = *net::IpAddress::parse(src);
    auto d = *net::IpAddress::parse(dst);
    std::copy_n(s.bytes.begin(), 4, p.begin() + 12);
    std::copy_n(d.bytes.begin(), 4, p.begin() + 16);
    for (std::size_t i = 20; i < p.size(); ++i)
        p[i] = std::uint8_t(i);
    return p;
}

std::vector<std::uint8_t> ipv6Packet(const char* src, const char* dst, std::size_t payload = 8) {
    std::vector<std::uint8_t> p(40 + payload, 0);
    p[0] = 0x60;
    p[4] = std::uint8_t(payload >> 8);
    p[5] = std::uint8_t(payload);
    p[6] = 17;
    p[7] = 64;
    auto s = *net::IpAddress::parse(src);
    auto d = *net::IpAddress::parse(dst);
    std::copy_n(s.bytes.begin(), 16, p.begin() + 8);
    std::copy_n(d.bytes.begin(), 16, p.begin() + 24);
    return p;
}

struct Node {
    Device device;
    net::SocketAddress address;
    crypto::PrivateKey key = crypto::generatePrivateKey();
    std::vector<std::vector<std::uint8_t>> tun; // inner packets delivered to the TUN side
    std::vector<DropReason> drops;              // every drop, in order
    std::size_t keepalivesReceived = 0;
    bool underLoad = false;
};

// The wire between the two nodes. Every datagram sent is recorded (for replays and counting);
// a filter can drop datagrams in flight.
class Harness {
public:
    Node a;
    Node b;
    Now now{std::chrono::hours(1), {1'700'000'000, 0}};
    struct Sent {
        bool fromA;
        net::SocketAddress from;
        net::SocketAddress to;
        std::vector<std::uint8_t> bytes;
    };
    std::vector<Sent> wire;
    std::function<bool(const Sent&)> dropFilter; // true = lose it

    Harness() {
        a.address = addr("192.0.2.1:51820");
        b.address = addr("192.0.2.2:51820");
        a.device.setPrivateKey(a.key);
        b.device.setPrivateKey(b.key);
        Peer* pb = a.device.addPeer(b.device.publicKey());
        Peer* pa = b.device.addPeer(a.device.publicKey());
        a.device.allowedIps().insert(*net::IpPrefix::parse("10.0.0.2/32"), pb);
        a.device.allowedIps().insert(*net::IpPrefix::parse("fd00::2/128"), pb);
        b.device.allowedIps().insert(*net::IpPrefix::parse("10.0.0.1/32"), pa);
        b.device.allowedIps().insert(*net::IpPrefix::parse("fd00::1/128"), pa);
        a.device.setEndpoint(*pb, b.address); // a knows where b is; b learns a's address
    }

    Peer& peerOnA() { return *a.device.findPeer(b.device.publicKey()); }
    Peer& peerOnB() { return *b.device.findPeer(a.device.publicKey()); }
    Node& other(Node& n) { return &n == &a ? b : a; }

    std::size_t count(bool fromA, MessageType type) const {
        std::size_t n = 0;
        for (const auto& s : wire)
            if (s.fromA == fromA && messageType(s.bytes) == type)
                ++n;
        return n;
    }
    std::size_t keepalivesSent(bool fromA) const {
        std::size_t n = 0;
        for (const auto& s : wire)
            if (s.fromA == fromA && s.bytes.size() == kKeepaliveLen && s.bytes[0] == 4)
                ++n;
        return n;
    }

    // Delivers a datagram to `to` as if it arrived from `from`; replies are carried too.
    void receive(Node& to, std::vector<std::uint8_t> bytes, const net::SocketAddress& from) {
        Actions actions;
        const auto type = messageType(bytes);
        if (!type) {
            to.drops.push_back(DropReason::BadMessage);
            return;
        }
        if (*type == MessageType::TransportData) {
            RecvTicket ticket;
            DropReason r = to.device.prepareInbound(bytes, now, ticket);
            if (r == DropReason::None && !ticket.keypair->open(bytes.data(), bytes.size()))
                r = DropReason::DecryptFailed;
            if (r != DropReason::None) {
                to.drops.push_back(r);
                return;
            }
            std::size_t inner = 0;
            const auto res = to.device.completeInbound(ticket, bytes, from, now, inner, r, actions);
            if (res == InboundResult::WriteToTun)
                to.tun.emplace_back(bytes.begin() + 16, bytes.begin() + 16 + long(inner));
            else if (res == InboundResult::Keepalive)
                ++to.keepalivesReceived;
            else
                to.drops.push_back(r);
        } else {
            const DropReason r = to.device.handleHandshake(bytes, from, now, to.underLoad, actions);
            if (r != DropReason::None)
                to.drops.push_back(r);
        }
        transmit(to, actions);
    }

    void transmit(Node& from, Actions& actions) {
        for (auto& t : actions.transmits) {
            Sent s{&from == &a, from.address, t.to, t.bytes};
            wire.push_back(s);
            if (dropFilter && dropFilter(s))
                continue;
            Node& to = other(from);
            if (t.to == to.address)
                receive(to, std::move(t.bytes), from.address);
        }
        actions.transmits.clear();
    }

    // Sends one inner packet from `from` the way the helper would.
    OutboundResult send(Node& from, const std::vector<std::uint8_t>& packet,
                        DropReason* dropped = nullptr) {
        Actions actions;
        SendTicket ticket;
        DropReason reason = DropReason::None;
        const auto res = from.device.prepareOutbound(packet, now, ticket, reason, actions);
        if (dropped)
            *dropped = reason;
        if (res == OutboundResult::Send) {
            std::vector<std::uint8_t> dg(ticket.paddedLength + kTransportOverhead, 0);
            std::copy(packet.begin(), packet.end(), dg.begin() + 16);
            ticket.keypair->seal(ticket.counter, dg.data(), ticket.paddedLength);
            actions.transmits.push_back({ticket.to, std::move(dg)});
        }
        transmit(from, actions);
        return res;
    }

    void tick(Node& n) {
        Actions actions;
        n.device.tick(now, actions);
        transmit(n, actions);
    }
    // Moves time forward in small steps, firing timers on both sides as the helper would.
    void advance(std::chrono::nanoseconds d, std::chrono::nanoseconds step = 100ms) {
        const Instant end = now.mono + d;
        while (now.mono < end) {
            const auto s = std::min<std::chrono::nanoseconds>(step, end - now.mono);
            now.mono += s;
            const auto since = now.mono - std::chrono::hours(1);
            const auto whole = std::chrono::duration_cast<std::chrono::seconds>(since);
            now.wall.unixSeconds = 1'700'000'000 + whole.count();
            now.wall.nanoseconds = std::uint32_t((since - whole).count());
            tick(a);
            tick(b);
        }
    }

    void handshakeFromA() {
        QCOMPARE(send(a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Staged);
    }
};

bool contains(const std::vector<DropReason>& v, DropReason r) {
    return std::find(v.begin(), v.end(), r) != v.end();
}

} // namespace

namespace QTest {
template <> char* toString(const DropReason& r) {
    return qstrdup(wireguard::toString(r));
}
template <> char* toString(const OutboundResult& r) {
    return qstrdup(r == OutboundResult::Send     ? "Send"
                   : r == OutboundResult::Staged ? "Staged"
                                                 : "Dropped");
}
} // namespace QTest

class tst_Device : public QObject {
    Q_OBJECT

private slots:
    void handshakeAndDataBothWays();
    void responderCanInitiateToo();
    void ipv6InnerPackets();
    void paddingIsTrimmedToIpLength();
    void replayedTransportIsDropped();
    void replayedInitiationIsIgnored();
    void initiationFloodIsCapped();
    void sourceOutsideAllowedIpsIsDropped();
    void noRouteAndNoEndpoint();
    void roamingFollowsLastAuthenticatedSource();
    void pinnedEndpointDoesNotRoam();
    void crossingInitiations_data();
    void crossingInitiations();
    void rekeyAfterTimeByInitiator();
    void rejectAfterTime();
    void retryWithJitterThenGiveUp();
    void queuedDataRetriesWhileResponsesAreLost();
    void rekeyResponseLostWhileTrafficFlows();
    void scaledTimingRotatesKeysOften();
    void keepaliveAfterOneWayTraffic();
    void persistentKeepalive();
    void newHandshakeWhenPeerGoesQuiet();
    void zeroKeyMaterialAfterSilence();
    void cookieReplyUnderLoad();
    void rateLimitUnderLoad();
    void presharedKeyMismatchFails();
    void unknownPeerIsRejected();
    void removePeerReleasesIndices();
};

void tst_Device::handshakeAndDataBothWays() {
    Harness h;
    const auto p1 = ipv4Packet("10.0.0.1", "10.0.0.2", 100);
    QCOMPARE(h.send(h.a, p1), OutboundResult::Staged);
    // Initiation, response, and the staged packet all went through in one exchange.
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 1u);
    QCOMPARE(h.count(false, MessageType::HandshakeResponse), 1u);
    QCOMPARE(h.b.tun.size(), 1u);
    QCOMPARE(h.b.tun[0], p1);
    QVERIFY(h.peerOnA().lastHandshake.has_value());
    QVERIFY(h.peerOnB().lastHandshake.has_value()); // confirmed by the first data packet
    QCOMPARE(h.peerOnB().endpoint, std::optional(h.a.address));

    const auto p2 = ipv4Packet("10.0.0.2", "10.0.0.1", 50);
    QCOMPARE(h.send(h.b, p2), OutboundResult::Send);
    QCOMPARE(h.a.tun.size(), 1u);
    QCOMPARE(h.a.tun[0], p2);
    for (int i = 0; i < 100; ++i) {
        QCOMPARE(h.send(h.a, p1), OutboundResult::Send);
        QCOMPARE(h.send(h.b, p2), OutboundResult::Send);
    }
    QCOMPARE(h.b.tun.size(), 101u);
    QCOMPARE(h.a.tun.size(), 101u);
    QVERIFY(h.a.drops.empty());
    QVERIFY(h.b.drops.empty());
    // Byte counters agree across the wire (both count whole datagrams).
    QCOMPARE(h.peerOnA().txBytes, h.peerOnB().rxBytes);
    QCOMPARE(h.peerOnB().txBytes, h.peerOnA().rxBytes);
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 1u);
}

void tst_Device::responderCanInitiateToo() {
    Harness h;
    h.b.device.setEndpoint(h.peerOnB(), h.a.address);
    const auto p = ipv4Packet("10.0.0.2", "10.0.0.1");
    QCOMPARE(h.send(h.b, p), OutboundResult::Staged);
    QCOMPARE(h.count(false, MessageType::HandshakeInitiation), 1u);
    QCOMPARE(h.a.tun.size(), 1u);
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    QCOMPARE(h.b.tun.size(), 1u);
}

void tst_Device::ipv6InnerPackets() {
    Harness h;
    const auto p = ipv6Packet("fd00::1", "fd00::2", 33);
    QCOMPARE(h.send(h.a, p), OutboundResult::Staged);
    QCOMPARE(h.b.tun.size(), 1u);
    QCOMPARE(h.b.tun[0], p);
}

void tst_Device::paddingIsTrimmedToIpLength() {
    Harness h;
    h.handshakeFromA();
    const auto p = ipv4Packet("10.0.0.1", "10.0.0.2", 3); // 23 bytes, padded to 32
    QCOMPARE(h.send(h.a, p), OutboundResult::Send);
    QCOMPARE(h.wire.back().bytes.size(), 32u + kTransportOverhead);
    QCOMPARE(h.b.tun.back(), p);
    QCOMPARE(paddedLength(1420, 1420), 1420u);
    QCOMPARE(paddedLength(1419, 1420), 1420u);
    QCOMPARE(paddedLength(1405, 1420), 1408u);
    QCOMPARE(paddedLength(1500, 1420), 1500u);
}

void tst_Device::replayedTransportIsDropped() {
    Harness h;
    h.handshakeFromA();
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    const auto captured = h.wire.back();
    QCOMPARE(h.b.tun.size(), 2u);
    h.receive(h.b, captured.bytes, captured.from);
    QCOMPARE(h.b.tun.size(), 2u);
    QCOMPARE(h.b.drops.back(), DropReason::Replayed);
    // A tampered copy fails authentication instead.
    auto tampered = captured.bytes;
    tampered.back() ^= 1;
    h.receive(h.b, tampered, captured.from);
    QCOMPARE(h.b.drops.back(), DropReason::DecryptFailed);
}

void tst_Device::replayedInitiationIsIgnored() {
    Harness h;
    h.handshakeFromA();
    const auto init = h.wire.front();
    QCOMPARE(messageType(init.bytes), std::optional(MessageType::HandshakeInitiation));
    const auto responsesBefore = h.count(false, MessageType::HandshakeResponse);
    h.advance(1s);
    h.receive(h.b, init.bytes, init.from);
    QCOMPARE(h.b.drops.back(), DropReason::ReplayedInitiation);
    QCOMPARE(h.count(false, MessageType::HandshakeResponse), responsesBefore);
    // The session is untouched: data still flows.
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    QCOMPARE(h.b.tun.size(), 2u);
}

void tst_Device::initiationFloodIsCapped() {
    Harness h;
    h.handshakeFromA();
    // A second genuine initiation 5 s later is fine; a third within 20 ms of it is not.
    h.advance(5s);
    Actions actions;
    h.a.device.initiateHandshake(h.peerOnA(), h.now, actions);
    QCOMPARE(actions.transmits.size(), 1u);
    auto second = actions.transmits[0].bytes;
    h.receive(h.b, second, h.a.address);
    QCOMPARE(h.b.drops.size(), 0u);
    // Craft another valid initiation shortly after: a fresh Device with a's key and a later
    // wall-clock timestamp.
    Device clone;
    clone.setPrivateKey(h.a.key);
    Peer* pb = clone.addPeer(h.b.device.publicKey());
    clone.setEndpoint(*pb, h.b.address);
    Now later = h.now;
    later.wall.unixSeconds += 10;
    later.mono += 10ms;
    Actions cloneActions;
    clone.initiateHandshake(*pb, later, cloneActions);
    QCOMPARE(cloneActions.transmits.size(), 1u);
    h.now.mono += 10ms;
    h.receive(h.b, cloneActions.transmits[0].bytes, h.a.address);
    QCOMPARE(h.b.drops.back(), DropReason::InitiationFlood);
}

void tst_Device::sourceOutsideAllowedIpsIsDropped() {
    Harness h;
    h.handshakeFromA();
    // a routes 10.0.0.2 to b, but claims a source b does not allow for a.
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.99", "10.0.0.2")), OutboundResult::Send);
    QCOMPARE(h.b.tun.size(), 1u);
    QCOMPARE(h.b.drops.back(), DropReason::SourceNotAllowed);
}

void tst_Device::noRouteAndNoEndpoint() {
    Harness h;
    DropReason r;
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.77"), &r), OutboundResult::Dropped);
    QCOMPARE(r, DropReason::NoRoute);
    QCOMPARE(h.send(h.b, ipv4Packet("10.0.0.2", "10.0.0.1"), &r), OutboundResult::Dropped);
    QCOMPARE(r, DropReason::NoEndpoint);
    std::vector<std::uint8_t> junk{0x45, 0, 0};
    QCOMPARE(h.send(h.a, junk, &r), OutboundResult::Dropped);
    QCOMPARE(r, DropReason::InvalidIpPacket);
}

void tst_Device::roamingFollowsLastAuthenticatedSource() {
    Harness h;
    h.handshakeFromA();
    QCOMPARE(h.peerOnB().endpoint, std::optional(h.a.address));
    // a moves: new address and port. One authenticated packet moves b's endpoint.
    h.a.address = addr("198.51.100.7:40000");
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    QCOMPARE(h.peerOnB().endpoint, std::optional(h.a.address));
    QCOMPARE(h.send(h.b, ipv4Packet("10.0.0.2", "10.0.0.1")), OutboundResult::Send);
    QCOMPARE(h.wire.back().to, h.a.address);
    QCOMPARE(h.a.tun.size(), 1u);
    // An unauthenticated packet from elsewhere does not move it.
    auto forged = h.wire.back().bytes;
    forged[20] ^= 0xff;
    h.receive(h.b, forged, addr("203.0.113.9:1"));
    QCOMPARE(h.peerOnB().endpoint, std::optional(h.a.address));
}

void tst_Device::pinnedEndpointDoesNotRoam() {
    // A mesh peer's endpoint is a handle the helper resolves to a path; neither a handshake
    // nor data from the peer's real address may replace it.
    Harness h;
    h.peerOnB().pinnedEndpoint = true;
    const auto handle = addr("[100::7]:1");
    h.b.device.setEndpoint(h.peerOnB(), handle);
    h.handshakeFromA(); // the response answers the initiation's source, as always
    QCOMPARE(h.count(false, MessageType::HandshakeResponse), 1u);
    QCOMPARE(h.b.tun.size(), 1u); // a's staged packet arrived
    QCOMPARE(h.peerOnB().endpoint, std::optional(handle));
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    QCOMPARE(h.b.tun.size(), 2u);
    QCOMPARE(h.peerOnB().endpoint, std::optional(handle));
    // b's own packets go to the handle, not to where a's came from.
    QCOMPARE(h.send(h.b, ipv4Packet("10.0.0.2", "10.0.0.1")), OutboundResult::Send);
    QCOMPARE(h.wire.back().to, handle);
    // The unpinned side still roams.
    QCOMPARE(h.peerOnA().endpoint, std::optional(h.b.address));
}

void tst_Device::crossingInitiations_data() {
    QTest::addColumn<bool>("mesh");
    QTest::newRow("plain WireGuard peers") << false;
    QTest::newRow("Calnet mesh peers") << true;
}

void tst_Device::crossingInitiations() {
    // Both sides initiate at once and each receives the other's initiation before any response.
    // Plain WireGuard: each side's handshake is replaced by the responder's, both responses are
    // refused, no session until the retry. Mesh peers: the smaller key's initiation wins and a
    // session exists in this one round trip.
    QFETCH(bool, mesh);
    Harness h;
    h.peerOnA().pinnedEndpoint = mesh;
    h.peerOnB().pinnedEndpoint = mesh;
    h.b.device.setEndpoint(h.peerOnB(), h.a.address);
    std::vector<Harness::Sent> held;
    h.dropFilter = [&](const Harness::Sent& sent) {
        held.push_back(sent);
        return true;
    };
    for (Node* n : {&h.a, &h.b}) {
        Actions actions;
        Peer& p = n == &h.a ? h.peerOnA() : h.peerOnB();
        n->device.initiateHandshake(p, h.now, actions);
        h.transmit(*n, actions);
    }
    QCOMPARE(held.size(), 2u);
    for (int round = 0; round < 2; ++round) {
        auto inFlight = std::move(held);
        held.clear();
        for (const auto& sent : inFlight)
            h.receive(sent.fromA ? h.b : h.a, sent.bytes, sent.from);
    }
    h.dropFilter = nullptr;
    for (const auto& sent : held) // the last messages (a keepalive that confirms, if any)
        h.receive(sent.fromA ? h.b : h.a, sent.bytes, sent.from);
    const auto p = ipv4Packet("10.0.0.1", "10.0.0.2");
    const auto q = ipv4Packet("10.0.0.2", "10.0.0.1");
    if (!mesh) {
        // Neither side has a session: packets wait for the next handshake.
        QCOMPARE(h.send(h.a, p), OutboundResult::Staged);
        QCOMPARE(h.send(h.b, q), OutboundResult::Staged);
        return;
    }
    QVERIFY(contains(h.a.drops, DropReason::CrossingInitiation) !=
            contains(h.b.drops, DropReason::CrossingInitiation));
    // One side is the initiator with a session at once; the other's session is confirmed by
    // the first packet it receives.
    Node& initiator = contains(h.a.drops, DropReason::CrossingInitiation) ? h.a : h.b;
    Node& responder = h.other(initiator);
    QCOMPARE(h.send(initiator, &initiator == &h.a ? p : q), OutboundResult::Send);
    QCOMPARE(responder.tun.size(), 1u);
    QCOMPARE(h.send(responder, &responder == &h.a ? p : q), OutboundResult::Send);
    QCOMPARE(initiator.tun.size(), 1u);
}

void tst_Device::rekeyAfterTimeByInitiator() {
    Harness h;
    h.handshakeFromA();
    const auto p = ipv4Packet("10.0.0.1", "10.0.0.2");
    const auto q = ipv4Packet("10.0.0.2", "10.0.0.1");
    // Keep traffic flowing both ways every 5 s for a little over REKEY_AFTER_TIME.
    for (int i = 0; i < 24; ++i) {
        h.advance(5s);
        QCOMPARE(h.send(h.a, p), OutboundResult::Send);
        QCOMPARE(h.send(h.b, q), OutboundResult::Send);
    }
    h.advance(2s);
    QCOMPARE(h.send(h.a, p), OutboundResult::Send); // 122 s: this send triggers the rekey
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 2u);
    QCOMPARE(h.count(false, MessageType::HandshakeInitiation), 0u); // responder never rekeys on age
    QCOMPARE(h.count(false, MessageType::HandshakeResponse), 2u);
    const auto before = h.b.tun.size();
    QCOMPARE(h.send(h.a, p), OutboundResult::Send);
    QCOMPARE(h.b.tun.size(), before + 1);
    QVERIFY(!contains(h.b.drops, DropReason::DecryptFailed));
}

void tst_Device::rejectAfterTime() {
    Harness h;
    h.handshakeFromA();
    // Seal a packet under b's keys now, deliver it after REJECT_AFTER_TIME.
    Actions actions;
    SendTicket ticket;
    DropReason reason;
    const auto inner = ipv4Packet("10.0.0.2", "10.0.0.1");
    QCOMPARE(h.b.device.prepareOutbound(inner, h.now, ticket, reason, actions),
             OutboundResult::Send);
    std::vector<std::uint8_t> dg(ticket.paddedLength + kTransportOverhead, 0);
    std::copy(inner.begin(), inner.end(), dg.begin() + 16);
    ticket.keypair->seal(ticket.counter, dg.data(), ticket.paddedLength);
    h.dropFilter = [](const Harness::Sent&) { return true; }; // no rekey can happen
    h.advance(179s, 1s);
    auto early = dg;
    h.receive(h.a, early, h.b.address); // still within REJECT_AFTER_TIME: accepted
    QCOMPARE(h.a.tun.size(), 1u);
    QCOMPARE(h.send(h.b, inner), OutboundResult::Send); // b may still send at 179 s
    h.advance(2s, 1s);
    h.receive(h.a, dg, h.b.address);
    QCOMPARE(h.a.drops.back(), DropReason::KeypairExpired);
    // Neither side sends under the expired keys: packets are staged for a new handshake.
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Staged);
    QCOMPARE(h.send(h.b, inner), OutboundResult::Staged);
}

void tst_Device::retryWithJitterThenGiveUp() {
    Harness h;
    h.dropFilter = [](const Harness::Sent& s) { return s.fromA; }; // b never hears a
    h.handshakeFromA();
    h.advance(200s, 10ms);
    const auto initiations = h.count(true, MessageType::HandshakeInitiation);
    // The kernel and wireguard-go retry while attempts <= MAX_TIMER_HANDSHAKES (18): the first
    // initiation plus 19 retries, then silence.
    QCOMPARE(initiations, std::size_t(2 + kMaxHandshakeAttempts));
    QVERIFY(h.peerOnA().staged.empty()); // dropped when giving up
    h.advance(100s, 1s);
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), initiations);

    // Timing: retries come 5 s + [0, 334 ms) apart, and the jitter is not constant.
    Harness t;
    t.dropFilter = [](const Harness::Sent& s) { return s.fromA; };
    t.handshakeFromA();
    std::vector<double> gaps;
    Instant last = t.now.mono;
    std::size_t seen = 1;
    while (seen < 1 + kMaxHandshakeAttempts) {
        t.advance(1ms, 1ms);
        const auto n = t.count(true, MessageType::HandshakeInitiation);
        if (n > seen) {
            gaps.push_back(std::chrono::duration<double>(t.now.mono - last).count());
            last = t.now.mono;
            seen = n;
        }
    }
    double minGap = 1e9, maxGap = 0;
    for (double g : gaps) {
        minGap = std::min(minGap, g);
        maxGap = std::max(maxGap, g);
    }
    QVERIFY2(minGap >= 5.0 && maxGap < 5.335,
             qPrintable(QString("gaps %1..%2").arg(minGap).arg(maxGap)));
    QVERIFY2(maxGap - minGap > 0.010, "retry jitter should vary");
    // Total time to give up is about 90 s plus jitter.
    QVERIFY(std::chrono::duration<double>(last - std::chrono::hours(1)).count() > 90);
}

// The data path's watchdog (issue 10): data waits for a session, b hears every initiation but
// its responses are lost. a must start a new handshake REKEY_TIMEOUT + jitter after each one,
// as long as the data waits, and deliver it once a response gets through.
void tst_Device::queuedDataRetriesWhileResponsesAreLost() {
    Harness h;
    int lost = 0;
    h.dropFilter = [&lost](const Harness::Sent& s) {
        if (!s.fromA && messageType(s.bytes) == MessageType::HandshakeResponse && lost < 4) {
            ++lost;
            return true;
        }
        return false;
    };
    const Instant start = h.now.mono;
    h.handshakeFromA();
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 1u);
    std::vector<Instant> sentAt{start};
    while (h.b.tun.empty() && h.now.mono - start < 60s) {
        h.advance(1ms, 1ms);
        if (h.count(true, MessageType::HandshakeInitiation) > sentAt.size())
            sentAt.push_back(h.now.mono);
    }
    QCOMPARE(lost, 4);
    QCOMPARE(sentAt.size(), 5u); // the first initiation and four retries, the last answered
    for (std::size_t i = 1; i < sentAt.size(); ++i) {
        const double gap = std::chrono::duration<double>(sentAt[i] - sentAt[i - 1]).count();
        QVERIFY2(gap >= 5.0 && gap < 5.335, qPrintable(QString("gap %1 s").arg(gap)));
    }
    QCOMPARE(h.b.tun.size(), 1u); // the staged packet, once
    QVERIFY(h.peerOnA().lastHandshake);
    // The session stands: no further initiations, data flows at once.
    h.advance(20s);
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 5u);
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    QCOMPARE(h.b.tun.size(), 2u);
}

// A rekey whose responses are lost while data keeps flowing: the old session carries the data
// meanwhile (nothing is lost or staged), the initiator retries every REKEY_TIMEOUT + jitter,
// and the first answered retry moves both sides to the new keys.
void tst_Device::rekeyResponseLostWhileTrafficFlows() {
    Harness h;
    h.handshakeFromA();
    const auto p = ipv4Packet("10.0.0.1", "10.0.0.2");
    const auto q = ipv4Packet("10.0.0.2", "10.0.0.1");
    bool dropResponses = false;
    h.dropFilter = [&dropResponses](const Harness::Sent& s) {
        return dropResponses && messageType(s.bytes) == MessageType::HandshakeResponse;
    };
    for (int i = 0; i < 23; ++i) {
        h.advance(5s);
        h.send(h.a, p);
        h.send(h.b, q);
    }
    dropResponses = true;
    const auto firstKeys = h.peerOnA().keypairs.current;
    std::size_t sent = 0;
    const auto delivered = h.b.tun.size();
    // 115 s .. 138 s: every 100 ms a packet each way. The rekey starts at 120 s, its retries
    // come at about 125 s and 130 s (lost) and 135 s (answered: responses pass from 131 s on).
    for (int i = 0; i < 230; ++i) {
        h.advance(100ms, 100ms);
        QCOMPARE(h.send(h.a, p), OutboundResult::Send);
        QCOMPARE(h.send(h.b, q), OutboundResult::Send);
        ++sent;
        if (i == 160)
            dropResponses = false;
    }
    QCOMPARE(h.b.tun.size(), delivered + sent); // nothing lost while keys were renewed
    const auto initiations = h.count(true, MessageType::HandshakeInitiation);
    QVERIFY2(initiations >= 4, qPrintable(QString::number(initiations))); // 1 + >= 3 retries
    QVERIFY(h.peerOnA().keypairs.current != firstKeys);
    QVERIFY(h.peerOnA().timers.handshakeAttempts == 0);
    QVERIFY(!contains(h.b.drops, DropReason::DecryptFailed));
    QVERIFY(!contains(h.a.drops, DropReason::DecryptFailed));
}

// The soak test's knob: the same state machine with every duration scaled down (here 1/1000:
// rekey after 120 ms). Under steady traffic both ways keys rotate about every 120 ms, without
// a lost packet, a decrypt failure or a staged packet; spec timing is the default.
void tst_Device::scaledTimingRotatesKeysOften() {
    Harness h;
    QVERIFY(h.a.device.timing().isSpec());
    const Timing fast = Timing::scaled(0.001);
    QCOMPARE(fast.rekeyAfterTime, Instant(120ms));
    QCOMPARE(fast.rekeyTimeout, Instant(5ms));
    QVERIFY(!fast.isSpec());
    h.a.device.setTiming(fast);
    h.b.device.setTiming(fast);
    h.handshakeFromA();
    const auto p = ipv4Packet("10.0.0.1", "10.0.0.2");
    const auto q = ipv4Packet("10.0.0.2", "10.0.0.1");
    const auto deliveredA = h.a.tun.size();
    const auto deliveredB = h.b.tun.size();
    int sent = 0;
    for (int i = 0; i < 12000; ++i) { // 12 s of traffic, a packet each way every millisecond
        h.advance(1ms, 1ms);
        QCOMPARE(h.send(h.a, p), OutboundResult::Send);
        QCOMPARE(h.send(h.b, q), OutboundResult::Send);
        ++sent;
    }
    const auto rotations = h.count(false, MessageType::HandshakeResponse);
    QVERIFY2(rotations >= 90, qPrintable(QString::number(rotations)));
    QCOMPARE(h.b.tun.size(), deliveredB + std::size_t(sent));
    QCOMPARE(h.a.tun.size(), deliveredA + std::size_t(sent));
    QVERIFY(h.a.drops.empty());
    QVERIFY(h.b.drops.empty());
    QVERIFY(h.peerOnA().staged.empty());
}

void tst_Device::keepaliveAfterOneWayTraffic() {
    Harness h;
    h.handshakeFromA(); // a -> b data; b has nothing to say
    const auto before = h.keepalivesSent(false);
    h.advance(9s);
    QCOMPARE(h.keepalivesSent(false), before);
    h.advance(2s);
    QCOMPARE(h.keepalivesSent(false), before + 1); // KEEPALIVE_TIMEOUT (10 s) after receiving
    QCOMPARE(h.a.keepalivesReceived, 1u);
    // No further keepalives without further traffic.
    h.advance(30s);
    QCOMPARE(h.keepalivesSent(false), before + 1);
}

void tst_Device::persistentKeepalive() {
    Harness h;
    h.handshakeFromA();
    h.advance(15s); // let the ordinary keepalive go out
    const auto start = h.keepalivesSent(true);
    Actions actions;
    h.a.device.setPersistentKeepalive(h.peerOnA(), 25, h.now, actions);
    h.transmit(h.a, actions);
    QCOMPARE(h.keepalivesSent(true), start + 1); // turned on: one at once
    h.advance(24s, 500ms);
    QCOMPARE(h.keepalivesSent(true), start + 1);
    h.advance(2s, 500ms);
    QCOMPARE(h.keepalivesSent(true), start + 2);
    h.advance(50s, 500ms);
    QCOMPARE(h.keepalivesSent(true), start + 4);
    QVERIFY(h.b.keepalivesReceived >= 4);
}

void tst_Device::newHandshakeWhenPeerGoesQuiet() {
    Harness h;
    h.handshakeFromA();
    h.advance(1s);
    // b stops answering; a keeps sending data.
    h.dropFilter = [](const Harness::Sent& s) { return !s.fromA; };
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2")), OutboundResult::Send);
    h.advance(14s);
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 1u);
    h.advance(2s); // KEEPALIVE + REKEY_TIMEOUT (+ jitter) after the send
    QCOMPARE(h.count(true, MessageType::HandshakeInitiation), 2u);
}

void tst_Device::zeroKeyMaterialAfterSilence() {
    Harness h;
    h.handshakeFromA();
    QVERIFY(h.peerOnA().keypairs.current);
    const auto indices = h.a.device.indexCount();
    QVERIFY(indices > 0);
    h.advance(539s, 1s);
    QVERIFY(h.peerOnA().keypairs.current);
    h.advance(12s, 1s);
    QVERIFY(!h.peerOnA().keypairs.current);
    QVERIFY(!h.peerOnB().keypairs.current);
    QCOMPARE(h.a.device.indexCount(), 0u);
    QCOMPARE(h.b.device.indexCount(), 0u);
}

void tst_Device::cookieReplyUnderLoad() {
    Harness h;
    h.b.underLoad = true;
    h.handshakeFromA();
    // b answered with a cookie instead of doing the DH work.
    QCOMPARE(h.b.drops.back(), DropReason::CookieReplySent);
    QCOMPARE(h.count(false, MessageType::CookieReply), 1u);
    QCOMPARE(h.count(false, MessageType::HandshakeResponse), 0u);
    QVERIFY(h.b.tun.empty());
    // The retry carries mac2 made with the cookie and is accepted under load.
    h.advance(6s, 100ms);
    QCOMPARE(h.count(false, MessageType::HandshakeResponse), 1u);
    QCOMPARE(h.b.tun.size(), 1u);
    // A cookie is bound to the source address: a's cookie is no good from another address.
    Actions actions;
    h.peerOnA().handshake.lastSentInitiation = kNever;
    h.a.device.initiateHandshake(h.peerOnA(), h.now, actions);
    QCOMPARE(actions.transmits.size(), 1u);
    Actions replies;
    QCOMPARE(h.b.device.handleHandshake(actions.transmits[0].bytes, addr("192.0.2.50:51820"), h.now,
                                        true, replies),
             DropReason::CookieReplySent);
}

void tst_Device::rateLimitUnderLoad() {
    Harness h;
    h.b.underLoad = true;
    h.handshakeFromA();
    h.advance(6s, 100ms); // cookie obtained and handshake done
    QCOMPARE(h.b.tun.size(), 1u);
    // Now hammer b with valid-mac2 initiations from a within one second: after the burst of
    // 5 the rate limiter refuses before any DH work.
    std::size_t limited = 0;
    for (int i = 0; i < 20; ++i) {
        // a holds a valid cookie, so every initiation carries a good mac2.
        Actions actions;
        h.peerOnA().handshake.lastSentInitiation = kNever;
        h.a.device.initiateHandshake(h.peerOnA(), h.now, actions);
        for (auto& t : actions.transmits) {
            Actions replies;
            const auto r = h.b.device.handleHandshake(t.bytes, h.a.address, h.now, true, replies);
            if (r == DropReason::RateLimited)
                ++limited;
        }
        h.now.mono += 1ms;
    }
    QVERIFY2(limited >= 10, qPrintable(QString::number(limited)));
}

void tst_Device::presharedKeyMismatchFails() {
    Harness h;
    crypto::Secret<32> psk;
    psk.data()[0] = 1;
    h.peerOnA().presharedKey = psk;
    h.handshakeFromA();
    // b (no psk) sends a response a cannot decrypt.
    QVERIFY(contains(h.a.drops, DropReason::HandshakeFailed));
    QVERIFY(h.b.tun.empty());
    // With the same psk on both sides it works.
    Harness ok;
    ok.peerOnA().presharedKey = psk;
    ok.peerOnB().presharedKey = psk;
    ok.handshakeFromA();
    QCOMPARE(ok.b.tun.size(), 1u);
}

void tst_Device::unknownPeerIsRejected() {
    Harness h;
    h.b.device.removePeer(&h.peerOnB());
    h.handshakeFromA();
    QCOMPARE(h.b.drops.back(), DropReason::UnknownPeer);
    // Garbage with a valid-looking size but a wrong mac1 never reaches the DH.
    std::vector<std::uint8_t> junk(sizeof(MessageInitiation), 0);
    junk[0] = 1;
    h.receive(h.b, junk, h.a.address);
    QCOMPARE(h.b.drops.back(), DropReason::InvalidMac1);
}

void tst_Device::removePeerReleasesIndices() {
    Harness h;
    h.handshakeFromA();
    QVERIFY(h.a.device.indexCount() > 0);
    h.a.device.removePeer(&h.peerOnA());
    QCOMPARE(h.a.device.indexCount(), 0u);
    QVERIFY(h.a.device.allowedIps().empty() ||
            h.a.device.allowedIps().lookup(*net::IpAddress::parse("10.0.0.2")) == nullptr);
    // A packet for the removed peer now has no route.
    DropReason r;
    QCOMPARE(h.send(h.a, ipv4Packet("10.0.0.1", "10.0.0.2"), &r), OutboundResult::Dropped);
    QCOMPARE(r, DropReason::NoRoute);
}

QTEST_APPLESS_MAIN(tst_Device)
#include "tst_device.moc"
