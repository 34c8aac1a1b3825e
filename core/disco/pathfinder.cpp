#include "core/disco/pathfinder.h"

#include <algorithm>

#include <sodium.h>

namespace calnet::disco {

namespace {

constexpr std::size_t kMaxLearned = 8;  // candidates learned from pings and call-me-maybe
constexpr std::size_t kMaxPending = 64; // pings awaiting a pong, per peer
constexpr std::size_t kSeenPings = 128; // transaction ids of received pings kept, per peer

Duration scale(Duration d, double s) {
    return Duration(std::int64_t(double(d.count()) * s));
}

bool elapsed(Instant since, Duration d, Instant now) {
    return since != kNever && now - since >= d;
}

} // namespace

const char* toString(PathKind kind) noexcept {
    switch (kind) {
    case PathKind::Direct:
        return "direct";
    case PathKind::Relayed:
        return "relayed";
    case PathKind::None:
        break;
    }
    return "none";
}

Timings Timings::scaled(double s) const {
    Timings t = *this;
    for (Duration* d : {&t.firstProbeInterval, &t.maxProbeInterval, &t.heartbeat, &t.idleHeartbeat,
                        &t.trust, &t.idleTrust, &t.activeWindow, &t.pingTimeout, &t.learnedLifetime,
                        &t.notHereHold, &t.punchSpacing})
        *d = scale(*d, s);
    return t;
}

PathFinder::PathFinder(const crypto::PublicKey& nodeKey, const crypto::PrivateKey& discoKey,
                       Timings timings)
    : nodeKey_(nodeKey), discoPrivate_(discoKey), discoPublic_(crypto::publicKeyOf(discoKey)),
      t_(timings) {}

void PathFinder::setPeers(const std::vector<PeerSpec>& specs, Instant now, Outbox& out) {
    std::map<crypto::PublicKey, Peer> next;
    byDisco_.clear();
    for (const PeerSpec& spec : specs) {
        if (spec.nodeKey == nodeKey_ || next.contains(spec.nodeKey))
            continue;
        auto old = peers_.find(spec.nodeKey);
        Peer p;
        const bool fresh = old == peers_.end();
        std::vector<net::SocketAddress> oldEndpoints;
        if (!fresh) {
            oldEndpoints = old->second.spec.endpoints;
            p = std::move(old->second);
        }
        if (fresh || p.spec.discoKey != spec.discoKey) {
            p.key = SharedKey(discoPrivate_, spec.discoKey);
            p.pending.clear();
        }
        p.spec = spec;
        // The map's endpoints replace the map's old ones; learned ones stay until they expire.
        std::erase_if(p.candidates, [](const auto& c) { return c.second.fromMap; });
        for (const net::SocketAddress& a : spec.endpoints) {
            Candidate& c = p.candidates[a];
            c.fromMap = true;
            c.learnedAt = now;
        }
        if (p.best && !p.candidates.contains(*p.best))
            dropBest(p, now);
        if (fresh) {
            p.nextProbe = now;
            p.probeInterval = t_.firstProbeInterval;
            p.path.since = now;
        } else if (!p.best && spec.endpoints != oldEndpoints) {
            p.nextProbe = now; // new endpoints: try them at once
        }
        // A disco key claimed by two nodes belongs to neither: one of them copied the other's
        // public key, and its messages must not pass for the other's.
        if (auto [d, inserted] = byDisco_.emplace(spec.discoKey, spec.nodeKey); !inserted)
            d->second = crypto::PublicKey{};
        auto [it, _] = next.emplace(spec.nodeKey, std::move(p));
        if (fresh)
            out.changed.push_back(spec.nodeKey);
        update(it->second, now, out);
    }
    peers_ = std::move(next);
}

void PathFinder::setRelayConnected(bool connected, Instant now, Outbox& out) {
    if (connected == relayUp_)
        return;
    relayUp_ = connected;
    for (auto& [key, p] : peers_) {
        if (connected && !p.best)
            p.nextProbe = now; // now a call-me-maybe can reach the peer
        update(p, now, out);
    }
}

void PathFinder::setLocal(const std::vector<net::SocketAddress>& endpoints, std::uint8_t natFlags,
                          Instant now, Outbox& out) {
    const bool changed = endpoints != localEndpoints_;
    localEndpoints_ = endpoints;
    natFlags_ = natFlags;
    for (auto& [key, p] : peers_) {
        if (changed) {
            // Roaming: whatever worked may not any more; tell every peer where we are now.
            p.nextProbe = now;
            p.probeInterval = t_.firstProbeInterval;
            p.probes = 0;
        }
        update(p, now, out);
    }
}

bool PathFinder::noteActivity(const crypto::PublicKey& peer, Instant now) {
    auto it = peers_.find(peer);
    if (it == peers_.end())
        return false;
    Peer& p = it->second;
    const bool wasIdle = !active(p, now);
    p.lastActivity = now;
    if (wasIdle)
        p.activeSince = now;
    if (!wasIdle || !p.best)
        return false;
    p.nextHeartbeat = std::min(p.nextHeartbeat, now); // check the idle path at once
    return true;
}

void PathFinder::relayNotHere(const crypto::PublicKey& peer, Instant now, Outbox& out) {
    auto it = peers_.find(peer);
    if (it == peers_.end())
        return;
    it->second.notHereAt = now;
    update(it->second, now, out);
}

PathFinder::Peer* PathFinder::findByDisco(const crypto::PublicKey& discoKey) {
    auto it = byDisco_.find(discoKey);
    if (it == byDisco_.end())
        return nullptr;
    auto p = peers_.find(it->second);
    return p == peers_.end() ? nullptr : &p->second;
}

void PathFinder::send(Peer& p, const std::optional<net::SocketAddress>& to, const Message& m,
                      Outbox& out) {
    std::vector<std::uint8_t> bytes = p.key.seal(discoPublic_, m);
    if (bytes.empty())
        return;
    if (to)
        out.udp.push_back({*to, std::move(bytes)});
    else
        out.relay.push_back({p.spec.nodeKey, std::move(bytes)});
}

void PathFinder::ping(Peer& p, const std::optional<net::SocketAddress>& to, Instant now,
                      bool manual, Outbox& out) {
    if (!to && !relayUp_)
        return;
    Pending pending;
    randombytes_buf(pending.txid.data(), pending.txid.size());
    pending.to = to;
    pending.sent = now;
    pending.manual = manual;
    if (p.pending.size() >= kMaxPending)
        p.pending.erase(p.pending.begin());
    p.pending.push_back(pending);
    if (to)
        p.candidates[*to].lastPing = now;
    ++stats_.pingsSent;
    send(p, to, Ping{pending.txid, nodeKey_}, out);
}

void PathFinder::probe(Peer& p, Instant now, Outbox& out) {
    for (auto& [addr, c] : p.candidates)
        ping(p, addr, now, false, out);
    if (relayUp_) {
        ping(p, std::nullopt, now, false, out);
        send(p, std::nullopt, CallMeMaybe{natFlags_, localEndpoints_}, out);
    }
    ++p.probes;
    p.nextProbe = now + p.probeInterval;
    p.probeInterval = std::min(p.probeInterval * 2, t_.maxProbeInterval);
}

bool PathFinder::learn(Peer& p, const net::SocketAddress& a, Instant now) {
    auto it = p.candidates.find(a);
    if (it != p.candidates.end()) {
        it->second.learnedAt = now;
        return true;
    }
    // At most kMaxLearned learned candidates; the oldest unconfirmed one makes room. The
    // current path and addresses that answered are never pushed out by a newcomer.
    std::size_t learned = 0;
    auto oldest = p.candidates.end();
    for (auto c = p.candidates.begin(); c != p.candidates.end(); ++c) {
        if (c->second.fromMap)
            continue;
        ++learned;
        if (p.best == c->first || c->second.lastPong != kNever)
            continue;
        if (oldest == p.candidates.end() || c->second.learnedAt < oldest->second.learnedAt)
            oldest = c;
    }
    if (learned >= kMaxLearned) {
        if (oldest == p.candidates.end())
            return false;
        p.candidates.erase(oldest);
    }
    Candidate c;
    c.learnedAt = now;
    p.candidates.emplace(a, c);
    return true;
}

void PathFinder::dropBest(Peer& p, Instant now) {
    p.best.reset();
    p.nextHeartbeat = kNever;
    p.nextProbe = now;
    p.probeInterval = t_.firstProbeInterval;
    p.probes = 0;
}

bool PathFinder::active(const Peer& p, Instant now) const {
    return p.lastActivity != kNever && now - p.lastActivity < t_.activeWindow;
}

void PathFinder::receiveUdp(std::span<const std::uint8_t> datagram, const net::SocketAddress& from,
                            Instant now, Outbox& out) {
    Peer* p = looksLikeDisco(datagram) ? findByDisco(senderKey(datagram)) : nullptr;
    const std::optional<Message> m = p ? p->key.open(datagram) : std::nullopt;
    if (!m) {
        ++stats_.rejected;
        return;
    }
    if (!p->heard)
        out.appeared.push_back(p->spec.nodeKey);
    p->heard = true;
    if (const auto* ping = std::get_if<Ping>(&*m)) {
        if (ping->nodeKey != p->spec.nodeKey) {
            ++stats_.rejected;
            return;
        }
        if (std::find(p->seenPings.begin(), p->seenPings.end(), ping->txid) != p->seenPings.end()) {
            ++stats_.rejected; // a replay
            return;
        }
        if (p->seenPings.size() >= kSeenPings)
            p->seenPings.erase(p->seenPings.begin());
        p->seenPings.push_back(ping->txid);
        const auto known = p->candidates.find(from);
        const bool confirmed =
            p->best == from || (known != p->candidates.end() && known->second.lastPong != kNever);
        if (!confirmed) {
            // Replies towards an address nobody has confirmed are bounded per peer.
            if (now - p->unconfirmedWindow >= std::chrono::seconds(1)) {
                p->unconfirmedWindow = now;
                p->unconfirmedSent = 0;
            }
            if (p->unconfirmedSent >= t_.unconfirmedPerSecond)
                return;
            ++p->unconfirmedSent;
        }
        send(*p, from, Pong{ping->txid, from}, out);
        if (!learn(*p, from, now)) {
            update(*p, now, out);
            return;
        }
        // Ping back: this is the other half of the hole punch (our own pings to this address
        // may have been dropped by the peer's firewall before its ping opened it). At most
        // every punchSpacing per address, and not once the address has answered recently.
        Candidate& c = p->candidates[from];
        const bool answered =
            p->best == from || (c.lastPong != kNever && now - c.lastPong < t_.trust);
        if (!answered && !(c.lastPunchBack != kNever && now - c.lastPunchBack < t_.punchSpacing)) {
            c.lastPunchBack = now;
            this->ping(*p, from, now, false, out);
        }
        update(*p, now, out);
        return;
    }
    if (const auto* pong = std::get_if<Pong>(&*m)) {
        auto it = std::find_if(p->pending.begin(), p->pending.end(), [&](const Pending& x) {
            return x.txid == pong->txid && x.to == from;
        });
        if (it == p->pending.end()) {
            ++stats_.rejected;
            return;
        }
        ++stats_.pongsReceived;
        const Duration rtt = now - it->sent;
        if (it->manual)
            out.pongs.push_back({p->spec.nodeKey, from, rtt});
        p->pending.erase(it);
        out.observed.push_back(pong->observed);
        Candidate& c = p->candidates[from];
        c.lastPong = now;
        c.rtt = rtt;
        // Switch when there is no direct path, on a pong of the current one, or to a clearly
        // faster address (a LAN address over the NAT's public one).
        if (!p->best || *p->best == from || rtt * 10 < p->bestRtt * 7) {
            if (!p->best)
                p->nextHeartbeat = now + (active(*p, now) ? t_.heartbeat : t_.idleHeartbeat);
            p->best = from;
            p->bestRtt = rtt;
            p->bestPong = now;
        }
        update(*p, now, out);
        return;
    }
    ++stats_.rejected; // call-me-maybe comes only through the relay
}

void PathFinder::receiveRelay(const crypto::PublicKey& from, std::span<const std::uint8_t> datagram,
                              Instant now, Outbox& out) {
    auto pit = peers_.find(from);
    Peer* p = pit == peers_.end() ? nullptr : &pit->second;
    const bool ok = p && looksLikeDisco(datagram) && senderKey(datagram) == p->spec.discoKey;
    const std::optional<Message> m = ok ? p->key.open(datagram) : std::nullopt;
    if (!m) {
        ++stats_.rejected;
        return;
    }
    if (p->notHereAt != kNever || !p->heard)
        out.appeared.push_back(p->spec.nodeKey);
    p->heard = true;
    p->notHereAt = kNever;
    if (const auto* ping = std::get_if<Ping>(&*m)) {
        if (ping->nodeKey != p->spec.nodeKey) {
            ++stats_.rejected;
            return;
        }
        send(*p, std::nullopt, Pong{ping->txid, {}}, out);
    } else if (const auto* pong = std::get_if<Pong>(&*m)) {
        auto it = std::find_if(p->pending.begin(), p->pending.end(),
                               [&](const Pending& x) { return x.txid == pong->txid && !x.to; });
        if (it == p->pending.end()) {
            ++stats_.rejected;
            return;
        }
        ++stats_.pongsReceived;
        p->relayRtt = now - it->sent;
        if (it->manual)
            out.pongs.push_back({p->spec.nodeKey, std::nullopt, *p->relayRtt});
        p->pending.erase(it);
    } else {
        const auto& cmm = std::get<CallMeMaybe>(*m);
        p->peerFlags = cmm.flags;
        for (const net::SocketAddress& a : cmm.endpoints) {
            if (!learn(*p, a, now))
                continue;
            const Candidate& c = p->candidates[a];
            if (!(c.lastPing != kNever && now - c.lastPing < t_.punchSpacing))
                this->ping(*p, a, now, false, out);
        }
    }
    update(*p, now, out);
}

bool PathFinder::pingNow(const crypto::PublicKey& peer, Instant now, Outbox& out) {
    auto it = peers_.find(peer);
    if (it == peers_.end())
        return false;
    Peer& p = it->second;
    for (auto& [addr, c] : p.candidates)
        ping(p, addr, now, true, out);
    ping(p, std::nullopt, now, true, out);
    if (relayUp_ && !p.best)
        send(p, std::nullopt, CallMeMaybe{natFlags_, localEndpoints_}, out);
    return true;
}

Instant PathFinder::tick(Instant now, Outbox& out) {
    Instant next = kNever;
    for (auto& entry : peers_) {
        Peer& p = entry.second; // (a named reference: lambdas below capture it)
        std::erase_if(p.pending, [&](const Pending& x) { return now - x.sent >= t_.pingTimeout; });
        std::erase_if(p.candidates, [&](const auto& c) {
            return !c.second.fromMap && c.first != p.best &&
                   now - c.second.learnedAt >= t_.learnedLifetime &&
                   !(c.second.lastPong != kNever && now - c.second.lastPong < t_.learnedLifetime);
        });
        const bool isActive = active(p, now);
        // Active: a pong within `trust`, counted from when traffic resumed at the earliest (the
        // heartbeat that checks an idle path has to have had its chance).
        const Instant trustFrom =
            isActive && p.activeSince != kNever ? std::max(p.bestPong, p.activeSince) : p.bestPong;
        if (p.best && elapsed(trustFrom, isActive ? t_.trust : t_.idleTrust, now))
            dropBest(p, now);
        if (p.best && now >= p.nextHeartbeat) {
            ping(p, *p.best, now, false, out);
            p.nextHeartbeat = now + (isActive ? t_.heartbeat : t_.idleHeartbeat);
        }
        if (!p.best && now >= p.nextProbe)
            probe(p, now, out);
        update(p, now, out);

        if (p.best) {
            next = std::min(
                {next, p.nextHeartbeat, p.bestPong + (isActive ? t_.trust : t_.idleTrust)});
            if (p.lastActivity != kNever && isActive)
                next = std::min(next, p.lastActivity + t_.activeWindow);
        } else {
            next = std::min(next, p.nextProbe);
        }
        for (const Pending& x : p.pending)
            next = std::min(next, x.sent + t_.pingTimeout);
        if (p.notHereAt != kNever && now - p.notHereAt < t_.notHereHold)
            next = std::min(next, p.notHereAt + t_.notHereHold);
    }
    return next;
}

std::string PathFinder::reasonFor(const Peer& p) const {
    if (!relayUp_)
        return "the relay is not reachable";
    if (p.notHereAt != kNever)
        return "peer is not connected to the relay";
    if (natFlags_ & CallMeMaybe::UdpBlocked)
        return "UDP is blocked on this network";
    if (p.peerFlags & CallMeMaybe::UdpBlocked)
        return "UDP is blocked on the peer's network";
    if (p.probes < t_.earlyProbes)
        return "trying direct…";
    if ((natFlags_ & CallMeMaybe::SymmetricNat) && (p.peerFlags & CallMeMaybe::SymmetricNat))
        return "both nodes are behind symmetric NATs";
    if (natFlags_ & CallMeMaybe::SymmetricNat)
        return "this node is behind a symmetric NAT";
    if (p.peerFlags & CallMeMaybe::SymmetricNat)
        return "peer is behind a symmetric NAT";
    return "no pong on direct candidates";
}

void PathFinder::update(Peer& p, Instant now, Outbox& out) {
    if (p.notHereAt != kNever && now - p.notHereAt >= t_.notHereHold)
        p.notHereAt = kNever;
    PeerPath next;
    if (p.best) {
        next.kind = PathKind::Direct;
        next.direct = p.best;
        next.latency = p.bestRtt;
    } else {
        next.kind = relayUp_ && p.notHereAt == kNever ? PathKind::Relayed : PathKind::None;
        next.viaRelay = relayUp_;
        if (next.kind == PathKind::Relayed) {
            next.latency = p.relayRtt;
        } else if (!relayUp_ && !p.spec.endpoints.empty()) {
            next.direct = p.spec.endpoints.front();
        }
        next.reason = reasonFor(p);
    }
    next.since = next.kind == p.path.kind ? p.path.since : now;
    if (next != p.path) {
        const bool visible = next.kind != p.path.kind || next.direct != p.path.direct ||
                             next.reason != p.path.reason;
        p.path = std::move(next);
        if (visible &&
            std::find(out.changed.begin(), out.changed.end(), p.spec.nodeKey) == out.changed.end())
            out.changed.push_back(p.spec.nodeKey);
    }
}

const PeerPath* PathFinder::path(const crypto::PublicKey& peer) const {
    auto it = peers_.find(peer);
    return it == peers_.end() ? nullptr : &it->second.path;
}

std::vector<crypto::PublicKey> PathFinder::peers() const {
    std::vector<crypto::PublicKey> keys;
    keys.reserve(peers_.size());
    for (const auto& [key, p] : peers_)
        keys.push_back(key);
    return keys;
}

} // namespace calnet::disco
