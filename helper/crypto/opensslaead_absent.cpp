// Builds without libcrypto (Windows: the SDK has none): the transport AEAD is chosen among
// libsodium's and the SIMD implementations only.
#include "helper/crypto/opensslaead.h"

namespace calnet::helper {

const crypto::AeadImpl* opensslAead() noexcept {
    return nullptr;
}

} // namespace calnet::helper
