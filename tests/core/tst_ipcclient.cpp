// Tests for IpcClient against a fake helper: a QLocalServer on a socket in a QTemporaryDir that
// speaks frames. Covers id matching with out-of-order replies, events after subscribe, pending
// calls failing on disconnect, reconnect with backoff and re-subscription, call timeouts, bad
// frames from the helper, and callBlocking (fake helper on its own thread, missing socket,
// silent helper) with bounded times.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <map>
#include <memory>

#include "helper/ipc/client.h"
#include "helper/ipc/frame.h"
#include "helper/ipc/protocol.h"
#include "helper/ipc/serveridentity.h"

using namespace calnet::ipc;

namespace {

constexpr int kWaitMs = 5000; // upper bound for anything that should happen "soon"

// The helper's side of the protocol, just enough to drive the client. In Auto mode it answers
// every request at once (subscribe with {}, version with a version object, anything else by
// echoing method and params); in Manual mode the test answers.
class FakeHelper : public QObject {
    Q_OBJECT

public:
    enum class Mode { Auto, Manual };
    struct Received {
        QPointer<QLocalSocket> socket;
        Request request;
    };

    explicit FakeHelper(Mode mode = Mode::Auto, QObject* parent = nullptr)
        : QObject(parent), mode_(mode) {}

    bool listen(const QString& path) {
        server_ = std::make_unique<QLocalServer>();
        QLocalServer::removeServer(path);
        connect(server_.get(), &QLocalServer::newConnection, this, &FakeHelper::accept);
        return server_->listen(path);
    }

    // Closes the listener and every connection, as a dying helper would.
    void stop() {
        for (QLocalSocket* socket : std::as_const(clients_)) {
            socket->disconnect(this);
            socket->abort();
            socket->deleteLater();
        }
        clients_.clear();
        decoders_.clear();
        subscribers_.clear();
        server_.reset();
    }

    void send(QLocalSocket* socket, const QJsonObject& message) {
        socket->write(encodeFrame(message));
    }
    void sendRaw(QLocalSocket* socket, const QByteArray& bytes) { socket->write(bytes); }
    void broadcastEvent(QAnyStringView name, const QJsonObject& data) {
        for (const auto& [socket, events] : subscribers_) {
            if (events.contains(name.toString())) {
                send(socket, makeEvent(name, data));
            }
        }
    }

    QList<Received> received;
    QList<QLocalSocket*> clients() const { return clients_; }
    qsizetype subscriberCount() const { return qsizetype(subscribers_.size()); }

signals:
    void requestReceived(const QString& method);

private:
    void accept() {
        while (QLocalSocket* socket = server_->nextPendingConnection()) {
            socket->setParent(this);
            clients_.append(socket);
            connect(socket, &QLocalSocket::readyRead, this, [this, socket] { read(socket); });
            connect(socket, &QLocalSocket::disconnected, this, [this, socket] {
                clients_.removeAll(socket);
                decoders_.erase(socket);
                subscribers_.erase(socket);
                socket->deleteLater();
            });
        }
    }

    void read(QLocalSocket* socket) {
        FrameDecoder& decoder = decoders_[socket];
        decoder.feed(socket->readAll());
        while (auto message = decoder.next()) {
            auto parsed = Request::parse(*message);
            if (const auto* error = std::get_if<RequestError>(&parsed)) {
                send(socket, error->toReply());
                continue;
            }
            const Request& request = std::get<Request>(parsed);
            received.append({socket, request});
            if (mode_ == Mode::Auto) {
                answer(socket, request);
            }
            emit requestReceived(request.method);
        }
    }

    void answer(QLocalSocket* socket, const Request& request) {
        if (request.method == kMethodSubscribe) {
            QStringList events;
            for (const QJsonValue event : request.params.value(u"events"_qs).toArray()) {
                events.append(event.toString());
            }
            subscribers_[socket] = events;
            send(socket, makeResult(request.id));
        } else if (request.method == kMethodVersion) {
            send(socket, makeResult(request.id, QJsonObject{{u"protocol"_qs, kProtocolVersion},
                                                            {u"daemon"_qs, u"fake"_qs}}));
        } else {
            send(socket, makeResult(request.id, QJsonObject{{u"method"_qs, request.method},
                                                            {u"params"_qs, request.params}}));
        }
    }

    Mode mode_;
    std::unique_ptr<QLocalServer> server_;
    QList<QLocalSocket*> clients_;
    std::map<QLocalSocket*, FrameDecoder> decoders_;
    std::map<QLocalSocket*, QStringList> subscribers_;
};

// A FakeHelper on its own thread, for callBlocking, which blocks the test's thread.
class ThreadedHelper : public QThread {
public:
    ThreadedHelper(QString path, FakeHelper::Mode mode) : path_(std::move(path)), mode_(mode) {}
    ~ThreadedHelper() override {
        quit();
        wait();
    }
    bool startAndWait() {
        start();
        ready_.acquire();
        return listening_;
    }

protected:
    void run() override {
        FakeHelper helper(mode_);
        listening_ = helper.listen(path_);
        ready_.release();
        exec();
        helper.stop();
    }

private:
    QString path_;
    FakeHelper::Mode mode_;
    QSemaphore ready_;
    bool listening_ = false;
};

QString codeName(const Reply& reply) {
    return reply.error ? QString(toString(reply.error->code)) : u"ok"_qs;
}

} // namespace

class TestIpcClient : public QObject {
    Q_OBJECT

private slots:
    void init() {
        dir_ = std::make_unique<QTemporaryDir>();
        QVERIFY(dir_->isValid());
        path_ = dir_->filePath(u"calnetd.sock"_qs);
    }
    void cleanup() { dir_.reset(); }

    // Who may serve the endpoint (serveridentity.h). The Windows rule on SIDs; then a server of
    // our own user is trusted on every OS (the refusal of another user's pipe needs a second
    // Windows account: docs/platforms.md).
    void serverIdentity() {
        const QString own = u"S-1-5-21-1004336348-1177238915-682003330-1001"_qs;
        QVERIFY(calnet::ipc::trustedServerSid(u"S-1-5-18"_qs, own));
        QVERIFY(calnet::ipc::trustedServerSid(own, own));
        QVERIFY(!calnet::ipc::trustedServerSid(u"S-1-5-21-1004336348-1177238915-682003330-1002"_qs,
                                               own));
        QVERIFY(!calnet::ipc::trustedServerSid(u"S-1-5-19"_qs, own)); // LocalService
        QVERIFY(!calnet::ipc::trustedServerSid({}, own));
        QVERIFY(!calnet::ipc::trustedServerSid({}, {}));

        QLocalServer server;
        QVERIFY(server.listen(path_));
        QLocalSocket socket;
        socket.connectToServer(path_);
        QVERIFY(socket.waitForConnected(kWaitMs));
        QString why;
        QVERIFY2(calnet::ipc::serverIsTrusted(socket, &why), qPrintable(why));
    }

    void callAndReply() {
        FakeHelper helper;
        QVERIFY(helper.listen(path_));
        IpcClient client;
        QSignalSpy connected(&client, &IpcClient::connected);
        client.connectToHelper(path_);
        QVERIFY(connected.count() == 1 || connected.wait(kWaitMs));
        QVERIFY(client.isConnected());

        std::optional<Reply> reply;
        client.call(kMethodVersion, {}, [&](const Reply& r) { reply = r; });
        QTRY_VERIFY_WITH_TIMEOUT(reply.has_value(), kWaitMs);
        QVERIFY(reply->ok());
        QCOMPARE(reply->result.value(u"protocol"_qs).toInt(), 1);
        QCOMPARE(client.pendingCalls(), 0);

        // The helper's error reply reaches the handler as an error, not as a local failure.
        std::optional<Reply> refused;
        client.call(u"no.such.method"_qs, {}, [&](const Reply& r) { refused = r; });
        QTRY_VERIFY_WITH_TIMEOUT(refused.has_value(), kWaitMs);
        QCOMPARE(codeName(*refused), u"unknown_method"_qs);
    }

    // Calls made before the socket is up wait for it instead of failing.
    void callWhileConnecting() {
        FakeHelper helper;
        QVERIFY(helper.listen(path_));
        IpcClient client;
        client.connectToHelper(path_);
        std::optional<Reply> reply;
        client.call(kMethodStatus, {}, [&](const Reply& r) { reply = r; });
        QTRY_VERIFY_WITH_TIMEOUT(reply.has_value(), kWaitMs);
        QCOMPARE(codeName(*reply), u"ok"_qs);
    }

    void outOfOrderReplies() {
        FakeHelper helper(FakeHelper::Mode::Manual);
        QVERIFY(helper.listen(path_));
        IpcClient client;
        client.connectToHelper(path_);
        QMap<qint64, QString> answers; // id -> result.n seen by that call's handler
        QList<qint64> ids;
        for (int i = 0; i < 3; ++i) {
            const qint64 id = client.call(kMethodStatus, {}, [&answers](const Reply& r) {
                answers.insert(r.id, r.result.value(u"n"_qs).toString());
            });
            ids.append(id);
        }
        QCOMPARE(QSet<qint64>(ids.begin(), ids.end()).size(), 3);
        QTRY_COMPARE_WITH_TIMEOUT(helper.received.size(), 3, kWaitMs);
        // Answer last first; an event in between must not disturb the matching.
        for (const int index : {2, 0, 1}) {
            const auto& received = helper.received.at(index);
            helper.send(received.socket,
                        makeResult(received.request.id, {{u"n"_qs, QString::number(index)}}));
            if (index == 0) {
                helper.send(received.socket, makeEvent(kEventState, {}));
            }
        }
        QTRY_COMPARE_WITH_TIMEOUT(answers.size(), 3, kWaitMs);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(answers.value(ids.at(i)), QString::number(i));
        }
        QCOMPARE(client.pendingCalls(), 0);
    }

    void eventsAfterSubscribe() {
        FakeHelper helper;
        QVERIFY(helper.listen(path_));
        IpcClient client;
        QSignalSpy states(&client, &IpcClient::stateEvent);
        QSignalSpy peers(&client, &IpcClient::peersEvent);
        QSignalSpy all(&client, &IpcClient::eventReceived);
        client.connectToHelper(path_);
        std::optional<Reply> subscribed;
        client.subscribe({QString(kEventState), QString(kEventPeers)},
                         [&](const Reply& r) { subscribed = r; });
        QTRY_VERIFY_WITH_TIMEOUT(subscribed.has_value(), kWaitMs);
        QVERIFY(subscribed->ok());
        QCOMPARE(helper.subscriberCount(), 1);

        const QJsonObject state{{u"state"_qs, u"connected"_qs}};
        helper.broadcastEvent(kEventState, state);
        helper.broadcastEvent(kEventPeers, {{u"peers"_qs, QJsonArray{}}});
        helper.send(helper.clients().first(), makeEvent(u"future", {}));
        QTRY_COMPARE_WITH_TIMEOUT(all.size(), 3, kWaitMs);
        QCOMPARE(states.size(), 1);
        QCOMPARE(states.first().first().toJsonObject(), state);
        QCOMPARE(peers.size(), 1);
        QCOMPARE(all.last().first().toString(), u"future"_qs);
    }

    void pendingCallsFailOnDisconnect() {
        FakeHelper helper(FakeHelper::Mode::Manual);
        QVERIFY(helper.listen(path_));
        IpcClient client;
        QSignalSpy disconnected(&client, &IpcClient::disconnected);
        client.connectToHelper(path_);
        QList<Reply> replies;
        for (int i = 0; i < 2; ++i) {
            client.call(kMethodPeers, {}, [&](const Reply& r) { replies.append(r); });
        }
        QTRY_COMPARE_WITH_TIMEOUT(helper.received.size(), 2, kWaitMs);
        helper.stop();
        QVERIFY(disconnected.wait(kWaitMs));
        QCOMPARE(replies.size(), 2);
        for (const Reply& reply : replies) {
            QCOMPARE(codeName(reply), u"disconnected"_qs);
        }
        QCOMPARE(client.pendingCalls(), 0);
        QCOMPARE(client.state(), IpcClient::State::Idle); // no auto-reconnect by default

        // Later calls fail too, but never from inside call() itself.
        bool failed = false;
        client.call(kMethodStatus, {}, [&](const Reply& r) {
            failed = r.error && r.error->code == ErrorCode::Disconnected;
        });
        QVERIFY(!failed);
        QTRY_VERIFY_WITH_TIMEOUT(failed, kWaitMs);
    }

    // A reply written just before the helper closes the connection still reaches its handler.
    void replyThenClose() {
        FakeHelper helper(FakeHelper::Mode::Manual);
        QVERIFY(helper.listen(path_));
        IpcClient client;
        QSignalSpy disconnected(&client, &IpcClient::disconnected);
        client.connectToHelper(path_);
        std::optional<Reply> reply;
        client.call(kMethodStatus, {}, [&](const Reply& r) { reply = r; });
        QTRY_COMPARE_WITH_TIMEOUT(helper.received.size(), 1, kWaitMs);
        QLocalSocket* socket = helper.received.first().socket;
        helper.send(socket, makeResult(helper.received.first().request.id, {{u"n"_qs, 1}}));
        socket->disconnectFromServer();
        QVERIFY(disconnected.wait(kWaitMs));
        QVERIFY(reply.has_value());
        QCOMPARE(codeName(*reply), u"ok"_qs);
    }

    // A handler may destroy the client while it is failing the other pending calls.
    void deleteClientInsideHandler() {
        FakeHelper helper(FakeHelper::Mode::Manual);
        QVERIFY(helper.listen(path_));
        auto* client = new IpcClient;
        QPointer<IpcClient> guard(client);
        client->connectToHelper(path_);
        int calls = 0;
        for (int i = 0; i < 3; ++i) {
            client->call(kMethodPeers, {}, [&](const Reply&) {
                ++calls;
                delete guard.data();
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(helper.received.size(), 3, kWaitMs);
        helper.stop();
        QTRY_VERIFY_WITH_TIMEOUT(guard.isNull(), kWaitMs);
        QCOMPARE(calls, 1);
    }

    void autoReconnectWithBackoff() {
        auto helper = std::make_unique<FakeHelper>();
        QVERIFY(helper->listen(path_));
        IpcClient client;
        client.setAutoReconnect(true);
        QSignalSpy connected(&client, &IpcClient::connected);
        QSignalSpy disconnected(&client, &IpcClient::disconnected);
        QSignalSpy reconnecting(&client, &IpcClient::reconnecting);
        QSignalSpy states(&client, &IpcClient::stateEvent);
        client.connectToHelper(path_);
        client.subscribe({QString(kEventState)});
        QTRY_COMPARE_WITH_TIMEOUT(helper->subscriberCount(), 1, kWaitMs);
        QCOMPARE(connected.size(), 1);

        helper->stop();
        QVERIFY(disconnected.wait(kWaitMs));
        // Three failed attempts while the helper is away: 250, 500, 1000 ms.
        QTRY_COMPARE_WITH_TIMEOUT(reconnecting.size(), 3, kWaitMs);
        QCOMPARE(reconnecting.at(0).first().toInt(), 250);
        QCOMPARE(reconnecting.at(1).first().toInt(), 500);
        QCOMPARE(reconnecting.at(2).first().toInt(), 1000);
        QCOMPARE(client.state(), IpcClient::State::WaitingToReconnect);

        helper = std::make_unique<FakeHelper>();
        QVERIFY(helper->listen(path_));
        QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 2, kWaitMs);
        // The client restores its subscription on its own, and events flow again.
        QTRY_COMPARE_WITH_TIMEOUT(helper->subscriberCount(), 1, kWaitMs);
        const auto& resubscribe = helper->received.last().request;
        QCOMPARE(resubscribe.method, kMethodSubscribe);
        QCOMPARE(resubscribe.params.value(u"events"_qs).toArray(), QJsonArray{u"state"_qs});
        helper->broadcastEvent(kEventState, {{u"state"_qs, u"connected"_qs}});
        QTRY_COMPARE_WITH_TIMEOUT(states.size(), 1, kWaitMs);

        // A successful connection resets the backoff.
        reconnecting.clear();
        helper->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!reconnecting.isEmpty(), kWaitMs);
        QCOMPARE(reconnecting.first().first().toInt(), 250);

        client.disconnectFromHelper();
        QCOMPARE(client.state(), IpcClient::State::Idle);
    }

    // The GUI may start before the helper: the first attempt fails, later ones succeed.
    void autoReconnectBeforeHelperStarts() {
        IpcClient client;
        client.setAutoReconnect(true);
        QSignalSpy connected(&client, &IpcClient::connected);
        QSignalSpy reconnecting(&client, &IpcClient::reconnecting);
        client.connectToHelper(path_);
        QTRY_VERIFY_WITH_TIMEOUT(!reconnecting.isEmpty(), kWaitMs);
        QCOMPARE(connected.size(), 0);
        FakeHelper helper;
        QVERIFY(helper.listen(path_));
        QTRY_COMPARE_WITH_TIMEOUT(connected.size(), 1, kWaitMs);
    }

    void callTimeout() {
        FakeHelper helper(FakeHelper::Mode::Manual);
        QVERIFY(helper.listen(path_));
        IpcClient client;
        QSignalSpy protocolErrors(&client, &IpcClient::protocolError);
        client.setCallTimeout(std::chrono::milliseconds(100));
        client.connectToHelper(path_);
        std::optional<Reply> reply;
        client.call(kMethodStatus, {}, [&](const Reply& r) { reply = r; });
        QTRY_VERIFY_WITH_TIMEOUT(reply.has_value(), kWaitMs);
        QCOMPARE(codeName(*reply), u"timeout"_qs);
        // The late answer is dropped quietly; an answer to an id never used is not.
        QTRY_COMPARE_WITH_TIMEOUT(helper.received.size(), 1, kWaitMs);
        const auto& received = helper.received.first();
        helper.send(received.socket, makeResult(received.request.id));
        helper.send(received.socket, makeResult(received.request.id + 1000));
        QVERIFY(protocolErrors.wait(kWaitMs));
        QCOMPARE(protocolErrors.size(), 1);
        QVERIFY(protocolErrors.first().first().toString().contains(u"unknown request"_qs));
        QVERIFY(client.isConnected());
    }

    void badFrameFromHelperDisconnects() {
        FakeHelper helper(FakeHelper::Mode::Manual);
        QVERIFY(helper.listen(path_));
        IpcClient client;
        QSignalSpy protocolErrors(&client, &IpcClient::protocolError);
        QSignalSpy disconnected(&client, &IpcClient::disconnected);
        client.connectToHelper(path_);
        std::optional<Reply> reply;
        client.call(kMethodStatus, {}, [&](const Reply& r) { reply = r; });
        QTRY_COMPARE_WITH_TIMEOUT(helper.received.size(), 1, kWaitMs);
        // A well-framed message of the wrong shape is reported but keeps the connection.
        helper.send(helper.clients().first(), QJsonObject{{u"hello"_qs, 1}});
        QVERIFY(protocolErrors.wait(kWaitMs));
        QVERIFY(client.isConnected());
        // An oversized length prefix ends it.
        helper.sendRaw(helper.clients().first(), QByteArray("\x00\x10\x00\x01", 4));
        QVERIFY(disconnected.wait(kWaitMs));
        QCOMPARE(protocolErrors.size(), 2);
        QVERIFY(reply.has_value());
        QCOMPARE(codeName(*reply), u"disconnected"_qs);
    }

    void callBlockingAgainstHelper() {
        ThreadedHelper helper(path_, FakeHelper::Mode::Auto);
        QVERIFY(helper.startAndWait());
        QString error;
        const auto reply = IpcClient::callBlocking(path_, kMethodVersion, {}, kWaitMs, &error);
        QVERIFY2(reply.has_value(), qPrintable(error));
        QVERIFY(reply->ok());
        QCOMPARE(reply->result.value(u"daemon"_qs).toString(), u"fake"_qs);

        const auto refused = IpcClient::callBlocking(path_, u"nope"_qs, {}, kWaitMs, &error);
        QVERIFY(refused.has_value());
        QCOMPARE(codeName(*refused), u"unknown_method"_qs);
    }

    void callBlockingWithoutHelper() {
        QElapsedTimer timer;
        timer.start();
        QString error;
        const auto reply = IpcClient::callBlocking(path_, kMethodStatus, {}, kWaitMs, &error);
        QVERIFY(!reply.has_value());
        QVERIFY(!error.isEmpty());
        QVERIFY2(timer.elapsed() < 1000, "a missing socket must fail at once");
    }

    void callBlockingTimesOut() {
        ThreadedHelper helper(path_, FakeHelper::Mode::Manual); // never answers
        QVERIFY(helper.startAndWait());
        QElapsedTimer timer;
        timer.start();
        QString error;
        const auto reply = IpcClient::callBlocking(path_, kMethodStatus, {}, 300, &error);
        const qint64 elapsed = timer.elapsed();
        QVERIFY(!reply.has_value());
        QVERIFY2(error.contains(u"300 ms"_qs), qPrintable(error));
        QVERIFY2(elapsed >= 250 && elapsed < 3000, qPrintable(QString::number(elapsed)));
    }

private:
    std::unique_ptr<QTemporaryDir> dir_;
    QString path_;
};

QTEST_MAIN(TestIpcClient)
#include "tst_ipcclient.moc"
