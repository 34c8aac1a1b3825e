#include "core/crypto/aeadimpl.h"

namespace calnet::crypto {

namespace {

// Read on every packet: relaxed atomics cost a plain load. Written once at start.
std::atomic<const AeadImpl*> gSmall{nullptr};
std::atomic<const AeadImpl*> gLarge{nullptr};
std::atomic<std::size_t> gThreshold{0};

const AeadImpl& pick(std::size_t plaintextLength) noexcept {
    const bool large = plaintextLength >= gThreshold.load(std::memory_order_relaxed);
    const AeadImpl* impl = (large ? gLarge : gSmall).load(std::memory_order_relaxed);
    return impl ? *impl : libsodiumAead();
}

} // namespace

const AeadImpl& libsodiumAead() noexcept {
    static constexpr AeadImpl kImpl{"libsodium", aeadSeal, aeadOpen};
    return kImpl;
}

void setTransportAead(const TransportAead& choice) noexcept {
    gSmall.store(choice.small, std::memory_order_relaxed);
    gLarge.store(choice.large, std::memory_order_relaxed);
    gThreshold.store(choice.threshold, std::memory_order_relaxed);
}

TransportAead transportAead() noexcept {
    TransportAead t;
    if (const AeadImpl* s = gSmall.load(std::memory_order_relaxed))
        t.small = s;
    if (const AeadImpl* l = gLarge.load(std::memory_order_relaxed))
        t.large = l;
    t.threshold = gThreshold.load(std::memory_order_relaxed);
    return t;
}

void transportSeal(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
                   std::span<const std::uint8_t> plaintext) noexcept {
    pick(plaintext.size()).seal(out, key, nonce, plaintext, {});
}

bool transportOpen(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
                   std::span<const std::uint8_t> ciphertext) noexcept {
    const std::size_t plain = ciphertext.size() >= kAeadTagSize ? ciphertext.size() - kAeadTagSize : 0;
    return pick(plain).open(out, key, nonce, ciphertext, {});
}

} // namespace calnet::crypto
