// Peer: everything calnet-core keeps about one remote WireGuard peer. A plain aggregate owned
// and mutated by Device under the device lock; see device.h for the rules.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "core/crypto/tai64n.h"
#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"
#include "core/wireguard/cookie.h"
#include "core/wireguard/keypair.h"
#include "core/wireguard/noise.h"
#include "core/wireguard/timers.h"

namespace calnet::wireguard {

// Handshake progress with one peer (wireguard-go's handshakeState values).
//   Zeroed             -> InitiationCreated  (we sent an initiation)
//   Zeroed             -> InitiationConsumed (we accepted the peer's initiation)
//   InitiationConsumed -> ResponseCreated    (we answered; keys derived at once, back to Zeroed)
//   InitiationCreated  -> ResponseConsumed   (the answer arrived; keys derived, back to Zeroed)
enum class HandshakeState : std::uint8_t {
    Zeroed,
    InitiationCreated,
    InitiationConsumed,
    ResponseCreated,
    ResponseConsumed,
};
[[nodiscard]] const char* toString(HandshakeState state) noexcept;

struct Handshake {
    HandshakeState state = HandshakeState::Zeroed;
    std::optional<NoiseIkPsk2> noise; // the in-flight Noise state
    std::uint32_t localIndex = 0;     // our index for this handshake (0 = none)
    std::uint32_t remoteIndex = 0;    // the peer's sender index
    crypto::Tai64n latestTimestamp{}; // newest initiation timestamp accepted from this peer
    Instant lastInitiationConsumed = kNever;
    Instant lastSentInitiation = kNever;
};

class Peer {
public:
    explicit Peer(const crypto::PublicKey& publicKey, const Timing& timing = Timing::spec())
        : timers(timing), publicKey_(publicKey) {
        cookies.setRemotePublicKey(publicKey);
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    [[nodiscard]] const crypto::PublicKey& publicKey() const noexcept { return publicKey_; }

    crypto::Secret<32> presharedKey;            // all zero = none (whitepaper: Q = 0^32)
    std::optional<net::SocketAddress> endpoint; // learned or configured
    // The endpoint is a handle the host resolves per packet (a Calnet mesh peer, whose path the
    // helper picks: direct or relayed): authenticated packets from elsewhere do not move it.
    bool pinnedEndpoint = false;
    std::uint64_t rxBytes = 0;
    std::uint64_t txBytes = 0;
    std::optional<crypto::WallTime> lastHandshake; // wall time of the last completed handshake

    Handshake handshake;
    KeypairSet keypairs;
    Timers timers;
    CookieGenerator cookies;
    std::deque<std::vector<std::uint8_t>> staged; // inner packets waiting for a session

private:
    crypto::PublicKey publicKey_;
};

} // namespace calnet::wireguard
