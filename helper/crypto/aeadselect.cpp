#include "helper/crypto/aeadselect.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/crypto/chachapoly_x86.h"
#include "helper/crypto/opensslaead.h"

namespace calnet::helper {

namespace {

// Plaintext sizes measured: WireGuard pads to 16, so these are what a 64-byte UDP payload
// (92 bytes of IPv4 packet -> 96), a TCP ACK, mid-size packets and an MTU-size packet become.
constexpr std::size_t kSizes[] = {96, 192, 384, 768, 1440};
constexpr int kRuns = 3;
constexpr std::size_t kBytesPerRun = 96 * 1024; // per size and run: ~10-50 us of work

double measure(const crypto::AeadImpl& impl, std::size_t size) {
    std::vector<std::uint8_t> buffer(size + crypto::kAeadTagSize, 0x5a);
    crypto::AeadKey key;
    for (std::size_t i = 0; i < key.size(); ++i)
        key.data()[i] = std::uint8_t(i * 7 + 1);
    const int iterations = int(std::max<std::size_t>(8, kBytesPerRun / size));
    double best = 1e300;
    for (int run = 0; run < kRuns + 1; ++run) { // the first run warms caches and contexts
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; ++i)
            impl.seal(buffer, key, crypto::counterNonce(std::uint64_t(i)),
                      std::span<const std::uint8_t>(buffer.data(), size), {});
        const auto t1 = std::chrono::steady_clock::now();
        if (run > 0)
            best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() /
                                      iterations);
    }
    return best;
}

const crypto::AeadImpl* pinned(const std::vector<const crypto::AeadImpl*>& available) {
    const char* env = std::getenv("CALNET_AEAD");
    if (!env)
        return nullptr;
    for (const auto* impl : available)
        if (std::strcmp(env, impl->name) == 0)
            return impl;
    return nullptr;
}

} // namespace

std::vector<const crypto::AeadImpl*> availableAeads() {
    std::vector<const crypto::AeadImpl*> out{&crypto::libsodiumAead()};
    if (const auto* ossl = opensslAead())
        out.push_back(ossl);
    for (const auto* simd : {crypto::simdAeadAvx2(), crypto::simdAeadAvx512()})
        if (simd)
            out.push_back(simd);
    return out;
}

AeadSelection measureTransportAead(const std::vector<const crypto::AeadImpl*>& candidates) {
    AeadSelection sel;
    const auto impls = candidates.empty() ? availableAeads() : candidates;
    // fastest[k]: the quickest implementation at kSizes[k].
    std::vector<const crypto::AeadImpl*> fastest;
    for (std::size_t size : kSizes) {
        const crypto::AeadImpl* best = nullptr;
        double bestNs = 0;
        for (const auto* impl : impls) {
            const double ns = measure(*impl, size);
            sel.measurements.push_back({impl, size, ns});
            if (!best || ns < bestNs) {
                best = impl;
                bestNs = ns;
            }
        }
        fastest.push_back(best);
    }
    // The implementation that wins at the largest size takes every size from the smallest
    // one from which it keeps winning; below that, the one that wins at the smallest size.
    const crypto::AeadImpl* large = fastest.back();
    std::size_t from = std::size(kSizes) - 1;
    while (from > 0 && fastest[from - 1] == large)
        --from;
    sel.choice.large = large;
    sel.choice.small = from == 0 ? large : fastest.front();
    // Between the last size the small one won and the first the large one won.
    sel.choice.threshold = from == 0 ? 0 : (kSizes[from - 1] + kSizes[from]) / 2;

    std::string s = "transport AEAD: ";
    if (sel.choice.small == sel.choice.large) {
        s += std::string(sel.choice.large->name) + " for every size";
    } else {
        s += std::string(sel.choice.small->name) + " below " +
             std::to_string(sel.choice.threshold) + " bytes, " + sel.choice.large->name +
             " from there";
    }
    s += " (self-benchmark, ns per message:";
    for (const auto& m : sel.measurements) {
        char buf[96];
        std::snprintf(buf, sizeof buf, " %s@%zu=%.0f", m.impl->name, m.size, m.nanosPerMessage);
        s += buf;
    }
    s += ")";
    sel.summary = std::move(s);
    return sel;
}

const std::string& ensureTransportAeadSelected() {
    static std::once_flag once;
    static std::string summary;
    std::call_once(once, [] {
        const auto available = availableAeads();
        if (const auto* impl = pinned(available)) {
            crypto::setTransportAead({impl, impl, 0});
            summary = std::string("transport AEAD: ") + impl->name + " (CALNET_AEAD)";
            return;
        }
        const auto sel = measureTransportAead(available);
        crypto::setTransportAead(sel.choice);
        summary = sel.summary;
    });
    return summary;
}

} // namespace calnet::helper
