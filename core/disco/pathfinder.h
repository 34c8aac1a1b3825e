// PathFinder: how this node reaches each mesh peer — directly over UDP, through the relay, or not
// at all — decided from disco pings and pongs (docs/protocol.md "Disco", "Paths").
//
// Per peer it keeps candidate addresses (the endpoints the map lists, the ones a call-me-maybe
// names, and the source of every authentic ping: the peer as our NAT-facing socket sees it) and:
//   - probes: pings every candidate over UDP, pings through the relay (relay latency) and sends
//     a call-me-maybe through the relay, which makes the peer ping us back at once: both NATs
//     then hold a mapping towards the other and the pings meet. Probes repeat at 1, 2, 4 … 30 s
//     while there is no direct path;
//   - a pong from a candidate, matched by transaction id and source, makes it the direct path
//     (the lowest round trip wins); a ping received answers with a pong and a ping back;
//   - on a direct path it sends a heartbeat ping every 2 s while traffic flows (10 s when idle);
//     when no pong came for 6.5 s (25 s idle), the path falls back to the relay and probing
//     starts again.
// Path: Direct when a candidate answered recently; else Relayed when this node's relay
// connection is up and the peer was not reported absent from it; else None. With None, packets
// still go through the relay when it is up (the peer may connect any moment), else to the first
// candidate, unconfirmed, in case it works.
//
// Sans-I/O like wireguard::Device: callers pass the time, and collect datagrams to send and the
// peers whose path changed in an Outbox. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/disco/message.h"
#include "core/net/ipaddress.h"
#include "core/wireguard/clock.h"

namespace calnet::disco {

using wireguard::Instant;
using wireguard::kNever;
using Duration = std::chrono::nanoseconds;

enum class PathKind : std::uint8_t { None, Direct, Relayed };
[[nodiscard]] const char* toString(PathKind kind) noexcept; // "none", "direct", "relayed"

struct PeerPath {
    PathKind kind = PathKind::None;
    // Direct: where packets go. None without a relay: the unconfirmed first candidate, if any.
    std::optional<net::SocketAddress> direct;
    Instant since{}; // when `kind` last changed
    // Packets go through the relay: when relayed, and also when no path is known but the relay
    // is up (a peer the relay says is absent may connect any moment; the relay drops the rest).
    bool viaRelay = false;
    std::optional<Duration> latency; // the last round trip on this path (relay's when relayed)
    std::string reason;              // why not direct, in words; empty when direct
    friend bool operator==(const PeerPath&, const PeerPath&) = default;
};

struct PeerSpec {
    crypto::PublicKey nodeKey{};
    crypto::PublicKey discoKey{};
    std::vector<net::SocketAddress> endpoints; // what the map says
};

struct Timings {
    Duration firstProbeInterval = std::chrono::seconds(1);
    Duration maxProbeInterval = std::chrono::seconds(30);
    Duration heartbeat = std::chrono::seconds(2);
    Duration idleHeartbeat = std::chrono::seconds(10);
    Duration trust = std::chrono::milliseconds(6500);
    Duration idleTrust = std::chrono::seconds(25);
    Duration activeWindow = std::chrono::seconds(45); // traffic within this = active
    Duration pingTimeout = std::chrono::seconds(5);
    Duration learnedLifetime = std::chrono::seconds(120);
    Duration notHereHold = std::chrono::seconds(10);
    Duration punchSpacing = std::chrono::milliseconds(500); // pings to one address at most so often
    int earlyProbes = 3;                                    // rounds reported as "trying direct…"
    int unconfirmedPerSecond = 8; // pongs and pings back to unconfirmed addresses, per peer
    // Every duration multiplied by `scale` (tests).
    [[nodiscard]] Timings scaled(double scale) const;
};

struct Outbox {
    struct Udp {
        net::SocketAddress to;
        std::vector<std::uint8_t> bytes;
    };
    struct Relay {
        crypto::PublicKey to{};
        std::vector<std::uint8_t> bytes;
    };
    // A pong for a ping made by pingNow().
    struct Pong {
        crypto::PublicKey peer{};
        std::optional<net::SocketAddress> via; // nullopt = through the relay
        Duration rtt{};
    };
    std::vector<Udp> udp;
    std::vector<Relay> relay;
    std::vector<crypto::PublicKey> changed; // peers whose PeerPath changed
    std::vector<Pong> pongs;
    // The address a peer saw our ping come from (to compare with what STUN says).
    std::vector<net::SocketAddress> observed;
    // Peers heard from for the first time, or for the first time since the relay said they were
    // absent: a handshake lost on the way to them may be worth sending again.
    std::vector<crypto::PublicKey> appeared;
    void clear() {
        udp.clear();
        relay.clear();
        changed.clear();
        pongs.clear();
        observed.clear();
        appeared.clear();
    }
};

class PathFinder {
public:
    struct Stats {
        std::uint64_t pingsSent = 0;
        std::uint64_t pongsReceived = 0;
        std::uint64_t rejected = 0; // unknown sender, bad box, wrong node key, unmatched pong
    };

    PathFinder(const crypto::PublicKey& nodeKey, const crypto::PrivateKey& discoKey,
               Timings timings = {});

    // The peers of the current map. Kept peers keep their state; new ones are probed at once.
    void setPeers(const std::vector<PeerSpec>& peers, Instant now, Outbox& out);
    // Whether this node's relay connection is up.
    void setRelayConnected(bool connected, Instant now, Outbox& out);
    // This node's endpoints (for call-me-maybe) and what it knows of its NAT
    // (CallMeMaybe::Flag bits).
    void setLocal(const std::vector<net::SocketAddress>& endpoints, std::uint8_t natFlags,
                  Instant now, Outbox& out);
    // Data went to or came from the peer (keeps heartbeats at the active pace). true when an
    // idle direct path is to be checked now: call tick() before its last deadline.
    bool noteActivity(const crypto::PublicKey& peer, Instant now);
    // The relay says the peer is not connected to it.
    void relayNotHere(const crypto::PublicKey& peer, Instant now, Outbox& out);

    // A disco datagram from the UDP socket, and one that came through the relay from `from`.
    void receiveUdp(std::span<const std::uint8_t> datagram, const net::SocketAddress& from,
                    Instant now, Outbox& out);
    void receiveRelay(const crypto::PublicKey& from, std::span<const std::uint8_t> datagram,
                      Instant now, Outbox& out);

    // Pings every candidate and the relay now; answers come back in Outbox::pongs. false for an
    // unknown peer.
    bool pingNow(const crypto::PublicKey& peer, Instant now, Outbox& out);

    // Probes, heartbeats and expiry; returns when it wants to be called again.
    Instant tick(Instant now, Outbox& out);

    [[nodiscard]] const PeerPath* path(const crypto::PublicKey& peer) const;
    [[nodiscard]] std::vector<crypto::PublicKey> peers() const;
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

private:
    struct Candidate {
        bool fromMap = false;
        Instant learnedAt{};
        Instant lastPing = kNever; // kNever = never pinged
        Instant lastPong = kNever;
        Instant lastPunchBack = kNever; // the last ping sent in answer to one of theirs
        Duration rtt{};
    };
    struct Pending {
        TxId txid{};
        std::optional<net::SocketAddress> to; // nullopt = through the relay
        Instant sent{};
        bool manual = false;
    };
    struct Peer {
        PeerSpec spec;
        SharedKey key;
        std::map<net::SocketAddress, Candidate> candidates;
        std::vector<Pending> pending;
        std::optional<net::SocketAddress> best;
        Duration bestRtt{};
        Instant bestPong{};
        Instant nextProbe{};
        Duration probeInterval{};
        int probes = 0;
        Instant nextHeartbeat = kNever;
        Instant lastActivity = kNever;
        Instant activeSince = kNever; // when traffic resumed after an idle spell
        Instant notHereAt = kNever;
        // Transaction ids of the pings received lately: a replayed ping is dropped.
        std::vector<TxId> seenPings;
        // Answers to pings from addresses not yet confirmed (pongs and pings back), in the
        // current second: bounded, so a replayed ping cannot turn this node into a source of
        // traffic towards addresses an attacker chooses.
        Instant unconfirmedWindow{};
        int unconfirmedSent = 0;
        bool heard = false; // an authentic message came from the peer
        std::uint8_t peerFlags = 0;
        std::optional<Duration> relayRtt;
        PeerPath path;
    };

    Peer* findByDisco(const crypto::PublicKey& discoKey);
    void probe(Peer& p, Instant now, Outbox& out);
    void ping(Peer& p, const std::optional<net::SocketAddress>& to, Instant now, bool manual,
              Outbox& out);
    void send(Peer& p, const std::optional<net::SocketAddress>& to, const Message& m, Outbox& out);
    // false when there is no room for a new candidate (see kMaxLearned).
    bool learn(Peer& p, const net::SocketAddress& a, Instant now);
    void dropBest(Peer& p, Instant now);
    [[nodiscard]] bool active(const Peer& p, Instant now) const;
    void update(Peer& p, Instant now, Outbox& out);
    [[nodiscard]] std::string reasonFor(const Peer& p) const;

    crypto::PublicKey nodeKey_;
    crypto::PrivateKey discoPrivate_;
    crypto::PublicKey discoPublic_;
    Timings t_;
    bool relayUp_ = false;
    std::vector<net::SocketAddress> localEndpoints_;
    std::uint8_t natFlags_ = 0;
    std::map<crypto::PublicKey, Peer> peers_;
    std::map<crypto::PublicKey, crypto::PublicKey> byDisco_; // disco key -> node key
    Stats stats_;
};

} // namespace calnet::disco
