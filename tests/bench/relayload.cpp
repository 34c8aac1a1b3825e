// calnet-relayload: what N relayed clients cost calnet-server, and whether the relay shares
// itself fairly. It starts calnet-server on 127.0.0.1 (SQLite in a temporary directory),
// registers N nodes with real X25519 keys, opens N relay WebSockets (docs/protocol.md "Relay":
// challenge, hello with crypto_box under the node key, ready), pairs them (0<->1, 2<->3, …) and
// lets every client send a packet of --size bytes to its partner every --interval ms for
// --seconds. It prints the server's RSS idle, with the N clients connected, at the end of the
// traffic and after they left, and how many packets each client received (min / median / max
// against what its partner sent): a relay that favoured some clients or stalled would show it.
//
//   calnet-relayload --server-binary build/release/server/calnet-server --clients 200
//
// A benchmark, not a test: it prints figures and exits 0 unless something failed outright.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QWebSocket>

#include <sodium.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "benchutil.h"

namespace {

using namespace calnet::bench;

struct Client {
    QByteArray publicKey = QByteArray(crypto_box_PUBLICKEYBYTES, Qt::Uninitialized);
    QByteArray secretKey = QByteArray(crypto_box_SECRETKEYBYTES, Qt::Uninitialized);
    std::unique_ptr<QWebSocket> socket;
    bool ready = false;
    qint64 sent = 0;
    qint64 received = 0;
};

// Answers the relay's challenge (docs/protocol.md "Relay", step 2).
QByteArray hello(const Client& c, const QJsonObject& challenge) {
    const QByteArray serverKey = QByteArray::fromBase64(
        challenge.value(QLatin1StringView("serverKey")).toString().toLatin1());
    const QByteArray nonceChallenge = QByteArray::fromBase64(
        challenge.value(QLatin1StringView("challenge")).toString().toLatin1());
    QByteArray nonce(crypto_box_NONCEBYTES, Qt::Uninitialized);
    randombytes_buf(nonce.data(), std::size_t(nonce.size()));
    QByteArray box(nonceChallenge.size() + crypto_box_MACBYTES, Qt::Uninitialized);
    if (serverKey.size() != crypto_box_PUBLICKEYBYTES ||
        crypto_box_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(nonceChallenge.constData()),
                        std::size_t(nonceChallenge.size()),
                        reinterpret_cast<const unsigned char*>(nonce.constData()),
                        reinterpret_cast<const unsigned char*>(serverKey.constData()),
                        reinterpret_cast<const unsigned char*>(c.secretKey.constData())) != 0)
        return {};
    return QJsonDocument(QJsonObject{{"type", "hello"},
                                     {"nodeKey", QString::fromLatin1(c.publicKey.toBase64())},
                                     {"nonce", QString::fromLatin1(nonce.toBase64())},
                                     {"box", QString::fromLatin1(box.toBase64())}})
        .toJson(QJsonDocument::Compact);
}

qint64 percentile(std::vector<qint64> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::size_t(double(v.size() - 1) * p)];
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (sodium_init() < 0)
        return 1;
    QCommandLineParser cli;
    cli.setApplicationDescription(
        QStringLiteral("Calnet relay load: server memory and fairness for N relayed clients."));
    cli.addHelpOption();
    cli.addOption({QStringLiteral("server-binary"), QStringLiteral("calnet-server to start."),
                   QStringLiteral("path")});
    cli.addOption({QStringLiteral("clients"), QStringLiteral("Relay clients, even (default 200)."),
                   QStringLiteral("n"), QStringLiteral("200")});
    cli.addOption({QStringLiteral("seconds"), QStringLiteral("Traffic time (default 10)."),
                   QStringLiteral("s"), QStringLiteral("10")});
    cli.addOption({QStringLiteral("interval"),
                   QStringLiteral("Ms between packets per client (default 20)."),
                   QStringLiteral("ms"), QStringLiteral("20")});
    cli.addOption({QStringLiteral("size"), QStringLiteral("Packet bytes (default 1200)."),
                   QStringLiteral("bytes"), QStringLiteral("1200")});
    cli.process(app);
    const QString binary = cli.value(QStringLiteral("server-binary"));
    const int n = cli.value(QStringLiteral("clients")).toInt() / 2 * 2;
    const int seconds = cli.value(QStringLiteral("seconds")).toInt();
    const int interval = cli.value(QStringLiteral("interval")).toInt();
    const int size = cli.value(QStringLiteral("size")).toInt();
    if (binary.isEmpty() || n < 2 || seconds < 1 || interval < 1 || size < 1 || size > 60'000) {
        std::fprintf(stderr, "relayload: need --server-binary, --clients >= 2, sane numbers\n");
        return 2;
    }
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }

    QTemporaryDir dir;
    QByteArray token(20, Qt::Uninitialized);
    randombytes_buf(token.data(), std::size_t(token.size()));
    token = token.toHex();
    QFile tokenFile(dir.filePath(QStringLiteral("admin-token")));
    if (!tokenFile.open(QIODevice::WriteOnly) || tokenFile.write(token) != token.size())
        return 1;
    tokenFile.close();
    QProcess server;
    server.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    server.start(
        binary, {QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                 QStringLiteral("--stun-listen"), QStringLiteral("off"), QStringLiteral("--db"),
                 QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("server.db")),
                 QStringLiteral("--admin-token-file"), tokenFile.fileName(),
                 QStringLiteral("--prefix4"), QStringLiteral("100.70.0.0/16"),
                 QStringLiteral("--registrations-per-minute"), QStringLiteral("1000000"),
                 QStringLiteral("--max-connections-per-source"), QStringLiteral("100000")});
    QByteArray banner;
    if (!spinUntil(
            [&] {
                banner += server.readAllStandardOutput();
                return banner.contains("listening on") && banner.endsWith('\n');
            },
            20'000)) {
        std::fprintf(stderr, "relayload: the server did not start\n");
        server.kill();
        server.waitForFinished(5000);
        return 1;
    }
    const QByteArray hostPort = banner.mid(banner.indexOf("listening on") + 12).trimmed();
    const QUrl base(QStringLiteral("http://") + QString::fromLatin1(hostPort));
    int status = 0;
    const auto finish = [&server, &status] {
        server.terminate();
        if (!server.waitForFinished(10'000)) {
            server.kill();
            server.waitForFinished(5000);
        }
        return status;
    };

    QNetworkAccessManager net;
    const auto key =
        request(net, "POST", base.resolved(QUrl(QStringLiteral("/api/v1/admin/authkeys"))),
                {{"reusable", true}}, token);
    if (!key)
        return (status = 1, finish());
    const QString authKey = key->value(QLatin1StringView("key")).toString();
    const qint64 rssIdle = rssKiB(server.processId());

    std::vector<Client> clients(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        Client& c = clients[std::size_t(i)];
        crypto_box_keypair(reinterpret_cast<unsigned char*>(c.publicKey.data()),
                           reinterpret_cast<unsigned char*>(c.secretKey.data()));
        QByteArray disco(32, Qt::Uninitialized);
        randombytes_buf(disco.data(), 32);
        if (!request(net, "POST", base.resolved(QUrl(QStringLiteral("/api/v1/register"))),
                     {{"nodeKey", QString::fromLatin1(c.publicKey.toBase64())},
                      {"discoKey", QString::fromLatin1(disco.toBase64())},
                      {"hostname", QStringLiteral("relay%1").arg(i)},
                      {"os", "linux"},
                      {"clientVersion", "relayload"},
                      {"authKey", authKey}}))
            return (status = 1, finish());
    }

    QUrl relayUrl = base.resolved(QUrl(QStringLiteral("/api/v1/relay")));
    relayUrl.setScheme(QStringLiteral("ws"));
    for (Client& c : clients) {
        c.socket = std::make_unique<QWebSocket>();
        QWebSocket* s = c.socket.get();
        QObject::connect(s, &QWebSocket::textMessageReceived, s, [&c, s](const QString& text) {
            const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
            const QString type = o.value(QLatin1StringView("type")).toString();
            if (type == QLatin1StringView("challenge"))
                s->sendTextMessage(QString::fromUtf8(hello(c, o)));
            else if (type == QLatin1StringView("ready"))
                c.ready = true;
        });
        QObject::connect(s, &QWebSocket::binaryMessageReceived, s, [&c](const QByteArray& frame) {
            if (!frame.isEmpty() && frame[0] == 0x02)
                ++c.received;
        });
        s->open(relayUrl);
    }
    if (!spinUntil(
            [&] {
                return std::all_of(clients.begin(), clients.end(),
                                   [](const Client& c) { return c.ready; });
            },
            60'000)) {
        std::fprintf(stderr, "relayload: not every client got ready\n");
        return (status = 1, finish());
    }
    const qint64 rssConnected = rssKiB(server.processId());

    // Traffic: every client to its partner, every `interval` ms, for `seconds`.
    const QByteArray payload(size, 'x');
    QTimer tick;
    tick.setInterval(interval);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        for (int i = 0; i < n; ++i) {
            Client& c = clients[std::size_t(i)];
            const Client& partner = clients[std::size_t(i ^ 1)];
            c.socket->sendBinaryMessage(QByteArray(1, char(0x01)) + partner.publicKey + payload);
            ++c.sent;
        }
    });
    QElapsedTimer clock;
    clock.start();
    tick.start();
    spinUntil([&] { return clock.elapsed() >= qint64(seconds) * 1000; }, seconds * 1000 + 5000);
    tick.stop();
    spinUntil([] { return false; }, 1000); // the last packets arrive
    const qint64 rssLoaded = rssKiB(server.processId());

    std::vector<qint64> shares;
    qint64 sent = 0;
    qint64 received = 0;
    for (int i = 0; i < n; ++i) {
        const Client& c = clients[std::size_t(i)];
        const Client& partner = clients[std::size_t(i ^ 1)];
        shares.push_back(partner.sent ? c.received * 1000 / partner.sent : 0);
        sent += c.sent;
        received += c.received;
    }
    for (Client& c : clients)
        c.socket->close();
    spinUntil([] { return false; }, 2000);
    clients.clear();
    const qint64 rssAfter = rssKiB(server.processId());

    std::printf("relayload: %d clients, %d-byte packets every %d ms each, %d s\n", n, size,
                interval, seconds);
    std::printf("server RSS: idle %.1f MiB, %d clients connected %.1f MiB, after traffic %.1f "
                "MiB, after they left %.1f MiB\n",
                double(rssIdle) / 1024, n, double(rssConnected) / 1024, double(rssLoaded) / 1024,
                double(rssAfter) / 1024);
    std::printf("packets: %lld sent, %lld received (%.2f %%), %.0f packets/s through the relay\n",
                static_cast<long long>(sent), static_cast<long long>(received),
                sent ? 100.0 * double(received) / double(sent) : 0.0,
                double(received) / double(seconds));
    std::printf("per client, received / partner sent: min %.1f %%, median %.1f %%, max %.1f %%\n",
                double(percentile(shares, 0.0)) / 10, double(percentile(shares, 0.5)) / 10,
                double(percentile(shares, 1.0)) / 10);
    return finish();
}
