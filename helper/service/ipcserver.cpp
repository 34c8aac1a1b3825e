#include "helper/service/ipcserver.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QTimer>

#include <utility>

namespace calnet::helper {

IpcServer::IpcServer(AccessPolicy policy, Handler handler, Snapshot snapshot, QObject* parent)
    : QObject(parent), policy_(std::move(policy)), handler_(std::move(handler)),
      snapshot_(std::move(snapshot)) {
    server_.setMaxPendingConnections(64);
    connect(&server_, &QLocalServer::newConnection, this, &IpcServer::accept);
}

IpcServer::~IpcServer() {
    close();
}

bool IpcServer::isServed(const QString& path) {
    QLocalSocket probe;
    probe.connectToServer(path);
    return probe.waitForConnected(500);
}

bool IpcServer::listen(const QString& path, QString* error) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    // The directory must let every user reach the socket (0755).
    QFile::setPermissions(QFileInfo(path).absolutePath(), QFile::ReadOwner | QFile::WriteOwner |
                                                              QFile::ExeOwner | QFile::ReadGroup |
                                                              QFile::ExeGroup | QFile::ReadOther |
                                                              QFile::ExeOther);
    if (QFileInfo::exists(path)) {
        if (isServed(path)) {
            if (error)
                *error = QStringLiteral("another helper is already serving %1").arg(path);
            return false;
        }
        QLocalServer::removeServer(path);
    }
    // Anyone may connect; what they may do is decided per call from their credentials.
    server_.setSocketOptions(QLocalServer::WorldAccessOption);
    if (!server_.listen(path)) {
        if (error)
            *error = server_.errorString();
        return false;
    }
    path_ = path;
    return true;
}

void IpcServer::close() {
    // abort() emits disconnected(), whose handler erases from clients_: take
    // the map first and cut the connection so the loop walks a stable copy.
    auto clients = std::exchange(clients_, {});
    for (auto& [socket, client] : clients) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    if (server_.isListening())
        server_.close();
}

void IpcServer::accept() {
    while (QLocalSocket* socket = server_.nextPendingConnection()) {
        socket->setParent(this);
        auto credentials = peerCredentials(socket->socketDescriptor());
        if (!credentials || int(clients_.size()) >= kMaxClients) {
            // Unknown caller or too many clients: refuse before reading a byte.
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto client = std::make_unique<Client>();
        client->socket = socket;
        client->credentials = *credentials;
        client->role = policy_.roleFor(*credentials);
        clients_.emplace(socket, std::move(client));
        connect(socket, &QLocalSocket::readyRead, this, [this, socket] { readFrom(socket); });
        connect(socket, &QLocalSocket::disconnected, this, [this, socket] { drop(socket); });
        connect(socket, &QLocalSocket::bytesWritten, this, [this, socket] {
            // More data may have arrived while replies were blocked behind a full buffer.
            if (socket->bytesAvailable() > 0)
                readFrom(socket);
        });
        if (socket->bytesAvailable() > 0)
            readFrom(socket);
    }
}

void IpcServer::readFrom(QLocalSocket* socket) {
    auto it = clients_.find(socket);
    if (it == clients_.end())
        return;
    Client& client = *it->second;
    char buffer[16384];
    int frames = 0;
    while (socket->bytesAvailable() > 0 && frames < kMaxFramesPerRead) {
        const qint64 n = socket->read(buffer, sizeof buffer);
        if (n <= 0)
            break;
        client.decoder.append(buffer, qsizetype(n));
        if (client.decoder.hasError()) {
            // Oversized or malformed frame: the stream cannot be resynchronised.
            drop(socket);
            return;
        }
        while (auto message = client.decoder.next()) {
            ++frames;
            const QJsonObject reply = dispatch(client, *message);
            if (!clients_.count(socket))
                return; // dropped while sending (queue overflow)
            send(client, reply);
            if (!clients_.count(socket))
                return;
        }
    }
    if (socket->bytesAvailable() > 0) // fairness: continue after other clients had a turn
        QTimer::singleShot(0, this, [this, socket = QPointer<QLocalSocket>(socket)] {
            if (socket)
                readFrom(socket);
        });
}

QJsonObject IpcServer::dispatch(Client& client, const QJsonObject& message) {
    auto parsed = ipc::Request::parse(message);
    if (auto* error = std::get_if<ipc::RequestError>(&parsed))
        return error->toReply();
    const ipc::Request& request = std::get<ipc::Request>(parsed);
    if (!AccessPolicy::allows(client.role, request.info->role))
        return ipc::makeError(
            request.id, ipc::ErrorCode::PermissionDenied,
            QStringLiteral("%1 needs the admin role (%2); %3 is a reader")
                .arg(request.method, AccessPolicy::kAdminRule, client.credentials.describe()));
    if (request.method == ipc::kMethodSubscribe) {
        auto params = ipc::parseSubscribeParams(request.params);
        if (auto* error = std::get_if<ipc::ParamsError>(&params))
            return error->toReply(request.id);
        const auto& wanted = std::get<ipc::SubscribeParams>(params);
        client.wantsState = wanted.state;
        client.wantsPeers = wanted.peers;
        // Reply first, then the current picture, so the client never starts blind.
        send(client, ipc::makeResult(request.id));
        if (snapshot_ && client.wantsState)
            send(client, ipc::makeEvent(ipc::kEventState, snapshot_(ipc::kEventState)));
        if (snapshot_ && client.wantsPeers)
            send(client, ipc::makeEvent(ipc::kEventPeers, snapshot_(ipc::kEventPeers)));
        return {};
    }
    current_ = client.socket;
    QJsonObject reply = handler_(request, client.role);
    current_ = nullptr;
    return reply;
}

IpcServer::DeferredReply IpcServer::deferReply() const {
    return {current_};
}

void IpcServer::sendDeferred(const DeferredReply& to, const QJsonObject& reply) {
    if (!to.socket)
        return;
    auto it = clients_.find(to.socket.data());
    if (it != clients_.end())
        send(*it->second, reply);
}

void IpcServer::send(Client& client, const QJsonObject& message) {
    if (message.isEmpty() || !client.socket)
        return;
    QLocalSocket* socket = client.socket;
    if (socket->bytesToWrite() > kMaxQueuedReplyBytes) {
        // The client stopped reading: drop it rather than buffer without bound.
        drop(socket);
        return;
    }
    QByteArray frame = ipc::encodeFrame(message);
    if (frame.isEmpty()) {
        // The reply does not fit a frame (over 1 MiB): say so rather than stay silent.
        std::optional<qint64> id;
        if (message.value(QLatin1StringView("id")).isDouble())
            id = qint64(message.value(QLatin1StringView("id")).toDouble());
        frame = ipc::encodeFrame(ipc::makeError(id, ipc::ErrorCode::Failed,
                                                QStringLiteral("reply too large for one frame")));
    }
    socket->write(frame);
}

void IpcServer::broadcast(QLatin1StringView event, const QJsonObject& data) {
    const bool state = event == ipc::kEventState;
    const QJsonObject message = ipc::makeEvent(event, data);
    std::vector<QLocalSocket*> targets;
    for (auto& [socket, client] : clients_)
        if (state ? client->wantsState : client->wantsPeers)
            targets.push_back(socket);
    for (QLocalSocket* socket : targets) {
        auto it = clients_.find(socket);
        if (it != clients_.end())
            send(*it->second, message);
    }
}

void IpcServer::drop(QLocalSocket* socket) {
    auto it = clients_.find(socket);
    if (it == clients_.end())
        return;
    auto client = std::move(it->second);
    clients_.erase(it);
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

} // namespace calnet::helper
