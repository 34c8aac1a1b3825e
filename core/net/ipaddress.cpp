// IP address, prefix and endpoint text <-> values, written by hand because calnet-core links no
// socket library (no inet_pton / inet_ntop / getaddrinfo).
//
// Parsing is strict on purpose: configuration files are the input, and a lenient parser turns a
// typo into a silently different address ("010.0.0.1" is 8.0.0.1 to inet_aton). Formatting is
// the one canonical form of RFC 5952 so that equal addresses always print equal text.
#include "core/net/ipaddress.h"

#include <algorithm>

namespace calnet::net {

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Decimal without sign, leading zeros or surrounding space, at most `max`.
std::optional<unsigned> parseStrictDecimal(std::string_view text, unsigned max) {
    if (text.empty() || text.size() > 5)
        return std::nullopt;
    if (text.size() > 1 && text[0] == '0')
        return std::nullopt;
    unsigned value = 0;
    for (char c : text) {
        if (!isDigit(c))
            return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > max)
        return std::nullopt;
    return value;
}

// A UDP port for sending: 1-65535 (port 0 cannot be a destination).
std::optional<std::uint16_t> parsePort(std::string_view text) {
    auto value = parseStrictDecimal(text, 65535);
    if (!value || *value == 0)
        return std::nullopt;
    return static_cast<std::uint16_t>(*value);
}

// Dotted quad: exactly four octets, 1-3 digits each, no leading zeros, each at most 255.
std::optional<std::array<std::uint8_t, 4>> parseV4(std::string_view text) {
    std::array<std::uint8_t, 4> out{};
    std::size_t part = 0;
    std::size_t pos = 0;
    while (true) {
        const std::size_t dot = text.find('.', pos);
        const std::string_view octet =
            text.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
        if (part >= 4 || octet.size() > 3)
            return std::nullopt;
        auto value = parseStrictDecimal(octet, 255);
        if (!value)
            return std::nullopt;
        out[part++] = static_cast<std::uint8_t>(*value);
        if (dot == std::string_view::npos)
            break;
        pos = dot + 1;
    }
    if (part != 4)
        return std::nullopt;
    return out;
}

// Splits the groups of one side of "::" ("" is no groups). Each group is 1-4 hex digits, except
// that the very last group of the address may be a dotted quad (RFC 4291 §2.2 form 3), which
// counts as two groups. Returns false on any malformed group.
bool parseV6Groups(std::string_view text, bool mayEndWithV4, std::uint16_t* words,
                   std::size_t& count) {
    count = 0;
    if (text.empty())
        return true;
    std::size_t pos = 0;
    while (true) {
        const std::size_t colon = text.find(':', pos);
        const bool last = colon == std::string_view::npos;
        const std::string_view group =
            text.substr(pos, last ? std::string_view::npos : colon - pos);
        if (last && mayEndWithV4 && group.find('.') != std::string_view::npos) {
            auto v4 = parseV4(group);
            if (!v4 || count + 2 > 8)
                return false;
            words[count++] = static_cast<std::uint16_t>((*v4)[0] << 8 | (*v4)[1]);
            words[count++] = static_cast<std::uint16_t>((*v4)[2] << 8 | (*v4)[3]);
            return true;
        }
        if (group.empty() || group.size() > 4 || count >= 8)
            return false;
        unsigned word = 0;
        for (char c : group) {
            const int h = hexValue(c);
            if (h < 0)
                return false;
            word = word << 4 | static_cast<unsigned>(h);
        }
        words[count++] = static_cast<std::uint16_t>(word);
        if (last)
            return true;
        pos = colon + 1;
    }
}

std::optional<std::array<std::uint8_t, 16>> parseV6(std::string_view text) {
    std::uint16_t head[8] = {};
    std::uint16_t tail[8] = {};
    std::size_t headCount = 0;
    std::size_t tailCount = 0;

    const std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        if (!parseV6Groups(text, true, head, headCount) || headCount != 8)
            return std::nullopt;
    } else {
        const std::string_view before = text.substr(0, gap);
        const std::string_view after = text.substr(gap + 2);
        // One "::" only; "1::2::3" and ":::" are ambiguous or malformed.
        if (after.find("::") != std::string_view::npos)
            return std::nullopt;
        if (!parseV6Groups(before, false, head, headCount) ||
            !parseV6Groups(after, true, tail, tailCount))
            return std::nullopt;
        // "::" stands for one or more zero groups (RFC 4291 §2.2 form 2).
        if (headCount + tailCount > 7)
            return std::nullopt;
    }

    std::uint16_t words[8] = {};
    std::copy_n(head, headCount, words);
    std::copy_n(tail, tailCount, words + (8 - tailCount));
    std::array<std::uint8_t, 16> out{};
    for (std::size_t i = 0; i < 8; ++i) {
        out[2 * i] = static_cast<std::uint8_t>(words[i] >> 8);
        out[2 * i + 1] = static_cast<std::uint8_t>(words[i] & 0xff);
    }
    return out;
}

void appendDecimal(std::string& out, unsigned value) {
    out += std::to_string(value);
}

void appendV4(std::string& out, const std::uint8_t* b) {
    for (int i = 0; i < 4; ++i) {
        if (i)
            out += '.';
        appendDecimal(out, b[i]);
    }
}

void appendHexWord(std::string& out, unsigned word) {
    static constexpr char kDigits[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned nibble = (word >> shift) & 0xf;
        if (nibble || started || shift == 0) {
            out += kDigits[nibble];
            started = true;
        }
    }
}

std::string formatV6(const std::array<std::uint8_t, 16>& b) {
    std::uint16_t words[8];
    for (std::size_t i = 0; i < 8; ++i)
        words[i] = static_cast<std::uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);

    // RFC 5952 §4.2: compress the longest run of zero groups, only if it is at least two groups
    // long (§4.2.2), and the first such run on a tie (§4.2.3).
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8;) {
        if (words[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && words[j] == 0)
            ++j;
        if (j - i > bestLength) {
            bestStart = i;
            bestLength = j - i;
        }
        i = j;
    }

    std::string out;
    out.reserve(41);
    for (int i = 0; i < 8;) {
        if (i == bestStart) {
            out += "::";
            i += bestLength;
            continue;
        }
        if (i != 0 && out.back() != ':')
            out += ':';
        appendHexWord(out, words[i]);
        ++i;
    }
    return out;
}

bool isHostnameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-';
}

// Splits "host:port" / "[v6]:port" into host and port text. An IPv6 literal must be bracketed:
// "2001:db8::1:51820" has no unambiguous port.
struct HostPort {
    std::string_view host;
    std::string_view port;
    bool bracketed = false;
};

std::optional<HostPort> splitHostPort(std::string_view text) {
    HostPort out;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        out.host = text.substr(1, close - 1);
        out.port = text.substr(close + 2);
        out.bracketed = true;
        return out;
    }
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    out.host = text.substr(0, colon);
    out.port = text.substr(colon + 1);
    if (out.host.find(':') != std::string_view::npos)
        return std::nullopt;
    return out;
}

} // namespace

IpAddress IpAddress::v4(std::span<const std::uint8_t, 4> b) {
    IpAddress a;
    a.family = Family::V4;
    std::copy(b.begin(), b.end(), a.bytes.begin());
    return a;
}

IpAddress IpAddress::v6(std::span<const std::uint8_t, 16> b) {
    IpAddress a;
    a.family = Family::V6;
    std::copy(b.begin(), b.end(), a.bytes.begin());
    return a;
}

bool IpAddress::isV4MappedV6() const {
    // ::ffff:0:0/96 (RFC 4291 §2.5.5.2).
    if (family != Family::V6)
        return false;
    for (std::size_t i = 0; i < 10; ++i)
        if (bytes[i] != 0)
            return false;
    return bytes[10] == 0xff && bytes[11] == 0xff;
}

std::string IpAddress::toString() const {
    if (family == Family::V4) {
        std::string out;
        out.reserve(15);
        appendV4(out, bytes.data());
        return out;
    }
    if (isV4MappedV6()) {
        std::string out = "::ffff:";
        appendV4(out, bytes.data() + 12);
        return out;
    }
    return formatV6(bytes);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    // No valid form is longer than 45 characters (six 4-digit groups and a full dotted quad).
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    if (text.find(':') != std::string_view::npos) {
        auto b = parseV6(text);
        if (!b)
            return std::nullopt;
        return IpAddress::v6(*b);
    }
    auto b = parseV4(text);
    if (!b)
        return std::nullopt;
    return IpAddress::v4(*b);
}

IpPrefix IpPrefix::masked() const {
    IpPrefix out = *this;
    const unsigned bits = std::min<unsigned>(length, address.maxPrefix());
    for (std::size_t i = 0; i < out.address.bytes.size(); ++i) {
        const unsigned firstBit = static_cast<unsigned>(i) * 8;
        if (firstBit >= bits) {
            out.address.bytes[i] = 0;
        } else if (bits - firstBit < 8) {
            const unsigned keep = bits - firstBit;
            out.address.bytes[i] &= static_cast<std::uint8_t>(0xff00u >> keep);
        }
    }
    return out;
}

bool IpPrefix::contains(const IpAddress& a) const {
    if (a.family != address.family)
        return false;
    return IpPrefix{a, length}.masked().address == masked().address;
}

std::string IpPrefix::toString() const {
    std::string out = address.toString();
    out += '/';
    appendDecimal(out, length);
    return out;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const std::size_t slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address)
        return std::nullopt;
    if (slash == std::string_view::npos)
        return IpPrefix{*address, static_cast<std::uint8_t>(address->maxPrefix())};
    auto length = parseStrictDecimal(text.substr(slash + 1), address->maxPrefix());
    if (!length)
        return std::nullopt;
    return IpPrefix{*address, static_cast<std::uint8_t>(*length)};
}

bool isValidHostname(std::string_view text) {
    if (text.empty() || text.size() > 253)
        return false;
    bool lastLabelAllDigits = true;
    std::size_t pos = 0;
    while (true) {
        const std::size_t dot = text.find('.', pos);
        const std::string_view label =
            text.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        lastLabelAllDigits = true;
        for (char c : label) {
            if (!isHostnameChar(c))
                return false;
            if (!isDigit(c))
                lastLabelAllDigits = false;
        }
        if (dot == std::string_view::npos)
            break;
        pos = dot + 1;
    }
    return !lastLabelAllDigits;
}

std::string EndpointSpec::toString() const {
    std::string out;
    if (host.find(':') != std::string::npos) {
        out = "[" + host + "]";
    } else {
        out = host;
    }
    out += ':';
    appendDecimal(out, port);
    return out;
}

std::optional<EndpointSpec> EndpointSpec::parse(std::string_view text) {
    auto parts = splitHostPort(text);
    if (!parts)
        return std::nullopt;
    auto port = parsePort(parts->port);
    if (!port)
        return std::nullopt;
    if (parts->bracketed) {
        // Brackets hold an IPv6 literal and nothing else (RFC 3986 §3.2.2).
        auto address = IpAddress::parse(parts->host);
        if (!address || address->family != Family::V6)
            return std::nullopt;
    } else if (!IpAddress::parse(parts->host) && !isValidHostname(parts->host)) {
        return std::nullopt;
    }
    return EndpointSpec{std::string(parts->host), *port};
}

std::string SocketAddress::toString() const {
    std::string out;
    if (address.family == Family::V6) {
        out = "[" + address.toString() + "]";
    } else {
        out = address.toString();
    }
    out += ':';
    appendDecimal(out, port);
    return out;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
    auto parts = splitHostPort(text);
    if (!parts)
        return std::nullopt;
    auto address = IpAddress::parse(parts->host);
    if (!address || (address->family == Family::V6) != parts->bracketed)
        return std::nullopt;
    auto port = parsePort(parts->port);
    if (!port)
        return std::nullopt;
    return SocketAddress{*address, *port};
}

} // namespace calnet::net
