// RelayClient against a relay of the test's own (QWebSocketServer on 127.0.0.1), over the OS's
// RelayStream: the BSD socket on Linux, Winsock on Windows (this test runs under Wine too).
// The relay checks what a Calnet relay checks — the challenge answered with crypto_box under
// the node key — and then forwards as calnet-server does: a send frame to node K comes back as
// a receive frame from K. Checked: the handshake, frames byte for byte both ways, the "not
// here" notice, a burst of packets in order, reconnection after the relay drops the
// connection, a refused hello, and stop() while connected.
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <sodium.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/crypto/x25519.h"
#include "core/disco/message.h"
#include "helper/datapath/relayclient.h"
#include "helper/datapath/tunnel.h"
#include "helper/wire/relayframe.h"

using namespace calnet;
using namespace calnet::helper;

namespace {

// A relay that speaks the node side's protocol (docs/protocol.md "Relay").
class FakeRelay : public QObject {
public:
    FakeRelay() : server_(QStringLiteral("fake relay"), QWebSocketServer::NonSecureMode) {
        crypto_box_keypair(serverPublic_.data(), serverSecret_.data());
        QObject::connect(&server_, &QWebSocketServer::newConnection, this, [this] { accept(); });
    }
    bool listen() { return server_.listen(QHostAddress::LocalHost, 0); }
    quint16 port() const { return server_.serverPort(); }

    // Every binary frame the node sent, in order.
    std::vector<QByteArray> received;
    int helloes = 0;     // hellos whose box opened to the challenge
    bool refuse = false; // answer a good hello with a close instead of "ready"
    bool echo = true;    // send frames back as receive frames from their destination
    QWebSocket* current = nullptr;

    void sendBinary(const QByteArray& frame) { current->sendBinaryMessage(frame); }
    void drop() {
        if (current)
            current->abort();
    }

private:
    void accept() {
        QWebSocket* socket = server_.nextPendingConnection();
        socket->setParent(this);
        current = socket;
        std::array<std::uint8_t, 32> challenge;
        randombytes_buf(challenge.data(), challenge.size());
        const QJsonObject hello{{QStringLiteral("type"), QStringLiteral("challenge")},
                                {QStringLiteral("serverKey"), b64(serverPublic_)},
                                {QStringLiteral("challenge"), b64(challenge)}};
        socket->sendTextMessage(QString::fromUtf8(QJsonDocument(hello).toJson()));
        QObject::connect(
            socket, &QWebSocket::textMessageReceived, this,
            [this, socket, challenge](const QString& text) { onHello(socket, challenge, text); });
        QObject::connect(socket, &QWebSocket::binaryMessageReceived, this,
                         [this, socket](const QByteArray& frame) {
                             received.push_back(frame);
                             if (echo && frame.size() >= 33 && frame[0] == char(wire::kRelaySend)) {
                                 QByteArray back = frame;
                                 back[0] = char(wire::kRelayReceive);
                                 socket->sendBinaryMessage(back);
                             }
                         });
    }

    void onHello(QWebSocket* socket, const std::array<std::uint8_t, 32>& challenge,
                 const QString& text) {
        const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
        const QByteArray nodeKey =
            QByteArray::fromBase64(o.value(QStringLiteral("nodeKey")).toString().toLatin1());
        const QByteArray nonce =
            QByteArray::fromBase64(o.value(QStringLiteral("nonce")).toString().toLatin1());
        const QByteArray box =
            QByteArray::fromBase64(o.value(QStringLiteral("box")).toString().toLatin1());
        std::array<std::uint8_t, 32> opened{};
        const bool ok =
            o.value(QStringLiteral("type")).toString() == QStringLiteral("hello") &&
            nodeKey.size() == 32 && nonce.size() == crypto_box_NONCEBYTES &&
            box.size() == 32 + crypto_box_MACBYTES &&
            crypto_box_open_easy(opened.data(), reinterpret_cast<const unsigned char*>(box.data()),
                                 std::size_t(box.size()),
                                 reinterpret_cast<const unsigned char*>(nonce.data()),
                                 reinterpret_cast<const unsigned char*>(nodeKey.data()),
                                 serverSecret_.data()) == 0 &&
            opened == challenge;
        if (!ok || refuse) {
            socket->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("no"));
            return;
        }
        ++helloes;
        socket->sendTextMessage(QStringLiteral("{\"type\":\"ready\"}"));
    }

    template <std::size_t N> static QString b64(const std::array<std::uint8_t, N>& bytes) {
        return QString::fromLatin1(
            QByteArray(reinterpret_cast<const char*>(bytes.data()), int(N)).toBase64());
    }

    QWebSocketServer server_;
    std::array<std::uint8_t, crypto_box_PUBLICKEYBYTES> serverPublic_{};
    std::array<std::uint8_t, crypto_box_SECRETKEYBYTES> serverSecret_{};
};

// What the client's callbacks saw (they run on the relay thread).
struct Seen {
    std::mutex mutex;
    std::vector<std::pair<crypto::PublicKey, std::vector<std::uint8_t>>> disco;
    std::vector<crypto::PublicKey> notHere;
    std::atomic<int> ups{0};
    std::atomic<int> downs{0};

    RelayClient::Callbacks callbacks() {
        RelayClient::Callbacks c;
        c.state = [this](bool up) { ++(up ? ups : downs); };
        c.disco = [this](const crypto::PublicKey& from, std::span<const std::uint8_t> m) {
            std::lock_guard lock(mutex);
            disco.emplace_back(from, std::vector<std::uint8_t>(m.begin(), m.end()));
        };
        c.notHere = [this](const crypto::PublicKey& node) {
            std::lock_guard lock(mutex);
            notHere.push_back(node);
        };
        return c;
    }
    std::size_t discoCount() {
        std::lock_guard lock(mutex);
        return disco.size();
    }
};

// A datagram the client takes for disco (magic, then filler), `n` bytes (a disco datagram's
// size: 80 to 658), tagged with `tag`; a relayed one of another size would go to the Tunnel.
std::vector<std::uint8_t> discoLike(std::size_t n, std::uint32_t tag) {
    if (n < disco::kHeaderSize + disco::kTagSize + 2 || n > disco::kMaxDatagram)
        qFatal("discoLike: %zu bytes is no disco size", n);
    std::vector<std::uint8_t> d(n, 0x5a);
    std::copy(disco::kMagic.begin(), disco::kMagic.end(), d.begin());
    for (int i = 0; i < 4; ++i)
        d[disco::kMagic.size() + std::size_t(i)] = std::uint8_t(tag >> (8 * i));
    return d;
}

QByteArray sendFrame(const crypto::PublicKey& to, const std::vector<std::uint8_t>& packet) {
    QByteArray f(1, char(wire::kRelaySend));
    f.append(reinterpret_cast<const char*>(to.data()), qsizetype(to.size()));
    f.append(reinterpret_cast<const char*>(packet.data()), qsizetype(packet.size()));
    return f;
}

// A relay of the test's own and a client started against it (or against `port`).
struct Session {
    FakeRelay relay;
    Tunnel tunnel;
    Seen seen;
    std::unique_ptr<RelayClient> client;

    bool start(std::optional<quint16> port = std::nullopt) {
        if (!port) {
            if (!relay.listen())
                return false;
            port = relay.port();
        }
        RelayClient::Target target;
        target.host = "127.0.0.1";
        target.port = *port;
        target.name = "test";
        client = std::make_unique<RelayClient>(tunnel, target, crypto::generatePrivateKey(),
                                               seen.callbacks());
        client->start();
        return true;
    }
};

} // namespace

class tst_RelayClient : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QVERIFY(sodium_init() >= 0); }

    void handshakeAndFramesBothWays() {
        Session s;
        QVERIFY(s.start());
        QTRY_VERIFY_WITH_TIMEOUT(s.client->connected(), 10000);
        QCOMPARE(s.relay.helloes, 1);
        QCOMPARE(s.seen.ups.load(), 1);
        QCOMPARE(s.client->stats().connects.load(), 1u);
        QVERIFY(s.client->lastError().empty());

        const auto peer = crypto::publicKeyOf(crypto::generatePrivateKey());
        const auto packet = discoLike(120, 7);
        QVERIFY(s.client->sendTo(peer, packet));
        QTRY_COMPARE_WITH_TIMEOUT(s.relay.received.size(), std::size_t(1), 5000);
        QCOMPARE(s.relay.received[0], sendFrame(peer, packet)); // byte for byte, unmasked
        QTRY_COMPARE_WITH_TIMEOUT(s.seen.discoCount(), std::size_t(1), 5000);
        {
            std::lock_guard lock(s.seen.mutex);
            QCOMPARE(s.seen.disco[0].first, peer);
            QCOMPARE(s.seen.disco[0].second, packet);
        }

        QByteArray notHere(1, char(wire::kRelayNotHere));
        notHere.append(reinterpret_cast<const char*>(peer.data()), 32);
        s.relay.sendBinary(notHere);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                std::lock_guard lock(s.seen.mutex);
                return s.seen.notHere.size() == 1 && s.seen.notHere[0] == peer;
            }(),
            5000);
        s.client->stop();
    }

    // 3,000 packets of 600 bytes sent as fast as sendTo takes them: every one the client
    // accepted reaches the relay, in order, and comes back.
    void burstInOrder() {
        Session s;
        QVERIFY(s.start());
        QTRY_VERIFY_WITH_TIMEOUT(s.client->connected(), 10000);
        const auto peer = crypto::publicKeyOf(crypto::generatePrivateKey());
        std::vector<std::uint32_t> accepted;
        for (std::uint32_t i = 0; i < 3000; ++i) {
            if (s.client->sendTo(peer, discoLike(600, i)))
                accepted.push_back(i);
            if (i % 200 == 0)
                QTest::qWait(1); // let the relay read
        }
        QVERIFY(accepted.size() > 2000); // 4 MiB of buffer holds far more than a round
        QTRY_COMPARE_WITH_TIMEOUT(s.relay.received.size(), accepted.size(), 30000);
        for (std::size_t k = 0; k < accepted.size(); ++k)
            QCOMPARE(s.relay.received[k], sendFrame(peer, discoLike(600, accepted[k])));
        QTRY_COMPARE_WITH_TIMEOUT(s.seen.discoCount(), accepted.size(), 30000);
        s.client->stop();
    }

    void reconnectsAfterTheRelayDrops() {
        Session s;
        QVERIFY(s.start());
        QTRY_VERIFY_WITH_TIMEOUT(s.client->connected(), 10000);
        s.relay.drop();
        QTRY_COMPARE_WITH_TIMEOUT(s.seen.downs.load(), 1, 5000);
        // The first retry comes after 250 ms.
        QTRY_COMPARE_WITH_TIMEOUT(s.client->stats().connects.load(), 2u, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(s.client->connected(), 5000);
        QCOMPARE(s.relay.helloes, 2);
        const auto peer = crypto::publicKeyOf(crypto::generatePrivateKey());
        QVERIFY(s.client->sendTo(peer, discoLike(120, 1)));
        QTRY_COMPARE_WITH_TIMEOUT(s.seen.discoCount(), std::size_t(1), 5000);
        s.client->stop();
    }

    void refusedHelloIsAnError() {
        Session s;
        s.relay.refuse = true;
        QVERIFY(s.start());
        QTRY_VERIFY_WITH_TIMEOUT(!s.client->lastError().empty(), 10000);
        QVERIFY2(s.client->lastError().find("closed") != std::string::npos,
                 s.client->lastError().c_str());
        QVERIFY(!s.client->connected());
        QCOMPARE(s.seen.ups.load(), 0);
        QVERIFY(!s.client->sendTo(crypto::publicKeyOf(crypto::generatePrivateKey()),
                                  discoLike(120, 1))); // not connected: dropped
        QVERIFY(s.client->stats().dropped.load() >= 1u);
        s.client->stop();
    }

    void nothingListening() {
        quint16 port = 0;
        {
            FakeRelay closed; // a port that was free a moment ago
            QVERIFY(closed.listen());
            port = closed.port();
        }
        Session s;
        QVERIFY(s.start(port));
        QTRY_VERIFY_WITH_TIMEOUT(!s.client->lastError().empty(), 10000);
        QVERIFY2(s.client->lastError().find("connect") != std::string::npos,
                 s.client->lastError().c_str());
        s.client->stop();
    }

    void stopWhileConnectedIsPrompt() {
        Session s;
        QVERIFY(s.start());
        QTRY_VERIFY_WITH_TIMEOUT(s.client->connected(), 10000);
        const auto t0 = std::chrono::steady_clock::now();
        s.client->stop();
        const auto took = std::chrono::steady_clock::now() - t0;
        QVERIFY2(took < std::chrono::seconds(2),
                 qPrintable(QString::number(
                     std::chrono::duration_cast<std::chrono::milliseconds>(took).count())));
        QVERIFY(!s.client->connected());
        QCOMPARE(s.seen.downs.load(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_RelayClient)
#include "tst_relayclient.moc"
