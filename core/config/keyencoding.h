// Text forms of 32-byte WireGuard keys (Curve25519 public and private keys, preshared keys).
//
// Base64 is what wg(8) and wg-quick(8) configuration files hold: 44 characters of the standard
// alphabet (RFC 4648 §4), the last one the single '=' pad. Hex is what the cross-platform UAPI
// (the "private_key=" / "public_key=" lines of wireguard.com/xplatform) carries.
//
// Decoding is as strict as wg(8): exactly one text per key, no whitespace, and the two unused
// bits of the last base64 character must be zero, so every key has one spelling and a corrupted
// last character is caught instead of silently accepted. The work is done by libsodium's
// constant-time codecs, since the input is often a private key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace calnet::config {

inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kKeyBase64Length = 44; // 4 * ceil(32 / 3)
inline constexpr std::size_t kKeyHexLength = 64;

using KeyBytes = std::array<std::uint8_t, kKeySize>;

// The key, or std::nullopt when the text is not exactly one canonical key. The caller owns the
// wiping of the returned array; prefer decodeKeyBase64Into() for secrets.
[[nodiscard]] std::optional<KeyBytes> decodeKeyBase64(std::string_view text);
[[nodiscard]] std::optional<KeyBytes> decodeKeyHex(std::string_view text);

// Decode straight into caller storage (e.g. Secret<32>::span()), so a private key never sits in
// an unwiped temporary. On failure `out` is zeroed and false is returned.
[[nodiscard]] bool decodeKeyBase64Into(std::string_view text,
                                       std::span<std::uint8_t, kKeySize> out) noexcept;
[[nodiscard]] bool decodeKeyHexInto(std::string_view text,
                                    std::span<std::uint8_t, kKeySize> out) noexcept;

// 44 characters ending in '='.
[[nodiscard]] std::string encodeKeyBase64(std::span<const std::uint8_t, kKeySize> key);
// 64 lowercase hex characters.
[[nodiscard]] std::string encodeKeyHex(std::span<const std::uint8_t, kKeySize> key);

// Encode into caller storage; the caller wipes it. No terminating NUL is written.
void encodeKeyBase64Into(std::span<const std::uint8_t, kKeySize> key,
                         std::span<char, kKeyBase64Length> out) noexcept;

} // namespace calnet::config
