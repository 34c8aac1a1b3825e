// OpenSSL's ChaCha20-Poly1305 (libcrypto's EVP interface) as an AeadImpl for the transport data
// path. On CPUs with AVX2 or AVX-512 its assembly is about twice libsodium's speed per byte,
// but every call pays a fixed EVP overhead, so it wins only from a few hundred bytes on; the
// self-benchmark (aeadselect.h) decides where.
//
// Each thread keeps its own encryption and decryption contexts (EVP contexts are not shared
// between threads), re-keyed only when a call brings another key.
#pragma once

#include "core/crypto/aeadimpl.h"

namespace calnet::helper {

// nullptr when this libcrypto has no ChaCha20-Poly1305 (a FIPS-only provider, say).
[[nodiscard]] const crypto::AeadImpl* opensslAead() noexcept;

} // namespace calnet::helper
