#include "helper/crypto/opensslaead.h"

#include <cstdlib>
#include <cstring>

#include <openssl/evp.h>
#include <sodium/utils.h>

namespace calnet::helper {

namespace {

using crypto::AeadKey;
using crypto::AeadNonce;
using crypto::kAeadTagSize;

// The algorithm, fetched once: fetching by name on every call costs more than sealing a
// small packet.
EVP_CIPHER* cipher() noexcept {
    static EVP_CIPHER* const c = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
    return c;
}

// One direction's context of one thread, with the key it was last initialised with.
class Context {
public:
    explicit Context(bool encrypt) : encrypt_(encrypt) {}
    ~Context() {
        if (ctx_)
            EVP_CIPHER_CTX_free(ctx_);
        sodium_memzero(key_, sizeof key_);
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // Ready for one message under key and nonce; nullptr if OpenSSL failed.
    EVP_CIPHER_CTX* begin(const AeadKey& key, const AeadNonce& nonce) noexcept {
        if (!ctx_) {
            ctx_ = EVP_CIPHER_CTX_new();
            if (!ctx_ || EVP_CipherInit_ex(ctx_, cipher(), nullptr, nullptr, nullptr,
                                           encrypt_ ? 1 : 0) != 1)
                return nullptr;
        }
        const bool sameKey = keyed_ && sodium_memcmp(key_, key.data(), sizeof key_) == 0;
        if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, sameKey ? nullptr : key.data(),
                              nonce.data(), -1) != 1)
            return nullptr;
        if (!sameKey) {
            std::memcpy(key_, key.data(), sizeof key_);
            keyed_ = true;
        }
        return ctx_;
    }

private:
    bool encrypt_;
    bool keyed_ = false;
    EVP_CIPHER_CTX* ctx_ = nullptr;
    std::uint8_t key_[crypto::kAeadKeySize]{};
};

Context& threadContext(bool encrypt) {
    thread_local Context enc(true);
    thread_local Context dec(false);
    return encrypt ? enc : dec;
}

void seal(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
          std::span<const std::uint8_t> plaintext,
          std::span<const std::uint8_t> associatedData) noexcept {
    if (out.size() < plaintext.size() + kAeadTagSize)
        std::abort(); // a caller bug, as in aeadSeal: never leave plaintext where ciphertext goes
    EVP_CIPHER_CTX* ctx = threadContext(true).begin(key, nonce);
    int n = 0;
    bool ok = ctx != nullptr;
    if (ok && !associatedData.empty())
        ok = EVP_EncryptUpdate(ctx, nullptr, &n, associatedData.data(),
                               int(associatedData.size())) == 1;
    if (ok && !plaintext.empty())
        ok = EVP_EncryptUpdate(ctx, out.data(), &n, plaintext.data(), int(plaintext.size())) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out.data() + plaintext.size(), &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, int(kAeadTagSize),
                             out.data() + plaintext.size()) == 1;
    if (!ok) // the reference never fails; neither may a seal that replaced it
        crypto::aeadSeal(out, key, nonce, plaintext, associatedData);
}

bool open(std::span<std::uint8_t> out, const AeadKey& key, const AeadNonce& nonce,
          std::span<const std::uint8_t> ciphertext,
          std::span<const std::uint8_t> associatedData) noexcept {
    if (ciphertext.size() < kAeadTagSize) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    const std::size_t plainLen = ciphertext.size() - kAeadTagSize;
    if (out.size() < plainLen) {
        sodium_memzero(out.data(), out.size());
        return false;
    }
    // The tag is copied first: in place, the plaintext overwrites the ciphertext in front of it.
    std::uint8_t tag[kAeadTagSize];
    std::memcpy(tag, ciphertext.data() + plainLen, kAeadTagSize);
    EVP_CIPHER_CTX* ctx = threadContext(false).begin(key, nonce);
    int n = 0;
    bool ok = ctx != nullptr;
    if (ok && !associatedData.empty())
        ok = EVP_DecryptUpdate(ctx, nullptr, &n, associatedData.data(),
                               int(associatedData.size())) == 1;
    if (ok && plainLen > 0)
        ok = EVP_DecryptUpdate(ctx, out.data(), &n, ciphertext.data(), int(plainLen)) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, int(kAeadTagSize), tag) == 1 &&
         EVP_DecryptFinal_ex(ctx, out.data() + plainLen, &n) == 1;
    if (!ok)
        sodium_memzero(out.data(), plainLen);
    return ok;
}

} // namespace

const crypto::AeadImpl* opensslAead() noexcept {
    static constexpr crypto::AeadImpl kImpl{"openssl", seal, open};
    return cipher() ? &kImpl : nullptr;
}

} // namespace calnet::helper
