// PathTable: where the data path sends a mesh peer's packets, decided elsewhere (PathManager)
// and read on every batch.
//
// A mesh peer's WireGuard endpoint is not an address but a handle, [100::N]:1 (100::/64 is the
// IPv6 discard-only prefix, RFC 6666, so a handle can never be a real destination), pinned so
// that roaming does not replace it (wireguard::Peer::pinnedEndpoint). Before a datagram for a
// handle leaves, resolve() looks up the peer's route: a UDP address (direct path), the relay
// (the datagram is handed to the relay sender), or nothing (dropped). Changing a route changes
// where the next packet goes: no handshake, no session change. Packets that arrive through the
// relay are given to WireGuard as if they came from the sender's handle.
//
// The table also carries the two sinks of the mesh: the relay sender, and the receiver of
// datagrams on the WireGuard socket that are not WireGuard (disco and STUN). Readers hold a
// shared lock for a batch; writers (path changes, sinks) an exclusive one.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"

namespace calnet::helper {

struct Datagram;

// Sends a packet to a node through the relay (copying it); false when it was dropped.
class RelaySender {
public:
    virtual ~RelaySender() = default;
    virtual bool sendTo(const crypto::PublicKey& node, std::span<const std::uint8_t> packet) = 0;
    // The name of the relay region packets to `node` go through ("" when unknown).
    [[nodiscard]] virtual std::string regionFor(const crypto::PublicKey& node) const = 0;
};

// Receives what arrives on the WireGuard socket that is not WireGuard (called without any lock
// of the table held, so it may change routes).
class DatagramSink {
public:
    virtual ~DatagramSink() = default;
    virtual void receive(std::span<const std::uint8_t> datagram,
                         const net::SocketAddress& from) = 0;
};

class PathTable {
public:
    struct Route {
        enum class Kind : std::uint8_t { Drop, Udp, Relay };
        Kind kind = Kind::Drop;
        net::SocketAddress udp;
    };

    [[nodiscard]] static bool isHandle(const net::SocketAddress& a) noexcept;

    // The handle of a node, assigned on first use and kept until forget().
    net::SocketAddress handleFor(const crypto::PublicKey& node);
    void forget(const crypto::PublicKey& node);
    // Sets the route. The latest handshake initiation and the latest handshake response to each
    // node are kept for 5 s: when the route changes they are sent again on the new one (they
    // may have been lost on the old), instead of the initiator waiting for WireGuard's 5 s
    // retry. The response matters as much as the initiation: a peer that has just learned a
    // path to us answers on its own route to us, which may not exist yet.
    void setRoute(const crypto::PublicKey& node, const Route& route);
    // Sends the held handshake messages (those under 5 s old) again on the current route: the
    // peer was absent from the relay when they went out and has just been heard from.
    void resendHeld(const crypto::PublicKey& node);
    // The node behind a handle (for packets arriving through the relay the other way round).
    [[nodiscard]] std::optional<net::SocketAddress> handleOf(const crypto::PublicKey& node) const;

    void setRelay(std::shared_ptr<RelaySender> relay);
    // How a held initiation goes out on UDP (the Tunnel's socket); set once, before use.
    void setUdpSender(
        std::function<void(const net::SocketAddress&, std::span<const std::uint8_t>)> send) {
        sendUdp_ = std::move(send);
    }
    void setOtherSink(std::shared_ptr<DatagramSink> sink);
    // Drops every route and both sinks (the mesh session ended).
    void clear();

    // Rewrites the destination of every datagram addressed to a handle: UDP routes get the
    // address, relay routes are sent through the relay and, like drops, removed from the batch
    // (order kept). Returns the new batch size; `dropped` counts those without a route.
    std::size_t resolve(std::span<Datagram> batch, std::uint64_t& dropped);
    // The same for one datagram: true when it is to go out on UDP to `to` (rewritten).
    bool resolveOne(net::SocketAddress& to, std::span<const std::uint8_t> bytes);
    // Non-WireGuard datagram from the socket: true when a sink took it.
    bool deliverOther(std::span<const std::uint8_t> datagram, const net::SocketAddress& from);

    // Whether any handle exists (the data path skips resolve() otherwise).
    [[nodiscard]] bool active() const noexcept { return active_.load(std::memory_order_relaxed); }

    // Per node: the monotonic time (ns) a data packet last went out to it (0 = never).
    [[nodiscard]] std::map<crypto::PublicKey, std::int64_t> lastSent() const;

private:
    struct Entry {
        crypto::PublicKey node{};
        bool used = false;
        Route route;
        // The latest initiation [0] and response [1] sent to the node, with when (monotonic ns).
        std::array<std::vector<std::uint8_t>, 2> held;
        std::array<std::int64_t, 2> heldAt{};
        // Written by the data path under the shared lock: a relaxed atomic.
        std::unique_ptr<std::atomic<std::int64_t>> lastSent =
            std::make_unique<std::atomic<std::int64_t>>(0);
    };
    static net::SocketAddress makeHandle(std::uint32_t index) noexcept;
    Entry* entryOf(const net::SocketAddress& handle) noexcept;
    bool route(Entry& e, net::SocketAddress& to, std::span<const std::uint8_t> bytes,
               std::int64_t nowNs);
    // Sends copies of the entry's held messages younger than 5 s on `route` (no lock held).
    void sendHeld(const crypto::PublicKey& node, const Route& route,
                  const std::vector<std::vector<std::uint8_t>>& held,
                  const std::shared_ptr<RelaySender>& relay);
    static std::vector<std::vector<std::uint8_t>> freshHeld(const Entry& e, std::int64_t nowNs);

    mutable std::shared_mutex mutex_;
    std::vector<Entry> entries_; // index = handle number - 1
    std::map<crypto::PublicKey, std::uint32_t> byNode_;
    std::vector<std::uint32_t> free_;
    std::shared_ptr<RelaySender> relay_;
    std::shared_ptr<DatagramSink> other_;
    // The held handshake messages are written by the data path under the shared lock.
    std::mutex heldMutex_;
    // Sends what setRoute() releases (set by the Tunnel: its socket).
    std::function<void(const net::SocketAddress&, std::span<const std::uint8_t>)> sendUdp_;
    std::atomic<bool> active_{false};
};

} // namespace calnet::helper
