// ChaCha20-Poly1305 (RFC 8439) and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) via libsodium.
//
// seal() writes plaintext.size() + kAeadTagSize bytes; open() writes ciphertext.size() -
// kAeadTagSize bytes and returns false, with the output zeroed, when the tag does not verify.
// Input and output may be the very same buffer (in-place) but must not otherwise overlap.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/secret.h"

namespace calnet::crypto {

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadTagSize = 16;
inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kXAeadNonceSize = 24;

using AeadKey = Secret<kAeadKeySize>;
using AeadNonce = std::array<std::uint8_t, kAeadNonceSize>;
using XAeadNonce = std::array<std::uint8_t, kXAeadNonceSize>;

// The nonce WireGuard and Noise use: 32 zero bits followed by the little-endian 64-bit counter.
[[nodiscard]] AeadNonce counterNonce(std::uint64_t counter) noexcept;

void aeadSeal(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
              std::span<const std::uint8_t> plaintext,
              std::span<const std::uint8_t> associatedData) noexcept;
[[nodiscard]] bool aeadOpen(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
                            std::span<const std::uint8_t> ciphertext,
                            std::span<const std::uint8_t> associatedData) noexcept;

void xaeadSeal(std::span<std::uint8_t> out, const AeadKey& key, const XAeadNonce& nonce,
               std::span<const std::uint8_t> plaintext,
               std::span<const std::uint8_t> associatedData) noexcept;
[[nodiscard]] bool xaeadOpen(std::span<std::uint8_t> out, const AeadKey& key,
                             const XAeadNonce& nonce, std::span<const std::uint8_t> ciphertext,
                             std::span<const std::uint8_t> associatedData) noexcept;

} // namespace calnet::crypto
