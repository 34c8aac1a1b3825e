// The transport AEAD choice: every implementation calnetd may pick (libsodium, OpenSSL's EVP,
// calnet-core's AVX2 / AVX-512 code) against the RFC 8439 vectors and against libsodium on
// every length up to 1,600 bytes; the self-benchmark's choice rule (one implementation below a
// threshold, another from it on) with fake implementations of known speed; transportSeal /
// transportOpen dispatching by length; and CALNET_AEAD pinning one implementation.
#include <QTest>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "../core/vectorfile.h"
#include "core/crypto/aeadimpl.h"
#include "helper/crypto/aeadselect.h"
#include "helper/crypto/opensslaead.h"

using namespace calnet;
using namespace calnet::helper;
using calnet::testing::bytes;
using calnet::testing::hexField;
using calnet::testing::loadVectors;

namespace {

// Fake implementations: libsodium underneath, made slower on purpose, counting calls.
int gSlowSmallCalls = 0;
int gSlowLargeCalls = 0;

void spinFor(std::chrono::nanoseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
    }
}

// Fixed 20 µs per call: loses at small sizes, wins at large ones against 2 ns per byte.
void sealFixedCost(std::span<std::uint8_t> out, const crypto::AeadKey& k,
                   const crypto::AeadNonce& n, std::span<const std::uint8_t> p,
                   std::span<const std::uint8_t> a) noexcept {
    ++gSlowLargeCalls;
    spinFor(std::chrono::microseconds(20));
    crypto::aeadSeal(out, k, n, p, a);
}
// 20 ns per byte: wins at small sizes.
void sealPerByte(std::span<std::uint8_t> out, const crypto::AeadKey& k, const crypto::AeadNonce& n,
                 std::span<const std::uint8_t> p, std::span<const std::uint8_t> a) noexcept {
    ++gSlowSmallCalls;
    spinFor(std::chrono::nanoseconds(20 * p.size()));
    crypto::aeadSeal(out, k, n, p, a);
}
bool openCountingLarge(std::span<std::uint8_t> out, const crypto::AeadKey& k,
                       const crypto::AeadNonce& n, std::span<const std::uint8_t> c,
                       std::span<const std::uint8_t> a) noexcept {
    ++gSlowLargeCalls;
    return crypto::aeadOpen(out, k, n, c, a);
}
bool openCountingSmall(std::span<std::uint8_t> out, const crypto::AeadKey& k,
                       const crypto::AeadNonce& n, std::span<const std::uint8_t> c,
                       std::span<const std::uint8_t> a) noexcept {
    ++gSlowSmallCalls;
    return crypto::aeadOpen(out, k, n, c, a);
}
constexpr crypto::AeadImpl kFixedCost{"fixed-cost", sealFixedCost, openCountingLarge};
constexpr crypto::AeadImpl kPerByte{"per-byte", sealPerByte, openCountingSmall};

crypto::AeadKey someKey(std::uint8_t seed) {
    crypto::AeadKey k;
    for (std::size_t i = 0; i < k.size(); ++i)
        k.data()[i] = std::uint8_t(seed + i * 13);
    return k;
}

} // namespace

// calnetd links libcrypto where the build has it: not on Windows, whose SDK has none
// (helper/CMakeLists.txt).
#if defined(_WIN32)
constexpr bool kOpensslBuilt = false;
#else
constexpr bool kOpensslBuilt = true;
#endif

class tst_AeadSelect : public QObject {
    Q_OBJECT

private slots:
    void opensslIsAvailable() {
        const auto all = availableAeads();
        QCOMPARE(all.front(), &crypto::libsodiumAead());
        if (!kOpensslBuilt) {
            QCOMPARE(opensslAead(), nullptr);
            QVERIFY(std::find(all.begin(), all.end(), nullptr) == all.end());
            return;
        }
        // Debian 12's libcrypto has ChaCha20-Poly1305; calnetd links it.
        QVERIFY(opensslAead() != nullptr);
        QVERIFY(all.size() >= 2);
    }

    void everyImplementationKnownAnswers() {
        int checked = 0;
        for (const auto* impl : availableAeads()) {
            for (const auto& r : loadVectors("chacha20poly1305.txt")) {
                const QByteArray key = hexField(r, "key");
                const QByteArray nonceBytes = hexField(r, "nonce");
                const QByteArray aad = hexField(r, "aad");
                const QByteArray plain = hexField(r, "plaintext");
                const QByteArray sealed = hexField(r, "ciphertext") + hexField(r, "tag");
                crypto::AeadNonce nonce{};
                std::memcpy(nonce.data(), nonceBytes.constData(), nonce.size());
                const crypto::AeadKey k(bytes(key).first<32>());
                std::vector<std::uint8_t> out(std::size_t(sealed.size()));
                impl->seal(out, k, nonce, bytes(plain), bytes(aad));
                QVERIFY2(std::memcmp(out.data(), sealed.constData(), out.size()) == 0, impl->name);
                // In place, as the data path opens.
                std::vector<std::uint8_t> inplace(sealed.begin(), sealed.end());
                QVERIFY2(impl->open({inplace.data(), std::size_t(plain.size())}, k, nonce, inplace,
                                    bytes(aad)),
                         impl->name);
                QVERIFY(std::memcmp(inplace.data(), plain.constData(), std::size_t(plain.size())) ==
                        0);
                ++checked;
            }
        }
        QCOMPARE(checked, 2 * int(availableAeads().size()));
    }

    void everyImplementationMatchesLibsodium() {
        std::mt19937 rng(10);
        for (const auto* impl : availableAeads()) {
            for (std::size_t len = 0; len <= 1600; ++len) {
                const auto key = someKey(std::uint8_t(len));
                const auto nonce = crypto::counterNonce(len * 7919);
                std::vector<std::uint8_t> plain(len);
                for (auto& b : plain)
                    b = std::uint8_t(rng());
                std::vector<std::uint8_t> ref(len + crypto::kAeadTagSize);
                crypto::aeadSeal(ref, key, nonce, plain, {});
                std::vector<std::uint8_t> buf(plain);
                buf.resize(len + crypto::kAeadTagSize);
                impl->seal(buf, key, nonce, {buf.data(), len}, {});
                if (buf != ref)
                    QFAIL(qPrintable(
                        QString("%1: seal of %2 bytes differs").arg(impl->name).arg(len)));
                QVERIFY(impl->open({buf.data(), len}, key, nonce, buf, {}));
                QVERIFY(std::equal(plain.begin(), plain.end(), buf.begin()));
                // A flipped bit anywhere fails and leaves zeros.
                ref[rng() % ref.size()] ^= 0x10;
                std::vector<std::uint8_t> out(len, 0xaa);
                QVERIFY(!impl->open(out, key, nonce, ref, {}));
                QVERIFY(std::all_of(out.begin(), out.end(), [](auto b) { return b == 0; }));
            }
        }
    }

#if !defined(_WIN32) // no libcrypto there (kOpensslBuilt)
    // The OpenSSL contexts are per thread and re-keyed when another key comes: two threads
    // with different keys at once get the right answers.
    void opensslContextsPerThreadAndKey() {
        const auto* ossl = opensslAead();
        QVERIFY(ossl);
        std::atomic<int> wrong{0};
        auto work = [&](std::uint8_t seed) {
            for (int i = 0; i < 2000; ++i) {
                const auto key = someKey(std::uint8_t(seed + (i % 3)));
                const auto nonce = crypto::counterNonce(std::uint64_t(i));
                std::vector<std::uint8_t> plain(200 + i % 300, seed);
                std::vector<std::uint8_t> a(plain.size() + 16), b(plain.size() + 16);
                ossl->seal(a, key, nonce, plain, {});
                crypto::aeadSeal(b, key, nonce, plain, {});
                if (a != b)
                    ++wrong;
            }
        };
        std::thread t1(work, 1), t2(work, 100);
        t1.join();
        t2.join();
        QCOMPARE(wrong.load(), 0);
    }
#endif

    void choiceRule() {
        const auto sel = measureTransportAead({&kFixedCost, &kPerByte});
        // per-byte costs 20 ns/B: 1.9 µs at 96 B (wins), 28.8 µs at 1,440 B (loses to 20 µs).
        QCOMPARE(sel.choice.small, &kPerByte);
        QCOMPARE(sel.choice.large, &kFixedCost);
        QVERIFY2(sel.choice.threshold > 384 && sel.choice.threshold < 1440,
                 qPrintable(QString::number(sel.choice.threshold)));
        QVERIFY(sel.summary.find("per-byte below") != std::string::npos);
        QCOMPARE(sel.measurements.size(), std::size_t(2 * 5));

        const auto one = measureTransportAead({&crypto::libsodiumAead()});
        QCOMPARE(one.choice.small, &crypto::libsodiumAead());
        QCOMPARE(one.choice.large, &crypto::libsodiumAead());
        QCOMPARE(one.choice.threshold, std::size_t(0));
    }

    void dispatchByLength() {
        const auto saved = crypto::transportAead();
        crypto::setTransportAead({&kPerByte, &kFixedCost, 500});
        gSlowSmallCalls = gSlowLargeCalls = 0;
        const auto key = someKey(3);
        for (std::size_t len : {0u, 100u, 499u, 500u, 1400u}) {
            std::vector<std::uint8_t> buf(len + 16, 1);
            crypto::transportSeal(buf, key, crypto::counterNonce(1), {buf.data(), len});
            QVERIFY(crypto::transportOpen({buf.data(), len}, key, crypto::counterNonce(1), buf));
        }
        QCOMPARE(gSlowSmallCalls, 3 * 2); // 0, 100, 499: seal and open each
        QCOMPARE(gSlowLargeCalls, 2 * 2); // 500, 1,400
        crypto::setTransportAead(saved);
    }

    // Runs last: it installs the process-wide choice once.
    void pinnedByEnvironment() {
        // Not the implementation the self-benchmark would pick first on every machine.
        const crypto::AeadImpl* pinned = kOpensslBuilt ? opensslAead() : &crypto::libsodiumAead();
        qputenv("CALNET_AEAD", pinned->name);
        const std::string& summary = ensureTransportAeadSelected();
        QCOMPARE(summary, "transport AEAD: " + std::string(pinned->name) + " (CALNET_AEAD)");
        const auto t = crypto::transportAead();
        QCOMPARE(t.small, pinned);
        QCOMPARE(t.large, pinned);
        QCOMPARE(&ensureTransportAeadSelected(), &summary); // once per process
    }
};

QTEST_APPLESS_MAIN(tst_AeadSelect)
#include "tst_aeadselect.moc"
