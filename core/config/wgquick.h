// wg-quick(8) configuration files: parse into a typed model, write back.
//
// The accepted syntax is the union of what wg(8) `setconf` and wg-quick(8) read:
//   [Interface]  PrivateKey, ListenPort, FwMark                   (wg)
//                Address, DNS, MTU, Table, PreUp, PostUp, PreDown,
//                PostDown, SaveConfig                              (wg-quick)
//   [Peer]       PublicKey, PresharedKey, AllowedIPs, Endpoint,
//                PersistentKeepalive                               (wg)
// Section names and keys match case-insensitively, '#' starts a comment anywhere on a line (as in
// both tools, so hooks cannot contain '#'), whitespace around '=' and list commas is ignored,
// and CRLF line endings and a leading UTF-8 byte order mark are accepted.
//
// Where the tools are lenient we are strict, because a config that "works" with a silently
// different meaning is worse than an error:
//   - a key given twice (wg keeps the last) is an error unless the key is a list
//     (Address, DNS, AllowedIPs, the four hooks);
//   - a second [Interface] (wg merges it) is an error;
//   - numbers are decimal without leading zeros (iproute2 reads "01420" as octal), except the
//     "0x" hexadecimal FwMark that wg documents; ports and service names are numeric only;
//   - an Endpoint must be a literal IP (IPv6 bracketed) or an RFC 1123 host name, port 1-65535;
//   - MTU must be 576-65535 (RFC 791's minimum datagram size up to the IP maximum; wg-quick
//     passes any number to ip-link), and at least 1280 when Address has an IPv6 address, because
//     Linux disables IPv6 on a link below that (RFC 8200 §5);
//   - all-zero PrivateKey and PublicKey are rejected (the first is "no identity" to the kernel,
//     the second a low-order point with which no handshake succeeds);
//   - input over 1 MiB, lines over 4096 characters and control characters are rejected.
// Normalisations that do not change meaning: ListenPort 0, FwMark 0/off, PersistentKeepalive
// 0/off and an all-zero PresharedKey (the protocol's value when there is none) become "absent".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/secret.h"
#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"

namespace calnet::config {

inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;
inline constexpr std::size_t kMaxConfigLineLength = 4096;
// Parsing stops after this many errors so garbage input cannot produce an unbounded report.
inline constexpr std::size_t kMaxConfigErrors = 100;
inline constexpr std::uint32_t kMinMtu = 576;
inline constexpr std::uint32_t kMinMtuIpv6 = 1280;
inline constexpr std::uint32_t kMaxMtu = 65535;

struct WgQuickInterface {
    std::optional<crypto::PrivateKey> privateKey;
    std::optional<std::uint16_t> listenPort; // absent = random port, as "ListenPort = 0"
    std::optional<std::uint32_t> fwMark;     // "off" or 0 = none; decimal or 0x hex
    std::vector<net::IpPrefix> addresses;    // host bits kept as written ("10.0.0.2/24")
    std::vector<net::IpAddress> dnsServers;  // DNS entries that are IP addresses
    std::vector<std::string> dnsSearch;      // DNS entries that are names (search domains)
    std::optional<std::uint32_t> mtu;        // kMinMtu..kMaxMtu
    std::optional<std::string> table;        // "off", "auto", a number or a table name
    std::vector<std::string> preUp, postUp, preDown, postDown; // verbatim, in order ("%i" kept)
    bool saveConfig = false;
};

struct WgQuickPeer {
    crypto::PublicKey publicKey{};
    std::optional<crypto::Secret<32>> presharedKey;
    std::vector<net::IpPrefix> allowedIps; // as written; the kernel stores them masked()
    std::optional<net::EndpointSpec> endpoint;
    std::optional<std::uint16_t> persistentKeepalive; // 1..65535 seconds; absent = off
};

struct WgQuickConfig {
    WgQuickInterface interface;
    std::vector<WgQuickPeer> peers;
};

// Field-by-field equality; secrets compare in constant time.
[[nodiscard]] bool operator==(const WgQuickInterface& a, const WgQuickInterface& b);
[[nodiscard]] bool operator==(const WgQuickPeer& a, const WgQuickPeer& b);
[[nodiscard]] bool operator==(const WgQuickConfig& a, const WgQuickConfig& b);

struct ConfigError {
    int line = 0;       // 1-based; 0 = the file as a whole
    std::string reason; // human-readable; never contains key material
};

struct WgQuickParseResult {
    std::optional<WgQuickConfig> config; // set only when errors is empty
    std::vector<ConfigError> errors;     // every error found, ordered by line, line 0 last
};

[[nodiscard]] WgQuickParseResult parseWgQuick(std::string_view text);

// Writes the canonical form ([Interface] then one [Peer] per peer, keys in the order of the
// model, one "Key = value" per line, lists comma-separated, LF line endings). For every config
// that parseWgQuick() can return, parseWgQuick(writeWgQuick(c)).config == c.
//
// A string field that no config file can hold is cut, never escaped: hooks, Table and search
// domains end at the first '#' or control character (so a stray newline can never inject a
// key), are trimmed, and are left out when that makes them empty. Validity is not checked here:
// writing a model with, say, a duplicate peer key produces a file that parseWgQuick() rejects.
[[nodiscard]] std::string writeWgQuick(const WgQuickConfig& config);

} // namespace calnet::config
