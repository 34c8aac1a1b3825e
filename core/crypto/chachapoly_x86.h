// ChaCha20-Poly1305 (RFC 8439) written for x86-64 vector units: the transport data path's
// fastest AEAD where the CPU has AVX2 (and faster still with AVX-512).
//
//   seal: ChaCha20 keystream blocks 0..n (block 0's first 32 bytes are the one-time Poly1305
//         key, §2.6) XORed onto the plaintext from block 1 on (§2.4), then Poly1305 over
//         aad | pad16 | ciphertext | pad16 | len(aad) | len(ciphertext) (§2.8).
//   open: the first keystream blocks, the tag over the ciphertext, a constant-time compare,
//         and only then the XOR that yields the plaintext (in place or not).
//
// Keystream: 16 blocks at a time with AVX-512 (one 32-bit state word of 16 blocks per
// register, then a 16×16 word transpose), 8 at a time with AVX2; Poly1305: radix 2^64 with
// 64×64→128-bit multiplies. Each entry point is compiled for its instruction set with a target
// attribute, so the rest of calnet-core still runs on any x86-64; simdAead() picks one by
// CPUID at run time. libsodium stays the reference: tests compare the two on every length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/crypto/aeadimpl.h"

namespace calnet::crypto {

// The AVX-512 implementation when the CPU has AVX-512F/VL, else the AVX2 one, else nullptr.
[[nodiscard]] const AeadImpl* simdAead() noexcept;
// Each variant alone (nullptr where the CPU lacks it), for tests and benchmarks.
[[nodiscard]] const AeadImpl* simdAeadAvx2() noexcept;
[[nodiscard]] const AeadImpl* simdAeadAvx512() noexcept;

// The building blocks, exposed for known-answer tests (RFC 8439 §2.4.2, §2.5.2). Portable
// scalar code; the vector variants are checked against these and libsodium.
void poly1305(std::uint8_t tag[16], const std::uint8_t key[32],
              std::span<const std::uint8_t> message) noexcept;

} // namespace calnet::crypto
