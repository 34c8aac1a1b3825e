// STUN Binding (RFC 8489) as far as Calnet uses it: calnet-server answers Binding requests with
// the address and port it saw them come from (XOR-MAPPED-ADDRESS), and calnetd sends requests
// from its WireGuard socket to learn the mapping a NAT gave that socket. Codec only: no sockets,
// no clock, no randomness (the caller supplies transaction ids).
//
// A STUN message: a 20-byte header (type, length of what follows, the magic cookie 0x2112A442,
// a 96-bit transaction id), then attributes, each a 16-bit type, a 16-bit length and a value
// padded to a multiple of 4 bytes. FINGERPRINT (CRC-32 of the message before it, XOR
// 0x5354554E), when present, is the last attribute.
//
// Amplification: a server must not turn a small datagram from a forged source into a larger
// one towards a victim. encodeBindingSuccess() therefore never answers with more bytes than the
// request had: FINGERPRINT is left out when it would not fit, and a request too short even for
// the bare answer gets none. Calnet's own requests are padded so that the answer always fits
// (kRequestSize).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/net/ipaddress.h"

namespace calnet::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::size_t kHeaderSize = 20;
// What calnetd sends: header, SOFTWARE "calnet", PADDING, FINGERPRINT. Large enough for the
// largest answer (an IPv6 XOR-MAPPED-ADDRESS plus FINGERPRINT, 52 bytes).
inline constexpr std::size_t kRequestSize = 56;
// A server reads no more than this of a datagram; anything longer is not a Binding request of
// ours or any ordinary client's (RFC 8489 §6.1 keeps messages under the path MTU).
inline constexpr std::size_t kMaxMessageSize = 548;

using TransactionId = std::array<std::uint8_t, 12>;

// Cheap test for demultiplexing a datagram on a socket that also carries other protocols: the
// two top bits of the type are zero, the length is a multiple of 4 that matches the datagram,
// and the magic cookie is in place. WireGuard messages never pass it (their byte 4 onwards is
// an index, and their lengths do not match).
[[nodiscard]] bool looksLikeStun(std::span<const std::uint8_t> datagram);

enum class ParseError {
    None,
    NotStun,          // fails looksLikeStun()
    NotBinding,       // a STUN message, but not the expected class and method
    BadAttributes,    // an attribute runs past the end, or padding/length is inconsistent
    BadFingerprint,   // FINGERPRINT present but wrong, or not the last attribute
    UnknownRequired,  // a comprehension-required attribute this codec does not know
    NoMappedAddress,  // a success response without (XOR-)MAPPED-ADDRESS
    BadMappedAddress, // an address attribute of the wrong size or family
};

struct BindingRequest {
    TransactionId id{};
};

struct BindingResponse {
    TransactionId id{};
    net::SocketAddress mapped;
};

// A Binding request as RFC 8489 §6.3.1 wants it checked by a server. Comprehension-optional
// attributes (0x8000-0xFFFF) are skipped; the comprehension-required ones a plain Binding
// request may carry (USERNAME, MESSAGE-INTEGRITY(-SHA256), USERHASH, REALM, NONCE, PRIORITY,
// USE-CANDIDATE, PADDING) are accepted and ignored: this server does not authenticate.
[[nodiscard]] std::optional<BindingRequest>
parseBindingRequest(std::span<const std::uint8_t> datagram, ParseError* error = nullptr);

// The answer to `request` as seen from `source`, at most `requestSize` bytes (see above). Empty
// when even the bare answer would be larger than the request.
[[nodiscard]] std::vector<std::uint8_t> encodeBindingSuccess(const TransactionId& id,
                                                             const net::SocketAddress& source,
                                                             std::size_t requestSize);

// calnetd's request: kRequestSize bytes.
[[nodiscard]] std::array<std::uint8_t, kRequestSize> encodeBindingRequest(const TransactionId& id);

// A Binding success response: XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an RFC 3489 server.
// The caller matches the transaction id against the requests it has outstanding.
[[nodiscard]] std::optional<BindingResponse>
parseBindingResponse(std::span<const std::uint8_t> datagram, ParseError* error = nullptr);

// CRC-32 (ISO-HDLC, as zlib computes it), for FINGERPRINT.
[[nodiscard]] std::uint32_t crc32(std::span<const std::uint8_t> data);

} // namespace calnet::stun
