// calnet-core's own ChaCha20-Poly1305 (chachapoly_x86): Poly1305 against RFC 8439 §2.5.2 and
// against libsodium on extreme and random keys and messages (carries, h >= p at the end); each
// vector implementation (AVX2, AVX-512, where this CPU has them) against the RFC 8439 AEAD
// vectors, and against libsodium — the reference — for every length from 0 to 2,100 bytes
// (every batch boundary of both keystream widths), with and without associated data, in place
// and not, at odd buffer offsets; any changed byte of ciphertext, tag, nonce or associated
// data must fail to open and leave the output zeroed.
#include <QTest>

#include <cstring>
#include <random>
#include <vector>

#include <sodium/crypto_onetimeauth_poly1305.h>

#include "core/crypto/chachapoly_x86.h"
#include "vectorfile.h"

using namespace calnet::crypto;
using calnet::testing::bytes;
using calnet::testing::hexField;
using calnet::testing::loadVectors;

namespace {

std::vector<const AeadImpl*> impls() {
    std::vector<const AeadImpl*> out;
    for (const AeadImpl* a : {simdAeadAvx2(), simdAeadAvx512()})
        if (a)
            out.push_back(a);
    return out;
}

std::vector<std::uint8_t> fromHex(const char* hex) {
    std::vector<std::uint8_t> out;
    for (const char* p = hex; p[0] && p[1]; p += 2)
        out.push_back(std::uint8_t(std::stoi(std::string(p, 2), nullptr, 16)));
    return out;
}

AeadKey keyOf(const std::vector<std::uint8_t>& k) {
    return AeadKey(std::span<const std::uint8_t, 32>(k.data(), 32));
}

} // namespace

class tst_ChaChaPoly : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        // Not a skip: on a CPU without AVX2 the transport path uses libsodium and OpenSSL, and
        // only the portable Poly1305 below is checked.
        qInfo("vector implementations on this CPU: %zu (%s%s)", impls().size(),
              simdAeadAvx2() ? "avx2 " : "", simdAeadAvx512() ? "avx512" : "");
    }

    void poly1305Rfc8439() {
        // §2.5.2.
        const auto key =
            fromHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
        const char msg[] = "Cryptographic Forum Research Group";
        std::uint8_t tag[16];
        poly1305(tag, key.data(), {reinterpret_cast<const std::uint8_t*>(msg), sizeof msg - 1});
        QCOMPARE(std::vector<std::uint8_t>(tag, tag + 16),
                 fromHex("a8061dc1305136c6c22b8baf0c0127a9"));
    }

    // Bytes drawn from 0x00, 0xff and random, so accumulators sit at their limits and carries
    // ripple through every limb; lengths cover partial and whole blocks.
    void poly1305MatchesLibsodium() {
        std::mt19937 rng(8439);
        auto byteOf = [&](int mode) -> std::uint8_t {
            switch (mode) {
            case 0:
                return 0;
            case 1:
                return 0xff;
            default:
                return std::uint8_t(rng());
            }
        };
        for (int round = 0; round < 20000; ++round) {
            std::uint8_t key[32];
            const int keyMode = int(rng() % 4);
            for (auto& b : key)
                b = byteOf(keyMode == 3 ? int(rng() % 3) : keyMode);
            std::vector<std::uint8_t> msg(rng() % 300);
            const int msgMode = int(rng() % 4);
            for (auto& b : msg)
                b = byteOf(msgMode == 3 ? int(rng() % 3) : msgMode);
            std::uint8_t ours[16], ref[16];
            poly1305(ours, key, msg);
            crypto_onetimeauth_poly1305(ref, msg.data(), msg.size(), key);
            if (std::memcmp(ours, ref, 16) != 0)
                QFAIL(qPrintable(QString("round %1: key mode %2, message mode %3, %4 bytes")
                                     .arg(round)
                                     .arg(keyMode)
                                     .arg(msgMode)
                                     .arg(msg.size())));
        }
    }

    void aeadKnownAnswers() {
        int checked = 0;
        for (const AeadImpl* impl : impls()) {
            for (const auto& r : loadVectors("chacha20poly1305.txt")) {
                const QByteArray key = hexField(r, "key");
                const QByteArray nonceBytes = hexField(r, "nonce");
                const QByteArray aad = hexField(r, "aad");
                const QByteArray plain = hexField(r, "plaintext");
                const QByteArray sealed = hexField(r, "ciphertext") + hexField(r, "tag");
                AeadNonce nonce{};
                std::memcpy(nonce.data(), nonceBytes.constData(), nonce.size());
                const AeadKey k(bytes(key).first<32>());
                std::vector<std::uint8_t> out(std::size_t(sealed.size()));
                impl->seal(out, k, nonce, bytes(plain), bytes(aad));
                QVERIFY2(std::memcmp(out.data(), sealed.constData(), out.size()) == 0, impl->name);
                std::vector<std::uint8_t> back(std::size_t(plain.size()));
                QVERIFY(impl->open(back, k, nonce, bytes(sealed), bytes(aad)));
                QVERIFY(std::memcmp(back.data(), plain.constData(), back.size()) == 0);
                ++checked;
            }
        }
        QCOMPARE(checked, 2 * int(impls().size()));
    }

    void aeadMatchesLibsodiumEveryLength() {
        std::mt19937 rng(2100);
        for (const AeadImpl* impl : impls()) {
            for (std::size_t len = 0; len <= 2100; ++len) {
                std::vector<std::uint8_t> keyBytes(32);
                for (auto& b : keyBytes)
                    b = std::uint8_t(rng());
                const AeadKey key = keyOf(keyBytes);
                const AeadNonce nonce = counterNonce((std::uint64_t(rng()) << 32) | rng());
                std::vector<std::uint8_t> aad(len % 3 == 0 ? 0 : rng() % 40);
                for (auto& b : aad)
                    b = std::uint8_t(rng());
                const std::size_t offset = len % 4; // unaligned buffers too
                std::vector<std::uint8_t> plainBuf(len + offset);
                for (auto& b : plainBuf)
                    b = std::uint8_t(rng());
                const std::span<const std::uint8_t> plain(plainBuf.data() + offset, len);

                std::vector<std::uint8_t> ref(len + kAeadTagSize);
                aeadSeal(ref, key, nonce, plain, aad);
                std::vector<std::uint8_t> ours(len + kAeadTagSize + offset);
                const std::span<std::uint8_t> out(ours.data() + offset, len + kAeadTagSize);
                impl->seal(out, key, nonce, plain, aad);
                if (std::memcmp(out.data(), ref.data(), ref.size()) != 0)
                    QFAIL(qPrintable(QString("%1 seal differs at length %2").arg(impl->name).arg(len)));

                // In place: seal over the plaintext, open over the ciphertext.
                std::vector<std::uint8_t> inplace(plain.begin(), plain.end());
                inplace.resize(len + kAeadTagSize);
                impl->seal(inplace, key, nonce, {inplace.data(), len}, aad);
                QVERIFY(std::memcmp(inplace.data(), ref.data(), ref.size()) == 0);
                QVERIFY(impl->open({inplace.data(), len}, key, nonce, inplace, aad));
                QVERIFY(std::equal(plain.begin(), plain.end(), inplace.begin()));

                // Out of place, and what libsodium sealed opens with ours.
                std::vector<std::uint8_t> back(len + offset);
                QVERIFY(impl->open({back.data() + offset, len}, key, nonce, ref, aad));
                QVERIFY(std::equal(plain.begin(), plain.end(), back.begin() + long(offset)));
            }
        }
    }

    void tamperingFailsAndZeroes() {
        std::mt19937 rng(77);
        for (const AeadImpl* impl : impls()) {
            for (std::size_t len : {0u, 1u, 63u, 64u, 447u, 448u, 449u, 960u, 1440u, 2000u}) {
                std::vector<std::uint8_t> keyBytes(32, 9);
                const AeadKey key = keyOf(keyBytes);
                const AeadNonce nonce = counterNonce(len);
                const std::vector<std::uint8_t> aad = {1, 2, 3};
                std::vector<std::uint8_t> plain(len, 0x42);
                std::vector<std::uint8_t> sealed(len + kAeadTagSize);
                impl->seal(sealed, key, nonce, plain, aad);
                for (int trial = 0; trial < 40; ++trial) {
                    auto bad = sealed;
                    auto badAad = aad;
                    AeadNonce badNonce = nonce;
                    switch (trial % 3) {
                    case 0:
                        bad[rng() % bad.size()] ^= std::uint8_t(1u << (rng() % 8));
                        break;
                    case 1:
                        badNonce[rng() % badNonce.size()] ^= 0x80;
                        break;
                    default:
                        badAad[rng() % badAad.size()] ^= 0x01;
                        break;
                    }
                    std::vector<std::uint8_t> out(len, 0xee);
                    QVERIFY(!impl->open(out, key, badNonce, bad, badAad));
                    QVERIFY(std::all_of(out.begin(), out.end(), [](auto b) { return b == 0; }));
                }
                std::vector<std::uint8_t> shortInput(kAeadTagSize - 1);
                std::vector<std::uint8_t> out(8, 0xee);
                QVERIFY(!impl->open(out, key, nonce, shortInput, {}));
            }
        }
    }
};

QTEST_APPLESS_MAIN(tst_ChaChaPoly)
#include "tst_chachapoly.moc"
