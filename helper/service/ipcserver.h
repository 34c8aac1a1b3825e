// IpcServer: the helper's side of the local socket (docs/ipc.md). Accepts any local user,
// takes their credentials from the kernel at accept time, decodes frames, validates requests,
// checks the method's role for every call and hands valid ones to the service. It never lets
// one client hurt another: frame lengths are checked before anything is buffered, a client
// that stops reading is dropped once 4 MiB of replies queue up, and the number of clients is
// capped.
//
// Runs on the helper's Qt event loop (control side only; the data path has its own threads).
#pragma once

#include <QJsonObject>
#include <QLocalServer>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>
#include <unordered_map>

#include "helper/ipc/frame.h"
#include "helper/ipc/protocol.h"
#include "helper/platform/accesspolicy.h"

class QLocalSocket;

namespace calnet::helper {

class IpcServer : public QObject {
    Q_OBJECT

public:
    static constexpr qint64 kMaxQueuedReplyBytes = 4 << 20;
    static constexpr int kMaxClients = 512;
    static constexpr int kMaxFramesPerRead = 64; // then yield to other clients

    // handler: a validated request the caller's role allows; returns the whole reply object
    // (makeResult / makeError with the request's id).
    using Handler = std::function<QJsonObject(const ipc::Request&, ipc::Role)>;
    // snapshot: the data of an event, sent once right after a client subscribes to it.
    using Snapshot = std::function<QJsonObject(QLatin1StringView event)>;

    IpcServer(AccessPolicy policy, Handler handler, Snapshot snapshot, QObject* parent = nullptr);
    ~IpcServer() override;

    // Listens on path (mode 0666: the role check is per call). A stale socket file is replaced;
    // one that still answers means another helper is running, and listen() fails.
    bool listen(const QString& path, QString* error);
    // Whether a server answers on `path` now (connects within 500 ms).
    [[nodiscard]] static bool isServed(const QString& path);
    void close();

    // A reply the handler gives later (e.g. after a network round trip): inside the handler,
    // deferReply() names the calling client; the handler returns {} (no reply now) and calls
    // sendDeferred() exactly once later. A client that left meanwhile gets nothing.
    struct DeferredReply {
        QPointer<QLocalSocket> socket;
    };
    [[nodiscard]] DeferredReply deferReply() const;
    void sendDeferred(const DeferredReply& to, const QJsonObject& reply);

    // Sends an event to every client subscribed to it.
    void broadcast(QLatin1StringView event, const QJsonObject& data);
    [[nodiscard]] int clientCount() const { return int(clients_.size()); }

private:
    struct Client {
        QPointer<QLocalSocket> socket;
        PeerCredentials credentials;
        ipc::Role role = ipc::Role::Reader;
        ipc::FrameDecoder decoder;
        bool wantsState = false;
        bool wantsPeers = false;
    };

    void accept();
    void readFrom(QLocalSocket* socket);
    QJsonObject dispatch(Client& client, const QJsonObject& message);
    void send(Client& client, const QJsonObject& message);
    void drop(QLocalSocket* socket);

    AccessPolicy policy_;
    Handler handler_;
    Snapshot snapshot_;
    QLocalServer server_;
    QString path_;
    std::unordered_map<QLocalSocket*, std::unique_ptr<Client>> clients_;
    QPointer<QLocalSocket> current_; // the client whose request the handler is running
};

} // namespace calnet::helper
