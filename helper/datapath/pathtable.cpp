#include "helper/datapath/pathtable.h"

#include <chrono>
#include <mutex>

#include "helper/platform/bind.h"

namespace calnet::helper {

namespace {

constexpr std::uint16_t kHandlePort = 1;
// Transport data with a payload: more than a keepalive (header 16 + tag 16).
constexpr std::size_t kKeepaliveSize = 32;
constexpr std::size_t kInitiationSize = 148;
constexpr std::size_t kResponseSize = 92;
// A handshake message older than this is not worth sending: WireGuard's initiator has given
// up on it and sent a new initiation by then (REKEY_TIMEOUT).
constexpr std::int64_t kHoldHandshakeNs = 5'000'000'000;

std::int64_t monotonicNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

bool PathTable::isHandle(const net::SocketAddress& a) noexcept {
    // 100::/64, as 0x01 0x00 followed by six zero bytes.
    const auto& b = a.address.bytes;
    return a.address.family == net::Family::V6 && b[0] == 0x01 && b[1] == 0 && b[2] == 0 &&
           b[3] == 0 && b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] == 0 && a.port == kHandlePort;
}

net::SocketAddress PathTable::handleFor(const crypto::PublicKey& node) {
    std::unique_lock lock(mutex_);
    std::uint32_t index;
    if (auto it = byNode_.find(node); it != byNode_.end()) {
        index = it->second;
    } else {
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = std::uint32_t(entries_.size());
            entries_.emplace_back();
        }
        Entry& e = entries_[index];
        e.node = node;
        e.used = true;
        e.route = {};
        e.lastSent->store(0, std::memory_order_relaxed);
        byNode_[node] = index;
        active_ = true;
    }
    return makeHandle(index);
}

net::SocketAddress PathTable::makeHandle(std::uint32_t index) noexcept {
    net::SocketAddress h;
    h.address.family = net::Family::V6;
    h.address.bytes[0] = 0x01;
    const std::uint32_t n = index + 1;
    h.address.bytes[12] = std::uint8_t(n >> 24);
    h.address.bytes[13] = std::uint8_t(n >> 16);
    h.address.bytes[14] = std::uint8_t(n >> 8);
    h.address.bytes[15] = std::uint8_t(n);
    h.port = kHandlePort;
    return h;
}

std::optional<net::SocketAddress> PathTable::handleOf(const crypto::PublicKey& node) const {
    std::shared_lock lock(mutex_);
    auto it = byNode_.find(node);
    if (it == byNode_.end())
        return std::nullopt;
    return makeHandle(it->second);
}

void PathTable::forget(const crypto::PublicKey& node) {
    std::unique_lock lock(mutex_);
    auto it = byNode_.find(node);
    if (it == byNode_.end())
        return;
    Entry& e = entries_[it->second];
    e.used = false;
    e.route = {};
    e.held = {}; // a reused entry must not send this node's handshake to another
    e.heldAt = {};
    free_.push_back(it->second);
    byNode_.erase(it);
}

void PathTable::setRoute(const crypto::PublicKey& node, const Route& route) {
    std::vector<std::vector<std::uint8_t>> held;
    std::shared_ptr<RelaySender> relay;
    {
        std::unique_lock lock(mutex_);
        auto it = byNode_.find(node);
        if (it == byNode_.end())
            return;
        Entry& e = entries_[it->second];
        const bool changed = e.route.kind != route.kind ||
                             (route.kind == Route::Kind::Udp && e.route.udp != route.udp);
        e.route = route;
        if (!changed || route.kind == Route::Kind::Drop)
            return;
        held = freshHeld(e, monotonicNs());
        relay = relay_;
    }
    // The latest handshake messages may have been lost on the old path (dropped for want of
    // one, or the relay did not have the peer yet): send them again on the new one rather than
    // wait for WireGuard's retry. A copy that arrives twice is refused (an initiation whose
    // timestamp is not newer, a response to an index no longer waiting), so this is safe.
    sendHeld(node, route, held, relay);
}

void PathTable::resendHeld(const crypto::PublicKey& node) {
    std::vector<std::vector<std::uint8_t>> held;
    Route route;
    std::shared_ptr<RelaySender> relay;
    {
        std::unique_lock lock(mutex_);
        auto it = byNode_.find(node);
        if (it == byNode_.end())
            return;
        held = freshHeld(entries_[it->second], monotonicNs());
        route = entries_[it->second].route;
        relay = relay_;
    }
    sendHeld(node, route, held, relay);
}

std::vector<std::vector<std::uint8_t>> PathTable::freshHeld(const Entry& e, std::int64_t nowNs) {
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t i = 0; i < e.held.size(); ++i) {
        if (!e.held[i].empty() && nowNs - e.heldAt[i] < kHoldHandshakeNs)
            out.push_back(e.held[i]);
    }
    return out;
}

void PathTable::sendHeld(const crypto::PublicKey& node, const Route& route,
                         const std::vector<std::vector<std::uint8_t>>& held,
                         const std::shared_ptr<RelaySender>& relay) {
    for (const auto& message : held) {
        if (route.kind == Route::Kind::Udp && sendUdp_)
            sendUdp_(route.udp, message);
        else if (route.kind == Route::Kind::Relay && relay)
            relay->sendTo(node, message);
    }
}

void PathTable::setRelay(std::shared_ptr<RelaySender> relay) {
    std::unique_lock lock(mutex_);
    relay_ = std::move(relay);
}

void PathTable::setOtherSink(std::shared_ptr<DatagramSink> sink) {
    std::unique_lock lock(mutex_);
    other_ = std::move(sink);
}

void PathTable::clear() {
    std::unique_lock lock(mutex_);
    entries_.clear();
    byNode_.clear();
    free_.clear();
    relay_.reset();
    other_ = nullptr;
    active_ = false;
}

PathTable::Entry* PathTable::entryOf(const net::SocketAddress& handle) noexcept {
    const auto& b = handle.address.bytes;
    if (b[8] | b[9] | b[10] | b[11])
        return nullptr;
    const std::uint32_t n = (std::uint32_t(b[12]) << 24) | (std::uint32_t(b[13]) << 16) |
                            (std::uint32_t(b[14]) << 8) | b[15];
    if (n == 0 || n > entries_.size() || !entries_[n - 1].used)
        return nullptr;
    return &entries_[n - 1];
}

bool PathTable::route(Entry& e, net::SocketAddress& to, std::span<const std::uint8_t> bytes,
                      std::int64_t nowNs) {
    if (bytes.size() > kKeepaliveSize)
        e.lastSent->store(nowNs, std::memory_order_relaxed);
    const bool initiation = bytes.size() == kInitiationSize && bytes[0] == 1;
    if (initiation || (bytes.size() == kResponseSize && bytes[0] == 2)) {
        const std::size_t slot = initiation ? 0 : 1;
        std::lock_guard held(heldMutex_);
        e.held[slot].assign(bytes.begin(), bytes.end());
        e.heldAt[slot] = nowNs;
    }
    switch (e.route.kind) {
    case Route::Kind::Udp:
        to = e.route.udp;
        return true;
    case Route::Kind::Relay:
        if (relay_)
            relay_->sendTo(e.node, bytes);
        return false;
    case Route::Kind::Drop:
        break;
    }
    return false;
}

std::size_t PathTable::resolve(std::span<Datagram> batch, std::uint64_t& dropped) {
    std::shared_lock lock(mutex_);
    const std::int64_t now = monotonicNs();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        Datagram& d = batch[i];
        if (isHandle(d.peer)) {
            Entry* e = entryOf(d.peer);
            if (!e) {
                ++dropped;
                continue;
            }
            if (!route(*e, d.peer, {d.data, d.length}, now)) {
                if (e->route.kind == Route::Kind::Drop)
                    ++dropped;
                continue;
            }
        }
        if (kept != i)
            batch[kept] = d;
        ++kept;
    }
    return kept;
}

bool PathTable::resolveOne(net::SocketAddress& to, std::span<const std::uint8_t> bytes) {
    if (!isHandle(to))
        return true;
    std::shared_lock lock(mutex_);
    Entry* e = entryOf(to);
    return e && route(*e, to, bytes, monotonicNs());
}

bool PathTable::deliverOther(std::span<const std::uint8_t> datagram,
                             const net::SocketAddress& from) {
    std::shared_ptr<DatagramSink> sink;
    {
        std::shared_lock lock(mutex_);
        sink = other_;
    }
    if (!sink)
        return false;
    sink->receive(datagram, from);
    return true;
}

std::map<crypto::PublicKey, std::int64_t> PathTable::lastSent() const {
    std::shared_lock lock(mutex_);
    std::map<crypto::PublicKey, std::int64_t> out;
    for (const auto& [node, index] : byNode_)
        out[node] = entries_[index].lastSent->load(std::memory_order_relaxed);
    return out;
}

} // namespace calnet::helper
