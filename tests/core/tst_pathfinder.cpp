// PathFinder (core/disco/pathfinder.h) in a simulated network of two nodes, each optionally
// behind a NAT with a stateful firewall (endpoint-independent or symmetric mapping), with a
// relay between them: the paths it picks, how fast, why, and what it refuses.
#include <QTest>

#include <functional>
#include <map>
#include <queue>
#include <set>

#include "core/disco/pathfinder.h"

using namespace calnet;
using namespace std::chrono_literals;
using disco::PathKind;

namespace {

net::SocketAddress address(const char* text) {
    const auto a = net::SocketAddress::parse(text);
    if (!a)
        qFatal("bad address %s", text);
    return *a;
}

enum class Nat { None, EndpointIndependent, Symmetric };

struct Host {
    crypto::PrivateKey nodePriv = crypto::generatePrivateKey();
    crypto::PublicKey nodeKey = crypto::publicKeyOf(nodePriv);
    crypto::PrivateKey discoPriv = crypto::generatePrivateKey();
    crypto::PublicKey discoKey = crypto::publicKeyOf(discoPriv);
    net::SocketAddress local;
    net::IpAddress publicIp;
    Nat nat = Nat::None;
    bool relay = true;
    std::map<net::SocketAddress, std::uint16_t> mappings;          // destination -> public port
    std::set<std::pair<net::SocketAddress, std::uint16_t>> opened; // (remote, public port)
    std::unique_ptr<disco::PathFinder> pf;
    disco::Instant next{};

    // The address the world sees for a datagram from this host to `to`.
    net::SocketAddress outside(const net::SocketAddress& to) {
        if (nat == Nat::None)
            return local;
        auto it = mappings.find(to);
        std::uint16_t port;
        if (nat == Nat::EndpointIndependent) {
            port = local.port; // port preserved, the same for every destination
        } else if (it != mappings.end()) {
            port = it->second;
        } else {
            port = std::uint16_t(30000 + mappings.size() * 17 + local.port % 7);
        }
        mappings[to] = port;
        opened.insert({to, port});
        return {publicIp, port};
    }
    // Whether a datagram from `from` to our public `port` passes the firewall.
    [[nodiscard]] bool admits(const net::SocketAddress& from, std::uint16_t port) const {
        return nat == Nat::None || opened.contains({from, port});
    }
    [[nodiscard]] net::SocketAddress reachableAt() const {
        return nat == Nat::None ? local : net::SocketAddress{publicIp, local.port};
    }
};

class World {
public:
    Host a, b;
    disco::Instant now = std::chrono::hours(1);
    disco::Duration latency = 10ms;
    bool udpCut = false;
    std::size_t udpDelivered = 0;
    bool watchDirect = false; // count every 5 ms step where either side is not direct
    int notDirectSteps = 0;

    World(Nat natA, Nat natB) {
        a.local = address("10.1.0.2:41641");
        a.publicIp = *net::IpAddress::parse("203.0.113.1");
        a.nat = natA;
        b.local = address("10.2.0.2:41641");
        b.publicIp = *net::IpAddress::parse("198.51.100.1");
        b.nat = natB;
        for (Host* h : {&a, &b})
            h->pf = std::make_unique<disco::PathFinder>(h->nodeKey, h->discoPriv);
    }

    void start(bool relayUp = true) {
        for (Host* h : {&a, &b}) {
            Host& o = other(*h);
            disco::Outbox out;
            h->pf->setRelayConnected(relayUp && h->relay, now, out);
            h->pf->setLocal({h->reachableAt()}, 0, now, out);
            // The map lists the peer's local address and, behind a NAT, what STUN told it.
            std::vector<net::SocketAddress> eps{o.local};
            if (o.nat != Nat::None)
                eps.push_back(o.reachableAt());
            h->pf->setPeers({{o.nodeKey, o.discoKey, eps}}, now, out);
            handle(*h, out);
        }
    }

    Host& other(Host& h) { return &h == &a ? b : a; }
    // Traffic between the two, as the data path reports it.
    void traffic() {
        if (a.pf->noteActivity(b.nodeKey, now))
            a.next = now;
        if (b.pf->noteActivity(a.nodeKey, now))
            b.next = now;
    }
    const disco::PeerPath& pathOn(Host& h) { return *h.pf->path(other(h).nodeKey); }

    void handle(Host& from, disco::Outbox& out) {
        Host& to = other(from);
        for (auto& u : out.udp) {
            if (udpCut)
                continue;
            const net::SocketAddress src = from.outside(u.to);
            const bool toLocal = u.to == to.local && to.nat == Nat::None;
            const bool toPublic =
                to.nat != Nat::None && u.to.address == to.publicIp && to.admits(src, u.to.port);
            // Local (private) addresses of the other site are not routable across the sites.
            if (!toLocal && !toPublic)
                continue;
            flights.push({now + latency, seq++, [this, &to, src, bytes = u.bytes] {
                              ++udpDelivered;
                              disco::Outbox o;
                              to.pf->receiveUdp(bytes, src, now, o);
                              handle(to, o);
                          }});
        }
        for (auto& r : out.relay) {
            if (!from.relay || !to.relay)
                continue;
            flights.push({now + 3 * latency, seq++, [this, &from, &to, bytes = r.bytes] {
                              disco::Outbox o;
                              to.pf->receiveRelay(from.nodeKey, bytes, now, o);
                              handle(to, o);
                          }});
        }
        out.clear();
    }

    void advance(disco::Duration d) {
        const disco::Instant end = now + d;
        while (now < end) {
            now += 5ms;
            while (!flights.empty() && flights.top().at <= now) {
                auto f = flights.top();
                flights.pop();
                f.run();
            }
            for (Host* h : {&a, &b}) {
                if (now >= h->next) {
                    disco::Outbox out;
                    h->next = h->pf->tick(now, out);
                    handle(*h, out);
                }
            }
            if (watchDirect &&
                (pathOn(a).kind != PathKind::Direct || pathOn(b).kind != PathKind::Direct))
                ++notDirectSteps;
        }
    }
    // Advances until both see `kind`, at most `limit`; returns the time it took.
    std::optional<disco::Duration> until(PathKind kind, disco::Duration limit) {
        const disco::Instant begin = now;
        while (now - begin < limit) {
            if (pathOn(a).kind == kind && pathOn(b).kind == kind)
                return now - begin;
            advance(5ms);
        }
        return std::nullopt;
    }

private:
    struct Flight {
        disco::Instant at;
        std::uint64_t seq;
        std::function<void()> run;
        bool operator>(const Flight& o) const { return std::tie(at, seq) > std::tie(o.at, o.seq); }
    };
    std::priority_queue<Flight, std::vector<Flight>, std::greater<>> flights;
    std::uint64_t seq = 0;
};

} // namespace

class TestPathFinder : public QObject {
    Q_OBJECT
private slots:
    void relayedFromTheStartThenDirect() {
        World w(Nat::None, Nat::None);
        w.start();
        // Before any pong: relayed, and says it is trying.
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Relayed);
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason), QStringLiteral("trying direct…"));
        const auto took = w.until(PathKind::Direct, 2s);
        QVERIFY(took);
        QVERIFY(*took <= 100ms);
        QVERIFY(w.pathOn(w.a).direct == w.b.local);
        QVERIFY(w.pathOn(w.b).direct == w.a.local);
        QVERIFY(w.pathOn(w.a).reason.empty());
        QVERIFY(w.pathOn(w.a).latency && *w.pathOn(w.a).latency == 20ms);
    }

    void holePunchBetweenEndpointIndependentNats() {
        World w(Nat::EndpointIndependent, Nat::EndpointIndependent);
        w.start();
        const auto took = w.until(PathKind::Direct, 5s);
        QVERIFY(took);
        QVERIFY2(*took <= 500ms, qPrintable(QString::number(took->count() / 1e6)));
        QVERIFY(w.pathOn(w.a).direct == w.b.reachableAt());
        QVERIFY(w.pathOn(w.b).direct == w.a.reachableAt());
        // It stays direct while the heartbeats get through.
        w.advance(60s);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Direct);
        QCOMPARE(w.pathOn(w.b).kind, PathKind::Direct);
    }

    void symmetricNatsStayRelayed() {
        World w(Nat::Symmetric, Nat::Symmetric);
        w.start();
        w.advance(2min);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Relayed);
        QCOMPARE(w.pathOn(w.b).kind, PathKind::Relayed);
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason),
                 QStringLiteral("no pong on direct candidates"));
        // The relay's round trip is what the path reports.
        QVERIFY(w.pathOn(w.a).latency && *w.pathOn(w.a).latency == 60ms);
        // Told through call-me-maybe, the reason names the NAT.
        disco::Outbox out;
        w.b.pf->setLocal({w.b.reachableAt()}, disco::CallMeMaybe::SymmetricNat, w.now, out);
        w.handle(w.b, out);
        w.advance(40s);
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason),
                 QStringLiteral("peer is behind a symmetric NAT"));
        QCOMPARE(QString::fromStdString(w.pathOn(w.b).reason),
                 QStringLiteral("this node is behind a symmetric NAT"));
    }

    void oneSymmetricOneOpen() {
        // The open side answers the symmetric side's ping at the port it came from.
        World w(Nat::Symmetric, Nat::None);
        w.start();
        QVERIFY(w.until(PathKind::Direct, 5s));
    }

    void fallsBackToTheRelayAndRecovers() {
        World w(Nat::EndpointIndependent, Nat::EndpointIndependent);
        w.start();
        QVERIFY(w.until(PathKind::Direct, 5s));
        // Traffic flows (the data path reports it), then UDP between the sites is cut.
        for (int i = 0; i < 20; ++i) {
            w.traffic();
            w.advance(100ms);
        }
        w.udpCut = true;
        const disco::Instant cut = w.now;
        std::optional<disco::Duration> fellBack;
        while (w.now - cut < 30s) {
            w.traffic();
            w.advance(50ms);
            if (w.pathOn(w.a).kind == PathKind::Relayed &&
                w.pathOn(w.b).kind == PathKind::Relayed) {
                fellBack = w.now - cut;
                break;
            }
        }
        QVERIFY(fellBack);
        QVERIFY2(*fellBack <= 10s, qPrintable(QString::number(fellBack->count() / 1e9)));
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason), QStringLiteral("trying direct…"));
        // Still cut a minute later: relayed, with the reason that it did not work.
        w.advance(60s);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Relayed);
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason),
                 QStringLiteral("no pong on direct candidates"));
        // Healed: direct again within the probe interval (30 s at most).
        w.udpCut = false;
        const auto back = w.until(PathKind::Direct, 60s);
        QVERIFY(back);
        QVERIFY2(*back <= 31s, qPrintable(QString::number(back->count() / 1e9)));
    }

    void idleHeartbeatsAreRare() {
        World w(Nat::None, Nat::None);
        w.start();
        QVERIFY(w.until(PathKind::Direct, 2s));
        const auto before = w.a.pf->stats().pingsSent;
        w.advance(100s); // no traffic
        const auto idle = w.a.pf->stats().pingsSent - before;
        QVERIFY2(idle <= 11, qPrintable(QString::number(idle)));
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Direct);
        const auto before2 = w.a.pf->stats().pingsSent;
        for (int i = 0; i < 100; ++i) {
            w.traffic();
            w.advance(100ms);
        }
        const auto busy = w.a.pf->stats().pingsSent - before2;
        QVERIFY2(busy >= 4 && busy <= 7, qPrintable(QString::number(busy)));
    }

    void noRelayNoPath() {
        World w(Nat::Symmetric, Nat::Symmetric);
        w.start(false);
        w.advance(5s);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::None);
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason),
                 QStringLiteral("the relay is not reachable"));
        // The best guess is the first endpoint of the map.
        QVERIFY(w.pathOn(w.a).direct == w.b.local);
        // The relay comes up: relayed at once.
        disco::Outbox out;
        w.a.pf->setRelayConnected(true, w.now, out);
        QCOMPARE(out.changed.size(), 1u);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Relayed);
        // The relay says the peer is not there.
        out.clear();
        w.a.pf->relayNotHere(w.b.nodeKey, w.now, out);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::None);
        QCOMPARE(QString::fromStdString(w.pathOn(w.a).reason),
                 QStringLiteral("peer is not connected to the relay"));
        // Packets still go to the relay: the peer may connect any moment.
        QVERIFY(w.pathOn(w.a).viaRelay);
        QVERIFY(!w.pathOn(w.a).direct);
        w.advance(11s);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Relayed);
        // Absent again, then heard from through the relay: reported as appeared, relayed.
        out.clear();
        w.a.pf->relayNotHere(w.b.nodeKey, w.now, out);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::None);
        const disco::SharedKey ba(w.b.discoPriv, w.a.discoKey);
        out.clear();
        w.a.pf->receiveRelay(w.b.nodeKey, ba.seal(w.b.discoKey, disco::Ping{{}, w.b.nodeKey}),
                             w.now, out);
        QCOMPARE(out.appeared.size(), 1u);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Relayed);
        QCOMPARE(out.relay.size(), 1u); // the pong
    }

    void refusesWhatIsNotFromThePeer() {
        World w(Nat::None, Nat::None);
        w.start(false);
        Host stranger;
        disco::Outbox out;
        // A ping from a key not in the map.
        const disco::SharedKey sk(stranger.discoPriv, w.a.discoKey);
        w.a.pf->receiveUdp(sk.seal(stranger.discoKey, disco::Ping{{}, stranger.nodeKey}),
                           address("192.0.2.99:1"), w.now, out);
        QVERIFY(out.udp.empty());
        QCOMPARE(w.a.pf->stats().rejected, 1u);
        // b's disco key, but a ping naming another node key.
        const disco::SharedKey ba(w.b.discoPriv, w.a.discoKey);
        w.a.pf->receiveUdp(ba.seal(w.b.discoKey, disco::Ping{{}, stranger.nodeKey}),
                           address("192.0.2.99:1"), w.now, out);
        QVERIFY(out.udp.empty());
        QCOMPARE(w.a.pf->stats().rejected, 2u);
        // A pong nobody asked for.
        w.a.pf->receiveUdp(ba.seal(w.b.discoKey, disco::Pong{{}, w.a.local}), w.b.local, w.now,
                           out);
        QCOMPARE(w.a.pf->stats().rejected, 3u);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::None);
        // A relayed message whose disco key is not the relay sender's.
        w.a.pf->receiveRelay(stranger.nodeKey, ba.seal(w.b.discoKey, disco::Ping{{}, w.b.nodeKey}),
                             w.now, out);
        QVERIFY(out.relay.empty());
        QCOMPARE(w.a.pf->stats().rejected, 4u);
        // The genuine ping is answered with a pong to its source, and pinged back.
        w.a.pf->receiveUdp(ba.seal(w.b.discoKey, disco::Ping{{}, w.b.nodeKey}),
                           address("192.0.2.50:7"), w.now, out);
        QCOMPARE(out.udp.size(), 2u);
        QVERIFY(out.udp[0].to == address("192.0.2.50:7"));
        QCOMPARE(w.a.pf->stats().rejected, 4u);
    }

    void pongMustComeFromWhereThePingWent() {
        World w(Nat::None, Nat::None);
        w.start(false);
        disco::Outbox out;
        w.a.pf->pingNow(w.b.nodeKey, w.now, out);
        QVERIFY(!out.udp.empty());
        // b answers, but the pong arrives from another address: refused, no path.
        const disco::SharedKey bAndA(w.b.discoPriv, w.a.discoKey);
        const auto opened = bAndA.open(out.udp.front().bytes);
        QVERIFY(opened);
        const auto txid = std::get<disco::Ping>(*opened).txid;
        disco::Outbox o2;
        w.a.pf->receiveUdp(bAndA.seal(w.b.discoKey, disco::Pong{txid, w.a.local}),
                           address("192.0.2.66:9"), w.now, o2);
        QVERIFY(o2.pongs.empty());
        QCOMPARE(w.pathOn(w.a).kind, PathKind::None);
        w.a.pf->receiveUdp(bAndA.seal(w.b.discoKey, disco::Pong{txid, w.a.local}),
                           out.udp.front().to, w.now + 3ms, o2);
        QCOMPARE(o2.pongs.size(), 1u);
        QVERIFY(o2.pongs[0].rtt == 3ms);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Direct);
    }

    void replayedPingIsRefused() {
        World w(Nat::None, Nat::None);
        w.start(false);
        const disco::SharedKey ba(w.b.discoPriv, w.a.discoKey);
        disco::Ping ping;
        ping.txid.fill(7);
        ping.nodeKey = w.b.nodeKey;
        const auto bytes = ba.seal(w.b.discoKey, ping);
        disco::Outbox out;
        w.a.pf->receiveUdp(bytes, w.b.local, w.now, out);
        QCOMPARE(out.udp.size(), 2u); // pong and ping back
        out.clear();
        const auto rejected = w.a.pf->stats().rejected;
        w.a.pf->receiveUdp(bytes, address("198.51.100.99:9"), w.now + 1s, out);
        QVERIFY(out.udp.empty());
        QCOMPARE(w.a.pf->stats().rejected, rejected + 1);
    }

    void spoofedPingsNeitherEvictThePathNorAmplify() {
        World w(Nat::EndpointIndependent, Nat::EndpointIndependent);
        w.start();
        QVERIFY(w.until(PathKind::Direct, 5s));
        const auto direct = w.pathOn(w.a).direct;
        // Fresh pings of b's (as if its key were used from many places), from 40 addresses.
        const disco::SharedKey ba(w.b.discoPriv, w.a.discoKey);
        disco::Outbox out;
        for (int i = 0; i < 40; ++i) {
            disco::Ping ping;
            ping.txid.fill(std::uint8_t(i + 1));
            ping.nodeKey = w.b.nodeKey;
            const net::SocketAddress from{*net::IpAddress::parse("192.0.2.200"),
                                          std::uint16_t(1000 + i)};
            w.a.pf->receiveUdp(ba.seal(w.b.discoKey, ping), from, w.now, out);
        }
        // At most 8 addresses got anything back this second (a pong and a ping each).
        std::set<net::SocketAddress> answered;
        for (const auto& u : out.udp)
            answered.insert(u.to);
        QVERIFY2(answered.size() <= 8, qPrintable(QString::number(answered.size())));
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Direct);
        QVERIFY(w.pathOn(w.a).direct == direct);
        w.advance(30s);
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Direct);
    }

    void resumingTrafficAfterIdleDoesNotFlap() {
        World w(Nat::EndpointIndependent, Nat::EndpointIndependent);
        w.start();
        QVERIFY(w.until(PathKind::Direct, 5s));
        for (int round = 0; round < 12; ++round) {
            // Idle for a while (heartbeats every 10 s), then traffic for 10 s.
            w.watchDirect = true;
            w.advance(std::chrono::milliseconds(60'000 + round * 1'370));
            for (int i = 0; i < 100; ++i) {
                w.traffic();
                w.advance(100ms);
            }
            QVERIFY2(w.notDirectSteps == 0,
                     qPrintable(QStringLiteral("round %1: %2 steps not direct")
                                    .arg(round)
                                    .arg(w.notDirectSteps)));
        }
    }

    void duplicateDiscoKeyBelongsToNobody() {
        World w(Nat::None, Nat::None);
        w.start(false);
        Host mallory;
        disco::Outbox out;
        // mallory registered with b's disco key.
        w.a.pf->setPeers(
            {{w.b.nodeKey, w.b.discoKey, {w.b.local}}, {mallory.nodeKey, w.b.discoKey, {}}}, w.now,
            out);
        const disco::SharedKey ba(w.b.discoPriv, w.a.discoKey);
        out.clear();
        w.a.pf->receiveUdp(ba.seal(w.b.discoKey, disco::Ping{{}, w.b.nodeKey}), w.b.local, w.now,
                           out);
        QVERIFY(out.udp.empty());
    }

    void mapChangesKeepState() {
        World w(Nat::None, Nat::None);
        w.start();
        QVERIFY(w.until(PathKind::Direct, 2s));
        const auto since = w.pathOn(w.a).since;
        // The same peer again (a delta touching something else): still direct, same since.
        disco::Outbox out;
        w.a.pf->setPeers({{w.b.nodeKey, w.b.discoKey, {w.b.local}}}, w.now, out);
        QVERIFY(out.changed.empty());
        QCOMPARE(w.pathOn(w.a).kind, PathKind::Direct);
        QVERIFY(w.pathOn(w.a).since == since);
        // The peer removed.
        w.a.pf->setPeers({}, w.now, out);
        QVERIFY(w.a.pf->path(w.b.nodeKey) == nullptr);
        // Ourselves in the map is ignored.
        w.a.pf->setPeers({{w.a.nodeKey, w.a.discoKey, {}}}, w.now, out);
        QVERIFY(w.a.pf->peers().empty());
    }
};

QTEST_APPLESS_MAIN(TestPathFinder)
#include "tst_pathfinder.moc"
