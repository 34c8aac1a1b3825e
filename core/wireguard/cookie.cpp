#include "core/wireguard/cookie.h"

#include <cstring>

#include <sodium/randombytes.h>

namespace calnet::wireguard {

namespace {

using crypto::Bytes;

Bytes label(const char* text) {
    return Bytes(reinterpret_cast<const std::uint8_t*>(text), std::strlen(text));
}

void deriveKeys(const crypto::PublicKey& publicKey, crypto::Hash& mac1Key,
                crypto::Secret<32>& cookieKey) noexcept {
    mac1Key = crypto::hash({label(kLabelMac1), Bytes(publicKey)});
    crypto::Hash ck = crypto::hash({label(kLabelCookie), Bytes(publicKey)});
    std::memcpy(cookieKey.data(), ck.data(), ck.size());
}

bool macMatches(const crypto::Mac& expected, const std::uint8_t* actual) noexcept {
    return sodium_memcmp(expected.data(), actual, expected.size()) == 0;
}

bool fresh(Instant set, Instant now, std::chrono::nanoseconds maxAge) noexcept {
    return set != kNever && now >= set && now - set < maxAge;
}

} // namespace

std::array<std::uint8_t, 18> cookieSourceBytes(const net::SocketAddress& source) noexcept {
    std::array<std::uint8_t, 18> out{};
    std::memcpy(out.data(), source.address.bytes.data(), 16);
    out[16] = std::uint8_t(source.port >> 8);
    out[17] = std::uint8_t(source.port);
    return out;
}

void CookieChecker::setLocalPublicKey(const crypto::PublicKey& publicKey) noexcept {
    deriveKeys(publicKey, mac1Key_, cookieEncryptionKey_);
}

bool CookieChecker::checkMac1(std::span<const std::uint8_t> message,
                              std::size_t mac1Offset) const noexcept {
    const crypto::Mac m = crypto::mac(mac1Key_, message.first(mac1Offset));
    return macMatches(m, message.data() + mac1Offset);
}

crypto::Mac CookieChecker::cookieFor(const net::SocketAddress& source) const noexcept {
    const auto src = cookieSourceBytes(source);
    return crypto::mac(Bytes(secret_.data(), secret_.size()), src);
}

bool CookieChecker::checkMac2(std::span<const std::uint8_t> message, std::size_t mac2Offset,
                              const net::SocketAddress& source, Instant now) const noexcept {
    if (!fresh(secretSet_, now, kCookieSecretMaxAge))
        return false;
    const crypto::Mac cookie = cookieFor(source);
    const crypto::Mac m = crypto::mac(cookie, message.first(mac2Offset));
    return macMatches(m, message.data() + mac2Offset);
}

void CookieChecker::createReply(MessageCookieReply& out, std::span<const std::uint8_t> message,
                                std::size_t mac1Offset, std::uint32_t receiverIndex,
                                const net::SocketAddress& source, Instant now) {
    // The secret is random and changes every two minutes (whitepaper §5.4.7).
    if (!fresh(secretSet_, now, kCookieSecretMaxAge)) {
        randombytes_buf(secret_.data(), secret_.size());
        secretSet_ = now;
    }
    const crypto::Mac cookie = cookieFor(source);
    storeType(out.type, MessageType::CookieReply);
    storeLe32(out.receiver, receiverIndex);
    crypto::XAeadNonce nonce;
    randombytes_buf(nonce.data(), nonce.size());
    std::memcpy(out.nonce, nonce.data(), nonce.size());
    // The cookie is sealed with the mac1 of the message it answers as associated data, so only
    // the sender of that message can use it.
    crypto::xaeadSeal(std::span(out.encryptedCookie), cookieEncryptionKey_, nonce, cookie,
                      message.subspan(mac1Offset, kMacLen));
}

void CookieGenerator::setRemotePublicKey(const crypto::PublicKey& publicKey) noexcept {
    deriveKeys(publicKey, mac1Key_, cookieDecryptionKey_);
}

void CookieGenerator::addMacs(std::span<std::uint8_t> message, std::size_t mac1Offset,
                              std::size_t mac2Offset, Instant now) noexcept {
    const crypto::Mac m1 = crypto::mac(mac1Key_, message.first(mac1Offset));
    std::memcpy(message.data() + mac1Offset, m1.data(), m1.size());
    lastMac1_ = m1;
    haveLastMac1_ = true;
    // A cookie is used for a little less than the responder keeps its secret.
    if (fresh(cookieSet_, now, kCookieSecretMaxAge - kCookieSecretLatency)) {
        const crypto::Mac m2 =
            crypto::mac(Bytes(cookie_.data(), cookie_.size()), message.first(mac2Offset));
        std::memcpy(message.data() + mac2Offset, m2.data(), m2.size());
    } else {
        std::memset(message.data() + mac2Offset, 0, kMacLen);
    }
}

bool CookieGenerator::consumeReply(const MessageCookieReply& reply, Instant now) noexcept {
    if (!haveLastMac1_)
        return false;
    crypto::XAeadNonce nonce;
    std::memcpy(nonce.data(), reply.nonce, nonce.size());
    crypto::Secret<kCookieLen> cookie;
    if (!crypto::xaeadOpen(cookie.span(), cookieDecryptionKey_, nonce,
                           Bytes(reply.encryptedCookie, sizeof(reply.encryptedCookie)), lastMac1_))
        return false;
    cookie_ = std::move(cookie);
    cookieSet_ = now;
    haveLastMac1_ = false;
    return true;
}

} // namespace calnet::wireguard
