// calnet-mapload: how long one change takes to reach every node, and what the server holds in
// memory, for N simulated nodes. It starts calnet-server on 127.0.0.1 (SQLite in a temporary
// directory, overlay prefix 100.70.0.0/16), registers N nodes with one reusable pre-auth key,
// opens N map WebSockets in waves of 100 (no TUN, no WireGuard: only the control protocol of
// docs/protocol.md), waits until each has its full map, then makes K changes — a new node
// joining, or an existing node reporting a new endpoint — and for each prints the time until
// the last of the N nodes received the delta.
//
//   calnet-mapload --server-binary build/release/server/calnet-server --nodes 1000 --changes 10
//
// A benchmark, not a test: it prints figures and exits 0 unless something failed outright.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
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

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "benchutil.h"

namespace {

using namespace calnet::bench;

constexpr int kStepTimeoutMs = 60'000;

QString randomKey() {
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32*>(bytes.data()), 8);
    return QString::fromLatin1(bytes.toBase64());
}

// Runs the event loop until `done` holds or the time is up; false on timeout.
struct SimNode {
    int index = 0;
    qint64 id = 0;
    QString credential;
    QString nodeKey;
    QWebSocket* socket = nullptr; // lives in its shard's thread
    std::atomic<bool> haveMap{false};
    std::atomic<int> sawChange{-1}; // the last change (by number) this node received
    std::atomic<qint64> sawAtNs{0}; // when, on the steady clock
    std::atomic<int> closeCode{-1};
};

// What change k looks like in a delta: the joining node's key, or node 0's new endpoint. Fixed
// before the first change, so the shard threads only read them.
struct Changes {
    std::vector<QString> joinKeys;
    std::vector<QString> endpoints;
    std::atomic<int> current{-1};
};

qint64 steadyNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A slice of the simulated nodes with its own thread and event loop: a thousand sockets on
// one loop would make the benchmark, not the server, the bottleneck.
class Shard : public QObject {
public:
    Shard(QUrl url, Changes* changes) : url_(std::move(url)), changes_(changes) {}

    void open(SimNode* node) {
        auto* socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        node->socket = socket;
        QObject::connect(socket, &QWebSocket::connected, socket, [socket, node] {
            const QJsonObject hello{
                {"type", "hello"},
                {"nodeId", node->id},
                {"credential", node->credential},
                {"since", 0},
                {"endpoints", QJsonArray{QStringLiteral("127.0.0.1:%1").arg(20000 + node->index)}}};
            socket->sendTextMessage(
                QString::fromUtf8(QJsonDocument(hello).toJson(QJsonDocument::Compact)));
        });
        QObject::connect(socket, &QWebSocket::textMessageReceived, socket,
                         [this, node](const QString& text) { onMessage(*node, text); });
        QObject::connect(socket, &QWebSocket::disconnected, socket,
                         [socket, node] { node->closeCode = int(socket->closeCode()); });
        socket->open(url_);
    }

private:
    void onMessage(SimNode& node, const QString& text) {
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QLatin1StringView("type")).toString();
        if (type == QLatin1StringView("map")) {
            node.haveMap = true;
            return;
        }
        const int k = changes_->current.load();
        if (type != QLatin1StringView("delta") || k < 0)
            return;
        const QString& key = changes_->joinKeys[std::size_t(k)];
        const QString& endpoint = changes_->endpoints[std::size_t(k)];
        for (const QJsonValue& v : m.value(QLatin1StringView("upsert")).toArray()) {
            const QJsonObject peer = v.toObject();
            const bool joined =
                !key.isEmpty() && peer.value(QLatin1StringView("nodeKey")).toString() == key;
            const bool moved =
                !endpoint.isEmpty() &&
                peer.value(QLatin1StringView("endpoints")).toArray().contains(QJsonValue(endpoint));
            if ((joined || moved) && node.sawChange.load() != k) {
                node.sawAtNs = steadyNs();
                node.sawChange = k;
            }
        }
    }

    QUrl url_;
    Changes* changes_;
};

void raiseFileLimit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("Calnet control-plane load: change propagation "
                                                 "time and server memory for N nodes."));
    cli.addHelpOption();
    cli.addOption({QStringLiteral("server-binary"), QStringLiteral("calnet-server to start."),
                   QStringLiteral("path")});
    cli.addOption({QStringLiteral("nodes"), QStringLiteral("Simulated nodes (default 100)."),
                   QStringLiteral("n"), QStringLiteral("100")});
    cli.addOption({QStringLiteral("changes"), QStringLiteral("Changes to time (default 10)."),
                   QStringLiteral("k"), QStringLiteral("10")});
    cli.process(app);
    const QString binary = cli.value(QStringLiteral("server-binary"));
    const int n = cli.value(QStringLiteral("nodes")).toInt();
    const int changes = cli.value(QStringLiteral("changes")).toInt();
    if (binary.isEmpty() || n < 2 || changes < 1) {
        std::fprintf(stderr, "mapload: need --server-binary, --nodes >= 2, --changes >= 1\n");
        return 2;
    }
    raiseFileLimit();

    QTemporaryDir dir;
    const QByteArray token = randomKey().toLatin1().toHex().left(40);
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
                 // The default /24 holds 254 nodes; the load needs more.
                 QStringLiteral("--prefix4"), QStringLiteral("100.70.0.0/16"),
                 // N registrations from one address, as fast as it can make them.
                 QStringLiteral("--registrations-per-minute"), QStringLiteral("1000000"),
                 QStringLiteral("--max-connections-per-source"), QStringLiteral("100000")});
    QByteArray banner;
    const bool listening = spinUntil(
        [&] {
            banner += server.readAllStandardOutput();
            return banner.contains("listening on") && banner.endsWith('\n');
        },
        20'000);
    if (!listening) {
        std::fprintf(stderr, "mapload: the server did not start: %s\n", banner.constData());
        server.kill();
        server.waitForFinished(5000);
        return 1;
    }
    const QByteArray hostPort = banner.mid(banner.indexOf("listening on") + 12).trimmed();
    const QUrl base(QStringLiteral("http://") + QString::fromLatin1(hostPort));
    const auto stopServer = [&server] {
        server.terminate();
        if (!server.waitForFinished(10'000)) {
            server.kill();
            server.waitForFinished(5000);
        }
    };

    QNetworkAccessManager net;
    const auto key =
        request(net, "POST", base.resolved(QUrl(QStringLiteral("/api/v1/admin/authkeys"))),
                {{"reusable", true}}, token);
    if (!key) {
        stopServer();
        return 1;
    }
    const QString authKey = key->value(QLatin1StringView("key")).toString();
    const qint64 rssIdle = rssKiB(server.processId());

    // Register N nodes (setup, timed only for information).
    QElapsedTimer clock;
    clock.start();
    std::vector<SimNode> nodes(static_cast<std::size_t>(n));
    const auto registerNode = [&](const QString& nodeKey, int i) -> std::optional<QJsonObject> {
        return request(net, "POST", base.resolved(QUrl(QStringLiteral("/api/v1/register"))),
                       {{"nodeKey", nodeKey},
                        {"discoKey", randomKey()},
                        {"hostname", QStringLiteral("sim%1").arg(i)},
                        {"os", "linux"},
                        {"clientVersion", "mapload"},
                        {"authKey", authKey}});
    };
    for (int i = 0; i < n; ++i) {
        SimNode& node = nodes[std::size_t(i)];
        node.nodeKey = randomKey();
        const auto reply = registerNode(node.nodeKey, i);
        if (!reply) {
            stopServer();
            return 1;
        }
        node.id = qint64(reply->value(QLatin1StringView("nodeId")).toDouble());
        node.credential = reply->value(QLatin1StringView("credential")).toString();
    }
    const qint64 registerMs = clock.elapsed();

    // Open N map streams, spread over shard threads, and wait for every full map.
    Changes plan;
    for (int k = 0; k < changes; ++k) {
        plan.joinKeys.push_back(k % 2 == 0 ? randomKey() : QString());
        plan.endpoints.push_back(k % 2 == 1 ? QStringLiteral("127.0.0.2:%1").arg(30000 + k)
                                            : QString());
    }
    QUrl mapUrl = base.resolved(QUrl(QStringLiteral("/api/v1/map")));
    mapUrl.setScheme(QStringLiteral("ws"));
    const int shardCount = std::clamp(n / 100, 1, 8);
    std::vector<std::unique_ptr<QThread>> threads;
    std::vector<Shard*> shards;
    for (int s = 0; s < shardCount; ++s) {
        auto* shard = new Shard(mapUrl, &plan);
        threads.push_back(std::make_unique<QThread>());
        shard->moveToThread(threads.back().get());
        threads.back()->start();
        shards.push_back(shard);
    }
    const auto stopAll = [&] {
        for (auto& t : threads) {
            t->quit();
            t->wait();
        }
        // Their threads are done: deleting here (sockets included) races with nothing.
        for (Shard* shard : shards)
            delete shard;
        shards.clear();
        stopServer();
    };
    const auto countWhere = [&nodes](auto pred) {
        return long(std::count_if(nodes.begin(), nodes.end(), pred));
    };
    // In waves of 100: the simulated nodes share two cores with the server, and a thousand
    // hellos at once would measure the load generator's backlog rather than the server.
    clock.restart();
    bool allMaps = true;
    for (int wave = 0; wave < n && allMaps; wave += 100) {
        const int end = std::min(n, wave + 100);
        for (int i = wave; i < end; ++i) {
            SimNode* node = &nodes[std::size_t(i)];
            node->index = i;
            Shard* shard = shards[std::size_t(i % shardCount)];
            QMetaObject::invokeMethod(shard, [shard, node] { shard->open(node); });
        }
        allMaps = spinUntil(
            [&] {
                return std::all_of(nodes.begin() + wave, nodes.begin() + end,
                                   [](const SimNode& s) { return s.haveMap.load(); });
            },
            kStepTimeoutMs);
    }
    const qint64 connectMs = clock.elapsed();
    if (!allMaps) {
        std::fprintf(stderr, "mapload: %ld of %d nodes got no map within %d s\n",
                     countWhere([](const SimNode& s) { return !s.haveMap; }), n,
                     kStepTimeoutMs / 1000);
        for (const SimNode& node : nodes)
            if (!node.haveMap)
                std::fprintf(stderr, "mapload: node %d: stream %s (close code %d)\n", node.index,
                             node.closeCode >= 0 ? "closed" : "open", node.closeCode.load());
        stopAll();
        return 1;
    }
    const qint64 rssConnected = rssKiB(server.processId());

    // K changes, alternating: a node joins; node 0 reports a new endpoint. Each starts after a
    // quiet 200 ms, so it is timed alone rather than inside the server's coalescing window.
    std::vector<double> joinMs, endpointMs;
    for (int k = 0; k < changes; ++k) {
        spinUntil([] { return false; }, 200);
        plan.current = k;
        const qint64 start = steadyNs();
        if (k % 2 == 0) {
            // From before the request: its round trip is part of what a user waits for.
            if (!registerNode(plan.joinKeys[std::size_t(k)], n + k))
                break;
        } else {
            QWebSocket* socket = nodes[0].socket;
            const QString text = QString::fromUtf8(
                QJsonDocument(
                    QJsonObject{{"type", "endpoints"},
                                {"endpoints", QJsonArray{plan.endpoints[std::size_t(k)]}}})
                    .toJson(QJsonDocument::Compact));
            QMetaObject::invokeMethod(socket, [socket, text] { socket->sendTextMessage(text); });
        }
        // Node 0 hears of its own endpoint change too (an upsert of itself).
        const bool reached = spinUntil(
            [&] { return countWhere([k](const SimNode& s) { return s.sawChange != k; }) == 0; },
            kStepTimeoutMs);
        if (!reached) {
            std::fprintf(stderr, "mapload: change %d did not reach %ld of %d nodes (%ld closed)\n",
                         k, countWhere([k](const SimNode& s) { return s.sawChange != k; }), n,
                         countWhere([](const SimNode& s) { return s.closeCode >= 0; }));
            stopAll();
            return 1;
        }
        qint64 last = start;
        for (const SimNode& node : nodes)
            last = std::max(last, node.sawAtNs.load());
        (k % 2 == 0 ? joinMs : endpointMs).push_back(double(last - start) / 1e6);
    }
    const qint64 rssEnd = rssKiB(server.processId());

    const auto stats = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return std::make_pair(v[v.size() / 2], v.back());
    };
    std::printf("nodes                                 %d (%d client threads)\n", n, shardCount);
    std::printf("register N nodes                      %lld ms\n",
                static_cast<long long>(registerMs));
    std::printf("N streams to full map                 %lld ms\n",
                static_cast<long long>(connectMs));
    if (!joinMs.empty()) {
        const auto [median, worst] = stats(joinMs);
        std::printf("join reaches all N, median / max      %.1f / %.1f ms (%zu joins)\n", median,
                    worst, joinMs.size());
    }
    if (!endpointMs.empty()) {
        const auto [median, worst] = stats(endpointMs);
        std::printf("endpoint change reaches all N         %.1f / %.1f ms (%zu changes)\n", median,
                    worst, endpointMs.size());
    }
    std::printf("server RSS idle / N connected / end   %lld / %lld / %lld KiB\n",
                static_cast<long long>(rssIdle), static_cast<long long>(rssConnected),
                static_cast<long long>(rssEnd));
    stopAll();
    return 0;
}
