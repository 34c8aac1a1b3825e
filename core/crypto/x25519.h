// X25519 (RFC 7748) through libsodium.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "core/crypto/secret.h"

namespace calnet::crypto {

inline constexpr std::size_t kX25519KeySize = 32;

using PublicKey = std::array<std::uint8_t, kX25519KeySize>;
using PrivateKey = Secret<kX25519KeySize>;

// A fresh private key from the system CSPRNG, clamped as RFC 7748 §5 describes.
[[nodiscard]] PrivateKey generatePrivateKey();

// Clamps a private key in place (RFC 7748 §5: clear bits 0,1,2 and 255, set bit 254).
void clampPrivateKey(PrivateKey& key) noexcept;

// The public key of a private key (scalar multiplication by the base point 9).
[[nodiscard]] PublicKey publicKeyOf(const PrivateKey& privateKey) noexcept;

// X25519(privateKey, peerPublic). Returns std::nullopt when the shared secret is all zero,
// which happens for low-order peer points; the WireGuard handshake must then be aborted.
[[nodiscard]] std::optional<Secret<32>> x25519(const PrivateKey& privateKey,
                                               const PublicKey& peerPublic) noexcept;

// False for a public key no honest peer can have: a point of small order (the all-zero key among
// them), with which every Diffie-Hellman result is zero and every handshake fails (RFC 7748
// §6.1). A coordination server refuses such keys at registration instead of handing them out.
[[nodiscard]] bool isUsablePublicKey(const PublicKey& key) noexcept;

} // namespace calnet::crypto
