// Choosing the transport AEAD: a short self-benchmark, once per process, before the first
// tunnel starts (issue 10). Every available implementation (libsodium, the reference,
// OpenSSL's, and calnet-core's own AVX2 / AVX-512 code) seals the same messages at sizes from a 64-byte inner packet to a full 1,440-byte
// one; the faster of the two below a threshold and the faster above it are installed with
// crypto::setTransportAead. Takes about 20 ms.
//
// CALNET_AEAD=libsodium, openssl, calnet-avx2 or calnet-avx512 pins one implementation for every size (for
// benchmarks and to rule the choice out when chasing a problem); anything else is ignored.
#pragma once

#include <string>
#include <vector>

#include "core/crypto/aeadimpl.h"

namespace calnet::helper {

struct AeadMeasurement {
    const crypto::AeadImpl* impl;
    std::size_t size;        // plaintext bytes
    double nanosPerMessage;  // best of several runs
};

struct AeadSelection {
    crypto::TransportAead choice;
    std::vector<AeadMeasurement> measurements;
    std::string summary; // one line for the log
};

// Measures the candidates (all of them when empty) and picks the choice; installs nothing.
[[nodiscard]] AeadSelection measureTransportAead(
    const std::vector<const crypto::AeadImpl*>& candidates = {});

// The implementations compiled in and usable here, libsodium first.
[[nodiscard]] std::vector<const crypto::AeadImpl*> availableAeads();

// Runs the selection once per process (honouring CALNET_AEAD), installs it, and returns its
// summary line; later calls return the same line at once.
const std::string& ensureTransportAeadSelected();

} // namespace calnet::helper
