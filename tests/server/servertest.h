// Helpers shared by the server tests: an in-process Server on 127.0.0.1 port 0, a synchronous
// HTTP client, a WebSocket map client that records what it receives, and a subprocess runner
// for the real calnet-server executable.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>

#include <sys/resource.h>

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>

#include "commandline.h"
#include "server/server.h"
#include "server/storage.h"

namespace servertest {

inline const QString kAdminToken = QStringLiteral("test-admin-token-0123456789");

inline QString randomKey() {
    QByteArray raw(32, Qt::Uninitialized);
    for (auto& b : raw) {
        b = char(QRandomGenerator::global()->bounded(256));
    }
    return QString::fromLatin1(raw.toBase64());
}

inline calnet::server::ServerConfig testConfig(const QString& database) {
    calnet::server::ServerConfig c;
    c.listenHost = QStringLiteral("127.0.0.1");
    c.listenPort = 0;
    c.database = database;
    c.adminToken = kAdminToken;
    // The functional tests register hundreds of nodes and try many wrong tokens from one
    // address; tst_hardening checks the default budgets.
    c.badKeysPerMinute = 1e6;
    c.badKeysBurst = 1'000'000;
    c.registrationsPerMinute = 1e6;
    c.registrationsBurst = 1'000'000;
    QString error;
    c.prefixes.set(QStringLiteral("100.70.0.0/24"), QStringLiteral("fd70:6361:6c6e::/64"), &error);
    return c;
}

// An in-process Server on `config`; nullptr (and a warning) when it does not start.
inline std::unique_ptr<calnet::server::Server>
startInProcess(const calnet::server::ServerConfig& config) {
    auto server = std::make_unique<calnet::server::Server>(config);
    QString error;
    if (!server->start(&error)) {
        qWarning("server start failed: %s", qPrintable(error));
        return nullptr;
    }
    return server;
}

// The environment for a ServerProcess: the admin token the helpers below use.
inline QProcessEnvironment serverEnv() {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CALNET_ADMIN_TOKEN"), kAdminToken);
    return env;
}

inline bool isDelta(const QJsonObject& m) {
    return m.value(QStringLiteral("type")).toString() == QStringLiteral("delta");
}

inline bool isMap(const QJsonObject& m) {
    return m.value(QStringLiteral("type")).toString() == QStringLiteral("map");
}

struct Response {
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString errorCode() const {
        return json()
            .value(QStringLiteral("error"))
            .toObject()
            .value(QStringLiteral("code"))
            .toString();
    }
};

// One request; waits at most 10 s. token empty = no Authorization header.
inline Response httpCall(quint16 port, const QByteArray& verb, const QString& path,
                         const QByteArray& body = {}, const QString& token = {}) {
    QNetworkAccessManager nam;
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    if (!token.isEmpty()) {
        req.setRawHeader("Authorization", "Bearer " + token.toUtf8());
    }
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    req.setTransferTimeout(10000);
    QNetworkReply* reply = nam.sendCustomRequest(req, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Response r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    delete reply;
    return r;
}

inline Response admin(quint16 port, const QByteArray& verb, const QString& path,
                      const QJsonObject& body = {}) {
    return httpCall(port, verb, QStringLiteral("/api/v1/admin/") + path,
                    body.isEmpty() ? QByteArray() : QJsonDocument(body).toJson(), kAdminToken);
}

inline QString createKey(quint16 port, bool reusable) {
    return admin(port, "POST", QStringLiteral("authkeys"),
                 QJsonObject{{QStringLiteral("reusable"), reusable}})
        .json()
        .value(QStringLiteral("key"))
        .toString();
}

inline Response registerNode(quint16 port, const QJsonObject& body) {
    return httpCall(port, "POST", QStringLiteral("/api/v1/register"), QJsonDocument(body).toJson());
}

inline QJsonObject registerBody(const QString& nodeKey, const QString& hostname,
                                const QString& authKey) {
    return QJsonObject{{QStringLiteral("nodeKey"), nodeKey},
                       {QStringLiteral("discoKey"), randomKey()},
                       {QStringLiteral("hostname"), hostname},
                       {QStringLiteral("os"), QStringLiteral("linux")},
                       {QStringLiteral("clientVersion"), QStringLiteral("0.1.0")},
                       {QStringLiteral("authKey"), authKey}};
}

struct Registered {
    qint64 id = 0;
    QString nodeKey;
    QString credential;
    QJsonObject reply;
};

inline Registered registerNew(quint16 port, const QString& authKey, const QString& hostname) {
    Registered r;
    r.nodeKey = randomKey();
    const Response resp = registerNode(port, registerBody(r.nodeKey, hostname, authKey));
    r.reply = resp.json();
    r.id = r.reply.value(QStringLiteral("nodeId")).toInteger();
    r.credential = r.reply.value(QStringLiteral("credential")).toString();
    return r;
}

// A map stream client: records every message and the close code.
class MapClient {
public:
    explicit MapClient(quint16 port, const QString& path = QStringLiteral("/api/v1/map"))
        : m_port(port), m_path(path) {
        QObject::connect(&m_socket, &QWebSocket::textMessageReceived, [this](const QString& t) {
            m_messages.append(QJsonDocument::fromJson(t.toUtf8()).object());
        });
        QObject::connect(&m_socket, &QWebSocket::disconnected, [this] {
            m_closed = true;
            m_closeCode = int(m_socket.closeCode());
        });
    }

    bool open() {
        QSignalSpy connected(&m_socket, &QWebSocket::connected);
        QEventLoop loop;
        QObject::connect(&m_socket, &QWebSocket::connected, &loop, &QEventLoop::quit);
        QObject::connect(&m_socket, &QWebSocket::disconnected, &loop, &QEventLoop::quit);
        QTimer::singleShot(5000, &loop, &QEventLoop::quit);
        m_socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1%2").arg(m_port).arg(m_path)));
        if (connected.isEmpty())
            loop.exec();
        return !connected.isEmpty();
    }

    void send(const QJsonObject& message) {
        m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson()));
    }

    void hello(qint64 nodeId, const QString& credential, qint64 since = 0,
               const QStringList& endpoints = {QStringLiteral("192.0.2.10:41641")}) {
        send(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                         {QStringLiteral("nodeId"), nodeId},
                         {QStringLiteral("credential"), credential},
                         {QStringLiteral("since"), since},
                         {QStringLiteral("endpoints"), QJsonArray::fromStringList(endpoints)}});
    }

    // open() and hello(); the server's first message (empty object if none within 2 s).
    QJsonObject connectAs(qint64 nodeId, const QString& credential, qint64 since = 0) {
        if (!open()) {
            return {};
        }
        hello(nodeId, credential, since);
        return next(2000);
    }

    // The next unread message, waiting up to timeoutMs; empty object on timeout.
    QJsonObject next(int timeoutMs = 1000) {
        QElapsedTimer t;
        t.start();
        while (m_read >= m_messages.size() && t.elapsed() < timeoutMs && !m_closed) {
            QTest::qWait(10);
        }
        if (m_read < m_messages.size()) {
            return m_messages[m_read++];
        }
        return {};
    }

    // Waits for the next message until `pred` holds for one, skipping others.
    QJsonObject nextMatching(const std::function<bool(const QJsonObject&)>& pred,
                             int timeoutMs = 1000) {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            const QJsonObject m = next(int(std::max<qint64>(1, timeoutMs - t.elapsed())));
            if (m.isEmpty()) {
                break;
            }
            if (pred(m)) {
                return m;
            }
        }
        return {};
    }

    // Everything received that has not been read yet, without waiting.
    QList<QJsonObject> drain() {
        QTest::qWait(50);
        QList<QJsonObject> out = m_messages.mid(m_read);
        m_read = m_messages.size();
        return out;
    }

    int waitClosed(int timeoutMs = 3000) {
        QElapsedTimer t;
        t.start();
        while (!m_closed && t.elapsed() < timeoutMs) {
            QTest::qWait(10);
        }
        return m_closed ? m_closeCode : -1;
    }

    void close() {
        m_socket.close();
        waitClosed();
    }

    QWebSocket& socket() { return m_socket; }

private:
    quint16 m_port;
    QString m_path;
    QList<QJsonObject> m_messages;
    qsizetype m_read = 0;
    bool m_closed = false;
    int m_closeCode = 0;
    QWebSocket m_socket; // last: destroyed first, while the fields its signals touch still live
};

inline QList<qint64> ids(const QJsonArray& nodesOrIds) {
    QList<qint64> out;
    for (const QJsonValue& v : nodesOrIds) {
        out.append(v.isObject() ? v.toObject().value(QStringLiteral("id")).toInteger()
                                : v.toInteger());
    }
    std::sort(out.begin(), out.end());
    return out;
}

inline QJsonObject findNode(const QJsonArray& nodes, qint64 id) {
    for (const QJsonValue& v : nodes) {
        if (v.toObject().value(QStringLiteral("id")).toInteger() == id) {
            return v.toObject();
        }
    }
    return {};
}

// The real executable, `serve`d on 127.0.0.1 port 0. Killed by the destructor.
class ServerProcess {
public:
    ~ServerProcess() { kill(); }

    bool start(const QStringList& serveArgs,
               const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
        return launch(serveArgs, env) && waitReady();
    }

    // The child starts with this open-file limit (soft and hard), as on a host that never
    // raised the default.
    void setNoFileLimit(int limit) {
        m_process.setChildProcessModifier([limit] {
            const rlimit rl{rlim_t(limit), rlim_t(limit)};
            ::setrlimit(RLIMIT_NOFILE, &rl);
        });
    }
    qint64 pid() const { return m_process.processId(); }

    // Starts the process without waiting for it; waitReady() then waits for "listening on".
    bool launch(const QStringList& serveArgs,
                const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
        m_process.setProcessEnvironment(env);
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        // STUN on a free port unless the test says otherwise: the default 3478 would make
        // servers of tests running side by side collide.
        QStringList args{QStringLiteral("serve"), QStringLiteral("--listen"),
                         QStringLiteral("127.0.0.1:0")};
        if (!serveArgs.contains(QStringLiteral("--stun-listen")))
            args << QStringLiteral("--stun-listen") << QStringLiteral("127.0.0.1:0");
        m_process.start(QStringLiteral(CALNET_SERVER_EXECUTABLE), args + serveArgs);
        return m_process.waitForStarted(5000);
    }

    bool waitReady() {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 20000) {
            if (m_process.canReadLine()) {
                const QString line = QString::fromUtf8(m_process.readLine()).trimmed();
                if (line.startsWith(QStringLiteral("stun listening on "))) {
                    stunPort = quint16(line.section(QLatin1Char(':'), -1).toUInt());
                    continue;
                }
                if (line.startsWith(QStringLiteral("listening on 127.0.0.1:"))) {
                    port = quint16(line.section(QLatin1Char(':'), -1).toUInt());
                    return port != 0;
                }
            }
            if (m_process.state() == QProcess::NotRunning) {
                return false;
            }
            m_process.waitForReadyRead(100);
        }
        return false;
    }

    // SIGTERM; the exit code, or -1 if it did not exit within 10 s.
    int terminate() {
        if (m_process.state() == QProcess::NotRunning) {
            return m_process.exitCode();
        }
        m_process.terminate();
        if (!m_process.waitForFinished(10000)) {
            return -1;
        }
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -2;
    }

    void kill() {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    QByteArray stderrText() { return m_process.readAllStandardError(); }

    quint16 port = 0;
    quint16 stunPort = 0; // 0: the server runs no STUN listener

private:
    QProcess m_process;
};

// Runs `calnet-server ARGS` (an admin subcommand) to completion.
using CliResult = testcli::Run;

inline CliResult runCli(const QStringList& args,
                        const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    return testcli::run(QStringLiteral(CALNET_SERVER_EXECUTABLE), args, env);
}

} // namespace servertest
