// calnet-server's STUN listener (server/stunserver.h), against the real executable on loopback:
// a Binding request is answered with the address and port it came from (IPv4 and IPv6), never
// with more bytes than it had; malformed datagrams and bare 20-byte requests get nothing; a
// source over its budget is cut off (and logged once) while another source is still answered;
// /api/v1/info and /metrics tell the truth; --stun-listen off means no listener.
#include <QTest>
#include <QThread>
#include <QUdpSocket>

#include "core/net/stun.h"
#include "servertest.h"

using namespace servertest;
using namespace calnet;

namespace {

struct Exchange {
    QByteArray answer; // empty: none within the wait
    quint16 localPort = 0;
};

QByteArray toBytes(std::span<const std::uint8_t> s) {
    return QByteArray(reinterpret_cast<const char*>(s.data()), qsizetype(s.size()));
}

stun::TransactionId randomId() {
    stun::TransactionId id{};
    for (auto& b : id)
        b = std::uint8_t(QRandomGenerator::global()->bounded(256));
    return id;
}

// Binds a UDP socket on `from`, sends `datagram` to the server, waits up to `waitMs` for one
// answer.
Exchange exchange(QUdpSocket& socket, const QHostAddress& to, quint16 port,
                  const QByteArray& datagram, int waitMs = 2000) {
    Exchange r;
    r.localPort = socket.localPort();
    socket.writeDatagram(datagram, to, port);
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < waitMs) {
        if (socket.hasPendingDatagrams()) {
            r.answer.resize(qsizetype(socket.pendingDatagramSize()));
            socket.readDatagram(r.answer.data(), r.answer.size());
            return r;
        }
        socket.waitForReadyRead(50);
    }
    return r;
}

qint64 metric(quint16 port, const QByteArray& line) {
    const Response m = httpCall(port, "GET", QStringLiteral("/metrics"));
    for (const QByteArray& l : m.body.split('\n')) {
        if (l.startsWith(line + ' '))
            return l.mid(line.size() + 1).toLongLong();
    }
    return -1;
}

} // namespace

class TestStunServer : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString db(const char* name) {
        return QStringLiteral("sqlite:") + m_dir.filePath(QLatin1String(name));
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void answersWithTheSource_data() {
        QTest::addColumn<QString>("listen");
        QTest::addColumn<QString>("client");
        QTest::newRow("ipv4") << QStringLiteral("127.0.0.1:0") << QStringLiteral("127.0.0.3");
        QTest::newRow("ipv6") << QStringLiteral("[::1]:0") << QStringLiteral("::1");
    }
    void answersWithTheSource() {
        QFETCH(QString, listen);
        QFETCH(QString, client);
        ServerProcess server;
        QVERIFY(server.start(
            {QStringLiteral("--db"), db("a.sqlite"), QStringLiteral("--stun-listen"), listen}));
        QVERIFY(server.stunPort != 0);
        const QHostAddress serverAddress(
            client == QStringLiteral("::1") ? QStringLiteral("::1") : QStringLiteral("127.0.0.1"));
        for (int i = 0; i < 5; ++i) {
            QUdpSocket socket;
            QVERIFY(socket.bind(QHostAddress(client), 0));
            const stun::TransactionId id = randomId();
            const auto request = stun::encodeBindingRequest(id);
            const Exchange e = exchange(socket, serverAddress, server.stunPort, toBytes(request));
            QVERIFY2(!e.answer.isEmpty(), "no answer");
            QVERIFY(e.answer.size() <= qsizetype(request.size()));
            const auto response = stun::parseBindingResponse(
                std::span(reinterpret_cast<const std::uint8_t*>(e.answer.constData()),
                          std::size_t(e.answer.size())));
            QVERIFY(response.has_value());
            QVERIFY(response->id == id);
            QCOMPARE(QString::fromStdString(response->mapped.address.toString()), client);
            QCOMPARE(response->mapped.port, e.localPort);
        }
        QCOMPARE(metric(server.port, "calnet_stun_requests_total{result=\"answered\"}"), 5);
        QCOMPARE(server.terminate(), 0);
    }

    // Nothing comes back for what is not a well-formed Binding request, nor for a request too
    // short to answer without amplification; each is counted.
    void silentOnBadInput() {
        ServerProcess server;
        QVERIFY(server.start({QStringLiteral("--db"), db("b.sqlite")}));
        QUdpSocket socket;
        QVERIFY(socket.bind(QHostAddress(QStringLiteral("127.0.0.5")), 0));
        const QHostAddress to(QHostAddress::LocalHost);
        QByteArray bare = toBytes(stun::encodeBindingRequest(randomId())).left(20);
        bare[3] = 0; // length 0: a valid 20-byte request
        QCOMPARE(exchange(socket, to, server.stunPort, bare, 300).answer.size(), 0);
        QByteArray wrongCrc = toBytes(stun::encodeBindingRequest(randomId()));
        wrongCrc[wrongCrc.size() - 1] = char(wrongCrc.back() ^ 1);
        QCOMPARE(exchange(socket, to, server.stunPort, wrongCrc, 300).answer.size(), 0);
        QCOMPARE(exchange(socket, to, server.stunPort, QByteArray(148, '\x01'), 300).answer.size(),
                 0);
        QCOMPARE(exchange(socket, to, server.stunPort, QByteArray(1400, '\0'), 300).answer.size(),
                 0);
        QCOMPARE(metric(server.port, "calnet_stun_requests_total{result=\"too_short\"}"), 1);
        QCOMPARE(metric(server.port, "calnet_stun_requests_total{result=\"malformed\"}"), 3);
        QCOMPARE(metric(server.port, "calnet_stun_requests_total{result=\"answered\"}"), 0);
        // The server still answers a proper request afterwards.
        QVERIFY(
            !exchange(socket, to, server.stunPort, toBytes(stun::encodeBindingRequest(randomId())))
                 .answer.isEmpty());
        QCOMPARE(server.terminate(), 0);
    }

    // One source sending as fast as it can gets its burst answered and then little more; another
    // source is answered meanwhile; the flood is logged once, naming the source.
    void rateLimitedPerSource() {
        ServerProcess server;
        QVERIFY(server.start({QStringLiteral("--db"), db("c.sqlite")}));
        QUdpSocket flood;
        QVERIFY(flood.bind(QHostAddress(QStringLiteral("127.0.0.6")), 0));
        const QByteArray request = toBytes(stun::encodeBindingRequest(randomId()));
        QElapsedTimer t;
        t.start();
        // 200 requests, paced so that the server's receive buffer never overflows (every one
        // must be counted).
        for (int i = 0; i < 200; ++i) {
            flood.writeDatagram(request, QHostAddress::LocalHost, server.stunPort);
            QThread::usleep(300);
        }
        QUdpSocket other;
        QVERIFY(other.bind(QHostAddress(QStringLiteral("127.0.0.7")), 0));
        QVERIFY(
            !exchange(other, QHostAddress::LocalHost, server.stunPort, request).answer.isEmpty());
        QTest::qWait(300);
        int answers = 0;
        while (flood.hasPendingDatagrams()) {
            QByteArray a(qsizetype(flood.pendingDatagramSize()), Qt::Uninitialized);
            flood.readDatagram(a.data(), a.size());
            ++answers;
        }
        const qint64 elapsedMs = t.elapsed();
        qInfo("200 requests from one source in %lld ms: %d answered", elapsedMs, answers);
        // A burst of 20 and 10 a second after it.
        QVERIFY2(answers >= 20 && answers <= 20 + int(elapsedMs / 100) + 2,
                 qPrintable(QString::number(answers)));
        const qint64 limited =
            metric(server.port, "calnet_stun_requests_total{result=\"rate_limited\"}");
        QCOMPARE(limited + answers, 200);
        QCOMPARE(server.terminate(), 0);
        const QString log = QString::fromUtf8(server.stderrText());
        QCOMPARE(log.count(QStringLiteral("STUN requests over the limit from 127.0.0.6")), 1);
        QVERIFY(!log.contains(QStringLiteral("127.0.0.7")));
    }

    void advertisedInInfo() {
        ServerProcess server;
        QVERIFY(server.start({QStringLiteral("--db"), db("d.sqlite")}));
        const Response info = httpCall(server.port, "GET", QStringLiteral("/api/v1/info"));
        QCOMPARE(info.status, 200);
        const QJsonArray relays =
            QJsonDocument::fromJson(info.body).object().value(QStringLiteral("relays")).toArray();
        QCOMPARE(relays.size(), 1);
        const QJsonObject region = relays[0].toObject();
        QCOMPARE(region.value(QStringLiteral("stunPort")).toInt(), int(server.stunPort));
        QCOMPARE(region.value(QStringLiteral("stunHost")).toString(), QStringLiteral("127.0.0.1"));
        QCOMPARE(region.value(QStringLiteral("name")).toString(), QStringLiteral("default"));
        // The alternate port answers too, with the same source: a node compares the two.
        const int alt = region.value(QStringLiteral("stunAltPort")).toInt();
        QVERIFY(alt > 0 && alt != int(server.stunPort));
        QUdpSocket socket;
        QVERIFY(socket.bind(QHostAddress::LocalHost, 0));
        const stun::TransactionId id = randomId();
        const Exchange e = exchange(socket, QHostAddress::LocalHost, quint16(alt),
                                    toBytes(stun::encodeBindingRequest(id)));
        const auto response = stun::parseBindingResponse(
            std::span(reinterpret_cast<const std::uint8_t*>(e.answer.constData()),
                      std::size_t(e.answer.size())));
        QVERIFY(response && response->id == id);
        QCOMPARE(response->mapped.port, e.localPort);
        QCOMPARE(server.terminate(), 0);
    }

    void off() {
        ServerProcess server;
        QVERIFY(server.start({QStringLiteral("--db"), db("e.sqlite"),
                              QStringLiteral("--stun-listen"), QStringLiteral("off")}));
        QCOMPARE(server.stunPort, quint16(0));
        const Response info = httpCall(server.port, "GET", QStringLiteral("/api/v1/info"));
        const QJsonArray relays =
            QJsonDocument::fromJson(info.body).object().value(QStringLiteral("relays")).toArray();
        QCOMPARE(relays.size(), 1); // the relay, without STUN
        QVERIFY(!relays[0].toObject().contains(QStringLiteral("stunPort")));
        QCOMPARE(metric(server.port, "calnet_stun_requests_total{result=\"answered\"}"), -1);
        QCOMPARE(server.terminate(), 0);
    }

    // A STUN port that is taken is an error at start, not a server without STUN.
    void portTaken() {
        QUdpSocket holder;
        QVERIFY(holder.bind(QHostAddress::LocalHost, 0));
        ServerProcess server;
        QVERIFY(
            !server.start({QStringLiteral("--db"), db("f.sqlite"), QStringLiteral("--stun-listen"),
                           QStringLiteral("127.0.0.1:%1").arg(holder.localPort())}));
        QVERIFY(QString::fromUtf8(server.stderrText())
                    .contains(QStringLiteral("cannot listen for STUN")));
    }
};

QTEST_GUILESS_MAIN(TestStunServer)
#include "tst_stunserver.moc"
