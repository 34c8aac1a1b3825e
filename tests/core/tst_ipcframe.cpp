// Tests for encodeFrame/FrameDecoder: round trips, every split of a stream (down to one byte),
// several frames per chunk, the size cap judged from the header alone, and malformed bodies.
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <random>

#include "helper/ipc/frame.h"

using calnet::ipc::encodeFrame;
using calnet::ipc::FrameDecoder;
using calnet::ipc::FrameError;
using calnet::ipc::kFrameHeaderSize;
using calnet::ipc::kMaxFrameSize;

Q_DECLARE_METATYPE(FrameError)

namespace {

constexpr qsizetype kMaxBuffered = kFrameHeaderSize + qsizetype(kMaxFrameSize);

QByteArray header(quint32 length) {
    QByteArray bytes(4, '\0');
    bytes[0] = char(length >> 24);
    bytes[1] = char(length >> 16);
    bytes[2] = char(length >> 8);
    bytes[3] = char(length);
    return bytes;
}

QByteArray rawFrame(const QByteArray& body) {
    return header(quint32(body.size())) + body;
}

// An object whose compact JSON {"s":"xxx…"} is exactly `bytes` long.
QJsonObject objectOfSize(qsizetype bytes) {
    const qsizetype overhead = qsizetype(sizeof(R"({"s":""})") - 1);
    return QJsonObject{{QStringLiteral("s"), QString(bytes - overhead, u'x')}};
}

QList<QJsonObject> sampleObjects() {
    return {
        QJsonObject{},
        QJsonObject{{QStringLiteral("v"), 1},
                    {QStringLiteral("id"), 7},
                    {QStringLiteral("method"), QStringLiteral("status")}},
        QJsonObject{{QStringLiteral("text"), QStringLiteral("Grüße, 世界 🌐")},
                    {QStringLiteral("list"), QJsonArray{1, 2.5, true, QJsonValue()}}},
        objectOfSize(300), // length needs two header bytes
    };
}

QList<QJsonObject> drain(FrameDecoder& decoder) {
    QList<QJsonObject> out;
    while (auto object = decoder.next()) {
        out.append(*object);
    }
    return out;
}

} // namespace

class TestIpcFrame : public QObject {
    Q_OBJECT

private slots:
    void encodeLayout() {
        const QJsonObject object{{QStringLiteral("a"), 1}};
        const QByteArray frame = encodeFrame(object);
        QCOMPARE(frame, header(7) + QByteArray(R"({"a":1})"));
    }

    void roundTrip() {
        for (const QJsonObject& object : sampleObjects()) {
            FrameDecoder decoder;
            decoder.feed(encodeFrame(object));
            QVERIFY(!decoder.hasError());
            QCOMPARE(decoder.next(), std::optional(object));
            QCOMPARE(decoder.next(), std::nullopt);
            QCOMPARE(decoder.bufferedBytes(), 0);
        }
    }

    void oneByteAtATime() {
        QByteArray stream;
        for (const QJsonObject& object : sampleObjects()) {
            stream += encodeFrame(object);
        }
        FrameDecoder decoder;
        QList<QJsonObject> decoded;
        for (const char byte : stream) {
            decoder.append(&byte, 1);
            QVERIFY(decoder.bufferedBytes() <= kMaxBuffered);
            decoded += drain(decoder);
        }
        QVERIFY(!decoder.hasError());
        QCOMPARE(decoded, sampleObjects());
        QCOMPARE(decoder.bufferedBytes(), 0);
    }

    void severalFramesPerChunk() {
        QByteArray stream;
        for (const QJsonObject& object : sampleObjects()) {
            stream += encodeFrame(object);
        }
        // A whole stream plus the first half of one more frame in one chunk.
        const QByteArray tail = encodeFrame(QJsonObject{{QStringLiteral("tail"), true}});
        FrameDecoder decoder;
        decoder.feed(stream + tail.left(5));
        QCOMPARE(decoder.pendingObjects(), sampleObjects().size());
        QCOMPARE(drain(decoder), sampleObjects());
        QCOMPARE(decoder.bufferedBytes(), 5);
        decoder.feed(tail.mid(5));
        const QList<QJsonObject> tailOnly{QJsonObject{{QStringLiteral("tail"), true}}};
        QCOMPARE(drain(decoder), tailOnly);
    }

    // Every split of the stream into chunks, chosen at random, decodes the same objects.
    void randomSplits() {
        QByteArray stream;
        QList<QJsonObject> expected;
        for (int round = 0; round < 4; ++round) {
            for (const QJsonObject& object : sampleObjects()) {
                stream += encodeFrame(object);
                expected.append(object);
            }
        }
        std::mt19937 rng(20240601);
        for (int trial = 0; trial < 200; ++trial) {
            FrameDecoder decoder;
            QList<QJsonObject> decoded;
            qsizetype offset = 0;
            while (offset < stream.size()) {
                const auto size = std::min<qsizetype>(
                    std::uniform_int_distribution<int>(0, 40)(rng), stream.size() - offset);
                decoder.append(stream.constData() + offset, size);
                offset += size;
                decoded += drain(decoder);
            }
            QVERIFY(!decoder.hasError());
            QCOMPARE(decoded, expected);
        }
    }

    void exactCapAccepted() {
        const QJsonObject object = objectOfSize(kMaxFrameSize);
        const QByteArray frame = encodeFrame(object);
        QCOMPARE(frame.size(), kMaxBuffered);
        QCOMPARE(frame.left(4), header(kMaxFrameSize));
        FrameDecoder decoder;
        decoder.feed(frame.left(frame.size() - 1));
        QCOMPARE(decoder.bufferedBytes(), kMaxBuffered - 1);
        QVERIFY(!decoder.next());
        decoder.feed(frame.right(1));
        QVERIFY(!decoder.hasError());
        QCOMPARE(decoder.next(), std::optional(object));
    }

    void overCapNotEncoded() { QVERIFY(encodeFrame(objectOfSize(kMaxFrameSize + 1)).isEmpty()); }

    // The header alone condemns the frame: nothing of the body is awaited or kept.
    void overCapRejectedFromHeader_data() {
        QTest::addColumn<quint32>("length");
        QTest::newRow("cap+1") << quint32(kMaxFrameSize + 1);
        QTest::newRow("2 MiB") << quint32(2u << 20);
        QTest::newRow("max u32") << quint32(0xffffffffu);
        QTest::newRow("'GET '") << quint32(0x47455420u); // an HTTP client on the wrong socket
    }
    void overCapRejectedFromHeader() {
        QFETCH(quint32, length);
        FrameDecoder decoder;
        const QByteArray head = header(length);
        decoder.append(head.constData(), 3);
        QVERIFY(!decoder.hasError());
        decoder.append(head.constData() + 3, 1);
        QCOMPARE(decoder.error(), std::optional(FrameError::TooLarge));
        QVERIFY(decoder.bufferedBytes() <= kFrameHeaderSize);
        // Whatever follows is ignored, not buffered.
        decoder.feed(QByteArray(64 * 1024, 'x'));
        QVERIFY(decoder.bufferedBytes() <= kFrameHeaderSize);
        QCOMPARE(decoder.next(), std::nullopt);
    }

    void zeroLength() {
        FrameDecoder decoder;
        decoder.feed(header(0));
        QCOMPARE(decoder.error(), std::optional(FrameError::ZeroLength));
    }

    void notJsonObject_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("array") << QByteArray("[]");
        QTest::newRow("number") << QByteArray("1");
        QTest::newRow("string") << QByteArray(R"("s")");
        QTest::newRow("null") << QByteArray("null");
        QTest::newRow("truncated") << QByteArray(R"({"a":)");
        QTest::newRow("two objects") << QByteArray("{}{}");
        QTest::newRow("garbage") << QByteArray("\x01\x02\xff garbage");
        QTest::newRow("bad utf-8") << QByteArray("{\"a\":\"\xc3\x28\"}");
        QTest::newRow("deep nesting") << QByteArray(100000, '[');
    }
    void notJsonObject() {
        QFETCH(QByteArray, body);
        FrameDecoder decoder;
        decoder.feed(rawFrame(body));
        QCOMPARE(decoder.error(), std::optional(FrameError::NotJsonObject));
        QCOMPARE(decoder.next(), std::nullopt);
        QCOMPARE(decoder.bufferedBytes(), 0);
    }

    void trailingWhitespaceAccepted() {
        FrameDecoder decoder;
        decoder.feed(rawFrame(" {\"a\":1}\n"));
        QCOMPARE(decoder.next(), std::optional(QJsonObject{{QStringLiteral("a"), 1}}));
    }

    void framesBeforeErrorSurvive() {
        FrameDecoder decoder;
        const QJsonObject first{{QStringLiteral("n"), 1}};
        decoder.feed(encodeFrame(first) + header(0) + encodeFrame(first));
        QCOMPARE(decoder.error(), std::optional(FrameError::ZeroLength));
        QCOMPARE(drain(decoder), QList{first});
    }

    void resetClearsError() {
        FrameDecoder decoder;
        decoder.feed(header(0xffffffffu));
        QVERIFY(decoder.hasError());
        decoder.reset();
        QVERIFY(!decoder.hasError());
        decoder.feed(encodeFrame(QJsonObject{}));
        QCOMPARE(decoder.next(), std::optional(QJsonObject{}));
    }

    void errorNames() {
        QCOMPARE(calnet::ipc::toString(FrameError::TooLarge), QLatin1StringView("frame too large"));
        QVERIFY(!calnet::ipc::toString(FrameError::ZeroLength).isEmpty());
        QVERIFY(!calnet::ipc::toString(FrameError::NotJsonObject).isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestIpcFrame)
#include "tst_ipcframe.moc"
