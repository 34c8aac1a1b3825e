// ChaCha20-Poly1305 (RFC 8439 §2.8) and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha §2) over
// libsodium's combined-mode IETF AEADs: ciphertext and 16-byte tag are written back to back.
//
// This runs once per packet, so it does no allocation and no initialisation check: libsodium is
// initialised when this file's static initialiser runs. libsodium explicitly supports the message
// and ciphertext being the same buffer, which is how the data path encrypts in place.
#include "core/crypto/aead.h"

#include <cstdlib>

#include <sodium/core.h>
#include <sodium/crypto_aead_chacha20poly1305.h>
#include <sodium/crypto_aead_xchacha20poly1305.h>
#include <sodium/utils.h>

namespace calnet::crypto {

namespace {

// Selects the fastest ChaCha20 / Poly1305 code for this CPU before the first packet. In libsodium
// 1.0.18 a call made earlier (from another static initialiser) is still correct, on portable code.
[[maybe_unused]] const int kSodiumInit = sodium_init();

static_assert(kAeadKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(kAeadTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kAeadNonceSize == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kXAeadNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);

// The libsodium entry points of one construction, so seal/open are written once.
struct Construction {
    int (*encrypt)(unsigned char*, unsigned long long*, const unsigned char*, unsigned long long,
                   const unsigned char*, unsigned long long, const unsigned char*,
                   const unsigned char*, const unsigned char*);
    int (*decrypt)(unsigned char*, unsigned long long*, unsigned char*, const unsigned char*,
                   unsigned long long, const unsigned char*, unsigned long long,
                   const unsigned char*, const unsigned char*);
};

constexpr Construction kChaCha{crypto_aead_chacha20poly1305_ietf_encrypt,
                               crypto_aead_chacha20poly1305_ietf_decrypt};
constexpr Construction kXChaCha{crypto_aead_xchacha20poly1305_ietf_encrypt,
                                crypto_aead_xchacha20poly1305_ietf_decrypt};

void seal(const Construction& c, std::span<std::uint8_t> out, const AeadKey& key,
          const std::uint8_t* nonce, std::span<const std::uint8_t> plaintext,
          std::span<const std::uint8_t> associatedData) noexcept {
    // A short output buffer is a caller bug; writing past it would corrupt memory and leaving it
    // unencrypted would leak plaintext, so stop.
    if (out.size() < plaintext.size() + kAeadTagSize)
        std::abort();
    // Cannot fail for messages below libsodium's 256 GiB limit (it aborts above it).
    (void)c.encrypt(out.data(), nullptr, plaintext.data(), plaintext.size(), associatedData.data(),
                    associatedData.size(), nullptr, nonce, key.data());
}

bool open(const Construction& c, std::span<std::uint8_t> out, const AeadKey& key,
          const std::uint8_t* nonce, std::span<const std::uint8_t> ciphertext,
          std::span<const std::uint8_t> associatedData) noexcept {
    // Shorter than a tag is attacker-controlled input, not a caller bug: refuse it.
    if (ciphertext.size() < kAeadTagSize) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    const std::size_t plainLen = ciphertext.size() - kAeadTagSize;
    if (out.size() < plainLen) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    if (c.decrypt(out.data(), nullptr, nullptr, ciphertext.data(), ciphertext.size(),
                  associatedData.data(), associatedData.size(), nonce, key.data()) != 0) {
        // libsodium 1.0.18 already clears the message on a bad tag; the contract in aead.h must
        // not depend on that.
        sodium_memzero(out.data(), plainLen);
        return false;
    }
    return true;
}

} // namespace

AeadNonce counterNonce(std::uint64_t counter) noexcept {
    // WireGuard whitepaper §5.4.6 / Noise §12.3: 32 zero bits, then the counter little-endian.
    AeadNonce nonce{};
    for (std::size_t i = 0; i < 8; ++i)
        nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
    return nonce;
}

void aeadSeal(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
              std::span<const std::uint8_t> plaintext,
              std::span<const std::uint8_t> associatedData) noexcept {
    seal(kChaCha, out, key, nonce.data(), plaintext, associatedData);
}

bool aeadOpen(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
              std::span<const std::uint8_t> ciphertext,
              std::span<const std::uint8_t> associatedData) noexcept {
    return open(kChaCha, out, key, nonce.data(), ciphertext, associatedData);
}

void xaeadSeal(std::span<std::uint8_t> out, const AeadKey& key, const XAeadNonce& nonce,
               std::span<const std::uint8_t> plaintext,
               std::span<const std::uint8_t> associatedData) noexcept {
    seal(kXChaCha, out, key, nonce.data(), plaintext, associatedData);
}

bool xaeadOpen(std::span<std::uint8_t> out, const AeadKey& key, const XAeadNonce& nonce,
               std::span<const std::uint8_t> ciphertext,
               std::span<const std::uint8_t> associatedData) noexcept {
    return open(kXChaCha, out, key, nonce.data(), ciphertext, associatedData);
}

} // namespace calnet::crypto
