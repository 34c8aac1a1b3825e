// Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (Noise spec rev. 34 §5, §7.5, §9): the symmetric state
// and the two-message IKpsk2 pattern, independent of WireGuard's framing.
//
//   IKpsk2:
//     <- s
//     ...
//     -> e, es, s, ss          (message A, initiator to responder)
//     <- e, ee, se, psk        (message B, responder to initiator)
//
// In psk mode every "e" token also does MixKey(e.public_key) (Noise §9.2). WireGuard's handshake
// (whitepaper §5.4.2-5.4.3) is exactly this pattern with the prologue "WireGuard v1 zx2c4
// Jason@zx2c4.com", a 12-byte TAI64N payload in message A and an empty payload in message B;
// handshake.cpp adds the framing, indices and MACs around it. The generic form lets the test
// suite replay the published cacophony vector byte for byte through the same code.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/crypto/aead.h"
#include "core/crypto/blake2s.h"
#include "core/crypto/x25519.h"

namespace calnet::wireguard {

using crypto::Bytes;

// Noise §5.2 SymmetricState with BLAKE2s and ChaChaPoly.
class SymmetricState {
public:
    // InitializeSymmetric(protocolName): h = name zero-padded to 32 bytes, or HASH(name) when it
    // is longer; ck = h.
    explicit SymmetricState(std::string_view protocolName) noexcept;

    void mixHash(Bytes data) noexcept;
    // (ck, k) = KDF2(ck, ikm); the nonce restarts at 0.
    void mixKey(Bytes inputKeyMaterial) noexcept;
    // (ck, t, k) = KDF3(ck, ikm); MixHash(t); the nonce restarts at 0.
    void mixKeyAndHash(Bytes inputKeyMaterial) noexcept;
    // out.size() must be plaintext.size() + 16 once a key is set, plaintext.size() before.
    void encryptAndHash(std::span<std::uint8_t> out, Bytes plaintext) noexcept;
    [[nodiscard]] bool decryptAndHash(std::span<std::uint8_t> out, Bytes ciphertext) noexcept;
    // (k1, k2) = KDF2(ck, empty).
    void split(crypto::AeadKey& first, crypto::AeadKey& second) const noexcept;

    [[nodiscard]] const crypto::Hash& handshakeHash() const noexcept { return h_; }
    [[nodiscard]] bool hasKey() const noexcept { return hasKey_; }

private:
    crypto::Secret<32> ck_;
    crypto::Hash h_{};
    crypto::AeadKey k_;
    bool hasKey_ = false;
    std::uint64_t n_ = 0;
};

inline constexpr std::size_t kNoiseMessageAOverhead = 32 + 32 + 16 + 16; // e, s+tag, payload tag
inline constexpr std::size_t kNoiseMessageBOverhead = 32 + 16;           // e, payload tag

// One side of an IKpsk2 handshake. Each step takes the ephemeral private key from the caller
// (fresh random in production, fixed in vector tests) and fails without side effects on the
// caller's other state when a decryption or a DH fails.
class NoiseIkPsk2 {
public:
    NoiseIkPsk2(std::string_view protocolName, Bytes prologue,
                const crypto::PrivateKey& localStatic, const crypto::PublicKey& localStaticPublic,
                const std::optional<crypto::PublicKey>& remoteStatic) noexcept;

    // Initiator: out = e.pub || Enc(s.pub) || Enc(payload); out.size() == payload + A overhead.
    [[nodiscard]] bool writeMessageA(std::span<std::uint8_t> out, crypto::PrivateKey ephemeral,
                                     Bytes payload) noexcept;
    // Responder: learns the initiator's static key (remoteStatic()) and the payload.
    [[nodiscard]] bool readMessageA(std::span<std::uint8_t> payloadOut, Bytes message) noexcept;
    // Responder: out = e.pub || Enc(payload); the psk is known only now (after identifying the
    // initiator from message A), hence the parameter.
    [[nodiscard]] bool writeMessageB(std::span<std::uint8_t> out, crypto::PrivateKey ephemeral,
                                     const crypto::Secret<32>& psk, Bytes payload) noexcept;
    [[nodiscard]] bool readMessageB(std::span<std::uint8_t> payloadOut, Bytes message,
                                    const crypto::Secret<32>& psk) noexcept;

    // Transport keys after message B: the initiator sends with the first Split() key.
    void split(crypto::AeadKey& sending, crypto::AeadKey& receiving) const noexcept;

    [[nodiscard]] const std::optional<crypto::PublicKey>& remoteStatic() const noexcept {
        return remoteStatic_;
    }
    [[nodiscard]] const crypto::PublicKey& localEphemeralPublic() const noexcept { return ePub_; }
    [[nodiscard]] const crypto::Hash& handshakeHash() const noexcept { return ss_.handshakeHash(); }

private:
    SymmetricState ss_;
    const crypto::PrivateKey* s_; // borrowed: the device identity outlives every handshake
    crypto::PublicKey sPub_;
    crypto::PrivateKey e_;
    crypto::PublicKey ePub_{};
    std::optional<crypto::PublicKey> remoteStatic_;
    crypto::PublicKey remoteEphemeral_{};
    bool initiator_ = false;
};

} // namespace calnet::wireguard
