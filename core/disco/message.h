// Disco: the small messages with which two Calnet nodes find a path to each other (docs/
// protocol.md "Disco"). They travel on the WireGuard UDP socket itself, so that a path they
// prove is the path WireGuard traffic takes, and through the relay. Every message is sealed
// with crypto_box between the two nodes' disco keys (published in the network map), so only a
// node of the map can make one, and nobody on the path can read or alter it.
//
//   datagram  magic "CNDISC" (6) | sender's disco public key (32) | nonce (24) |
//             crypto_box(payload) (payload + 16)
//   payload   type (1) | version 0 (1) | body
//     ping          0x01  transaction id (12) | sender's node key (32)
//     pong          0x02  transaction id (12) | the address the ping came from (16 + 2)
//     call-me-maybe 0x03  flags (1) | n (1) | n addresses (16 + 2 each), n <= kMaxEndpoints
//
// Addresses are 16 bytes (IPv4 as ::ffff:a.b.c.d) and a big-endian port. The magic cannot be
// confused with WireGuard (whose first byte is 1-4 followed by three zero bytes) or with STUN
// (whose first two bits are zero). A pong is smaller than the ping it answers: nothing is
// amplified.
//
// Pure: libsodium only (crypto_box and its random nonce); no sockets, no clock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"

namespace calnet::disco {

inline constexpr std::array<std::uint8_t, 6> kMagic = {'C', 'N', 'D', 'I', 'S', 'C'};
inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kNonceSize = 24;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kHeaderSize = kMagic.size() + kKeySize + kNonceSize;
inline constexpr std::size_t kAddressSize = 18;
inline constexpr std::size_t kMaxEndpoints = 32;
// The largest datagram: a call-me-maybe with every endpoint.
inline constexpr std::size_t kMaxDatagram =
    kHeaderSize + kTagSize + 2 + 2 + kMaxEndpoints * kAddressSize;

using TxId = std::array<std::uint8_t, 12>;

struct Ping {
    TxId txid{};
    crypto::PublicKey nodeKey{};
    friend bool operator==(const Ping&, const Ping&) = default;
};

struct Pong {
    TxId txid{};
    net::SocketAddress observed; // where the ping came from, as the answering node saw it
    friend bool operator==(const Pong&, const Pong&) = default;
};

// Sent through the relay: "these are my endpoints, ping me now" (both sides then send at once,
// which opens the two NATs' mappings towards each other).
struct CallMeMaybe {
    enum Flag : std::uint8_t {
        SymmetricNat = 0x01, // the sender's NAT maps each destination to its own port
        UdpBlocked = 0x02,   // the sender gets no UDP answers at all
    };
    std::uint8_t flags = 0;
    std::vector<net::SocketAddress> endpoints;
    friend bool operator==(const CallMeMaybe&, const CallMeMaybe&) = default;
};

using Message = std::variant<Ping, Pong, CallMeMaybe>;

// True when the datagram starts with the magic and is long enough to carry a sealed message:
// the demultiplexing test on the shared socket.
[[nodiscard]] bool looksLikeDisco(std::span<const std::uint8_t> datagram) noexcept;

// The sender's disco key of a datagram that looksLikeDisco() (to find the shared key).
[[nodiscard]] crypto::PublicKey senderKey(std::span<const std::uint8_t> datagram) noexcept;

[[nodiscard]] std::vector<std::uint8_t> encodePayload(const Message& message);
// nullopt for an unknown type or version, a wrong length, more than kMaxEndpoints endpoints.
[[nodiscard]] std::optional<Message> decodePayload(std::span<const std::uint8_t> payload);

// The crypto_box key shared by our disco private key and a peer's disco public key, computed
// once per peer (crypto_box_beforenm). Invalid when the peer's key is of small order.
class SharedKey {
public:
    SharedKey() = default;
    SharedKey(const crypto::PrivateKey& ours, const crypto::PublicKey& theirs) noexcept;
    ~SharedKey();
    SharedKey(const SharedKey& other) noexcept { *this = other; }
    SharedKey& operator=(const SharedKey& other) noexcept;
    [[nodiscard]] bool valid() const noexcept { return valid_; }

    // Seals `message` from `ourPublic` with a fresh random nonce.
    [[nodiscard]] std::vector<std::uint8_t> seal(const crypto::PublicKey& ourPublic,
                                                 const Message& message) const;
    // Opens a datagram that looksLikeDisco() and whose sender key led to this shared key.
    [[nodiscard]] std::optional<Message> open(std::span<const std::uint8_t> datagram) const;

private:
    std::array<std::uint8_t, 32> key_{};
    bool valid_ = false;
};

} // namespace calnet::disco
