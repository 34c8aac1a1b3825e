// WsFrameParser and the frame encoder (RFC 6455 §5): masked client frames in one piece and byte
// by byte, fragmentation, control frames between fragments, close codes and reasons, and every
// refusal with the close code the server answers with.
#include <QTest>

#include "server/http/wsframes.h"

using namespace calnet::server::http;
using Kind = WsEvent::Kind;

namespace {

// A client frame: FIN flag, opcode, masked with `key`.
QByteArray frame(bool fin, quint8 opcode, const QByteArray& payload, quint32 key = 0x11223344,
                 bool masked = true) {
    QByteArray f;
    f.append(char((fin ? 0x80 : 0) | opcode));
    const auto n = quint64(payload.size());
    const char mask = masked ? char(0x80) : 0;
    if (n < 126) {
        f.append(char(mask | char(n)));
    } else if (n <= 0xFFFF) {
        f.append(char(mask | 126));
        f.append(char(n >> 8));
        f.append(char(n));
    } else {
        f.append(char(mask | 127));
        for (int i = 7; i >= 0; --i)
            f.append(char(n >> (8 * i)));
    }
    const char k[4] = {char(key >> 24), char(key >> 16), char(key >> 8), char(key)};
    if (masked)
        f.append(k, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        f.append(masked ? char(payload[i] ^ k[i % 4]) : payload[i]);
    return f;
}

std::vector<WsEvent> parseAll(const QByteArray& bytes, bool byteByByte, std::size_t max = 1024) {
    WsFrameParser p(max);
    std::vector<WsEvent> out;
    auto drain = [&] {
        while (auto ev = p.next()) {
            out.push_back(*ev);
            if (ev->kind == Kind::Error)
                return false;
        }
        return true;
    };
    if (byteByByte) {
        for (char c : bytes) {
            p.append(&c, 1);
            if (!drain())
                break;
        }
    } else {
        p.append(bytes.constData(), std::size_t(bytes.size()));
        drain();
    }
    return out;
}

} // namespace

class tst_WsFrames : public QObject {
    Q_OBJECT

private slots:
    void textAndBinary() {
        const QByteArray in = frame(true, 1, "hello") + frame(true, 2, QByteArray(300, 'b')) +
                              frame(true, 2, QByteArray(70000, 'c'));
        for (bool slow : {false, true}) {
            const auto ev = parseAll(in, slow, 100000);
            QCOMPARE(ev.size(), std::size_t(3));
            QCOMPARE(ev[0].kind, Kind::Text);
            QCOMPARE(ev[0].payload, QByteArray("hello"));
            QCOMPARE(ev[1].kind, Kind::Binary);
            QCOMPARE(ev[1].payload, QByteArray(300, 'b'));
            QCOMPARE(ev[2].payload.size(), 70000);
        }
    }

    void fragmentsWithAPingBetween() {
        const QByteArray in = frame(false, 1, "hel") + frame(true, 9, "p") +
                              frame(false, 0, "lo ") + frame(true, 0, "world");
        const auto ev = parseAll(in, true);
        QCOMPARE(ev.size(), std::size_t(2));
        QCOMPARE(ev[0].kind, Kind::Ping);
        QCOMPARE(ev[0].payload, QByteArray("p"));
        QCOMPARE(ev[1].kind, Kind::Text);
        QCOMPARE(ev[1].payload, QByteArray("hello world"));
    }

    void close() {
        auto ev = parseAll(frame(true, 8,
                                 QByteArray("\x03\xe8"
                                            "bye",
                                            5)),
                           false);
        QCOMPARE(ev.size(), std::size_t(1));
        QCOMPARE(ev[0].kind, Kind::Close);
        QCOMPARE(ev[0].closeCode, quint16(1000));
        QCOMPARE(ev[0].payload, QByteArray("bye"));
        ev = parseAll(frame(true, 8, {}), false);
        QCOMPARE(ev[0].closeCode, quint16(1005));
    }

    void refused_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("code");
        QTest::newRow("unmasked") << frame(true, 1, "x", 0, false) << 1002;
        QTest::newRow("rsv1") << QByteArray(1, char(0xC1)) + frame(true, 1, "x").mid(1) << 1002;
        QTest::newRow("opcode 3") << frame(true, 3, "x") << 1002;
        QTest::newRow("opcode 11") << frame(true, 11, "x") << 1002;
        QTest::newRow("fragmented ping") << frame(false, 9, "x") << 1002;
        QTest::newRow("long ping") << frame(true, 9, QByteArray(126, 'x')) << 1002;
        QTest::newRow("continuation first") << frame(true, 0, "x") << 1002;
        QTest::newRow("text inside text") << frame(false, 1, "a") + frame(true, 1, "b") << 1002;
        QTest::newRow("close of one byte") << frame(true, 8, "x") << 1002;
        QTest::newRow("close code 1005") << frame(true, 8, QByteArray("\x03\xed", 2)) << 1002;
        QTest::newRow("close code 999") << frame(true, 8, QByteArray("\x03\xe7", 2)) << 1002;
        QTest::newRow("close reason not UTF-8")
            << frame(true, 8, QByteArray("\x03\xe8\xff", 3)) << 1007;
        QTest::newRow("text not UTF-8") << frame(true, 1, QByteArray("\xc3\x28", 2)) << 1007;
        QTest::newRow("overlong UTF-8") << frame(true, 1, QByteArray("\xc0\xaf", 2)) << 1007;
        QTest::newRow("surrogate") << frame(true, 1, QByteArray("\xed\xa0\x80", 3)) << 1007;
        QTest::newRow("too big") << frame(true, 2, QByteArray(1025, 'x')) << 1009;
        QTest::newRow("too big in fragments")
            << frame(false, 2, QByteArray(600, 'x')) + frame(true, 0, QByteArray(600, 'x')) << 1009;
        // 16-bit length form carrying 5: not the shortest form.
        QTest::newRow("non-minimal length")
            << QByteArray("\x81\xfe\x00\x05\x00\x00\x00\x00hello", 13) << 1002;
        QTest::newRow("64-bit top bit")
            << QByteArray("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10) << 1002;
    }
    void refused() {
        QFETCH(QByteArray, bytes);
        QFETCH(int, code);
        for (bool slow : {false, true}) {
            const auto ev = parseAll(bytes, slow);
            QVERIFY(!ev.empty());
            QCOMPARE(ev.back().kind, Kind::Error);
            QCOMPARE(int(ev.back().closeCode), code);
        }
    }

    // Too big is judged from the header: a 100 MB frame is refused before its payload arrives.
    void tooBigBeforeThePayload() {
        WsFrameParser p(1024);
        const QByteArray head("\x82\xff\x00\x00\x00\x00\x05\xf5\xe1\x00\x00\x00\x00\x00", 14);
        p.append(head.constData(), std::size_t(head.size()));
        const auto ev = p.next();
        QVERIFY(ev && ev->kind == Kind::Error && ev->closeCode == 1009);
        QCOMPARE(p.buffered(), std::size_t(0));
    }

    void serverFrames() {
        QCOMPARE(encodeWsFrame(WsOpcode::Text, "hi"), QByteArray("\x81\x02hi", 4));
        const QByteArray mid = encodeWsFrame(WsOpcode::Binary, QByteArray(200, 'x'));
        QCOMPARE(mid.left(4), QByteArray("\x82\x7e\x00\xc8", 4));
        const QByteArray big = encodeWsFrame(WsOpcode::Binary, QByteArray(70000, 'x'));
        QCOMPARE(big.left(10), QByteArray("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
        // A close reason is cut to fit 125 bytes without splitting a UTF-8 character.
        const QByteArray reason = QString(QStringLiteral("é")).repeated(100).toUtf8();
        const QByteArray payload = encodeWsClose(4400, reason);
        QVERIFY(payload.size() <= 125);
        QVERIFY(WsFrameParser::isValidUtf8(payload.mid(2)));
        QCOMPARE(quint8(payload[0]), quint8(4400 >> 8));
    }
};

QTEST_APPLESS_MAIN(tst_WsFrames)
#include "tst_wsframes.moc"
