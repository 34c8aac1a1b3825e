// Why the engine refused a packet. The data path counts drops per reason and never logs them
// one by one (a flood must not become a log flood).
#pragma once

#include <cstddef>
#include <cstdint>

namespace calnet::wireguard {

enum class DropReason : std::uint8_t {
    None = 0,           // not dropped
    NoPrivateKey,       // interface has no private key configured
    InvalidIpPacket,    // inner packet is not a well-formed IPv4/IPv6 packet
    NoRoute,            // no peer's allowed IPs cover the destination
    NoEndpoint,         // the peer has no known endpoint yet
    StagedQueueFull,    // handshake pending and the staging queue overflowed (oldest dropped)
    BadMessage,         // unknown type, reserved bytes set, or wrong size for its type
    InvalidMac1,        // handshake message with a bad mac1 (not meant for us)
    CookieReplySent,    // under load without a valid mac2: answered with a cookie instead
    RateLimited,        // under load and this source exceeded its handshake budget
    HandshakeFailed,    // a handshake message did not decrypt or a DH result was zero
    UnknownPeer,        // initiation from a static key we do not know
    ReplayedInitiation, // TAI64N timestamp not newer than the last accepted one
    InitiationFlood,    // initiations from one peer faster than 50 per second
    UnexpectedMessage,  // response/cookie for a handshake we are not waiting for
    UnknownIndex,       // transport data for a receiver index we do not have
    KeypairExpired,     // transport data under keys older than REJECT_AFTER_TIME
    DecryptFailed,      // transport data failed authentication
    Replayed,           // counter already seen or too old for the window
    SourceNotAllowed,   // inner source address outside the sending peer's allowed IPs
    CrossingInitiation, // mesh peer's initiation crossed ours, and ours wins (Device, below)
    Count
};

inline constexpr std::size_t kDropReasonCount = std::size_t(DropReason::Count);

[[nodiscard]] const char* toString(DropReason reason) noexcept;

} // namespace calnet::wireguard
