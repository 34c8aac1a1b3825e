// MAC1/MAC2 and cookie replies (whitepaper §5.4.4, §5.4.7).
//
// CookieChecker is the receiving side, one per device: it verifies mac1 of every handshake
// message and, when the helper says it is under load, demands a valid mac2, answering with a
// cookie reply otherwise. CookieGenerator is the sending side, one per peer: it stamps mac1 and,
// while it holds a fresh cookie from that peer, mac2 on the handshake messages we send.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "core/crypto/blake2s.h"
#include "core/net/ipaddress.h"
#include "core/wireguard/clock.h"
#include "core/wireguard/messages.h"

namespace calnet::wireguard {

// The bytes a cookie is bound to: the source address and port of the handshake message.
std::array<std::uint8_t, 18> cookieSourceBytes(const net::SocketAddress& source) noexcept;

class CookieChecker {
public:
    // Derives the mac1 and cookie-encryption keys from our static public key.
    void setLocalPublicKey(const crypto::PublicKey& publicKey) noexcept;

    // message is a whole initiation or response; mac1Offset/mac2Offset are its MAC positions.
    [[nodiscard]] bool checkMac1(std::span<const std::uint8_t> message,
                                 std::size_t mac1Offset) const noexcept;
    [[nodiscard]] bool checkMac2(std::span<const std::uint8_t> message, std::size_t mac2Offset,
                                 const net::SocketAddress& source, Instant now) const noexcept;
    // A cookie reply to `message` (whose sender index is `receiverIndex`), bound to `source`.
    void createReply(MessageCookieReply& out, std::span<const std::uint8_t> message,
                     std::size_t mac1Offset, std::uint32_t receiverIndex,
                     const net::SocketAddress& source, Instant now);

private:
    crypto::Mac cookieFor(const net::SocketAddress& source) const noexcept;

    crypto::Hash mac1Key_{};
    crypto::Secret<32> cookieEncryptionKey_;
    crypto::Secret<32> secret_;
    Instant secretSet_ = kNever; // kNever: no secret yet
};

class CookieGenerator {
public:
    // Derives the keys from the peer's static public key.
    void setRemotePublicKey(const crypto::PublicKey& publicKey) noexcept;

    // Fills mac1 and mac2 of an outgoing handshake message in place.
    void addMacs(std::span<std::uint8_t> message, std::size_t mac1Offset, std::size_t mac2Offset,
                 Instant now) noexcept;
    // Accepts a cookie reply answering the last message we stamped. False if it does not decrypt.
    [[nodiscard]] bool consumeReply(const MessageCookieReply& reply, Instant now) noexcept;

private:
    crypto::Hash mac1Key_{};
    crypto::Secret<32> cookieDecryptionKey_;
    crypto::Mac lastMac1_{};
    bool haveLastMac1_ = false;
    crypto::Secret<kCookieLen> cookie_;
    Instant cookieSet_ = kNever;
};

} // namespace calnet::wireguard
