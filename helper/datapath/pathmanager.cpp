#include "helper/datapath/pathmanager.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include <sodium.h>

#include "helper/datapath/tunnel.h"

namespace calnet::helper {

namespace {

using Clock = std::chrono::steady_clock;
using Route = PathTable::Route;

constexpr auto kStunRetry = std::chrono::milliseconds(1000);
constexpr auto kStunRoundTimeout = std::chrono::milliseconds(3000);

disco::Instant monoNow() {
    return std::chrono::duration_cast<disco::Instant>(Clock::now().time_since_epoch());
}

std::int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Route routeFor(const disco::PeerPath& p) {
    Route r;
    switch (p.kind) {
    case disco::PathKind::Direct:
        r.kind = Route::Kind::Udp;
        r.udp = *p.direct;
        break;
    case disco::PathKind::Relayed:
        r.kind = Route::Kind::Relay;
        break;
    case disco::PathKind::None:
        // The relay may have the peer any moment; without a relay, the unconfirmed first
        // candidate is the best guess there is (a peer on the same LAN while the relay is
        // down still gets its packets).
        if (p.viaRelay) {
            r.kind = Route::Kind::Relay;
        } else if (p.direct) {
            r.kind = Route::Kind::Udp;
            r.udp = *p.direct;
        }
        break;
    }
    return r;
}

} // namespace

struct PathManager::Call {
    explicit Call(PathManager& m) : manager(m) {
        manager.inflight_.fetch_add(1);
        open = !manager.stopped_.load();
    }
    ~Call() { manager.inflight_.fetch_sub(1); }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    PathManager& manager;
    bool open;
};

// What one call into the PathFinder produced, applied after the lock is released.
struct Pending {
    disco::Outbox out;
    std::vector<std::pair<crypto::PublicKey, Route>> routes;
    std::vector<std::pair<net::SocketAddress, std::vector<std::uint8_t>>> stun;
    PathManager::PongHandler onPong;
    bool endpointsChanged = false;
};

PathManager::PathManager(Tunnel& tunnel, Options options)
    : tunnel_(tunnel), options_(std::move(options)),
      finder_(options_.nodeKey, options_.discoKey, options_.timings) {}

PathManager::~PathManager() {
    stop();
}

void PathManager::start(std::shared_ptr<RelaySender> relay) {
    relay_ = std::move(relay);
    {
        std::lock_guard lock(mutex_);
        running_ = true;
    }
    thread_ = std::thread([this] { run(); });
}

void PathManager::stop() {
    stopped_ = true;
    {
        std::lock_guard lock(mutex_);
        running_ = false;
    }
    wake_.notify_all();
    if (thread_.joinable())
        thread_.join();
    // A datagram being handled on the inbound thread, a relay message on the relay thread:
    // their callbacks reach the owner, which is about to go away. Bounded: each is a few µs.
    for (int i = 0; i < 5000 && inflight_.load() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::uint8_t PathManager::natFlags() const {
    std::uint8_t flags = 0;
    if (udpWorks_ == false)
        flags |= disco::CallMeMaybe::UdpBlocked;
    if (varies_ == true)
        flags |= disco::CallMeMaybe::SymmetricNat;
    return flags;
}

std::optional<net::SocketAddress> PathManager::reflexive() const {
    std::lock_guard lock(mutex_);
    std::optional<net::SocketAddress> best;
    for (const auto& [server, mapped] : mapped_)
        if (!best ||
            (mapped.address.family == net::Family::V4 && best->address.family != net::Family::V4))
            best = mapped;
    return best;
}

void PathManager::refreshLocal(disco::Outbox& out) {
    std::vector<net::SocketAddress> endpoints;
    if (options_.localEndpoints)
        endpoints = options_.localEndpoints();
    for (const auto& [server, mapped] : mapped_)
        if (std::find(endpoints.begin(), endpoints.end(), mapped) == endpoints.end())
            endpoints.insert(endpoints.begin(), mapped); // the public one first
    local_ = endpoints;
    finder_.setLocal(local_, natFlags(), monoNow(), out);
}

// Under the lock: the routes of the peers whose path changed.
static void collectRoutes(const disco::PathFinder& finder, Pending& p) {
    for (const auto& key : p.out.changed)
        if (const disco::PeerPath* path = finder.path(key))
            p.routes.emplace_back(key, routeFor(*path));
}

namespace {

// CALNET_DEBUG_DISCO=1: every disco datagram, relay event and route change, on stderr.
const bool kDebugDisco = std::getenv("CALNET_DEBUG_DISCO") != nullptr;

// mingw-w64's "printf" archetype is msvcrt's (no %zu); its C99 printf (__USE_MINGW_ANSI_STDIO)
// is checked as gnu_printf.
#if defined(__MINGW32__)
[[gnu::format(gnu_printf, 1, 2)]]
#else
[[gnu::format(printf, 1, 2)]]
#endif
void debugLine(const char* format, ...) {
    char line[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    std::fprintf(stderr, "calnetd: disco: %s\n", line);
}

void apply(Tunnel& tunnel, RelaySender* relay, const PathManager::Options& options, Pending& p,
           bool stopped = false) {
    if (kDebugDisco) {
        for (const auto& u : p.out.udp)
            debugLine("-> %s (%zu bytes)", u.to.toString().c_str(), u.bytes.size());
        for (const auto& r : p.out.relay)
            debugLine("-> relay (%zu bytes)", r.bytes.size());
        for (const auto& [key, route] : p.routes)
            debugLine("route of %02x%02x…: %s %s", key[0], key[1],
                      route.kind == Route::Kind::Udp     ? "udp"
                      : route.kind == Route::Kind::Relay ? "relay"
                                                         : "drop",
                      route.udp.toString().c_str());
    }
    for (const auto& [key, route] : p.routes)
        tunnel.paths().setRoute(key, route);
    for (const auto& u : p.out.udp)
        tunnel.sendRaw(u.to, u.bytes);
    for (const auto& [to, bytes] : p.stun)
        tunnel.sendRaw(to, bytes);
    if (relay)
        for (const auto& r : p.out.relay)
            relay->sendTo(r.to, r.bytes);
    if (stopped)
        return; // the owner's callbacks may be gone
    if (p.onPong)
        for (const auto& pong : p.out.pongs)
            p.onPong(pong);
    for (const auto& key : p.out.appeared)
        tunnel.paths().resendHeld(key);
    if (!p.out.changed.empty() && options.pathsChanged)
        options.pathsChanged();
    if (p.endpointsChanged && options.endpointsChanged)
        options.endpointsChanged();
}

} // namespace

void PathManager::setPeers(const std::vector<disco::PeerSpec>& peers) {
    const Call call(*this);
    if (!call.open)
        return;
    Pending p;
    {
        std::lock_guard lock(mutex_);
        finder_.setPeers(peers, monoNow(), p.out);
        // Every peer gets its route now, before WireGuard sends it anything.
        for (const auto& spec : peers)
            if (const disco::PeerPath* path = finder_.path(spec.nodeKey))
                p.routes.emplace_back(spec.nodeKey, routeFor(*path));
        p.onPong = onPong_;
    }
    apply(tunnel_, relay_.get(), options_, p, stopped_.load());
    wake_.notify_all();
}

void PathManager::setStunServers(const std::vector<net::SocketAddress>& servers) {
    const Call call(*this);
    if (!call.open)
        return;
    {
        std::lock_guard lock(mutex_);
        if (servers == options_.stunServers)
            return;
        options_.stunServers = servers;
        mapped_.clear();
        varies_.reset();
        stunNow_ = true;
    }
    wake_.notify_all();
}

void PathManager::setRelayConnected(bool connected) {
    const Call call(*this);
    if (!call.open)
        return;
    if (kDebugDisco)
        debugLine("relay %s", connected ? "up" : "down");
    Pending p;
    {
        std::lock_guard lock(mutex_);
        finder_.setRelayConnected(connected, monoNow(), p.out);
        collectRoutes(finder_, p);
        p.onPong = onPong_;
    }
    apply(tunnel_, relay_.get(), options_, p, stopped_.load());
    wake_.notify_all();
}

void PathManager::relayDisco(const crypto::PublicKey& from, std::span<const std::uint8_t> message) {
    const Call call(*this);
    if (!call.open)
        return;
    if (kDebugDisco)
        debugLine("<- relay from %02x%02x… (%zu bytes)", from[0], from[1], message.size());
    Pending p;
    {
        std::lock_guard lock(mutex_);
        finder_.receiveRelay(from, message, monoNow(), p.out);
        collectRoutes(finder_, p);
        p.onPong = onPong_;
    }
    apply(tunnel_, relay_.get(), options_, p, stopped_.load());
    wake_.notify_all();
}

void PathManager::relayNotHere(const crypto::PublicKey& node) {
    const Call call(*this);
    if (!call.open)
        return;
    if (kDebugDisco)
        debugLine("relay: %02x%02x… not here", node[0], node[1]);
    Pending p;
    {
        std::lock_guard lock(mutex_);
        finder_.relayNotHere(node, monoNow(), p.out);
        collectRoutes(finder_, p);
    }
    apply(tunnel_, relay_.get(), options_, p, stopped_.load());
    wake_.notify_all();
}

void PathManager::networkChanged() {
    const Call call(*this);
    if (!call.open)
        return;
    {
        std::lock_guard lock(mutex_);
        stunNow_ = true;
        // Round trips from the old network say little about the new one: the next answer of
        // each server replaces its smoothed value instead of moving it by an eighth.
        for (auto& [server, entry] : stunLatency_)
            relearn_.insert(server);
    }
    wake_.notify_all();
}

void PathManager::receive(std::span<const std::uint8_t> datagram, const net::SocketAddress& from) {
    const Call call(*this);
    if (!call.open)
        return;
    Pending p;
    {
        std::lock_guard lock(mutex_);
        if (stun::looksLikeStun(datagram)) {
            const auto before = mapped_;
            const std::uint8_t flagsBefore = natFlags();
            handleStun(datagram, from);
            if (mapped_ != before || natFlags() != flagsBefore) {
                p.endpointsChanged = true;
                refreshLocal(p.out);
            }
        } else {
            if (kDebugDisco)
                debugLine("<- %s (%zu bytes)", from.toString().c_str(), datagram.size());
            finder_.receiveUdp(datagram, from, monoNow(), p.out);
            // A peer saw us at a port other than the one STUN reports: our NAT maps each
            // destination to its own port.
            for (const auto& seen : p.out.observed)
                for (const auto& [server, mapped] : mapped_)
                    if (seen.address == mapped.address) {
                        const bool differs = seen.port != mapped.port;
                        if (differs && varies_ != true) {
                            varies_ = true;
                            refreshLocal(p.out);
                        } else if (!differs && !varies_) {
                            varies_ = false;
                        }
                    }
        }
        collectRoutes(finder_, p);
        p.onPong = onPong_;
    }
    apply(tunnel_, relay_.get(), options_, p, stopped_.load());
    wake_.notify_all();
}

void PathManager::handleStun(std::span<const std::uint8_t> datagram,
                             const net::SocketAddress& from) {
    const auto response = stun::parseBindingResponse(datagram);
    if (!response)
        return;
    auto it = stunPending_.find(response->id);
    if (it == stunPending_.end() || it->second.first != from)
        return;
    const auto now = Clock::now();
    const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(now - it->second.second);
    stunPending_.erase(it);
    // Smoothed (7/8 old), so one slow answer does not move the home relay.
    auto& [latency, answered] = stunLatency_[from];
    latency =
        answered == Clock::time_point{} || relearn_.erase(from) ? rtt : (latency * 7 + rtt) / 8;
    answered = now;
    if (mapped_[from] != response->mapped)
        std::fprintf(stderr, "calnetd: STUN %s sees this node at %s\n", from.toString().c_str(),
                     response->mapped.toString().c_str());
    mapped_[from] = response->mapped;
    stunRoundAnswered_ = true;
    udpWorks_ = true;
    stunFailedRounds_ = 0;
    // Two servers that saw different ports: the mapping depends on the destination.
    std::optional<net::SocketAddress> first;
    for (const auto& [server, mapped] : mapped_) {
        if (mapped.address.family != net::Family::V4)
            continue;
        if (!first)
            first = mapped;
        else
            varies_ = mapped.port != first->port;
    }
}

bool PathManager::ping(const crypto::PublicKey& peer, PongHandler onPong) {
    const Call call(*this);
    if (!call.open)
        return false;
    Pending p;
    bool known;
    {
        std::lock_guard lock(mutex_);
        onPong_ = std::move(onPong);
        known = finder_.pingNow(peer, monoNow(), p.out);
        collectRoutes(finder_, p);
        p.onPong = onPong_;
    }
    apply(tunnel_, relay_.get(), options_, p, stopped_.load());
    wake_.notify_all();
    return known;
}

void PathManager::stopPing() {
    std::lock_guard lock(mutex_);
    onPong_ = nullptr;
}

std::optional<PathManager::PeerView> PathManager::peer(const crypto::PublicKey& key) const {
    std::lock_guard lock(mutex_);
    const disco::PeerPath* path = finder_.path(key);
    if (!path)
        return std::nullopt;
    PeerView v;
    v.path = *path;
    v.sinceMs =
        wallMs() -
        std::chrono::duration_cast<std::chrono::milliseconds>(monoNow() - path->since).count();
    v.relayName = relay_ ? relay_->regionFor(key) : std::string();
    return v;
}

std::map<net::SocketAddress, std::chrono::microseconds> PathManager::stunLatencies() const {
    std::lock_guard lock(mutex_);
    std::map<net::SocketAddress, std::chrono::microseconds> out;
    const auto now = Clock::now();
    for (const auto& [server, entry] : stunLatency_)
        if (now - entry.second < 3 * options_.stunInterval)
            out.emplace(server, entry.first);
    return out;
}

PathManager::Netcheck PathManager::netcheck() const {
    std::lock_guard lock(mutex_);
    Netcheck n;
    n.stunConfigured = !options_.stunServers.empty();
    n.udp = udpWorks_;
    for (const auto& [server, mapped] : mapped_)
        if (!n.reflexive || mapped.address.family == net::Family::V4)
            n.reflexive = mapped;
    n.mappingVariesByDestination = varies_;
    n.localEndpoints = local_;
    return n;
}

void PathManager::run() {
    Clock::time_point nextStun = Clock::now();
    bool retried = false;
    std::unique_lock lock(mutex_);
    {
        disco::Outbox out;
        refreshLocal(out);
        Pending p;
        p.out = std::move(out);
        collectRoutes(finder_, p);
        lock.unlock();
        apply(tunnel_, relay_.get(), options_, p, stopped_.load());
        lock.lock();
    }
    while (running_) {
        Pending p;
        const auto steady = Clock::now();
        const disco::Instant now = monoNow();

        // Traffic the data path sent since the last look keeps heartbeats at the active pace.
        bool tickNow = false;
        for (const auto& [key, ns] : tunnel_.paths().lastSent()) {
            auto& seen = lastActivity_[key];
            if (ns > seen) {
                seen = ns;
                tickNow |= finder_.noteActivity(key, disco::Instant(ns));
            }
        }

        // STUN rounds: at start, every stunInterval, on a network change.
        if (!options_.stunServers.empty()) {
            if (stunNow_ || steady >= nextStun) {
                if (stunNow_)
                    refreshLocal(p.out);
                stunNow_ = false;
                nextStun = steady + options_.stunInterval;
                stunPending_.clear();
                stunRoundStarted_ = steady;
                stunRoundAnswered_ = false;
                retried = false;
                for (const auto& server : options_.stunServers) {
                    stun::TransactionId id;
                    randombytes_buf(id.data(), id.size());
                    stunPending_[id] = {server, steady};
                    const auto req = stun::encodeBindingRequest(id);
                    p.stun.emplace_back(server, std::vector<std::uint8_t>(req.begin(), req.end()));
                }
            } else if (!stunRoundAnswered_ && stunRoundStarted_ != Clock::time_point{}) {
                const auto age = steady - stunRoundStarted_;
                if (!retried && age >= kStunRetry) {
                    retried = true;
                    for (auto& [id, entry] : stunPending_) {
                        entry.second = steady; // the round trip counts from the last send
                        const auto req = stun::encodeBindingRequest(id);
                        p.stun.emplace_back(entry.first,
                                            std::vector<std::uint8_t>(req.begin(), req.end()));
                    }
                } else if (age >= kStunRoundTimeout) {
                    stunRoundStarted_ = {};
                    ++stunFailedRounds_;
                    if (udpWorks_ != false) {
                        std::fprintf(stderr,
                                     "calnetd: no STUN answer within 3 s: UDP looks blocked\n");
                        udpWorks_ = false;
                        refreshLocal(p.out);
                    }
                }
            }
        }

        const disco::Instant next = finder_.tick(now, p.out);
        collectRoutes(finder_, p);
        p.onPong = onPong_;
        lock.unlock();
        apply(tunnel_, relay_.get(), options_, p, stopped_.load());
        lock.lock();
        if (tickNow)
            continue;

        auto wakeAt = steady + std::chrono::seconds(1); // activity is looked at every second
        if (next != disco::kNever) {
            const auto dueIn = std::chrono::duration_cast<Clock::duration>(next - now);
            wakeAt = std::min(wakeAt, steady + std::max(dueIn, Clock::duration(0)));
        }
        if (stunRoundStarted_ != Clock::time_point{} && !stunRoundAnswered_)
            wakeAt = std::min(wakeAt, steady + std::chrono::milliseconds(100));
        wake_.wait_until(lock, wakeAt);
    }
}

} // namespace calnet::helper
