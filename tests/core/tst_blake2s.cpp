// Tests for the BLAKE2s wrappers: RFC 7693 Appendix B and the BLAKE2 reference KAT rows (read from
// tests/data/vectors), the RFC 7693 Appendix E self-test grand hash run through blake2s(), hash()
// and mac(), HMAC against a naive RFC 2104 reference, and KDF1..3 against wireguard-go's vectors.
#include <QTest>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/crypto/blake2s.h"
#include "vectorfile.h"

using calnet::crypto::Secret;
using calnet::testing::bytes;
using calnet::testing::hexField;
using calnet::testing::loadVectors;
using calnet::testing::Record;
using calnet::testing::toQByteArray;

namespace {

QByteArray blake2sOf(qsizetype outLen, const QByteArray& input, const QByteArray& key) {
    QByteArray out(outLen, '\0');
    calnet::crypto::blake2s(
        std::span(reinterpret_cast<std::uint8_t*>(out.data()), static_cast<std::size_t>(outLen)),
        bytes(input), bytes(key));
    return out;
}

// RFC 7693 Appendix E selftest_seq(): a deterministic Fibonacci-style byte sequence.
QByteArray selftestSequence(qsizetype length, std::uint32_t seed) {
    QByteArray out(length, '\0');
    std::uint32_t a = 0xDEAD4BAD * seed;
    std::uint32_t b = 1;
    for (char& c : out) {
        const std::uint32_t t = a + b;
        a = b;
        b = t;
        c = static_cast<char>(t >> 24);
    }
    return out;
}

// RFC 2104 §2 written out with hash() as H and B = 64: the reference hmac() must match.
QByteArray referenceHmac(QByteArray key, const QByteArray& message) {
    if (key.size() > 64)
        key = toQByteArray(calnet::crypto::hash({bytes(key)}));
    key.append(QByteArray(64 - key.size(), '\0'));
    QByteArray ipad = key;
    QByteArray opad = key;
    for (qsizetype i = 0; i < 64; ++i) {
        ipad[i] = static_cast<char>(ipad[i] ^ 0x36);
        opad[i] = static_cast<char>(opad[i] ^ 0x5c);
    }
    const QByteArray inner = toQByteArray(calnet::crypto::hash({bytes(ipad), bytes(message)}));
    return toQByteArray(calnet::crypto::hash({bytes(opad), bytes(inner)}));
}

Secret<32> filledSecret(std::uint8_t value) {
    std::array<std::uint8_t, 32> raw{};
    raw.fill(value);
    return Secret<32>(std::span<const std::uint8_t, 32>(raw));
}

} // namespace

class TestBlake2s : public QObject {
    Q_OBJECT

private slots:
    void knownAnswer_data();
    void knownAnswer();
    void hashOfPartsEqualsHashOfConcatenation_data();
    void hashOfPartsEqualsHashOfConcatenation();
    void rfc7693SelfTest();
    void macIsKeyedBlake2s128();
    void hmacMatchesRfc2104Reference_data();
    void hmacMatchesRfc2104Reference();
    void kdf_data();
    void kdf();
    void kdfOutputMayAliasKeyOrInput();
};

void TestBlake2s::knownAnswer_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("expected");
    const QList<Record> records = loadVectors("blake2s.txt");
    QCOMPARE(records.size(), 15); // RFC 7693 "abc", 5 unkeyed and 9 keyed KAT rows
    for (const Record& r : records) {
        QTest::newRow(qPrintable(r.value("name")))
            << hexField(r, "in") << hexField(r, "key") << hexField(r, "out");
    }
}

void TestBlake2s::knownAnswer() {
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, expected);
    QCOMPARE(expected.size(), 32);

    QCOMPARE(blake2sOf(32, input, key).toHex(), expected.toHex());
    if (key.isEmpty()) // HASH() of the whitepaper is the unkeyed 32-byte form
        QCOMPARE(toQByteArray(calnet::crypto::hash({bytes(input)})).toHex(), expected.toHex());
}

void TestBlake2s::hashOfPartsEqualsHashOfConcatenation_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    for (const Record& r : loadVectors("blake2s.txt")) {
        if (hexField(r, "key").isEmpty())
            QTest::newRow(qPrintable(r.value("name"))) << hexField(r, "in") << hexField(r, "out");
    }
}

void TestBlake2s::hashOfPartsEqualsHashOfConcatenation() {
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    // Every two-way and a three-way split, with empty parts at the ends.
    for (qsizetype cut = 0; cut <= input.size(); ++cut) {
        const QByteArray head = input.left(cut);
        const QByteArray tail = input.mid(cut);
        QCOMPARE(toQByteArray(calnet::crypto::hash({bytes(head), bytes(tail)})).toHex(),
                 expected.toHex());
        QCOMPARE(toQByteArray(calnet::crypto::hash({bytes(QByteArray()), bytes(head),
                                                    bytes(tail.left(1)), bytes(tail.mid(1))}))
                     .toHex(),
                 expected.toHex());
    }
}

void TestBlake2s::rfc7693SelfTest() {
    // RFC 7693 Appendix E: hash every (output length, input length) pair unkeyed and keyed, then
    // hash the concatenated results. The 16-byte keyed results go through mac(), the 32-byte
    // unkeyed ones through hash(), the rest through blake2s(), so all three meet the grand hash.
    const QByteArray expected =
        QByteArray::fromHex("6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe");
    const qsizetype outLengths[] = {16, 20, 28, 32};
    const qsizetype inLengths[] = {0, 3, 64, 65, 255, 1024};

    QByteArray results;
    for (const qsizetype outLen : outLengths) {
        for (const qsizetype inLen : inLengths) {
            const QByteArray input = selftestSequence(inLen, static_cast<std::uint32_t>(inLen));
            if (outLen == 32)
                results += toQByteArray(calnet::crypto::hash({bytes(input)}));
            else
                results += blake2sOf(outLen, input, {});

            const QByteArray key = selftestSequence(outLen, static_cast<std::uint32_t>(outLen));
            if (outLen == 16)
                results += toQByteArray(calnet::crypto::mac(bytes(key), bytes(input)));
            else
                results += blake2sOf(outLen, input, key);
        }
    }
    QCOMPARE(toQByteArray(calnet::crypto::hash({bytes(results)})).toHex(), expected.toHex());
}

void TestBlake2s::macIsKeyedBlake2s128() {
    // MAC(key, x) is BLAKE2s with digest length 16 in the parameter block, not a truncated
    // 32-byte hash: check both facts for key lengths WireGuard uses (32 for mac1, 16 for mac2).
    const QByteArray input = selftestSequence(148, 148);
    for (const qsizetype keyLen : {16, 32}) {
        const QByteArray key = selftestSequence(keyLen, 7);
        const QByteArray m = toQByteArray(calnet::crypto::mac(bytes(key), bytes(input)));
        QCOMPARE(m, blake2sOf(16, input, key));
        QVERIFY(m != blake2sOf(32, input, key).left(16));
    }
}

void TestBlake2s::hmacMatchesRfc2104Reference_data() {
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("message");
    // Key lengths around the 32-byte digest and the 64-byte block, where RFC 2104 hashes the key.
    for (const qsizetype keyLen : {0, 1, 31, 32, 33, 63, 64, 65, 100, 200}) {
        for (const qsizetype msgLen : {0, 1, 33, 64, 65, 1000}) {
            QTest::addRow("key %lld, message %lld", static_cast<long long>(keyLen),
                          static_cast<long long>(msgLen))
                << selftestSequence(keyLen, static_cast<std::uint32_t>(keyLen + 1))
                << selftestSequence(msgLen, static_cast<std::uint32_t>(msgLen + 2));
        }
    }
}

void TestBlake2s::hmacMatchesRfc2104Reference() {
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, message);
    QCOMPARE(toQByteArray(calnet::crypto::hmac(bytes(key), bytes(message))).toHex(),
             referenceHmac(key, message).toHex());
}

void TestBlake2s::kdf_data() {
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("t1");
    QTest::addColumn<QByteArray>("t2");
    QTest::addColumn<QByteArray>("t3");
    const QList<Record> records = loadVectors("kdf.txt");
    QCOMPARE(records.size(), 3);
    for (const Record& r : records) {
        // wireguard-go's t0, t1, t2 are the first three outputs (whitepaper tau1..tau3).
        QTest::newRow(qPrintable(r.value("name")))
            << hexField(r, "key") << hexField(r, "input") << hexField(r, "t0") << hexField(r, "t1")
            << hexField(r, "t2");
    }
}

void TestBlake2s::kdf() {
    QFETCH(QByteArray, key);
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, t1);
    QFETCH(QByteArray, t2);
    QFETCH(QByteArray, t3);

    Secret<32> a = filledSecret(0xee);
    Secret<32> b = filledSecret(0xee);
    Secret<32> c = filledSecret(0xee);
    calnet::crypto::kdf1(a, bytes(key), bytes(input));
    QCOMPARE(toQByteArray(a.span()).toHex(), t1.toHex());

    a = filledSecret(0xee);
    calnet::crypto::kdf2(a, b, bytes(key), bytes(input));
    QCOMPARE(toQByteArray(a.span()).toHex(), t1.toHex());
    QCOMPARE(toQByteArray(b.span()).toHex(), t2.toHex());

    a = filledSecret(0xee);
    b = filledSecret(0xee);
    calnet::crypto::kdf3(a, b, c, bytes(key), bytes(input));
    QCOMPARE(toQByteArray(a.span()).toHex(), t1.toHex());
    QCOMPARE(toQByteArray(b.span()).toHex(), t2.toHex());
    QCOMPARE(toQByteArray(c.span()).toHex(), t3.toHex());

    // The construction itself, spelled out with hmac(): tau0 = HMAC(key, input), ...
    const auto tau0 = calnet::crypto::hmac(bytes(key), bytes(input));
    QCOMPARE(toQByteArray(calnet::crypto::hmac(tau0, bytes(QByteArray::fromHex("01")))).toHex(),
             t1.toHex());
    QCOMPARE(
        toQByteArray(calnet::crypto::hmac(tau0, bytes(t1 + QByteArray::fromHex("02")))).toHex(),
        t2.toHex());
}

void TestBlake2s::kdfOutputMayAliasKeyOrInput() {
    // Noise's MixKey writes the new chaining key over the old one: ck, k = KDF2(ck, input).
    const QByteArray input = QByteArray::fromHex("746573742d696e707574");
    Secret<32> ck = filledSecret(0x42);
    Secret<32> expected1;
    Secret<32> expected2;
    Secret<32> expected3;
    calnet::crypto::kdf3(expected1, expected2, expected3, ck.span(), bytes(input));

    Secret<32> k;
    Secret<32> temp;
    calnet::crypto::kdf3(ck, temp, k, ck.span(), bytes(input)); // output 1 is the key
    QVERIFY(ck.equals(expected1));
    QVERIFY(temp.equals(expected2));
    QVERIFY(k.equals(expected3));

    Secret<32> in = filledSecret(0x42);
    Secret<32> out2;
    calnet::crypto::kdf2(out2, in, bytes(input), in.span()); // output 2 is the input
    Secret<32> ref1;
    Secret<32> ref2;
    const Secret<32> original = filledSecret(0x42);
    calnet::crypto::kdf2(ref1, ref2, bytes(input), original.span());
    QVERIFY(out2.equals(ref1));
    QVERIFY(in.equals(ref2));
}

QTEST_APPLESS_MAIN(TestBlake2s)

#include "tst_blake2s.moc"
