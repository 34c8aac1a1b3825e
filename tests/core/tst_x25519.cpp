// Tests for the X25519 wrapper and Secret<N>: the RFC 7748 §5.2 and §6.1 vectors and the iterated
// test as rows read from tests/data/vectors, libsodium's small-order points (which must give
// nullopt), RFC 7748 §5 clamping, and Secret's wipe-on-move contract.
#include <QTest>

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include "core/crypto/secret.h"
#include "core/crypto/x25519.h"
#include "vectorfile.h"

using calnet::crypto::PrivateKey;
using calnet::crypto::PublicKey;
using calnet::crypto::Secret;
using calnet::testing::hexField;
using calnet::testing::loadVectors;
using calnet::testing::Record;
using calnet::testing::toQByteArray;

namespace {

// ---- byte conversions ---------------------------------------------------------------------------
template <std::size_t N> std::array<std::uint8_t, N> toArray(const QByteArray& bytes) {
    if (bytes.size() != static_cast<qsizetype>(N))
        qFatal("expected %zu bytes, got %lld", N, static_cast<long long>(bytes.size()));
    std::array<std::uint8_t, N> out{};
    std::memcpy(out.data(), bytes.constData(), N);
    return out;
}

template <std::size_t N> Secret<N> toSecret(const QByteArray& bytes) {
    const auto array = toArray<N>(bytes);
    return Secret<N>(std::span<const std::uint8_t, N>(array));
}

const QByteArray kBasePoint = QByteArray::fromHex("09") + QByteArray(31, '\0');

// RFC 7748 §6.1 private keys, used as scalars against the low-order points.
const QByteArray kAlicePrivate =
    QByteArray::fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const QByteArray kBobPrivate =
    QByteArray::fromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");

} // namespace

class TestX25519 : public QObject {
    Q_OBJECT

private slots:
    void knownAnswer_data();
    void knownAnswer();
    void publicKeyOf_data();
    void publicKeyOf();
    void iterated_data();
    void iterated();
    void lowOrderPointGivesNullopt_data();
    void lowOrderPointGivesNullopt();
    void usablePublicKey();
    void sharedSecretIsSymmetric();
    void clampPrivateKey_data();
    void clampPrivateKey();
    void generatePrivateKeyIsClampedAndFresh();

    void secretDefaultIsZero();
    void secretMoveConstructWipesSource();
    void secretMoveAssignWipesSource();
    void secretCopyKeepsSource();
    void secretEquals();
    void secretWipe();
};

void TestX25519::knownAnswer_data() {
    QTest::addColumn<QByteArray>("scalar");
    QTest::addColumn<QByteArray>("u");
    QTest::addColumn<QByteArray>("expected");
    const QList<Record> records = loadVectors("x25519.txt");
    QCOMPARE(records.size(), 6); // §5.2 x2, §6.1 two public keys and K from both sides
    for (const Record& r : records) {
        QTest::newRow(qPrintable(r.value("name")))
            << hexField(r, "scalar") << hexField(r, "u") << hexField(r, "out");
    }
}

void TestX25519::knownAnswer() {
    QFETCH(QByteArray, scalar);
    QFETCH(QByteArray, u);
    QFETCH(QByteArray, expected);

    const auto shared = calnet::crypto::x25519(toSecret<32>(scalar), toArray<32>(u));
    QVERIFY(shared.has_value());
    QCOMPARE(toQByteArray(shared->span()).toHex(), expected.toHex());
}

void TestX25519::publicKeyOf_data() {
    QTest::addColumn<QByteArray>("scalar");
    QTest::addColumn<QByteArray>("expected");
    int rows = 0;
    for (const Record& r : loadVectors("x25519.txt")) {
        if (hexField(r, "u") != kBasePoint)
            continue;
        QTest::newRow(qPrintable(r.value("name"))) << hexField(r, "scalar") << hexField(r, "out");
        ++rows;
    }
    QCOMPARE(rows, 2); // Alice's and Bob's public keys, RFC 7748 §6.1
}

void TestX25519::publicKeyOf() {
    QFETCH(QByteArray, scalar);
    QFETCH(QByteArray, expected);
    QCOMPARE(toQByteArray(calnet::crypto::publicKeyOf(toSecret<32>(scalar))).toHex(),
             expected.toHex());
}

void TestX25519::iterated_data() {
    QTest::addColumn<int>("iterations");
    QTest::addColumn<QByteArray>("expected");
    const QList<Record> records = loadVectors("x25519_iterated.txt");
    QCOMPARE(records.size(), 3);
    for (const Record& r : records) {
        bool ok = false;
        const int iterations = r.value("iterations").toInt(&ok);
        QVERIFY(ok && iterations > 0);
        // The 1,000,000-iteration row takes about a minute: it runs as its own CTest entry,
        // core.x25519_million (tests/CMakeLists.txt), which sets CALNET_SLOW_TESTS=1.
        const bool slow = r.value("slow") == QLatin1String("1");
        if (slow && qEnvironmentVariable("CALNET_SLOW_TESTS") != QLatin1String("1"))
            continue;
        QTest::newRow(qPrintable(r.value("name"))) << iterations << hexField(r, "out");
    }
}

void TestX25519::iterated() {
    QFETCH(int, iterations);
    QFETCH(QByteArray, expected);

    // RFC 7748 §5.2: k = u = 9, then (k, u) = (X25519(k, u), k).
    auto k = toArray<32>(kBasePoint);
    auto u = k;
    for (int i = 0; i < iterations; ++i) {
        const auto result = calnet::crypto::x25519(Secret<32>(std::span(std::as_const(k))), u);
        QVERIFY(result.has_value());
        u = k;
        std::memcpy(k.data(), result->data(), k.size());
    }
    QCOMPARE(toQByteArray(k).toHex(), expected.toHex());
}

void TestX25519::lowOrderPointGivesNullopt_data() {
    QTest::addColumn<QByteArray>("scalar");
    QTest::addColumn<QByteArray>("u");
    const QList<Record> records = loadVectors("x25519_low_order.txt");
    QCOMPARE(records.size(), 14);
    const PrivateKey fresh = calnet::crypto::generatePrivateKey();
    const QList<std::pair<const char*, QByteArray>> scalars = {
        {"alice", kAlicePrivate},
        {"bob", kBobPrivate},
        {"random", toQByteArray(fresh.span())},
        {"unclamped-ones", QByteArray(32, '\xff')},
    };
    for (const Record& r : records) {
        for (const auto& [scalarName, scalar] : scalars) {
            QTest::addRow("%s x %s", qPrintable(r.value("name")), scalarName)
                << scalar << hexField(r, "u");
        }
    }
}

void TestX25519::lowOrderPointGivesNullopt() {
    QFETCH(QByteArray, scalar);
    QFETCH(QByteArray, u);
    QVERIFY(!calnet::crypto::x25519(toSecret<32>(scalar), toArray<32>(u)).has_value());
}

// What a server checks at registration: every low-order point of the vector file is unusable,
// fresh public keys are usable.
void TestX25519::usablePublicKey() {
    for (const Record& r : loadVectors("x25519_low_order.txt")) {
        QVERIFY2(!calnet::crypto::isUsablePublicKey(toArray<32>(hexField(r, "u"))),
                 qPrintable(r.value("name")));
    }
    for (int i = 0; i < 32; ++i) {
        QVERIFY(calnet::crypto::isUsablePublicKey(
            calnet::crypto::publicKeyOf(calnet::crypto::generatePrivateKey())));
    }
}

void TestX25519::sharedSecretIsSymmetric() {
    for (int i = 0; i < 16; ++i) {
        const PrivateKey a = calnet::crypto::generatePrivateKey();
        const PrivateKey b = calnet::crypto::generatePrivateKey();
        const auto ab = calnet::crypto::x25519(a, calnet::crypto::publicKeyOf(b));
        const auto ba = calnet::crypto::x25519(b, calnet::crypto::publicKeyOf(a));
        QVERIFY(ab.has_value() && ba.has_value());
        QVERIFY(ab->equals(*ba));
        QVERIFY(!ab->isZero());
    }
}

void TestX25519::clampPrivateKey_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    // RFC 7748 §5: clear bits 0, 1, 2 and 255, set bit 254; nothing else changes.
    QTest::newRow("all ones") << QByteArray(32, '\xff')
                              << QByteArray::fromHex("f8") + QByteArray(30, '\xff') +
                                     QByteArray::fromHex("7f");
    QTest::newRow("all zero") << QByteArray(32, '\0')
                              << QByteArray(31, '\0') + QByteArray::fromHex("40");
    QTest::newRow("rfc7748 alice")
        << kAlicePrivate
        << QByteArray::fromHex("70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a");
}

void TestX25519::clampPrivateKey() {
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    PrivateKey key = toSecret<32>(input);
    calnet::crypto::clampPrivateKey(key);
    QCOMPARE(toQByteArray(key.span()).toHex(), expected.toHex());
    calnet::crypto::clampPrivateKey(key); // idempotent
    QCOMPARE(toQByteArray(key.span()).toHex(), expected.toHex());
}

void TestX25519::generatePrivateKeyIsClampedAndFresh() {
    // Every key is clamped, and every byte position takes more than one value across 32 keys
    // (a generator that filled only part of the key would leave some position constant). The
    // chance of a false failure is below 2^-150.
    std::array<std::array<std::uint8_t, 32>, 32> keys{};
    for (auto& raw : keys) {
        const PrivateKey key = calnet::crypto::generatePrivateKey();
        QCOMPARE(key.data()[0] & 7, 0);
        QCOMPARE(key.data()[31] & 0xc0, 0x40);
        std::memcpy(raw.data(), key.data(), raw.size());
    }
    for (std::size_t byte = 0; byte < 32; ++byte) {
        bool varies = false;
        for (const auto& raw : keys)
            varies = varies || raw[byte] != keys[0][byte];
        QVERIFY2(varies, qPrintable(QStringLiteral("byte %1 never changes").arg(byte)));
    }
}

void TestX25519::secretDefaultIsZero() {
    const Secret<32> secret;
    QVERIFY(secret.isZero());
}

void TestX25519::secretMoveConstructWipesSource() {
    Secret<32> source = toSecret<32>(kAlicePrivate);
    const Secret<32> moved(std::move(source));
    QCOMPARE(toQByteArray(moved.span()).toHex(), kAlicePrivate.toHex());
    // The moved-from object stays valid and must hold no trace of the key.
    QVERIFY(source.isZero()); // NOLINT(bugprone-use-after-move)
}

void TestX25519::secretMoveAssignWipesSource() {
    Secret<32> source = toSecret<32>(kAlicePrivate);
    Secret<32> target = toSecret<32>(kBobPrivate);
    target = std::move(source);
    QCOMPARE(toQByteArray(target.span()).toHex(), kAlicePrivate.toHex());
    QVERIFY(source.isZero()); // NOLINT(bugprone-use-after-move)

    // Self-move must not wipe the key.
    Secret<32>& alias = target;
    target = std::move(alias);
    QCOMPARE(toQByteArray(target.span()).toHex(), kAlicePrivate.toHex());
}

void TestX25519::secretCopyKeepsSource() {
    const Secret<32> source = toSecret<32>(kAlicePrivate);
    const Secret<32> copy(source);
    Secret<32> assigned;
    assigned = source;
    QVERIFY(copy.equals(source));
    QVERIFY(assigned.equals(source));
    QCOMPARE(toQByteArray(source.span()).toHex(), kAlicePrivate.toHex());
}

void TestX25519::secretEquals() {
    const Secret<32> alice = toSecret<32>(kAlicePrivate);
    const Secret<32> aliceAgain = toSecret<32>(kAlicePrivate);
    const Secret<32> bob = toSecret<32>(kBobPrivate);
    QVERIFY(alice.equals(aliceAgain));
    QVERIFY(!alice.equals(bob));
    // A difference in the last byte only must still be seen (the compare covers all N bytes).
    QByteArray lastByte = kAlicePrivate;
    lastByte[31] = static_cast<char>(lastByte[31] ^ 0x01);
    QVERIFY(!alice.equals(toSecret<32>(lastByte)));
    QVERIFY(Secret<16>().equals(Secret<16>()));
}

void TestX25519::secretWipe() {
    Secret<32> secret = toSecret<32>(kAlicePrivate);
    QVERIFY(!secret.isZero());
    secret.wipe();
    QVERIFY(secret.isZero());
    QCOMPARE(toQByteArray(secret.span()), QByteArray(32, '\0'));
}

QTEST_APPLESS_MAIN(TestX25519)

#include "tst_x25519.moc"
