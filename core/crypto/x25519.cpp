// X25519 (RFC 7748) over libsodium's crypto_scalarmult_curve25519.
//
// libsodium clamps the scalar itself and ignores bit 255 of u (RFC 7748 §5), so callers may pass
// unclamped keys. The all-zero check of RFC 7748 §6.1 is done here as well as in libsodium, so the
// "never a zero shared secret" guarantee does not depend on the libsodium version.
#include "core/crypto/x25519.h"

#include <cstdlib>

#include <sodium/core.h>
#include <sodium/crypto_scalarmult_curve25519.h>
#include <sodium/randombytes.h>
#include <sodium/utils.h>

namespace calnet::crypto {

namespace {

// sodium_init() must precede other libsodium calls (it seeds randombytes and picks the fastest
// scalarmult code for this CPU). It is idempotent and thread-safe; running it at static
// initialisation of this file keeps x25519() free of any check.
[[maybe_unused]] const int kSodiumInit = sodium_init();

void requireSodium() {
    // Key generation is rare, so it may pay for the lock inside sodium_init(); if libsodium cannot
    // initialise, there is no safe source of keys and we must not continue.
    if (sodium_init() < 0)
        std::abort();
}

} // namespace

PrivateKey generatePrivateKey() {
    requireSodium();
    PrivateKey key;
    randombytes_buf(key.data(), key.size());
    clampPrivateKey(key);
    return key;
}

void clampPrivateKey(PrivateKey& key) noexcept {
    // RFC 7748 §5 decodeScalar25519: a multiple of the cofactor 8, with bit 254 set.
    key.data()[0] &= 248;
    key.data()[31] &= 127;
    key.data()[31] |= 64;
}

PublicKey publicKeyOf(const PrivateKey& privateKey) noexcept {
    PublicKey pub{};
    if (crypto_scalarmult_curve25519_base(pub.data(), privateKey.data()) != 0) {
        // Cannot happen for a clamped scalar; an all-zero key is refused by every peer (x25519()
        // below), so it fails closed.
        pub.fill(0);
    }
    return pub;
}

std::optional<Secret<32>> x25519(const PrivateKey& privateKey,
                                 const PublicKey& peerPublic) noexcept {
    Secret<32> shared;
    // libsodium returns -1 for small-order u and for an all-zero result; sodium_is_zero() repeats
    // the RFC 7748 §6.1 check in constant time. On failure `shared` is wiped by its destructor.
    if (crypto_scalarmult_curve25519(shared.data(), privateKey.data(), peerPublic.data()) != 0 ||
        shared.isZero())
        return std::nullopt;
    return shared;
}

bool isUsablePublicKey(const PublicKey& key) noexcept {
    // Any clamped scalar is a multiple of the cofactor 8, so it sends every small-order point to
    // zero and no other point: one scalar multiplication tells them apart.
    static const PrivateKey probe = [] {
        PrivateKey k;
        for (std::size_t i = 0; i < k.size(); ++i)
            k.data()[i] = std::uint8_t(0x5a ^ i);
        clampPrivateKey(k);
        return k;
    }();
    return x25519(probe, key).has_value();
}

} // namespace calnet::crypto
