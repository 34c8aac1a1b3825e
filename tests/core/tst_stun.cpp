// STUN Binding codec (core/net/stun.h): RFC 5769's messages parse and every single-byte change
// to them is refused; the server's answer decodes to the source it was made for and is never
// larger than the request; calnetd's request is what a server accepts; malformed requests are
// refused with the right reason.
#include <QTest>

#include "core/net/stun.h"
#include "vectorfile.h"

using namespace calnet;
using namespace calnet::testing;

namespace {

const stun::TransactionId kVectorId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                       0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

net::SocketAddress address(const char* text) {
    const auto a = net::SocketAddress::parse(text);
    if (!a)
        qFatal("bad address %s", text);
    return *a;
}

// A request header with the given attributes (each already padded) after it.
QByteArray request(const QByteArray& attributes, quint16 type = 0x0001) {
    QByteArray m;
    m.append(char(type >> 8)).append(char(type & 0xff));
    m.append(char(attributes.size() >> 8)).append(char(attributes.size() & 0xff));
    m.append(QByteArray::fromHex("2112a442"));
    m.append(toQByteArray(kVectorId));
    return m + attributes;
}

} // namespace

class TestStun : public QObject {
    Q_OBJECT
private slots:
    void crcCheckValue() {
        // The CRC-32 check value of "123456789" (zlib's CRC, ISO-HDLC).
        const QByteArray text("123456789");
        QCOMPARE(stun::crc32(bytes(text)), 0xCBF43926u);
    }

    void rfc5769_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<QString>("mapped");
        const QList<Record> records = loadVectors("stun_rfc5769.txt");
        QCOMPARE(records.size(), 3);
        for (const Record& r : records)
            QTest::newRow(qPrintable(r.value("name")))
                << r.value("kind") << hexField(r, "message") << r.value("mapped");
    }
    void rfc5769() {
        QFETCH(QString, kind);
        QFETCH(QByteArray, message);
        QFETCH(QString, mapped);
        QVERIFY(stun::looksLikeStun(bytes(message)));
        stun::ParseError error = stun::ParseError::None;
        if (kind == QLatin1String("request")) {
            const auto r = stun::parseBindingRequest(bytes(message), &error);
            QVERIFY(r.has_value());
            QVERIFY(r->id == kVectorId);
            QVERIFY(!stun::parseBindingResponse(bytes(message), &error));
            QCOMPARE(error, stun::ParseError::NotBinding);
        } else {
            const auto r = stun::parseBindingResponse(bytes(message), &error);
            QVERIFY(r.has_value());
            QVERIFY(r->id == kVectorId);
            QCOMPARE(QString::fromStdString(r->mapped.toString()), mapped);
            QVERIFY(!stun::parseBindingRequest(bytes(message), &error));
            QCOMPARE(error, stun::ParseError::NotBinding);
        }
    }

    // FINGERPRINT covers the whole message: changing any single byte anywhere must be caught
    // (by the header checks, the attribute walk or the CRC).
    void everyByteFlipRefused_data() { rfc5769_data(); }
    void everyByteFlipRefused() {
        QFETCH(QString, kind);
        QFETCH(QByteArray, message);
        for (qsizetype i = 0; i < message.size(); ++i) {
            // Except FINGERPRINT's own type: 0x8028 ^ 1 is 0x8029, an optional attribute, and the
            // message is then one without a FINGERPRINT, which is allowed.
            if (i == message.size() - 8 || i == message.size() - 7)
                continue;
            for (const char bit : {'\x01', '\x80'}) {
                QByteArray changed = message;
                changed[i] = char(changed[i] ^ bit);
                const bool accepted = kind == QLatin1String("request")
                                          ? stun::parseBindingRequest(bytes(changed)).has_value()
                                          : stun::parseBindingResponse(bytes(changed)).has_value();
                QVERIFY2(!accepted,
                         qPrintable(QStringLiteral("byte %1 ^ %2 accepted").arg(i).arg(int(bit))));
            }
        }
    }

    void answerDecodesToTheSource_data() {
        QTest::addColumn<QString>("source");
        QTest::newRow("ipv4") << QStringLiteral("203.0.113.7:41641");
        QTest::newRow("ipv4 port 1") << QStringLiteral("198.51.100.200:1");
        QTest::newRow("ipv6") << QStringLiteral("[2001:db8::1234:5678]:65535");
        QTest::newRow("ipv4-mapped ipv6") << QStringLiteral("[::ffff:192.0.2.9]:3478");
    }
    void answerDecodesToTheSource() {
        QFETCH(QString, source);
        const net::SocketAddress from = address(qPrintable(source));
        const stun::TransactionId id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        const auto req = stun::encodeBindingRequest(id);
        const auto parsed = stun::parseBindingRequest(req);
        QVERIFY(parsed.has_value());
        QVERIFY(parsed->id == id);
        const std::vector<std::uint8_t> answer =
            stun::encodeBindingSuccess(parsed->id, from, req.size());
        QVERIFY(!answer.empty());
        QVERIFY(answer.size() <= req.size());
        QCOMPARE(answer.size(),
                 from.address.family == net::Family::V4 ? 40u : 52u); // with FINGERPRINT
        const auto decoded = stun::parseBindingResponse(answer);
        QVERIFY(decoded.has_value());
        QVERIFY(decoded->id == id);
        QCOMPARE(QString::fromStdString(decoded->mapped.toString()),
                 QString::fromStdString(from.toString()));
    }

    // Never more bytes back than came in: FINGERPRINT goes first, then the answer itself.
    void noAmplification() {
        const net::SocketAddress v4 = address("192.0.2.1:1000");
        const net::SocketAddress v6 = address("[2001:db8::1]:1000");
        QVERIFY(stun::encodeBindingSuccess(kVectorId, v4, 20).empty());
        QVERIFY(stun::encodeBindingSuccess(kVectorId, v4, 31).empty());
        QCOMPARE(stun::encodeBindingSuccess(kVectorId, v4, 32).size(), 32u);
        QCOMPARE(stun::encodeBindingSuccess(kVectorId, v4, 39).size(), 32u);
        QCOMPARE(stun::encodeBindingSuccess(kVectorId, v4, 40).size(), 40u);
        QVERIFY(stun::encodeBindingSuccess(kVectorId, v6, 43).empty());
        QCOMPARE(stun::encodeBindingSuccess(kVectorId, v6, 44).size(), 44u);
        QCOMPARE(stun::encodeBindingSuccess(kVectorId, v6, 52).size(), 52u);
        for (std::size_t size = 0; size <= 600; ++size) {
            QVERIFY(stun::encodeBindingSuccess(kVectorId, v4, size).size() <= size);
            QVERIFY(stun::encodeBindingSuccess(kVectorId, v6, size).size() <= size);
        }
        // The answer without FINGERPRINT still decodes.
        const auto bare = stun::encodeBindingSuccess(kVectorId, v4, 32);
        const auto decoded = stun::parseBindingResponse(bare);
        QVERIFY(decoded.has_value());
        QCOMPARE(decoded->mapped.toString(), std::string("192.0.2.1:1000"));
    }

    void requestsRefused_data() {
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<int>("error");
        const auto E = [](stun::ParseError e) { return int(e); };
        QTest::newRow("empty") << QByteArray() << E(stun::ParseError::NotStun);
        QTest::newRow("header only, truncated")
            << request({}).left(19) << E(stun::ParseError::NotStun);
        QTest::newRow("top bits set") << request({}, 0x4001) << E(stun::ParseError::NotStun);
        QByteArray cookie = request({});
        cookie[4] = 0x22;
        QTest::newRow("wrong magic cookie") << cookie << E(stun::ParseError::NotStun);
        QTest::newRow("length says more than sent")
            << request(QByteArray::fromHex("8022000461626364")).left(24)
            << E(stun::ParseError::NotStun);
        QTest::newRow("binding indication")
            << request({}, 0x0011) << E(stun::ParseError::NotBinding);
        QTest::newRow("allocate request") << request({}, 0x0003) << E(stun::ParseError::NotBinding);
        QTest::newRow("attribute overruns") << request(QByteArray::fromHex("8022000861626364"))
                                            << E(stun::ParseError::BadAttributes);
        QTest::newRow("unknown comprehension-required attribute")
            << request(QByteArray::fromHex("0030000400000000"))
            << E(stun::ParseError::UnknownRequired);
        QTest::newRow("fingerprint not last")
            << request(QByteArray::fromHex("80280004000000008022000461626364"))
            << E(stun::ParseError::BadFingerprint);
        QTest::newRow("fingerprint wrong") << request(QByteArray::fromHex("8028000400000000"))
                                           << E(stun::ParseError::BadFingerprint);
        // A WireGuard handshake initiation (type 1, three zero bytes, 148 bytes): not STUN.
        QByteArray wg(148, '\x5a');
        wg[0] = 1;
        wg[1] = wg[2] = wg[3] = 0;
        QTest::newRow("wireguard initiation") << wg << E(stun::ParseError::NotStun);
    }
    void requestsRefused() {
        QFETCH(QByteArray, message);
        QFETCH(int, error);
        stun::ParseError got = stun::ParseError::None;
        QVERIFY(!stun::parseBindingRequest(bytes(message), &got));
        QCOMPARE(int(got), error);
    }

    void plainRequestsAccepted() {
        // A bare 20-byte request (what most STUN clients send) parses; the server then has no
        // answer for it that would not be larger (noAmplification).
        QVERIFY(stun::parseBindingRequest(bytes(request({}))).has_value());
        // Optional attributes, known required ones, a right FINGERPRINT.
        const QByteArray attrs = QByteArray::fromHex("8022000361626300") +
                                 QByteArray::fromHex("0006000461626364") +
                                 QByteArray::fromHex("002600080000000000000000");
        QVERIFY(stun::parseBindingRequest(bytes(request(attrs))).has_value());
    }

    void responsesRefused() {
        // A success response with no address, with a bad family, with an unknown required
        // attribute.
        QByteArray noAddress = request({}, 0x0101);
        stun::ParseError e = stun::ParseError::None;
        QVERIFY(!stun::parseBindingResponse(bytes(noAddress), &e));
        QCOMPARE(e, stun::ParseError::NoMappedAddress);
        QVERIFY(!stun::parseBindingResponse(
            bytes(request(QByteArray::fromHex("002000080003a147e112a643"), 0x0101)), &e));
        QCOMPARE(e, stun::ParseError::BadMappedAddress);
        QVERIFY(!stun::parseBindingResponse(
            bytes(request(QByteArray::fromHex("002000080001a147e112a643") +
                              QByteArray::fromHex("0031000400000000"),
                          0x0101)),
            &e));
        QCOMPARE(e, stun::ParseError::UnknownRequired);
        // The reserved first byte of an address attribute is ignored (RFC 8489 §14.1).
        const auto reserved = stun::parseBindingResponse(
            bytes(request(QByteArray::fromHex("00200008ff01a147e112a643"), 0x0101)));
        QVERIFY(reserved.has_value());
        QCOMPARE(reserved->mapped.toString(), std::string("192.0.2.1:32853"));
        // MAPPED-ADDRESS (RFC 3489 servers) is read when XOR-MAPPED-ADDRESS is missing.
        const auto old = stun::parseBindingResponse(
            bytes(request(QByteArray::fromHex("000100080001a147c0000201"), 0x0101)));
        QVERIFY(old.has_value());
        QCOMPARE(old->mapped.toString(), std::string("192.0.2.1:41287"));
    }
};

QTEST_APPLESS_MAIN(TestStun)
#include "tst_stun.moc"
