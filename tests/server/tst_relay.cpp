// The relay (server/relayhub.h) against an in-process server: nodes prove their node key with a
// crypto_box of the relay's challenge, then exchange opaque packets addressed by node key, both
// ways, in order; wrong proofs, unknown or deleted nodes, a missing hello and malformed frames
// are refused with their close codes; a destination that is not connected earns the sender one
// notice; a newer connection of a node replaces the older; a receiver that stops reading loses
// packets (counted) while everyone else's keep flowing.
#include <sodium.h>

#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>

#include "relaytest.h"
#include "servertest.h"

using namespace servertest;
using namespace relaytest;

namespace {

// A relay client on a bare TCP socket that authenticates and then never reads again (its
// Qt read buffer is capped, so the kernel's fills and TCP closes the window): a receiver that
// stopped reading, as a frozen or overloaded node is.
class StalledClient {
public:
    bool authenticate(quint16 port, const Keys& keys) {
        socket_.setReadBufferSize(4096);
        socket_.connectToHost(QHostAddress::LocalHost, port);
        // The server runs in this thread: wait with the event loop, never with waitFor*().
        for (int i = 0; i < 300 && socket_.state() != QAbstractSocket::ConnectedState; ++i)
            QTest::qWait(10);
        if (socket_.state() != QAbstractSocket::ConnectedState)
            return false;
        socket_.write("GET /api/v1/relay HTTP/1.1\r\nHost: calnet\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n");
        const QByteArray head = readUntil("\r\n\r\n");
        if (!head.startsWith("HTTP/1.1 101"))
            return false;
        const QJsonObject challenge = QJsonDocument::fromJson(readFrame()).object();
        const QByteArray serverKey = QByteArray::fromBase64(
            challenge.value(QStringLiteral("serverKey")).toString().toLatin1());
        const QByteArray nonce = QByteArray::fromBase64(
            challenge.value(QStringLiteral("challenge")).toString().toLatin1());
        writeMaskedText(
            QJsonDocument(hello(keys, serverKey, nonce)).toJson(QJsonDocument::Compact));
        return QJsonDocument::fromJson(readFrame())
                   .object()
                   .value(QStringLiteral("type"))
                   .toString() == QStringLiteral("ready");
    }

private:
    QByteArray readUntil(const QByteArray& end) {
        QElapsedTimer t;
        t.start();
        while (!buffer_.contains(end) && t.elapsed() < 3000) {
            QTest::qWait(10);
            buffer_ += socket_.readAll();
        }
        const qsizetype at = buffer_.indexOf(end);
        if (at < 0)
            return {};
        const QByteArray out = buffer_.left(at + end.size());
        buffer_.remove(0, at + end.size());
        return out;
    }
    // One unmasked text frame from the server (payloads here are under 64 KiB).
    QByteArray readFrame() {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 3000) {
            if (buffer_.size() >= 2) {
                qsizetype length = quint8(buffer_[1]) & 0x7f;
                qsizetype header = 2;
                if (length == 126 && buffer_.size() >= 4) {
                    length = (qsizetype(quint8(buffer_[2])) << 8) | quint8(buffer_[3]);
                    header = 4;
                }
                if (length != 126 && buffer_.size() >= header + length) {
                    const QByteArray payload = buffer_.mid(header, length);
                    buffer_.remove(0, header + length);
                    return payload;
                }
            }
            QTest::qWait(10);
            buffer_ += socket_.readAll();
        }
        return {};
    }
    void writeMaskedText(const QByteArray& payload) {
        QByteArray frame(1, char(0x81));
        if (payload.size() < 126) {
            frame.append(char(0x80 | payload.size()));
        } else {
            frame.append(char(0x80 | 126))
                .append(char(payload.size() >> 8))
                .append(char(payload.size() & 0xff));
        }
        const QByteArray mask("\x12\x34\x56\x78", 4);
        frame.append(mask);
        for (qsizetype i = 0; i < payload.size(); ++i)
            frame.append(char(payload[i] ^ mask[i % 4]));
        socket_.write(frame);
    }

    QTcpSocket socket_;
    QByteArray buffer_;
};

} // namespace

class TestRelay : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    std::unique_ptr<calnet::server::Server> m_server;
    QString m_authKey;
    int m_databases = 0;
    quint16 port() const { return m_server->port(); }
    qint64 registerKeys(const Keys& keys, const QString& hostname) {
        return relaytest::registerKeys(port(), keys, hostname, m_authKey);
    }

private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        auto config = testConfig(QStringLiteral("sqlite:") +
                                 m_dir.filePath(QStringLiteral("db%1").arg(++m_databases)));
        config.helloTimeoutMs = 1000;
        m_server = startInProcess(config);
        QVERIFY(m_server);
        m_authKey = createKey(port(), true);
        QVERIFY(!m_authKey.isEmpty());
    }
    void cleanup() { m_server.reset(); }

    void relaysBothWaysInOrder() {
        Keys a, b;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        QVERIFY(registerKeys(b, QStringLiteral("b")) > 0);
        RelayClient ca(port()), cb(port());
        QVERIFY(ca.authenticate(a));
        QVERIFY(cb.authenticate(b));
        QList<QByteArray> sent;
        for (int i = 0; i < 200; ++i) {
            QByteArray p(1 + (i * 97) % 1500, char(i));
            p[0] = char(i);
            sent.append(p);
            ca.sendTo(b.pub, p);
            cb.sendTo(a.pub, p + "back");
        }
        const QList<QByteArray> atB = cb.waitBinaries(200);
        const QList<QByteArray> atA = ca.waitBinaries(200);
        QCOMPARE(atB.size(), 200);
        QCOMPARE(atA.size(), 200);
        for (int i = 0; i < 200; ++i) {
            QCOMPARE(atB[i].left(33), QByteArray(1, '\x02') + a.pub);
            QCOMPARE(atB[i].mid(33), sent[i]);
            QCOMPARE(atA[i].left(33), QByteArray(1, '\x02') + b.pub);
            QCOMPARE(atA[i].mid(33), sent[i] + "back");
        }
        QCOMPARE(metric(port(), "calnet_relay_packets_total"), 400);
        QCOMPARE(metric(port(), "calnet_relay_clients"), 2);
    }

    // The proof is bound to this relay's key and challenge and to the node's private key.
    void wrongProofs() {
        Keys a, other;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        {
            // Boxed with another private key but claiming a's public key.
            RelayClient c(port());
            QVERIFY(c.open());
            QJsonObject h = hello(other, c.serverKey(), c.challenge());
            h.insert(QStringLiteral("nodeKey"), QString::fromLatin1(b64(a.pub)));
            c.sendText(h);
            QCOMPARE(c.waitClosed(), 4401);
        }
        {
            // A proof made for another connection's challenge (a replay).
            RelayClient first(port()), second(port());
            QVERIFY(first.open());
            QVERIFY(second.open());
            second.sendText(hello(a, first.serverKey(), first.challenge()));
            QCOMPARE(second.waitClosed(), 4401);
        }
        {
            // A valid proof of a key no node has.
            RelayClient c(port());
            QVERIFY(c.open());
            c.sendText(hello(other, c.serverKey(), c.challenge()));
            QCOMPARE(c.waitClosed(), 4403);
        }
        {
            RelayClient c(port());
            QVERIFY(c.open());
            c.sendText(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")}});
            QCOMPARE(c.waitClosed(), 4400);
        }
        {
            RelayClient c(port());
            QVERIFY(c.open());
            QCOMPARE(c.waitClosed(3000), 4408); // no hello within the (test's) 1 s
        }
        QCOMPARE(metric(port(), "calnet_relay_auth_failures_total"), 3);
    }

    void badFrames() {
        Keys a;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        {
            RelayClient c(port());
            QVERIFY(c.open());
            c.sendTo(a.pub, "before hello");
            QCOMPARE(c.waitClosed(), 4400);
        }
        {
            RelayClient c(port());
            QVERIFY(c.authenticate(a));
            c.socket().sendBinaryMessage(QByteArray(1, '\x02') + a.pub + "wrong type");
            QCOMPARE(c.waitClosed(), 4400);
        }
        {
            RelayClient c(port());
            QVERIFY(c.authenticate(a));
            c.socket().sendBinaryMessage(QByteArray(10, '\x01')); // shorter than a key
            QCOMPARE(c.waitClosed(), 4400);
        }
        {
            RelayClient c(port());
            QVERIFY(c.authenticate(a));
            c.sendText(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")}});
            QCOMPARE(c.waitClosed(), 4400);
        }
    }

    void notHereNotice() {
        Keys a, nobody;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        RelayClient c(port());
        QVERIFY(c.authenticate(a));
        for (int i = 0; i < 20; ++i)
            c.sendTo(nobody.pub, "x");
        QTest::qWait(300);
        const QList<QByteArray> got = c.binaries();
        QCOMPARE(got.size(), 1); // once a second per destination, not per packet
        QCOMPARE(got[0], QByteArray(1, '\x03') + nobody.pub);
        QCOMPARE(metric(port(), "calnet_relay_drops_total{reason=\"no_peer\"}"), 20);
    }

    void newerConnectionReplaces() {
        Keys a, b;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        QVERIFY(registerKeys(b, QStringLiteral("b")) > 0);
        RelayClient old(port()), fresh(port()), cb(port());
        QVERIFY(old.authenticate(a));
        QVERIFY(cb.authenticate(b));
        QVERIFY(fresh.authenticate(a));
        QCOMPARE(old.waitClosed(), 4409);
        cb.sendTo(a.pub, "to the newer");
        QCOMPARE(fresh.waitBinaries(1).size(), 1);
        QCOMPARE(old.binaries().size(), 0);
    }

    void deletedNodeLosesTheRelay() {
        Keys a;
        const qint64 id = registerKeys(a, QStringLiteral("a"));
        QVERIFY(id > 0);
        RelayClient c(port());
        QVERIFY(c.authenticate(a));
        QCOMPARE(admin(port(), "DELETE", QStringLiteral("nodes/%1").arg(id)).status, 200);
        QCOMPARE(c.waitClosed(3000), 4403);
        RelayClient again(port());
        QVERIFY(again.open());
        again.sendText(hello(a, again.serverKey(), again.challenge()));
        QCOMPARE(again.waitClosed(), 4403);
    }

    // A receiver that stops reading: packets for it are dropped once its queue is full, and the
    // sender's packets to another node keep arriving, all of them.
    void slowReaderDoesNotStallOthers() {
        Keys a, b, slow;
        QVERIFY(registerKeys(a, QStringLiteral("a")) > 0);
        QVERIFY(registerKeys(b, QStringLiteral("b")) > 0);
        QVERIFY(registerKeys(slow, QStringLiteral("slow")) > 0);
        RelayClient ca(port()), cb(port());
        QVERIFY(ca.authenticate(a));
        QVERIFY(cb.authenticate(b));
        StalledClient stalled;
        QVERIFY(stalled.authenticate(port(), slow));
        // 40 MB for the slow one, interleaved with 2,000 packets for b.
        const QByteArray bulk(1400, 'z');
        int forB = 0;
        for (int i = 0; i < 30'000; ++i) {
            ca.sendTo(slow.pub, bulk);
            if (i % 15 == 0) {
                ca.sendTo(b.pub, QByteArray::number(forB++));
                QTest::qWait(0);
            }
        }
        const QList<QByteArray> atB = cb.waitBinaries(forB, 20000);
        QCOMPARE(atB.size(), forB);
        const qint64 dropped = metric(port(), "calnet_relay_drops_total{reason=\"queue_full\"}");
        qInfo("%d packets for b all arrived; %lld packets for the reader that stopped dropped",
              forB, dropped);
        QVERIFY(dropped > 0);
    }
};

QTEST_GUILESS_MAIN(TestRelay)
#include "tst_relay.moc"
