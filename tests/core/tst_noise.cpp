// The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector of the cacophony set, replayed byte for byte
// through NoiseIkPsk2 (the code the WireGuard handshake runs on): both handshake messages, the
// handshake hash, and four transport messages after Split().
#include <QFile>
#include <QTest>

#include <map>

#include "core/crypto/aead.h"
#include "core/wireguard/noise.h"

using namespace calnet;
using namespace calnet::wireguard;

namespace {

std::map<QByteArray, QByteArray> loadVector() {
    QFile f(QStringLiteral(CALNET_TEST_DATA_DIR
                           "/vectors/cacophony_IKpsk2_25519_ChaChaPoly_BLAKE2s.txt"));
    std::map<QByteArray, QByteArray> out;
    if (!f.open(QIODevice::ReadOnly))
        return out;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const auto eq = line.indexOf('=');
        out[line.left(eq).trimmed()] = QByteArray::fromHex(line.mid(eq + 1).trimmed());
    }
    return out;
}

crypto::Bytes bytes(const QByteArray& b) {
    return {reinterpret_cast<const std::uint8_t*>(b.constData()), std::size_t(b.size())};
}
crypto::PrivateKey privateKey(const QByteArray& b) {
    return crypto::PrivateKey(std::span<const std::uint8_t, 32>(bytes(b).first<32>()));
}
QByteArray qb(std::span<const std::uint8_t> s) {
    return QByteArray(reinterpret_cast<const char*>(s.data()), qsizetype(s.size()));
}

} // namespace

class tst_Noise : public QObject {
    Q_OBJECT

private slots:
    void cacophonyVector();
    void tamperedMessageAIsRejected();
    void symmetricStateShortName();
};

void tst_Noise::cacophonyVector() {
    auto v = loadVector();
    QVERIFY2(v.size() >= 20, "vector file missing or incomplete");
    const char* name = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";

    const auto initStatic = privateKey(v["init_static"]);
    const auto respStatic = privateKey(v["resp_static"]);
    const auto initPub = crypto::publicKeyOf(initStatic);
    const auto respPub = crypto::publicKeyOf(respStatic);
    QCOMPARE(qb(respPub), v["init_remote_static"]);
    crypto::Secret<32> psk(std::span<const std::uint8_t, 32>(bytes(v["init_psks"]).first<32>()));

    NoiseIkPsk2 initiator(name, bytes(v["init_prologue"]), initStatic, initPub, respPub);
    NoiseIkPsk2 responder(name, bytes(v["resp_prologue"]), respStatic, respPub, std::nullopt);

    // Message A.
    const QByteArray p0 = v["msg0.payload"];
    std::vector<std::uint8_t> m0(std::size_t(p0.size()) + kNoiseMessageAOverhead);
    QVERIFY(initiator.writeMessageA(m0, privateKey(v["init_ephemeral"]), bytes(p0)));
    QCOMPARE(qb(m0).toHex(), v["msg0.ciphertext"].toHex());
    std::vector<std::uint8_t> got0(std::size_t(p0.size()));
    QVERIFY(responder.readMessageA(got0, m0));
    QCOMPARE(qb(got0), p0);
    QVERIFY(responder.remoteStatic().has_value());
    QCOMPARE(qb(*responder.remoteStatic()), qb(initPub));

    // Message B.
    const QByteArray p1 = v["msg1.payload"];
    std::vector<std::uint8_t> m1(std::size_t(p1.size()) + kNoiseMessageBOverhead);
    QVERIFY(responder.writeMessageB(m1, privateKey(v["resp_ephemeral"]), psk, bytes(p1)));
    QCOMPARE(qb(m1).toHex(), v["msg1.ciphertext"].toHex());
    std::vector<std::uint8_t> got1(std::size_t(p1.size()));
    QVERIFY(initiator.readMessageB(got1, m1, psk));
    QCOMPARE(qb(got1), p1);

    QCOMPARE(qb(initiator.handshakeHash()).toHex(), v["handshake_hash"].toHex());
    QCOMPARE(qb(responder.handshakeHash()).toHex(), v["handshake_hash"].toHex());

    // Transport: Noise nonces count from 0 per direction, as WireGuard's counters do.
    crypto::AeadKey iSend, iRecv, rSend, rRecv;
    initiator.split(iSend, iRecv);
    responder.split(rSend, rRecv);
    QVERIFY(iSend.equals(rRecv));
    QVERIFY(iRecv.equals(rSend));
    std::uint64_t nonceI = 0, nonceR = 0;
    for (int i = 2; i <= 5; ++i) {
        const QByteArray p = v["msg" + QByteArray::number(i) + ".payload"];
        const QByteArray c = v["msg" + QByteArray::number(i) + ".ciphertext"];
        const bool fromInitiator = i % 2 == 0;
        std::vector<std::uint8_t> out(std::size_t(p.size()) + crypto::kAeadTagSize);
        crypto::aeadSeal(out, fromInitiator ? iSend : rSend,
                         crypto::counterNonce(fromInitiator ? nonceI++ : nonceR++), bytes(p), {});
        QCOMPARE(qb(out).toHex(), c.toHex());
    }
}

void tst_Noise::tamperedMessageAIsRejected() {
    const auto a = crypto::generatePrivateKey();
    const auto b = crypto::generatePrivateKey();
    const auto aPub = crypto::publicKeyOf(a);
    const auto bPub = crypto::publicKeyOf(b);
    const std::uint8_t prologue[] = {1, 2, 3};
    for (std::size_t flip : {0u, 31u, 32u, 70u, 80u, 100u}) {
        NoiseIkPsk2 initiator("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", prologue, a, aPub, bPub);
        NoiseIkPsk2 responder("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", prologue, b, bPub,
                              std::nullopt);
        std::vector<std::uint8_t> msg(12 + kNoiseMessageAOverhead);
        const std::uint8_t payload[12] = {};
        QVERIFY(initiator.writeMessageA(msg, crypto::generatePrivateKey(), payload));
        msg[flip] ^= 0x01;
        std::vector<std::uint8_t> out(12);
        QVERIFY2(!responder.readMessageA(out, msg), qPrintable(QString::number(flip)));
    }
    // A low-order ephemeral (all zero) makes a DH result zero: rejected, not crashed.
    NoiseIkPsk2 responder("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s", prologue, b, bPub, std::nullopt);
    std::vector<std::uint8_t> zero(12 + kNoiseMessageAOverhead, 0);
    std::vector<std::uint8_t> out(12);
    QVERIFY(!responder.readMessageA(out, zero));
}

void tst_Noise::symmetricStateShortName() {
    // Names of at most 32 bytes are used as h directly, zero-padded (Noise §5.2).
    SymmetricState s("Noise_NN");
    const auto& h = s.handshakeHash();
    QCOMPARE(QByteArray(reinterpret_cast<const char*>(h.data()), 8), QByteArray("Noise_NN"));
    for (std::size_t i = 8; i < 32; ++i)
        QCOMPARE(h[i], std::uint8_t(0));
}

QTEST_APPLESS_MAIN(tst_Noise)
#include "tst_noise.moc"
