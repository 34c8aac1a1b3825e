// The app's and CLI's end of the helper socket (docs/ipc.md).
//
// IpcClient is asynchronous and lives in one thread's event loop. Its states (State below):
//
//   Idle --connectToHelper()--> Connecting --socket up--> Connected
//   Connecting / Connected --socket gone--> WaitingToReconnect (auto-reconnect on) or Idle
//   WaitingToReconnect --backoff: 250 ms, doubling to 10 s, reset once connected--> Connecting
//   any --disconnectFromHelper()--> Idle
//
// Each call() gets the next id; its handler runs exactly once (unless the client is destroyed
// first), never from inside call(): with the helper's reply, or with a local `disconnected` /
// `timeout` error. Socket signals reach the client queued, so user code never runs inside
// QLocalSocket's own emits and may delete the client from any handler. After every
// (re)connect the client sends `subscribe` again with the last requested events.
//
// callBlocking() is a separate, self-contained path for the CLI: one socket, one request,
// waitFor* calls against one deadline, no event loop needed.
#pragma once

#include "core/util/backoff.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

#include <chrono>
#include <functional>
#include <map>
#include <optional>

#include "helper/ipc/frame.h"
#include "helper/ipc/protocol.h"

class QLocalSocket;
class QTimer;

namespace calnet::ipc {

class IpcClient : public QObject {
    Q_OBJECT

public:
    using ReplyHandler = std::function<void(const Reply&)>;

    enum class State {
        Idle,       // not connected, nothing scheduled (start, or after disconnectFromHelper)
        Connecting, // connectToServer issued; calls are queued until connected
        Connected,  // calls are written at once
        WaitingToReconnect, // auto-reconnect timer running; calls fail at once
    };
    Q_ENUM(State)

    static constexpr std::chrono::milliseconds kInitialBackoff = Backoff::kInitial;
    static constexpr std::chrono::milliseconds kMaxBackoff = Backoff::kMax;

    explicit IpcClient(QObject* parent = nullptr);
    // Pending handlers are dropped without being called: their owners may already be gone.
    ~IpcClient() override;

    // Connects (or reconnects) to `path`, dropping any current connection first.
    void connectToHelper(const QString& path);
    // Closes the connection, stops reconnecting and fails pending calls with `disconnected`.
    void disconnectFromHelper();

    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] bool isConnected() const { return state_ == State::Connected; }
    [[nodiscard]] QString socketPath() const { return path_; }

    // Sends a request and returns its id. When not connected or connecting, `done` still runs
    // (from the event loop) with a `disconnected` error. `done` may be empty.
    qint64 call(QAnyStringView method, const QJsonObject& params = {}, ReplyHandler done = {});

    // Asks for events (kEventState, kEventPeers); remembered and re-sent after each reconnect.
    // An empty list unsubscribes. When not connected, `done` gets a `disconnected` error and the
    // subscription is sent once a connection is made. Returns the call's id.
    qint64 subscribe(const QStringList& events, ReplyHandler done = {});
    [[nodiscard]] QStringList subscriptions() const { return events_; }

    void setAutoReconnect(bool enabled);
    [[nodiscard]] bool autoReconnect() const { return autoReconnect_; }

    // Fails calls that get no reply within `timeout` (0, the default: wait until disconnected).
    void setCallTimeout(std::chrono::milliseconds timeout) { callTimeout_ = timeout; }

    [[nodiscard]] qsizetype pendingCalls() const { return qsizetype(pending_.size()); }

    // Sends one request on a fresh connection and waits for its reply, all within timeoutMs.
    // Returns the reply (which may be an error reply), or nullopt with `error` set when the
    // helper could not be reached or did not answer in time.
    [[nodiscard]] static std::optional<Reply> callBlocking(const QString& socketPath,
                                                           QAnyStringView method,
                                                           const QJsonObject& params, int timeoutMs,
                                                           QString* error);

signals:
    void connected();
    void disconnected();
    // Another connection attempt follows in `delayMs`.
    void reconnecting(int delayMs);
    void stateEvent(const QJsonObject& data);
    void peersEvent(const QJsonObject& data);
    // Every event, including kinds this build does not know.
    void eventReceived(const QString& name, const QJsonObject& data);
    // The helper sent something malformed; after a framing error the connection is closed.
    void protocolError(const QString& message);

private:
    void startConnecting();
    void onConnected();
    void onReadyRead();
    void onSocketGone();
    void dispatch(const QJsonObject& message);
    qint64 sendSubscribe(ReplyHandler done);
    void failCall(qint64 id, ErrorCode code, const QString& message);
    void failAllPending(const QString& message);
    void scheduleReconnect();
    void dropSocket();

    QString path_;
    QPointer<QLocalSocket> socket_;
    quint64 generation_ = 0; // bumped per socket; stale queued signals are ignored
    QTimer* reconnectTimer_ = nullptr;
    State state_ = State::Idle;
    bool autoReconnect_ = false;
    Backoff backoff_;
    std::chrono::milliseconds callTimeout_{0};

    FrameDecoder decoder_;
    qint64 nextId_ = 1;
    std::map<qint64, ReplyHandler> pending_;
    QList<QByteArray> outbox_;     // frames written once the socket connects
    QStringList events_;           // the subscription to restore after a reconnect
    bool subscribeQueued_ = false; // a subscribe frame already waits in outbox_
};

} // namespace calnet::ipc
