#include "core/wireguard/noise.h"

#include <algorithm>
#include <cstring>

namespace calnet::wireguard {

namespace {
Bytes bytesOf(const crypto::PublicKey& k) {
    return Bytes(k.data(), k.size());
}
template <std::size_t N> Bytes bytesOf(const crypto::Secret<N>& s) {
    return Bytes(s.data(), N);
}
} // namespace

SymmetricState::SymmetricState(std::string_view protocolName) noexcept {
    if (protocolName.size() <= crypto::kHashSize) {
        std::copy(protocolName.begin(), protocolName.end(), h_.begin());
    } else {
        h_ = crypto::hash({Bytes(reinterpret_cast<const std::uint8_t*>(protocolName.data()),
                                 protocolName.size())});
    }
    std::memcpy(ck_.data(), h_.data(), h_.size());
}

void SymmetricState::mixHash(Bytes data) noexcept {
    h_ = crypto::hash({Bytes(h_), data});
}

void SymmetricState::mixKey(Bytes inputKeyMaterial) noexcept {
    crypto::Secret<32> ck;
    crypto::kdf2(ck, k_, bytesOf(ck_), inputKeyMaterial);
    ck_ = std::move(ck);
    hasKey_ = true;
    n_ = 0;
}

void SymmetricState::mixKeyAndHash(Bytes inputKeyMaterial) noexcept {
    crypto::Secret<32> ck;
    crypto::Secret<32> temp;
    crypto::kdf3(ck, temp, k_, bytesOf(ck_), inputKeyMaterial);
    ck_ = std::move(ck);
    mixHash(bytesOf(temp));
    hasKey_ = true;
    n_ = 0;
}

void SymmetricState::encryptAndHash(std::span<std::uint8_t> out, Bytes plaintext) noexcept {
    if (!hasKey_) {
        std::copy(plaintext.begin(), plaintext.end(), out.begin());
        mixHash(plaintext);
        return;
    }
    crypto::aeadSeal(out, k_, crypto::counterNonce(n_++), plaintext, Bytes(h_));
    mixHash(Bytes(out.data(), plaintext.size() + crypto::kAeadTagSize));
}

bool SymmetricState::decryptAndHash(std::span<std::uint8_t> out, Bytes ciphertext) noexcept {
    if (!hasKey_) {
        std::copy(ciphertext.begin(), ciphertext.end(), out.begin());
        mixHash(ciphertext);
        return true;
    }
    if (ciphertext.size() < crypto::kAeadTagSize)
        return false;
    if (!crypto::aeadOpen(out, k_, crypto::counterNonce(n_), ciphertext, Bytes(h_)))
        return false;
    ++n_;
    mixHash(ciphertext);
    return true;
}

void SymmetricState::split(crypto::AeadKey& first, crypto::AeadKey& second) const noexcept {
    crypto::kdf2(first, second, bytesOf(ck_), {});
}

NoiseIkPsk2::NoiseIkPsk2(std::string_view protocolName, Bytes prologue,
                         const crypto::PrivateKey& localStatic,
                         const crypto::PublicKey& localStaticPublic,
                         const std::optional<crypto::PublicKey>& remoteStatic) noexcept
    : ss_(protocolName), s_(&localStatic), sPub_(localStaticPublic), remoteStatic_(remoteStatic) {
    ss_.mixHash(prologue);
    // Pre-message "<- s": both sides hash the responder's static key.
    ss_.mixHash(remoteStatic ? bytesOf(*remoteStatic) : bytesOf(sPub_));
}

bool NoiseIkPsk2::writeMessageA(std::span<std::uint8_t> out, crypto::PrivateKey ephemeral,
                                Bytes payload) noexcept {
    if (!remoteStatic_ || out.size() != payload.size() + kNoiseMessageAOverhead)
        return false;
    initiator_ = true;
    e_ = std::move(ephemeral);
    ePub_ = crypto::publicKeyOf(e_);
    std::uint8_t* p = out.data();
    // -> e: the ephemeral goes in clear; psk mode also mixes it into the key (Noise §9.2).
    std::memcpy(p, ePub_.data(), 32);
    ss_.mixHash(bytesOf(ePub_));
    ss_.mixKey(bytesOf(ePub_));
    // es
    auto es = crypto::x25519(e_, *remoteStatic_);
    if (!es)
        return false;
    ss_.mixKey(bytesOf(*es));
    // s: our static public key, encrypted
    ss_.encryptAndHash(std::span(p + 32, 48), bytesOf(sPub_));
    // ss
    auto ss = crypto::x25519(*s_, *remoteStatic_);
    if (!ss)
        return false;
    ss_.mixKey(bytesOf(*ss));
    // payload (WireGuard: the TAI64N timestamp)
    ss_.encryptAndHash(std::span(p + 80, payload.size() + 16), payload);
    return true;
}

bool NoiseIkPsk2::readMessageA(std::span<std::uint8_t> payloadOut, Bytes message) noexcept {
    if (message.size() < kNoiseMessageAOverhead ||
        payloadOut.size() != message.size() - kNoiseMessageAOverhead)
        return false;
    initiator_ = false;
    const std::uint8_t* p = message.data();
    // -> e
    std::memcpy(remoteEphemeral_.data(), p, 32);
    ss_.mixHash(bytesOf(remoteEphemeral_));
    ss_.mixKey(bytesOf(remoteEphemeral_));
    // es (from our side: DH(s, re))
    auto es = crypto::x25519(*s_, remoteEphemeral_);
    if (!es)
        return false;
    ss_.mixKey(bytesOf(*es));
    // s
    crypto::PublicKey rs{};
    if (!ss_.decryptAndHash(rs, message.subspan(32, 48)))
        return false;
    // ss
    auto ss = crypto::x25519(*s_, rs);
    if (!ss)
        return false;
    ss_.mixKey(bytesOf(*ss));
    if (!ss_.decryptAndHash(payloadOut, message.subspan(80)))
        return false;
    remoteStatic_ = rs;
    return true;
}

bool NoiseIkPsk2::writeMessageB(std::span<std::uint8_t> out, crypto::PrivateKey ephemeral,
                                const crypto::Secret<32>& psk, Bytes payload) noexcept {
    if (!remoteStatic_ || out.size() != payload.size() + kNoiseMessageBOverhead)
        return false;
    e_ = std::move(ephemeral);
    ePub_ = crypto::publicKeyOf(e_);
    std::uint8_t* p = out.data();
    // <- e
    std::memcpy(p, ePub_.data(), 32);
    ss_.mixHash(bytesOf(ePub_));
    ss_.mixKey(bytesOf(ePub_));
    // ee
    auto ee = crypto::x25519(e_, remoteEphemeral_);
    if (!ee)
        return false;
    ss_.mixKey(bytesOf(*ee));
    // se (responder side: DH(e, rs))
    auto se = crypto::x25519(e_, *remoteStatic_);
    if (!se)
        return false;
    ss_.mixKey(bytesOf(*se));
    // psk
    ss_.mixKeyAndHash(bytesOf(psk));
    ss_.encryptAndHash(std::span(p + 32, payload.size() + 16), payload);
    return true;
}

bool NoiseIkPsk2::readMessageB(std::span<std::uint8_t> payloadOut, Bytes message,
                               const crypto::Secret<32>& psk) noexcept {
    if (!initiator_ || message.size() < kNoiseMessageBOverhead ||
        payloadOut.size() != message.size() - kNoiseMessageBOverhead)
        return false;
    const std::uint8_t* p = message.data();
    std::memcpy(remoteEphemeral_.data(), p, 32);
    ss_.mixHash(bytesOf(remoteEphemeral_));
    ss_.mixKey(bytesOf(remoteEphemeral_));
    auto ee = crypto::x25519(e_, remoteEphemeral_);
    if (!ee)
        return false;
    ss_.mixKey(bytesOf(*ee));
    auto se = crypto::x25519(*s_, remoteEphemeral_);
    if (!se)
        return false;
    ss_.mixKey(bytesOf(*se));
    ss_.mixKeyAndHash(bytesOf(psk));
    return ss_.decryptAndHash(payloadOut, message.subspan(32));
}

void NoiseIkPsk2::split(crypto::AeadKey& sending, crypto::AeadKey& receiving) const noexcept {
    if (initiator_)
        ss_.split(sending, receiving);
    else
        ss_.split(receiving, sending);
}

} // namespace calnet::wireguard
