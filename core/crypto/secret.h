// Secret<N>: fixed-size key material that wipes itself.
//
// Every private key, chaining key, symmetric key and preshared key in calnet-core lives in a
// Secret. The destructor and every overwrite call sodium_memzero, which the compiler may not
// elide, so keys do not linger in freed memory or in moved-from objects.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include <sodium/utils.h>

namespace calnet::crypto {

template <std::size_t N> class Secret {
public:
    static constexpr std::size_t size_v = N;

    Secret() noexcept { bytes_.fill(0); }
    explicit Secret(std::span<const std::uint8_t, N> from) noexcept {
        std::memcpy(bytes_.data(), from.data(), N);
    }
    Secret(const Secret& other) noexcept { std::memcpy(bytes_.data(), other.bytes_.data(), N); }
    Secret& operator=(const Secret& other) noexcept {
        if (this != &other)
            std::memcpy(bytes_.data(), other.bytes_.data(), N);
        return *this;
    }
    // A move copies and wipes the source: moved-from secrets are all zero.
    Secret(Secret&& other) noexcept {
        std::memcpy(bytes_.data(), other.bytes_.data(), N);
        other.wipe();
    }
    Secret& operator=(Secret&& other) noexcept {
        if (this != &other) {
            std::memcpy(bytes_.data(), other.bytes_.data(), N);
            other.wipe();
        }
        return *this;
    }
    ~Secret() { wipe(); }

    void wipe() noexcept { sodium_memzero(bytes_.data(), N); }
    [[nodiscard]] bool isZero() const noexcept { return sodium_is_zero(bytes_.data(), N) == 1; }

    [[nodiscard]] std::uint8_t* data() noexcept { return bytes_.data(); }
    [[nodiscard]] const std::uint8_t* data() const noexcept { return bytes_.data(); }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
    [[nodiscard]] std::span<std::uint8_t, N> span() noexcept { return bytes_; }
    [[nodiscard]] std::span<const std::uint8_t, N> span() const noexcept { return bytes_; }

    // Constant-time comparison.
    [[nodiscard]] bool equals(const Secret& other) const noexcept {
        return sodium_memcmp(bytes_.data(), other.bytes_.data(), N) == 0;
    }

private:
    std::array<std::uint8_t, N> bytes_;
};

} // namespace calnet::crypto
