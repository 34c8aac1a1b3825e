// Disco messages (core/disco/message.h): every message survives encode/seal/open; a box opens
// only with the right keys and unaltered; malformed payloads are refused; the demultiplexing
// test tells disco apart from WireGuard and STUN; a pong is never larger than its ping.
#include <QTest>

#include "core/disco/message.h"
#include "core/net/stun.h"

using namespace calnet;

namespace {

net::SocketAddress address(const char* text) {
    const auto a = net::SocketAddress::parse(text);
    if (!a)
        qFatal("bad address %s", text);
    return *a;
}

struct Keys {
    crypto::PrivateKey priv = crypto::generatePrivateKey();
    crypto::PublicKey pub = crypto::publicKeyOf(priv);
};

} // namespace

class TestDisco : public QObject {
    Q_OBJECT
private slots:
    void payloadRoundTrip_data() {
        QTest::addColumn<int>("which");
        QTest::newRow("ping") << 0;
        QTest::newRow("pong v4") << 1;
        QTest::newRow("pong v6") << 2;
        QTest::newRow("call-me-maybe empty") << 3;
        QTest::newRow("call-me-maybe full") << 4;
    }
    void payloadRoundTrip() {
        QFETCH(int, which);
        disco::Message m;
        disco::TxId txid;
        for (std::size_t i = 0; i < txid.size(); ++i)
            txid[i] = std::uint8_t(i * 7 + 1);
        switch (which) {
        case 0: {
            disco::Ping p{txid, {}};
            p.nodeKey.fill(0xab);
            m = p;
            break;
        }
        case 1:
            m = disco::Pong{txid, address("198.51.100.7:41641")};
            break;
        case 2:
            m = disco::Pong{txid, address("[2001:db8::7]:65535")};
            break;
        case 3:
            m = disco::CallMeMaybe{disco::CallMeMaybe::SymmetricNat, {}};
            break;
        default: {
            disco::CallMeMaybe c;
            c.flags = disco::CallMeMaybe::UdpBlocked;
            for (std::size_t i = 0; i < disco::kMaxEndpoints; ++i)
                c.endpoints.push_back(i % 2 ? address("[fd00::1]:1")
                                            : net::SocketAddress{*net::IpAddress::parse("10.0.0.1"),
                                                                 std::uint16_t(1000 + i)});
            m = c;
        }
        }
        const auto bytes = disco::encodePayload(m);
        const auto back = disco::decodePayload(bytes);
        QVERIFY(back.has_value());
        QVERIFY(*back == m);
        // Every truncation and every extension is refused.
        for (std::size_t n = 0; n < bytes.size(); ++n)
            QVERIFY2(!disco::decodePayload(std::span(bytes.data(), n)), "truncated accepted");
        auto longer = bytes;
        longer.push_back(0);
        QVERIFY(!disco::decodePayload(longer));
    }

    void payloadRefusals() {
        const auto ping = disco::encodePayload(disco::Ping{});
        auto badVersion = ping;
        badVersion[1] = 1;
        QVERIFY(!disco::decodePayload(badVersion));
        auto badType = ping;
        badType[0] = 0x04;
        QVERIFY(!disco::decodePayload(badType));
        badType[0] = 0x00;
        QVERIFY(!disco::decodePayload(badType));
        // A count over the maximum, even with the bytes for it present.
        std::vector<std::uint8_t> cmm{0x03, 0x00, 0x00, std::uint8_t(disco::kMaxEndpoints + 1)};
        cmm.resize(4 + (disco::kMaxEndpoints + 1) * disco::kAddressSize);
        QVERIFY(!disco::decodePayload(cmm));
        // Encoding never writes more than the maximum.
        disco::CallMeMaybe big;
        big.endpoints.assign(disco::kMaxEndpoints + 5, address("192.0.2.1:1"));
        const auto bytes = disco::encodePayload(big);
        const auto back = disco::decodePayload(bytes);
        QVERIFY(back);
        QCOMPARE(std::get<disco::CallMeMaybe>(*back).endpoints.size(), disco::kMaxEndpoints);
    }

    void sealOpen() {
        Keys a, b, c;
        const disco::SharedKey ab(a.priv, b.pub);
        const disco::SharedKey ba(b.priv, a.pub);
        const disco::SharedKey ca(c.priv, a.pub);
        QVERIFY(ab.valid() && ba.valid());
        disco::Ping ping;
        ping.txid.fill(3);
        ping.nodeKey.fill(9);
        const auto sealed = ab.seal(a.pub, ping);
        QVERIFY(disco::looksLikeDisco(sealed));
        QVERIFY(disco::senderKey(sealed) == a.pub);
        const auto opened = ba.open(sealed);
        QVERIFY(opened);
        QVERIFY(std::get<disco::Ping>(*opened) == ping);
        // Two seals of one message differ (fresh nonce).
        QVERIFY(ab.seal(a.pub, ping) != sealed);
        // A third party's key cannot open it.
        QVERIFY(!ca.open(sealed));
        // Any single changed byte after the magic and key makes it fail.
        for (std::size_t i = disco::kMagic.size() + disco::kKeySize; i < sealed.size(); ++i) {
            auto bad = sealed;
            bad[i] ^= 0x01;
            QVERIFY2(!ba.open(bad), qPrintable(QStringLiteral("byte %1").arg(i)));
        }
        // A small-order public key yields no usable shared key.
        const disco::SharedKey zero(a.priv, crypto::PublicKey{});
        QVERIFY(!zero.valid());
        QVERIFY(zero.seal(a.pub, ping).empty());
    }

    void noAmplification() {
        Keys a, b;
        const disco::SharedKey ab(a.priv, b.pub);
        const auto ping = ab.seal(a.pub, disco::Ping{});
        const auto pong = ab.seal(a.pub, disco::Pong{{}, address("[2001:db8::1]:1")});
        QVERIFY(pong.size() <= ping.size());
    }

    void demultiplexing() {
        // WireGuard messages: type 1-4 followed by three zero bytes.
        for (std::uint8_t type = 1; type <= 4; ++type) {
            std::vector<std::uint8_t> wg(148, 0);
            wg[0] = type;
            QVERIFY(!disco::looksLikeDisco(wg));
        }
        stun::TransactionId id{};
        const auto req = stun::encodeBindingRequest(id);
        QVERIFY(!disco::looksLikeDisco(req));
        Keys a, b;
        const auto sealed = disco::SharedKey(a.priv, b.pub).seal(a.pub, disco::Ping{});
        QVERIFY(!stun::looksLikeStun(sealed));
        // Too short to hold a box.
        QVERIFY(!disco::looksLikeDisco(std::span(sealed.data(), disco::kHeaderSize + 10)));
        QVERIFY(!disco::looksLikeDisco({}));
    }
};

QTEST_APPLESS_MAIN(TestDisco)
#include "tst_disco.moc"
