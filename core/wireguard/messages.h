// WireGuard wire formats and protocol constants, all in one place (whitepaper §5.4, §6).
//
// Every multi-byte integer on the wire is little-endian. The structs below are the exact byte
// layouts (no padding, asserted at compile time); code reads and writes them with memcpy
// through the load/store helpers, never by casting a received buffer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/crypto/aead.h"
#include "core/crypto/blake2s.h"
#include "core/crypto/tai64n.h"
#include "core/crypto/x25519.h"

namespace calnet::wireguard {

using namespace std::chrono_literals;

// ---- Noise construction (whitepaper §5.4) ----------------------------------------------------
inline constexpr char kConstruction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
inline constexpr char kIdentifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
inline constexpr char kLabelMac1[] = "mac1----";
inline constexpr char kLabelCookie[] = "cookie--";

// ---- Message types (first byte; the next three bytes are zero) -------------------------------
enum class MessageType : std::uint8_t {
    HandshakeInitiation = 1,
    HandshakeResponse = 2,
    CookieReply = 3,
    TransportData = 4,
};

inline constexpr std::size_t kKeyLen = 32;
inline constexpr std::size_t kTagLen = crypto::kAeadTagSize; // 16
inline constexpr std::size_t kMacLen = crypto::kMacSize;     // 16
inline constexpr std::size_t kCookieLen = 16;
inline constexpr std::size_t kCookieNonceLen = crypto::kXAeadNonceSize; // 24

// Handshake initiation, 148 bytes:
//  0      4        8            40                   88                  116    132    148
//  | type | sender | ephemeral  | static (32+16 tag) | timestamp (12+16) | mac1 | mac2 |
struct MessageInitiation {
    std::uint8_t type[4];
    std::uint8_t sender[4];
    std::uint8_t ephemeral[kKeyLen];
    std::uint8_t encryptedStatic[kKeyLen + kTagLen];
    std::uint8_t encryptedTimestamp[crypto::kTai64nSize + kTagLen];
    std::uint8_t mac1[kMacLen];
    std::uint8_t mac2[kMacLen];
};
static_assert(sizeof(MessageInitiation) == 148);

// Handshake response, 92 bytes:
//  0      4        8          12           44                 60     76     92
//  | type | sender | receiver | ephemeral  | empty (0+16 tag) | mac1 | mac2 |
struct MessageResponse {
    std::uint8_t type[4];
    std::uint8_t sender[4];
    std::uint8_t receiver[4];
    std::uint8_t ephemeral[kKeyLen];
    std::uint8_t encryptedNothing[kTagLen];
    std::uint8_t mac1[kMacLen];
    std::uint8_t mac2[kMacLen];
};
static_assert(sizeof(MessageResponse) == 92);

// Cookie reply, 64 bytes:
//  0      4          8        32                  64
//  | type | receiver | nonce  | cookie (16+16 tag) |
struct MessageCookieReply {
    std::uint8_t type[4];
    std::uint8_t receiver[4];
    std::uint8_t nonce[kCookieNonceLen];
    std::uint8_t encryptedCookie[kCookieLen + kTagLen];
};
static_assert(sizeof(MessageCookieReply) == 64);

// Transport data header, 16 bytes, followed by the sealed, padded inner packet and its tag:
//  0      4          8                 16
//  | type | receiver | counter (LE 64) | ciphertext ... | tag (16) |
struct MessageTransportHeader {
    std::uint8_t type[4];
    std::uint8_t receiver[4];
    std::uint8_t counter[8];
};
static_assert(sizeof(MessageTransportHeader) == 16);

inline constexpr std::size_t kTransportHeaderLen = sizeof(MessageTransportHeader);
inline constexpr std::size_t kTransportOverhead = kTransportHeaderLen + kTagLen; // 32
inline constexpr std::size_t kKeepaliveLen = kTransportOverhead;                 // empty payload
inline constexpr std::size_t kPaddingMultiple = 16;
// Offsets of the two MACs: each covers the message up to its own start.
inline constexpr std::size_t kInitiationMac1Offset = offsetof(MessageInitiation, mac1);
inline constexpr std::size_t kInitiationMac2Offset = offsetof(MessageInitiation, mac2);
inline constexpr std::size_t kResponseMac1Offset = offsetof(MessageResponse, mac1);
inline constexpr std::size_t kResponseMac2Offset = offsetof(MessageResponse, mac2);

// Largest UDP payload we ever build or accept (an inner packet up to 65535 bytes plus overhead).
inline constexpr std::size_t kMaxMessageSize = 65535 + kTransportOverhead;

// ---- Protocol constants (whitepaper §6.1) ----------------------------------------------------
inline constexpr std::uint64_t kRekeyAfterMessages = 1ULL << 60;
inline constexpr std::uint64_t kRejectAfterMessages = UINT64_MAX - (1ULL << 13); // 2^64-2^13-1
inline constexpr auto kRekeyAfterTime = 120s;
inline constexpr auto kRejectAfterTime = 180s;
inline constexpr auto kRekeyAttemptTime = 90s;
inline constexpr auto kRekeyTimeout = 5s;
inline constexpr auto kKeepaliveTimeout = 10s;
inline constexpr auto kRekeyTimeoutJitterMax = 334ms; // retry jitter is uniform in [0, 334 ms)
inline constexpr int kMaxHandshakeAttempts = 90 / 5;  // REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 18
inline constexpr auto kZeroKeysAfter = kRejectAfterTime * 3; // 540 s of silence
// Cookies (whitepaper §5.4.7): the responder's secret changes every 2 minutes; the initiator
// keeps a received cookie a little less long, to allow for latency.
inline constexpr auto kCookieSecretMaxAge = 120s;
inline constexpr auto kCookieSecretLatency = 5s;
// A responder consumes at most this many initiations per second from one peer (kernel and
// wireguard-go: INITIATIONS_PER_SECOND), so a flood of valid-looking initiations is cheap.
inline constexpr int kInitiationsPerSecond = 50;
// Handshake work per source address under load: a token bucket (kernel ratelimiter.c).
inline constexpr int kHandshakesPerSecondPerSource = 20;
inline constexpr int kHandshakeBurstPerSource = 5;
// Packets held for a peer while its handshake is in flight (wireguard-go QueueStagedSize).
inline constexpr std::size_t kMaxStagedPackets = 128;

// ---- Little-endian load/store ----------------------------------------------------------------
inline std::uint32_t loadLe32(const std::uint8_t* p) noexcept {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
           std::uint32_t(p[3]) << 24;
}
inline std::uint64_t loadLe64(const std::uint8_t* p) noexcept {
    return std::uint64_t(loadLe32(p)) | std::uint64_t(loadLe32(p + 4)) << 32;
}
inline void storeLe32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = std::uint8_t(v);
    p[1] = std::uint8_t(v >> 8);
    p[2] = std::uint8_t(v >> 16);
    p[3] = std::uint8_t(v >> 24);
}
inline void storeLe64(std::uint8_t* p, std::uint64_t v) noexcept {
    storeLe32(p, std::uint32_t(v));
    storeLe32(p + 4, std::uint32_t(v >> 32));
}
inline void storeType(std::uint8_t* p, MessageType t) noexcept {
    p[0] = std::uint8_t(t);
    p[1] = p[2] = p[3] = 0;
}

} // namespace calnet::wireguard
