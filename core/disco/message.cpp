#include "core/disco/message.h"

#include <algorithm>
#include <cstring>

#include <sodium.h>

namespace calnet::disco {

namespace {

enum class Type : std::uint8_t { Ping = 0x01, Pong = 0x02, CallMeMaybe = 0x03 };
constexpr std::uint8_t kVersion = 0;

void putAddress(std::vector<std::uint8_t>& out, const net::SocketAddress& a) {
    std::array<std::uint8_t, 16> ip{};
    if (a.address.family == net::Family::V4) {
        ip[10] = ip[11] = 0xff;
        std::copy_n(a.address.bytes.begin(), 4, ip.begin() + 12);
    } else {
        ip = a.address.bytes;
    }
    out.insert(out.end(), ip.begin(), ip.end());
    out.push_back(std::uint8_t(a.port >> 8));
    out.push_back(std::uint8_t(a.port & 0xff));
}

net::SocketAddress getAddress(const std::uint8_t* p) {
    net::SocketAddress a;
    std::array<std::uint8_t, 16> ip;
    std::copy_n(p, 16, ip.begin());
    a.address = net::IpAddress::v6(ip);
    if (a.address.isV4MappedV6())
        a.address = net::IpAddress::v4(std::span<const std::uint8_t, 4>(p + 12, 4));
    a.port = std::uint16_t((p[16] << 8) | p[17]);
    return a;
}

} // namespace

bool looksLikeDisco(std::span<const std::uint8_t> datagram) noexcept {
    return datagram.size() >= kHeaderSize + kTagSize + 2 && datagram.size() <= kMaxDatagram &&
           std::equal(kMagic.begin(), kMagic.end(), datagram.begin());
}

crypto::PublicKey senderKey(std::span<const std::uint8_t> datagram) noexcept {
    crypto::PublicKey key{};
    if (datagram.size() >= kMagic.size() + kKeySize)
        std::copy_n(datagram.begin() + kMagic.size(), kKeySize, key.begin());
    return key;
}

std::vector<std::uint8_t> encodePayload(const Message& message) {
    std::vector<std::uint8_t> out;
    out.reserve(2 + 2 + kMaxEndpoints * kAddressSize);
    if (const auto* ping = std::get_if<Ping>(&message)) {
        out.push_back(std::uint8_t(Type::Ping));
        out.push_back(kVersion);
        out.insert(out.end(), ping->txid.begin(), ping->txid.end());
        out.insert(out.end(), ping->nodeKey.begin(), ping->nodeKey.end());
    } else if (const auto* pong = std::get_if<Pong>(&message)) {
        out.push_back(std::uint8_t(Type::Pong));
        out.push_back(kVersion);
        out.insert(out.end(), pong->txid.begin(), pong->txid.end());
        putAddress(out, pong->observed);
    } else {
        const auto& cmm = std::get<CallMeMaybe>(message);
        const std::size_t n = std::min(cmm.endpoints.size(), kMaxEndpoints);
        out.push_back(std::uint8_t(Type::CallMeMaybe));
        out.push_back(kVersion);
        out.push_back(cmm.flags);
        out.push_back(std::uint8_t(n));
        for (std::size_t i = 0; i < n; ++i)
            putAddress(out, cmm.endpoints[i]);
    }
    return out;
}

std::optional<Message> decodePayload(std::span<const std::uint8_t> p) {
    if (p.size() < 2 || p[1] != kVersion)
        return std::nullopt;
    const auto body = p.subspan(2);
    switch (Type(p[0])) {
    case Type::Ping: {
        if (body.size() != 12 + kKeySize)
            return std::nullopt;
        Ping ping;
        std::copy_n(body.begin(), 12, ping.txid.begin());
        std::copy_n(body.begin() + 12, kKeySize, ping.nodeKey.begin());
        return ping;
    }
    case Type::Pong: {
        if (body.size() != 12 + kAddressSize)
            return std::nullopt;
        Pong pong;
        std::copy_n(body.begin(), 12, pong.txid.begin());
        pong.observed = getAddress(body.data() + 12);
        return pong;
    }
    case Type::CallMeMaybe: {
        if (body.size() < 2)
            return std::nullopt;
        const std::size_t n = body[1];
        if (n > kMaxEndpoints || body.size() != 2 + n * kAddressSize)
            return std::nullopt;
        CallMeMaybe cmm;
        cmm.flags = body[0];
        cmm.endpoints.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
            cmm.endpoints.push_back(getAddress(body.data() + 2 + i * kAddressSize));
        return cmm;
    }
    }
    return std::nullopt;
}

SharedKey::SharedKey(const crypto::PrivateKey& ours, const crypto::PublicKey& theirs) noexcept {
    static_assert(crypto_box_BEFORENMBYTES == 32 && crypto_box_NONCEBYTES == kNonceSize &&
                  crypto_box_MACBYTES == kTagSize);
    valid_ = crypto_box_beforenm(key_.data(), theirs.data(), ours.data()) == 0;
}

SharedKey::~SharedKey() {
    sodium_memzero(key_.data(), key_.size());
}

SharedKey& SharedKey::operator=(const SharedKey& other) noexcept {
    if (this != &other) {
        key_ = other.key_;
        valid_ = other.valid_;
    }
    return *this;
}

std::vector<std::uint8_t> SharedKey::seal(const crypto::PublicKey& ourPublic,
                                          const Message& message) const {
    if (!valid_)
        return {};
    const std::vector<std::uint8_t> payload = encodePayload(message);
    std::vector<std::uint8_t> out(kHeaderSize + payload.size() + kTagSize);
    std::copy(kMagic.begin(), kMagic.end(), out.begin());
    std::copy(ourPublic.begin(), ourPublic.end(), out.begin() + kMagic.size());
    std::uint8_t* nonce = out.data() + kMagic.size() + kKeySize;
    randombytes_buf(nonce, kNonceSize);
    crypto_box_easy_afternm(out.data() + kHeaderSize, payload.data(), payload.size(), nonce,
                            key_.data());
    return out;
}

std::optional<Message> SharedKey::open(std::span<const std::uint8_t> datagram) const {
    if (!valid_ || !looksLikeDisco(datagram))
        return std::nullopt;
    const std::uint8_t* nonce = datagram.data() + kMagic.size() + kKeySize;
    const std::size_t sealedSize = datagram.size() - kHeaderSize;
    std::array<std::uint8_t, kMaxDatagram> plain;
    if (crypto_box_open_easy_afternm(plain.data(), datagram.data() + kHeaderSize, sealedSize, nonce,
                                     key_.data()) != 0)
        return std::nullopt;
    return decodePayload(std::span(plain.data(), sealedSize - kTagSize));
}

} // namespace calnet::disco
