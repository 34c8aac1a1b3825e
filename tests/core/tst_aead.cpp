// Tests for the AEAD wrappers: RFC 8439 §2.8.2 and A.5 (ChaCha20-Poly1305) and
// draft-irtf-cfrg-xchacha-03 A.3.1 (XChaCha20-Poly1305) as rows read from tests/data/vectors,
// sealed and opened both out of place and in place; every tampered field must fail to open and
// leave the output zeroed; the WireGuard counter nonce layout.
#include <QTest>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "core/crypto/aead.h"
#include "vectorfile.h"

using calnet::crypto::AeadKey;
using calnet::crypto::kAeadTagSize;
using calnet::testing::bytes;
using calnet::testing::hexField;
using calnet::testing::loadVectors;
using calnet::testing::Record;

namespace {

// ---- byte conversions ---------------------------------------------------------------------------
std::span<std::uint8_t> mutableBytes(QByteArray& b) {
    return {reinterpret_cast<std::uint8_t*>(b.data()), static_cast<std::size_t>(b.size())};
}

AeadKey toKey(const QByteArray& b) {
    if (b.size() != static_cast<qsizetype>(calnet::crypto::kAeadKeySize))
        qFatal("bad key length %lld", static_cast<long long>(b.size()));
    return AeadKey(bytes(b).first<calnet::crypto::kAeadKeySize>());
}

// ---- one seal/open pair for both constructions, chosen by nonce length ------------------------
enum class Kind { ChaCha, XChaCha };

void seal(Kind kind, std::span<std::uint8_t> out, const QByteArray& key, const QByteArray& nonce,
          std::span<const std::uint8_t> plaintext, const QByteArray& aad) {
    if (kind == Kind::ChaCha) {
        calnet::crypto::AeadNonce n{};
        std::memcpy(n.data(), nonce.constData(), n.size());
        calnet::crypto::aeadSeal(out, toKey(key), n, plaintext, bytes(aad));
    } else {
        calnet::crypto::XAeadNonce n{};
        std::memcpy(n.data(), nonce.constData(), n.size());
        calnet::crypto::xaeadSeal(out, toKey(key), n, plaintext, bytes(aad));
    }
}

bool open(Kind kind, std::span<std::uint8_t> out, const QByteArray& key, const QByteArray& nonce,
          std::span<const std::uint8_t> ciphertext, const QByteArray& aad) {
    if (kind == Kind::ChaCha) {
        calnet::crypto::AeadNonce n{};
        std::memcpy(n.data(), nonce.constData(), n.size());
        return calnet::crypto::aeadOpen(out, toKey(key), n, ciphertext, bytes(aad));
    }
    calnet::crypto::XAeadNonce n{};
    std::memcpy(n.data(), nonce.constData(), n.size());
    return calnet::crypto::xaeadOpen(out, toKey(key), n, ciphertext, bytes(aad));
}

std::size_t nonceSize(Kind kind) {
    return kind == Kind::ChaCha ? calnet::crypto::kAeadNonceSize : calnet::crypto::kXAeadNonceSize;
}

// Adds one row per vector of both files, with the columns the known-answer tests fetch.
void addVectorRows() {
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("nonce");
    QTest::addColumn<QByteArray>("aad");
    QTest::addColumn<QByteArray>("plaintext");
    QTest::addColumn<QByteArray>("sealed"); // ciphertext || tag
    const std::pair<const char*, Kind> files[] = {{"chacha20poly1305.txt", Kind::ChaCha},
                                                  {"xchacha20poly1305.txt", Kind::XChaCha}};
    int rows = 0;
    for (const auto& [file, kind] : files) {
        for (const Record& r : loadVectors(file)) {
            const QByteArray nonce = hexField(r, "nonce");
            QCOMPARE(static_cast<std::size_t>(nonce.size()), nonceSize(kind));
            QTest::newRow(qPrintable(r.value("name")))
                << kind << hexField(r, "key") << nonce << hexField(r, "aad")
                << hexField(r, "plaintext") << hexField(r, "ciphertext") + hexField(r, "tag");
            ++rows;
        }
    }
    QCOMPARE(rows, 3); // RFC 8439 §2.8.2 and A.5, draft-irtf-cfrg-xchacha-03 A.3.1
}

} // namespace

Q_DECLARE_METATYPE(Kind)

class TestAead : public QObject {
    Q_OBJECT

private slots:
    void sealKnownAnswer_data() { addVectorRows(); }
    void sealKnownAnswer();
    void sealInPlace_data() { addVectorRows(); }
    void sealInPlace();
    void openKnownAnswer_data() { addVectorRows(); }
    void openKnownAnswer();
    void openInPlace_data() { addVectorRows(); }
    void openInPlace();
    void openLeavesBytesPastPlaintextAlone_data() { addVectorRows(); }
    void openLeavesBytesPastPlaintextAlone();
    void tamperedInputFailsAndZeroes_data();
    void tamperedInputFailsAndZeroes();
    void openRejectsInputShorterThanTag();
    void roundTripAllLengths();
    void counterNonce_data();
    void counterNonce();
};

void TestAead::sealKnownAnswer() {
    QFETCH(Kind, kind);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, nonce);
    QFETCH(QByteArray, aad);
    QFETCH(QByteArray, plaintext);
    QFETCH(QByteArray, sealed);

    QByteArray out(plaintext.size() + static_cast<qsizetype>(kAeadTagSize), '\0');
    seal(kind, mutableBytes(out), key, nonce, bytes(plaintext), aad);
    QCOMPARE(out.toHex(), sealed.toHex());
}

void TestAead::sealInPlace() {
    QFETCH(Kind, kind);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, nonce);
    QFETCH(QByteArray, aad);
    QFETCH(QByteArray, plaintext);
    QFETCH(QByteArray, sealed);

    // The data path's layout: plaintext at the front of a buffer with room for the tag behind it.
    QByteArray buffer = plaintext + QByteArray(static_cast<qsizetype>(kAeadTagSize), '\0');
    const std::span<std::uint8_t> all = mutableBytes(buffer);
    seal(kind, all, key, nonce, all.first(static_cast<std::size_t>(plaintext.size())), aad);
    QCOMPARE(buffer.toHex(), sealed.toHex());
}

void TestAead::openKnownAnswer() {
    QFETCH(Kind, kind);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, nonce);
    QFETCH(QByteArray, aad);
    QFETCH(QByteArray, plaintext);
    QFETCH(QByteArray, sealed);

    QByteArray out(plaintext.size(), '\xaa');
    QVERIFY(open(kind, mutableBytes(out), key, nonce, bytes(sealed), aad));
    QCOMPARE(out.toHex(), plaintext.toHex());
}

void TestAead::openInPlace() {
    QFETCH(Kind, kind);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, nonce);
    QFETCH(QByteArray, aad);
    QFETCH(QByteArray, plaintext);
    QFETCH(QByteArray, sealed);

    QByteArray buffer = sealed;
    const std::span<std::uint8_t> all = mutableBytes(buffer);
    QVERIFY(
        open(kind, all.first(static_cast<std::size_t>(plaintext.size())), key, nonce, all, aad));
    QCOMPARE(buffer.left(plaintext.size()).toHex(), plaintext.toHex());
}

void TestAead::openLeavesBytesPastPlaintextAlone() {
    QFETCH(Kind, kind);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, nonce);
    QFETCH(QByteArray, aad);
    QFETCH(QByteArray, plaintext);
    QFETCH(QByteArray, sealed);

    // Callers may pass a larger output span; exactly ciphertext.size() - 16 bytes are written.
    QByteArray out(plaintext.size() + 40, '\x5a');
    QVERIFY(open(kind, mutableBytes(out), key, nonce, bytes(sealed), aad));
    QCOMPARE(out.left(plaintext.size()).toHex(), plaintext.toHex());
    QCOMPARE(out.mid(plaintext.size()), QByteArray(40, '\x5a'));
}

void TestAead::tamperedInputFailsAndZeroes_data() {
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("nonce");
    QTest::addColumn<QByteArray>("aad");
    QTest::addColumn<QByteArray>("sealed");

    const std::pair<const char*, Kind> files[] = {{"chacha20poly1305.txt", Kind::ChaCha},
                                                  {"xchacha20poly1305.txt", Kind::XChaCha}};
    for (const auto& [file, kind] : files) {
        for (const Record& r : loadVectors(file)) {
            const QString name = r.value("name");
            const QByteArray key = hexField(r, "key");
            const QByteArray nonce = hexField(r, "nonce");
            const QByteArray aad = hexField(r, "aad");
            const QByteArray sealed = hexField(r, "ciphertext") + hexField(r, "tag");
            const qsizetype tagAt = sealed.size() - static_cast<qsizetype>(kAeadTagSize);
            auto flip = [](QByteArray b, qsizetype at, char mask) {
                b[at] = static_cast<char>(b[at] ^ mask);
                return b;
            };
            QTest::addRow("%s: tag first bit", qPrintable(name))
                << kind << key << nonce << aad << flip(sealed, tagAt, 0x01);
            QTest::addRow("%s: tag last bit", qPrintable(name))
                << kind << key << nonce << aad << flip(sealed, sealed.size() - 1, '\x80');
            QTest::addRow("%s: ciphertext first byte", qPrintable(name))
                << kind << key << nonce << aad << flip(sealed, 0, 0x01);
            QTest::addRow("%s: ciphertext last byte", qPrintable(name))
                << kind << key << nonce << aad << flip(sealed, tagAt - 1, 0x40);
            QTest::addRow("%s: aad byte", qPrintable(name))
                << kind << key << nonce << flip(aad, aad.size() / 2, 0x01) << sealed;
            QTest::addRow("%s: aad dropped", qPrintable(name))
                << kind << key << nonce << QByteArray() << sealed;
            QTest::addRow("%s: aad extended", qPrintable(name))
                << kind << key << nonce << aad + QByteArray(1, '\0') << sealed;
            QTest::addRow("%s: nonce last byte", qPrintable(name))
                << kind << key << flip(nonce, nonce.size() - 1, 0x01) << aad << sealed;
            QTest::addRow("%s: key first byte", qPrintable(name))
                << kind << flip(key, 0, 0x01) << nonce << aad << sealed;
            QTest::addRow("%s: truncated by one byte", qPrintable(name))
                << kind << key << nonce << aad << sealed.left(sealed.size() - 1);
            QTest::addRow("%s: one byte appended", qPrintable(name))
                << kind << key << nonce << aad << sealed + QByteArray(1, '\0');
        }
    }
}

void TestAead::tamperedInputFailsAndZeroes() {
    QFETCH(Kind, kind);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, nonce);
    QFETCH(QByteArray, aad);
    QFETCH(QByteArray, sealed);

    const qsizetype plainLen = sealed.size() - static_cast<qsizetype>(kAeadTagSize);
    QByteArray out(plainLen, '\xaa');
    QVERIFY(!open(kind, mutableBytes(out), key, nonce, bytes(sealed), aad));
    QCOMPARE(out, QByteArray(plainLen, '\0'));

    // The same in place: the would-be plaintext region is zeroed too.
    QByteArray buffer = sealed;
    const std::span<std::uint8_t> all = mutableBytes(buffer);
    QVERIFY(!open(kind, all.first(static_cast<std::size_t>(plainLen)), key, nonce, all, aad));
    QCOMPARE(buffer.left(plainLen), QByteArray(plainLen, '\0'));
}

void TestAead::openRejectsInputShorterThanTag() {
    const QByteArray key(32, '\x01');
    for (const Kind kind : {Kind::ChaCha, Kind::XChaCha}) {
        const QByteArray nonce(static_cast<qsizetype>(nonceSize(kind)), '\0');
        for (qsizetype len = 0; len < static_cast<qsizetype>(kAeadTagSize); ++len) {
            QByteArray out(8, '\xaa');
            QVERIFY(!open(kind, mutableBytes(out), key, nonce, bytes(QByteArray(len, '\0')), {}));
            QCOMPARE(out, QByteArray(8, '\0'));
        }
    }
}

void TestAead::roundTripAllLengths() {
    // Lengths around the 64-byte ChaCha20 block and 16-byte Poly1305 block edges; random data
    // with a fixed seed. In-place and out-of-place sealing must agree byte for byte.
    std::mt19937 rng(7748);
    auto randomBytes = [&rng](qsizetype n) {
        QByteArray b(n, '\0');
        for (char& c : b)
            c = static_cast<char>(rng());
        return b;
    };
    for (const Kind kind : {Kind::ChaCha, Kind::XChaCha}) {
        for (qsizetype len = 0; len <= 300; ++len) {
            const QByteArray key = randomBytes(32);
            const QByteArray nonce = randomBytes(static_cast<qsizetype>(nonceSize(kind)));
            const QByteArray aad = randomBytes(len % 37);
            const QByteArray plaintext = randomBytes(len);

            QByteArray sealed(len + static_cast<qsizetype>(kAeadTagSize), '\0');
            seal(kind, mutableBytes(sealed), key, nonce, bytes(plaintext), aad);
            QByteArray inPlace = plaintext + QByteArray(static_cast<qsizetype>(kAeadTagSize), '\0');
            const std::span<std::uint8_t> all = mutableBytes(inPlace);
            seal(kind, all, key, nonce, all.first(static_cast<std::size_t>(len)), aad);
            QCOMPARE(inPlace, sealed);

            QByteArray opened(len, '\0');
            QVERIFY(open(kind, mutableBytes(opened), key, nonce, bytes(sealed), aad));
            QCOMPARE(opened, plaintext);
        }
    }
}

void TestAead::counterNonce_data() {
    QTest::addColumn<quint64>("counter");
    QTest::addColumn<QByteArray>("expected");
    // Whitepaper §5.4.6: 32 zero bits, then the 64-bit counter little-endian.
    QTest::newRow("zero") << Q_UINT64_C(0) << QByteArray::fromHex("000000000000000000000000");
    QTest::newRow("one") << Q_UINT64_C(1) << QByteArray::fromHex("000000000100000000000000");
    QTest::newRow("byte order") << Q_UINT64_C(0x0102030405060708)
                                << QByteArray::fromHex("000000000807060504030201");
    QTest::newRow("max") << ~Q_UINT64_C(0) << QByteArray::fromHex("00000000ffffffffffffffff");
}

void TestAead::counterNonce() {
    QFETCH(quint64, counter);
    QFETCH(QByteArray, expected);
    const calnet::crypto::AeadNonce nonce = calnet::crypto::counterNonce(counter);
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(nonce.data()),
                        static_cast<qsizetype>(nonce.size()))
                 .toHex(),
             expected.toHex());
}

QTEST_APPLESS_MAIN(TestAead)

#include "tst_aead.moc"
