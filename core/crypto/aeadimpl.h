// AeadImpl: one implementation of ChaCha20-Poly1305 (RFC 8439), and the choice the transport
// data path makes among several.
//
// libsodium is the reference: aeadSeal/aeadOpen (handshakes, cookies, tests) always use it, and
// it is every data path's fallback. Faster implementations (the helper registers OpenSSL's) plug
// in through the same two functions; the helper measures them once at start and installs a
// TransportAead: one implementation below a size threshold, another from it on, because the
// per-call overhead and the per-byte speed of implementations differ (OpenSSL's EVP is slower
// than libsodium for a 96-byte packet and much faster for 1,440 bytes).
//
// Contracts are those of aeadSeal/aeadOpen (aead.h): in place or disjoint buffers; open() zeroes
// its output when the tag does not verify.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>

#include "core/crypto/aead.h"

namespace calnet::crypto {

struct AeadImpl {
    const char* name;
    void (*seal)(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
                 std::span<const std::uint8_t> plaintext,
                 std::span<const std::uint8_t> associatedData) noexcept;
    bool (*open)(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
                 std::span<const std::uint8_t> ciphertext,
                 std::span<const std::uint8_t> associatedData) noexcept;
};

// The reference implementation (what aeadSeal/aeadOpen call).
[[nodiscard]] const AeadImpl& libsodiumAead() noexcept;

// Which implementation transport messages use: `small` for plaintexts shorter than `threshold`
// bytes, `large` for the rest.
struct TransportAead {
    const AeadImpl* small = &libsodiumAead();
    const AeadImpl* large = &libsodiumAead();
    std::size_t threshold = 0;
};

// Installs a choice for every later transportSeal/transportOpen. Meant to be called once, before
// any tunnel runs; a packet in flight during the call uses either the old or the new choice.
void setTransportAead(const TransportAead& choice) noexcept;
[[nodiscard]] TransportAead transportAead() noexcept;

// Seal/open a transport message body (empty associated data) with the installed choice.
void transportSeal(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
                   std::span<const std::uint8_t> plaintext) noexcept;
[[nodiscard]] bool transportOpen(std::span<std::uint8_t> out, const AeadKey& key,
                                 const AeadNonce& nonce,
                                 std::span<const std::uint8_t> ciphertext) noexcept;

} // namespace calnet::crypto
