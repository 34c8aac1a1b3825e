// BLAKE2s (RFC 7693) through libb2, and the constructions of the WireGuard whitepaper §5.4:
//   HASH(x)      = BLAKE2s-256(x)
//   MAC(key, x)  = keyed BLAKE2s with a 16-byte output
//   HMAC(key, x) = RFC 2104 with BLAKE2s-256 and a 64-byte block
//   KDFn(key, x) : tau0 = HMAC(key, x), tau1 = HMAC(tau0, 0x1), tau_i = HMAC(tau0, tau_{i-1} || i)
//
// Every intermediate that depends on a key (hash states, HMAC pads, tau0) is wiped before return.
// HMAC and KDF read all of their inputs before writing any output, so an output may be the very
// Secret whose bytes are passed as key or input (Noise's "ck, k = KDF2(ck, x)").
#include "core/crypto/blake2s.h"

#include <cstdlib>
#include <cstring>

#include <blake2.h>
#include <sodium/utils.h>

namespace calnet::crypto {

namespace {

static_assert(kHashSize == BLAKE2S_OUTBYTES);
static_assert(kBlake2sBlockSize == BLAKE2S_BLOCKBYTES);
static_assert(kMacSize <= BLAKE2S_OUTBYTES);

// A libb2 state that wipes itself: once it has absorbed a key or an HMAC pad it is key material.
// Bad lengths (output not 1..32, key over 32 bytes) are caller bugs that libb2 reports; hashing
// on with a wrong length would silently produce wrong MACs, so they stop the process.
class State {
public:
    State(std::size_t outLen, Bytes key) noexcept : outLen_(outLen) {
        const int rc = key.empty() ? blake2s_init(&state_, outLen)
                                   : blake2s_init_key(&state_, outLen, key.data(), key.size());
        if (rc != 0)
            std::abort();
    }
    ~State() { sodium_memzero(&state_, sizeof state_); }
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    void update(Bytes input) noexcept {
        if (!input.empty() && blake2s_update(&state_, input.data(), input.size()) != 0)
            std::abort();
    }
    void finish(std::span<std::uint8_t> out) noexcept {
        if (out.size() != outLen_ || blake2s_final(&state_, out.data(), out.size()) != 0)
            std::abort();
    }

private:
    blake2s_state state_;
    std::size_t outLen_;
};

// HMAC(key, parts[0] || parts[1] || ...) per RFC 2104 §2, written into `out` last of all.
void hmacParts(std::span<std::uint8_t, kHashSize> out, Bytes key,
               std::initializer_list<Bytes> parts) noexcept {
    std::uint8_t pad[kBlake2sBlockSize] = {};
    // RFC 2104 §2: a key longer than the block is replaced by its hash, then zero-padded to B.
    if (key.size() > kBlake2sBlockSize) {
        State keyHash(kHashSize, {});
        keyHash.update(key);
        keyHash.finish(std::span(pad, kHashSize));
    } else if (!key.empty()) {
        std::memcpy(pad, key.data(), key.size());
    }

    std::uint8_t innerHash[kHashSize];
    for (auto& b : pad)
        b ^= 0x36; // ipad
    {
        State inner(kHashSize, {});
        inner.update(pad);
        for (Bytes part : parts)
            inner.update(part);
        inner.finish(innerHash);
    }
    for (auto& b : pad)
        b ^= 0x36 ^ 0x5c; // ipad -> opad
    {
        State outer(kHashSize, {});
        outer.update(pad);
        outer.update(innerHash);
        outer.finish(out);
    }
    sodium_memzero(pad, sizeof pad);
    sodium_memzero(innerHash, sizeof innerHash);
}

// KDFn for n = outputs.size() (whitepaper §5.4 "KDFn", the HKDF of RFC 5869 keyed by `key`).
void kdf(std::initializer_list<Secret<32>*> outputs, Bytes key, Bytes input) noexcept {
    std::uint8_t tau0[kHashSize];
    hmacParts(tau0, key, {input}); // key and input are fully consumed here
    Bytes previous;                // tau1 = HMAC(tau0, 0x1) has no previous output
    std::uint8_t index = 1;
    for (Secret<32>* tau : outputs) {
        hmacParts(tau->span(), Bytes(tau0), {previous, Bytes(&index, 1)});
        previous = Bytes(tau->span());
        ++index;
    }
    sodium_memzero(tau0, sizeof tau0);
}

} // namespace

void blake2s(std::span<std::uint8_t> out, Bytes input, Bytes key) noexcept {
    State state(out.size(), key);
    state.update(input);
    state.finish(out);
}

Hash hash(std::initializer_list<Bytes> parts) noexcept {
    State state(kHashSize, {});
    for (Bytes part : parts)
        state.update(part);
    Hash out;
    state.finish(out);
    return out;
}

Mac mac(Bytes key, Bytes input) noexcept {
    Mac out;
    blake2s(out, input, key);
    return out;
}

Hash hmac(Bytes key, Bytes input) noexcept {
    Hash out;
    hmacParts(out, key, {input});
    return out;
}

void kdf1(Secret<32>& t1, Bytes key, Bytes input) noexcept {
    kdf({&t1}, key, input);
}

void kdf2(Secret<32>& t1, Secret<32>& t2, Bytes key, Bytes input) noexcept {
    kdf({&t1, &t2}, key, input);
}

void kdf3(Secret<32>& t1, Secret<32>& t2, Secret<32>& t3, Bytes key, Bytes input) noexcept {
    kdf({&t1, &t2, &t3}, key, input);
}

} // namespace calnet::crypto
