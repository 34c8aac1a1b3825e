#include "core/net/stun.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

namespace calnet::stun {

namespace {

constexpr std::uint16_t kBindingRequest = 0x0001;
constexpr std::uint16_t kBindingSuccess = 0x0101;

constexpr std::uint16_t kMappedAddress = 0x0001;
constexpr std::uint16_t kUsername = 0x0006;
constexpr std::uint16_t kMessageIntegrity = 0x0008;
constexpr std::uint16_t kRealm = 0x0014;
constexpr std::uint16_t kNonce = 0x0015;
constexpr std::uint16_t kMessageIntegritySha256 = 0x001C;
constexpr std::uint16_t kUserhash = 0x001E;
constexpr std::uint16_t kXorMappedAddress = 0x0020;
constexpr std::uint16_t kPriority = 0x0024;
constexpr std::uint16_t kUseCandidate = 0x0025;
constexpr std::uint16_t kPadding = 0x0026;
constexpr std::uint16_t kSoftware = 0x8022;
constexpr std::uint16_t kFingerprint = 0x8028;
constexpr std::uint32_t kFingerprintXor = 0x5354554E;

// calnetd's SOFTWARE value: its length makes a request of exactly kRequestSize bytes.
constexpr std::string_view kSoftwareText = "calnet (request padding)";
static_assert(kHeaderSize + 4 + (kSoftwareText.size() + 3) / 4 * 4 + 8 == kRequestSize);

constexpr std::array<std::uint32_t, 256> makeCrcTable() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = makeCrcTable();

std::uint16_t load16(const std::uint8_t* p) {
    return std::uint16_t((p[0] << 8) | p[1]);
}
std::uint32_t load32(const std::uint8_t* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
           p[3];
}
void store16(std::uint8_t* p, std::uint16_t v) {
    p[0] = std::uint8_t(v >> 8);
    p[1] = std::uint8_t(v);
}
void store32(std::uint8_t* p, std::uint32_t v) {
    p[0] = std::uint8_t(v >> 24);
    p[1] = std::uint8_t(v >> 16);
    p[2] = std::uint8_t(v >> 8);
    p[3] = std::uint8_t(v);
}

void fail(ParseError* error, ParseError e) {
    if (error != nullptr)
        *error = e;
}

// Walks the attributes of a message that passed looksLikeStun(), checking each one's bounds and
// FINGERPRINT (which must be last and right). `visit` sees every other attribute and may refuse
// the message by returning false.
ParseError
walkAttributes(std::span<const std::uint8_t> m,
               const std::function<bool(std::uint16_t, std::span<const std::uint8_t>)>& visit) {
    std::size_t p = kHeaderSize;
    while (p < m.size()) {
        if (m.size() - p < 4)
            return ParseError::BadAttributes;
        const std::uint16_t type = load16(&m[p]);
        const std::size_t length = load16(&m[p + 2]);
        const std::size_t padded = (length + 3) / 4 * 4;
        if (m.size() - p - 4 < padded)
            return ParseError::BadAttributes;
        const std::span<const std::uint8_t> value = m.subspan(p + 4, length);
        if (type == kFingerprint) {
            if (length != 4 || p + 8 != m.size())
                return ParseError::BadFingerprint;
            if ((crc32(m.first(p)) ^ kFingerprintXor) != load32(value.data()))
                return ParseError::BadFingerprint;
        } else if (!visit(type, value)) {
            return ParseError::UnknownRequired;
        }
        p += 4 + padded;
    }
    return ParseError::None;
}

bool checkHeader(std::span<const std::uint8_t> m, std::uint16_t type, ParseError* error) {
    if (!looksLikeStun(m)) {
        fail(error, ParseError::NotStun);
        return false;
    }
    if (load16(m.data()) != type) {
        fail(error, ParseError::NotBinding);
        return false;
    }
    return true;
}

TransactionId idOf(std::span<const std::uint8_t> m) {
    TransactionId id{};
    std::memcpy(id.data(), m.data() + 8, id.size());
    return id;
}

// MAPPED-ADDRESS / XOR-MAPPED-ADDRESS value: 0, family (1 = IPv4, 2 = IPv6), port, address.
std::optional<net::SocketAddress> decodeAddress(std::span<const std::uint8_t> v, bool xored,
                                                std::span<const std::uint8_t> header) {
    if (v.size() < 4) // v[0] is reserved: RFC 8489 §14.1 says receivers ignore it
        return std::nullopt;
    const std::uint8_t family = v[1];
    const std::size_t length = family == 1 ? 4 : family == 2 ? 16 : 0;
    if (length == 0 || v.size() != 4 + length)
        return std::nullopt;
    net::SocketAddress out;
    out.port = load16(&v[2]);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &v[4], length);
    if (xored) {
        out.port ^= std::uint16_t(kMagicCookie >> 16);
        // The address is XORed with the cookie, and for IPv6 with the transaction id after it:
        // exactly bytes 4..19 of the header.
        for (std::size_t i = 0; i < length; ++i)
            bytes[i] ^= header[4 + i];
    }
    out.address = family == 1
                      ? net::IpAddress::v4(std::span<const std::uint8_t, 4>(bytes.data(), 4))
                      : net::IpAddress::v6(std::span<const std::uint8_t, 16>(bytes.data(), 16));
    return out;
}

} // namespace

std::uint32_t crc32(std::span<const std::uint8_t> data) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (const std::uint8_t b : data)
        c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

bool looksLikeStun(std::span<const std::uint8_t> m) {
    if (m.size() < kHeaderSize || m.size() > 65535 + kHeaderSize)
        return false;
    if ((m[0] & 0xC0) != 0)
        return false;
    const std::size_t length = load16(&m[2]);
    return length % 4 == 0 && length == m.size() - kHeaderSize && load32(&m[4]) == kMagicCookie;
}

std::optional<BindingRequest> parseBindingRequest(std::span<const std::uint8_t> m,
                                                  ParseError* error) {
    if (!checkHeader(m, kBindingRequest, error))
        return std::nullopt;
    const ParseError e = walkAttributes(m, [](std::uint16_t type, std::span<const std::uint8_t>) {
        if (type >= 0x8000)
            return true; // comprehension-optional
        switch (type) {
        case kUsername:
        case kMessageIntegrity:
        case kMessageIntegritySha256:
        case kUserhash:
        case kRealm:
        case kNonce:
        case kPriority:
        case kUseCandidate:
        case kPadding:
            return true;
        default:
            return false;
        }
    });
    if (e != ParseError::None) {
        fail(error, e);
        return std::nullopt;
    }
    fail(error, ParseError::None);
    return BindingRequest{idOf(m)};
}

std::vector<std::uint8_t> encodeBindingSuccess(const TransactionId& id,
                                               const net::SocketAddress& source,
                                               std::size_t requestSize) {
    const bool v4 = source.address.family == net::Family::V4;
    const std::size_t addressLength = v4 ? 4 : 16;
    const std::size_t bare = kHeaderSize + 4 + 4 + addressLength;
    if (bare > requestSize)
        return {};
    const bool fingerprint = bare + 8 <= requestSize;
    std::vector<std::uint8_t> out(bare + (fingerprint ? 8 : 0));
    std::uint8_t* p = out.data();
    store16(p, kBindingSuccess);
    store16(p + 2, std::uint16_t(out.size() - kHeaderSize));
    store32(p + 4, kMagicCookie);
    std::memcpy(p + 8, id.data(), id.size());
    p += kHeaderSize;
    store16(p, kXorMappedAddress);
    store16(p + 2, std::uint16_t(4 + addressLength));
    p[4] = 0;
    p[5] = v4 ? 1 : 2;
    store16(p + 6, std::uint16_t(source.port ^ std::uint16_t(kMagicCookie >> 16)));
    for (std::size_t i = 0; i < addressLength; ++i)
        p[8 + i] = source.address.bytes[i] ^ out[4 + i];
    if (fingerprint) {
        std::uint8_t* f = out.data() + bare;
        store16(f, kFingerprint);
        store16(f + 2, 4);
        store32(f + 4, crc32(std::span(out.data(), bare)) ^ kFingerprintXor);
    }
    return out;
}

std::array<std::uint8_t, kRequestSize> encodeBindingRequest(const TransactionId& id) {
    std::array<std::uint8_t, kRequestSize> out{};
    std::uint8_t* p = out.data();
    store16(p, kBindingRequest);
    store16(p + 2, std::uint16_t(kRequestSize - kHeaderSize));
    store32(p + 4, kMagicCookie);
    std::memcpy(p + 8, id.data(), id.size());
    p += kHeaderSize;
    store16(p, kSoftware);
    store16(p + 2, std::uint16_t(kSoftwareText.size()));
    std::memcpy(p + 4, kSoftwareText.data(), kSoftwareText.size());
    const std::size_t at = kRequestSize - 8;
    store16(&out[at], kFingerprint);
    store16(&out[at + 2], 4);
    store32(&out[at + 4], crc32(std::span(out.data(), at)) ^ kFingerprintXor);
    return out;
}

std::optional<BindingResponse> parseBindingResponse(std::span<const std::uint8_t> m,
                                                    ParseError* error) {
    if (!checkHeader(m, kBindingSuccess, error))
        return std::nullopt;
    std::optional<net::SocketAddress> xorMapped;
    std::optional<net::SocketAddress> mapped;
    bool badAddress = false;
    const ParseError e =
        walkAttributes(m, [&](std::uint16_t type, std::span<const std::uint8_t> v) {
            if (type == kXorMappedAddress && !xorMapped) {
                xorMapped = decodeAddress(v, true, m.first(kHeaderSize));
                badAddress = badAddress || !xorMapped;
            } else if (type == kMappedAddress && !mapped) {
                mapped = decodeAddress(v, false, m.first(kHeaderSize));
                badAddress = badAddress || !mapped;
            }
            // RFC 8489 §7.3.3: a response with a comprehension-required attribute the client does
            // not know is discarded; optional ones (SOFTWARE, RESPONSE-ORIGIN, ...) are ignored.
            return type >= 0x8000 || type == kXorMappedAddress || type == kMappedAddress ||
                   type == kMessageIntegrity || type == kMessageIntegritySha256;
        });
    if (e != ParseError::None) {
        fail(error, e);
        return std::nullopt;
    }
    if (badAddress) {
        fail(error, ParseError::BadMappedAddress);
        return std::nullopt;
    }
    if (!xorMapped && !mapped) {
        fail(error, ParseError::NoMappedAddress);
        return std::nullopt;
    }
    fail(error, ParseError::None);
    return BindingResponse{idOf(m), xorMapped ? *xorMapped : *mapped};
}

} // namespace calnet::stun
