// Device: a sans-I/O WireGuard interface — identity, peers, cryptokey routing, handshakes,
// timers — that decides what happens to every packet without touching a socket or a clock.
//
// Flow (the helper does the I/O around these calls):
//
//   outbound  inner IP packet from TUN
//     prepareOutbound()    [device lock]  route by destination (allowed IPs), pick the current
//                                         keypair, reserve a counter -> SendTicket; or stage
//                                         the packet and start a handshake; or drop
//     Keypair::seal()      [no lock]      encrypt in place (crypto workers)
//     send the datagram to ticket.to, in ticket order
//
//   inbound   UDP datagram
//     messageType()        [no lock]      transport data, or a handshake/cookie message
//     prepareInbound()     [device lock]  find the keypair by receiver index -> RecvTicket
//     Keypair::open()      [no lock]      decrypt in place (crypto workers)
//     completeInbound()    [device lock]  replay window, roaming, key rotation, timers, inner
//                                         packet checks and the allowed-IPs source check
//     handleHandshake()    [device lock]  mac1, cookie under load, rate limit, Noise
//
//   tick(now)              [device lock]  fire due timers; returns the next deadline
//
// Device is not synchronised itself: the caller holds one lock around every call marked
// [device lock] (the helper's Tunnel does). Keypair::seal/open need no lock.
// Handshake and keepalive datagrams the engine wants sent come back in Actions.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/wireguard/allowedips.h"
#include "core/wireguard/cookie.h"
#include "core/wireguard/dropreason.h"
#include "core/wireguard/peer.h"
#include "core/wireguard/ratelimiter.h"

namespace calnet::wireguard {

struct Transmit {
    net::SocketAddress to;
    std::vector<std::uint8_t> bytes;
};

struct Actions {
    std::vector<Transmit> transmits;
};

// What prepareOutbound decided for a packet that was not dropped.
struct SendTicket {
    KeypairPtr keypair;
    std::uint64_t counter = 0;
    net::SocketAddress to;
    std::size_t paddedLength = 0; // plaintext length after padding (the caller zero-fills)
};

struct RecvTicket {
    KeypairPtr keypair;
};

enum class OutboundResult : std::uint8_t { Send, Staged, Dropped };
enum class InboundResult : std::uint8_t { WriteToTun, Keepalive, Dropped };

// The length of the padded plaintext for an inner packet (whitepaper §5.4.6): a multiple of 16,
// but never beyond the interface MTU unless the packet itself already is.
[[nodiscard]] std::size_t paddedLength(std::size_t packetLength, std::size_t mtu) noexcept;

// The message type of a datagram, or nullopt if the 4-byte header is not one of ours.
[[nodiscard]] std::optional<MessageType> messageType(std::span<const std::uint8_t> datagram);

class Device {
public:
    Device();
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    // ---- configuration ---------------------------------------------------------------------
    // Changes the identity. Peers whose public key equals the new public key are removed (a
    // peer cannot be ourselves); every session and pending handshake is dropped.
    void setPrivateKey(const crypto::PrivateKey& key);
    void clearPrivateKey();
    [[nodiscard]] bool hasPrivateKey() const noexcept { return hasKey_; }
    [[nodiscard]] const crypto::PrivateKey& privateKey() const noexcept { return privateKey_; }
    [[nodiscard]] const crypto::PublicKey& publicKey() const noexcept { return publicKey_; }

    void setMtu(std::size_t mtu) noexcept { mtu_ = mtu; }

    // The protocol's durations; spec() unless a test harness scales them (see timing.h).
    void setTiming(const Timing& timing) noexcept { timing_ = timing; }
    [[nodiscard]] const Timing& timing() const noexcept { return timing_; }
    [[nodiscard]] std::size_t mtu() const noexcept { return mtu_; }

    // Returns the existing peer with this key or adds one (nullptr if it is our own key).
    Peer* addPeer(const crypto::PublicKey& publicKey);
    [[nodiscard]] Peer* findPeer(const crypto::PublicKey& publicKey) noexcept;
    void removePeer(Peer* peer);
    void removeAllPeers();
    // Peers in the order they were added.
    [[nodiscard]] const std::vector<Peer*>& peers() const noexcept { return order_; }

    AllowedIps<Peer*>& allowedIps() noexcept { return allowedIps_; }
    // The prefixes routed to one peer (what `wg show allowed-ips` lists).
    [[nodiscard]] std::vector<net::IpPrefix> allowedIpsOf(const Peer& peer) const {
        // The trie is keyed by the pointer; looking up never writes through it.
        return allowedIps_.prefixesOf(const_cast<Peer*>(&peer));
    }
    [[nodiscard]] const AllowedIps<Peer*>& allowedIps() const noexcept { return allowedIps_; }

    // Sets the persistent keepalive; turning it on sends a keepalive at once (as wg does).
    void setPersistentKeepalive(Peer& peer, std::uint16_t seconds, Now now, Actions& actions);
    // Sets the endpoint of a peer (configuration, not roaming).
    void setEndpoint(Peer& peer, const net::SocketAddress& endpoint);

    // ---- data path -------------------------------------------------------------------------
    OutboundResult prepareOutbound(std::span<const std::uint8_t> packet, Now now,
                                   SendTicket& ticket, DropReason& reason, Actions& actions);
    [[nodiscard]] DropReason prepareInbound(std::span<const std::uint8_t> datagram, Now now,
                                            RecvTicket& ticket);
    // datagram has been opened in place by ticket.keypair->open(). On WriteToTun the inner
    // packet is datagram[16 .. 16 + innerLength).
    InboundResult completeInbound(const RecvTicket& ticket, std::span<std::uint8_t> datagram,
                                  const net::SocketAddress& from, Now now, std::size_t& innerLength,
                                  DropReason& reason, Actions& actions);
    // Handshake initiation, response or cookie reply.
    [[nodiscard]] DropReason handleHandshake(std::span<const std::uint8_t> datagram,
                                             const net::SocketAddress& from, Now now,
                                             bool underLoad, Actions& actions);

    // ---- timers ----------------------------------------------------------------------------
    // Fires every due timer; returns the next deadline (kNever if none).
    Instant tick(Now now, Actions& actions);
    // A deadline no later than the earliest armed timer, kept cheaply between ticks: when it
    // moves earlier than what the timer thread sleeps towards, that thread must be woken.
    [[nodiscard]] Instant deadlineHint() const noexcept { return deadlineHint_; }

    // ---- explicit actions ------------------------------------------------------------------
    // Starts a handshake with the peer now (subject to the 5 s initiation rate limit).
    void initiateHandshake(Peer& peer, Now now, Actions& actions) {
        sendInitiation(peer, now, false, actions);
    }
    void sendKeepalive(Peer& peer, Now now, Actions& actions);

    [[nodiscard]] std::size_t indexCount() const noexcept { return indices_.size(); }

private:
    struct IndexEntry {
        Peer* peer = nullptr;
        KeypairPtr keypair; // null while the index belongs to an in-flight handshake
    };

    std::uint32_t allocateIndex(Peer* peer);
    void releaseIndex(std::uint32_t index);
    void releaseKeypairs(std::vector<KeypairPtr>& dropped);
    void zeroHandshake(Peer& peer);
    void zeroKeyMaterial(Peer& peer);
    void sendInitiation(Peer& peer, Now now, bool isRetry, Actions& actions);
    void flushStaged(Peer& peer, Now now, Actions& actions);
    void keepKeyFreshSending(Peer& peer, Now now, Actions& actions);
    void keepKeyFreshReceiving(Peer& peer, Now now, Actions& actions);
    void beginSession(Peer& peer, Now now, bool initiator);
    DropReason consumeInitiation(std::span<const std::uint8_t> datagram,
                                 const net::SocketAddress& from, Now now, Actions& actions);
    DropReason consumeResponse(std::span<const std::uint8_t> datagram,
                               const net::SocketAddress& from, Now now, Actions& actions);
    DropReason consumeCookieReply(std::span<const std::uint8_t> datagram, Now now);
    void touch(const Peer& peer) noexcept;

    Timing timing_; // peers' Timers point here
    bool hasKey_ = false;
    crypto::PrivateKey privateKey_;
    crypto::PublicKey publicKey_{};
    std::size_t mtu_ = 1420;

    std::map<crypto::PublicKey, std::unique_ptr<Peer>> peersByKey_;
    std::vector<Peer*> order_;
    AllowedIps<Peer*> allowedIps_;
    std::unordered_map<std::uint32_t, IndexEntry> indices_;
    CookieChecker cookieChecker_;
    RateLimiter rateLimiter_;
    Instant deadlineHint_ = kNever;
};

} // namespace calnet::wireguard
