// Key text codecs over libsodium's constant-time base64 and hex routines, with the length and
// padding checks wg(8) applies before decoding.
#include "core/config/keyencoding.h"

#include <cstring>

#include <sodium/utils.h>

namespace calnet::config {

namespace {

constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
static_assert(sodium_base64_ENCODED_LEN(kKeySize, kVariant) == kKeyBase64Length + 1);

// A local buffer that is wiped however the scope is left.
template <std::size_t N> struct WipedBuffer {
    std::array<char, N> bytes{};
    ~WipedBuffer() { sodium_memzero(bytes.data(), N); }
};

} // namespace

bool decodeKeyBase64Into(std::string_view text, std::span<std::uint8_t, kKeySize> out) noexcept {
    // 32 bytes are 10 full 3-byte groups and one 2-byte group: 43 data characters and one pad.
    // The pad check also rejects "==" at the end (a 31-byte value).
    if (text.size() != kKeyBase64Length || text[kKeyBase64Length - 1] != '=' ||
        text[kKeyBase64Length - 2] == '=') {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    std::size_t decoded = 0;
    const char* end = nullptr;
    // sodium_base642bin rejects characters outside the alphabet (ignore = nullptr) and, like wg's
    // key_from_base64, nonzero leftover bits in the last data character.
    const int rc = sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr,
                                     &decoded, &end, kVariant);
    if (rc != 0 || decoded != kKeySize || end != text.data() + text.size()) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    return true;
}

bool decodeKeyHexInto(std::string_view text, std::span<std::uint8_t, kKeySize> out) noexcept {
    if (text.size() != kKeyHexLength) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    std::size_t decoded = 0;
    const char* end = nullptr;
    const int rc =
        sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &decoded, &end);
    if (rc != 0 || decoded != kKeySize || end != text.data() + text.size()) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    return true;
}

std::optional<KeyBytes> decodeKeyBase64(std::string_view text) {
    KeyBytes key{};
    if (!decodeKeyBase64Into(text, key))
        return std::nullopt;
    std::optional<KeyBytes> result(key);
    sodium_memzero(key.data(), key.size());
    return result;
}

std::optional<KeyBytes> decodeKeyHex(std::string_view text) {
    KeyBytes key{};
    if (!decodeKeyHexInto(text, key))
        return std::nullopt;
    std::optional<KeyBytes> result(key);
    sodium_memzero(key.data(), key.size());
    return result;
}

void encodeKeyBase64Into(std::span<const std::uint8_t, kKeySize> key,
                         std::span<char, kKeyBase64Length> out) noexcept {
    WipedBuffer<kKeyBase64Length + 1> buffer; // sodium_bin2base64 writes a NUL
    sodium_bin2base64(buffer.bytes.data(), buffer.bytes.size(), key.data(), key.size(), kVariant);
    std::memcpy(out.data(), buffer.bytes.data(), kKeyBase64Length);
}

std::string encodeKeyBase64(std::span<const std::uint8_t, kKeySize> key) {
    WipedBuffer<kKeyBase64Length> buffer;
    encodeKeyBase64Into(key, buffer.bytes);
    return std::string(buffer.bytes.data(), buffer.bytes.size());
}

std::string encodeKeyHex(std::span<const std::uint8_t, kKeySize> key) {
    WipedBuffer<kKeyHexLength + 1> buffer;
    sodium_bin2hex(buffer.bytes.data(), buffer.bytes.size(), key.data(), key.size());
    return std::string(buffer.bytes.data(), kKeyHexLength);
}

} // namespace calnet::config
