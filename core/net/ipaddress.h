// IP addresses, prefixes and endpoints as plain values: parsing, formatting, comparison.
// No name resolution happens here (calnet-core does no I/O); an endpoint whose host is a name
// stays a name until the helper resolves it.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace calnet::net {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

struct IpAddress {
    Family family = Family::V4;
    // Network byte order. V4 uses bytes[0..3]; the rest stays zero.
    std::array<std::uint8_t, 16> bytes{};

    [[nodiscard]] static IpAddress v4(std::span<const std::uint8_t, 4> b);
    [[nodiscard]] static IpAddress v6(std::span<const std::uint8_t, 16> b);
    [[nodiscard]] std::size_t byteLength() const { return family == Family::V4 ? 4 : 16; }
    [[nodiscard]] unsigned maxPrefix() const { return family == Family::V4 ? 32 : 128; }
    [[nodiscard]] bool isV4MappedV6() const;

    // "192.0.2.1", "2001:db8::1" (RFC 5952 canonical text for IPv6; an IPv4-mapped address is
    // written "::ffff:192.0.2.1" as RFC 5952 §5 recommends).
    [[nodiscard]] std::string toString() const;
    // Strict: IPv4 is exactly four decimal octets 0-255 without leading zeros (so "010" is never
    // read as octal); IPv6 is any RFC 4291 §2.2 form, including a trailing dotted quad. No zone
    // ids, no surrounding whitespace.
    [[nodiscard]] static std::optional<IpAddress> parse(std::string_view text);

    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct IpPrefix {
    IpAddress address;
    std::uint8_t length = 0;

    // The prefix with host bits cleared (wg and the kernel store prefixes this way).
    [[nodiscard]] IpPrefix masked() const;
    [[nodiscard]] bool contains(const IpAddress& a) const;
    // "10.0.0.0/24"; a bare address parses as a host prefix (/32 or /128). parse() keeps host bits
    // as written ("10.0.0.2/24" is an interface address); the length is decimal without leading
    // zeros and at most maxPrefix().
    [[nodiscard]] std::string toString() const;
    [[nodiscard]] static std::optional<IpPrefix> parse(std::string_view text);

    friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;
};

// An endpoint as written in configuration: "203.0.113.5:51820", "[2001:db8::1]:51820" or
// "vpn.example.com:51820". host keeps the text without brackets.
struct EndpointSpec {
    std::string host;
    std::uint16_t port = 0;

    [[nodiscard]] std::optional<IpAddress> literalAddress() const { return IpAddress::parse(host); }
    [[nodiscard]] std::string toString() const; // brackets an IPv6 literal
    // Strict: the port is decimal 1-65535 (WireGuard cannot send to port 0), an IPv6 literal must
    // be bracketed, no zone ids, and a host that is not an IP literal must be isValidHostname().
    [[nodiscard]] static std::optional<EndpointSpec> parse(std::string_view text);

    friend bool operator==(const EndpointSpec&, const EndpointSpec&) = default;
};

// A DNS host name as RFC 1123 §2.1 allows: dot-separated labels of ASCII letters, digits and
// hyphens, each 1-63 characters without a hyphen at either end, 253 characters in all, and (RFC
// 3696 §2) a last label that is not all digits, so a malformed IPv4 literal such as "1.2.3.256"
// or "010.0.0.1" is never mistaken for a name. No trailing dot, no underscores.
[[nodiscard]] bool isValidHostname(std::string_view text);

// A resolved socket address (what the data path sends to).
struct SocketAddress {
    IpAddress address;
    std::uint16_t port = 0;

    [[nodiscard]] std::string toString() const; // "192.0.2.1:51820", "[2001:db8::1]:51820"
    // Literal addresses only (no names); the port is decimal 1-65535.
    [[nodiscard]] static std::optional<SocketAddress> parse(std::string_view text);

    friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

} // namespace calnet::net
