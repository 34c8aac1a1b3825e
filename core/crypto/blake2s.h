// BLAKE2s (RFC 7693) through libb2, and the constructions WireGuard builds on it
// (whitepaper §5.4): HASH, MAC (keyed BLAKE2s-128), HMAC-BLAKE2s and KDF1..3.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "core/crypto/secret.h"

namespace calnet::crypto {

inline constexpr std::size_t kHashSize = 32;
inline constexpr std::size_t kMacSize = 16;
inline constexpr std::size_t kBlake2sBlockSize = 64;

using Hash = std::array<std::uint8_t, kHashSize>;
using Mac = std::array<std::uint8_t, kMacSize>;
using Bytes = std::span<const std::uint8_t>;

// Generic BLAKE2s: out.size() in 1..32, key.size() in 0..32 (empty = unkeyed).
void blake2s(std::span<std::uint8_t> out, Bytes input, Bytes key = {}) noexcept;

// HASH(parts[0] || parts[1] || ...), unkeyed 32-byte BLAKE2s.
[[nodiscard]] Hash hash(std::initializer_list<Bytes> parts) noexcept;

// MAC(key, input): keyed BLAKE2s with a 16-byte output (whitepaper: Mac).
[[nodiscard]] Mac mac(Bytes key, Bytes input) noexcept;

// HMAC(key, input) with BLAKE2s as the hash (RFC 2104, block size 64).
[[nodiscard]] Hash hmac(Bytes key, Bytes input) noexcept;

// KDFn(key, input) of the whitepaper: tau0 = HMAC(key, input), tau1 = HMAC(tau0, 0x1),
// tau_i = HMAC(tau0, tau_{i-1} || i). Outputs are key material and so are Secrets.
void kdf1(Secret<32>& t1, Bytes key, Bytes input) noexcept;
void kdf2(Secret<32>& t1, Secret<32>& t2, Bytes key, Bytes input) noexcept;
void kdf3(Secret<32>& t1, Secret<32>& t2, Secret<32>& t3, Bytes key, Bytes input) noexcept;

} // namespace calnet::crypto
