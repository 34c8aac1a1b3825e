#include "app/calnet/singleinstance.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <QtEndian>

#include <algorithm>

namespace calnet::app {

namespace {

constexpr int kHeaderBytes = 4;
// A connection that has not delivered its message by then is dropped.
constexpr int kServerReadTimeoutMs = 5000;
// Pause between connection attempts while the primary is between locking and listening.
constexpr int kRetryIntervalMs = 20;
const QByteArray kAck = QByteArrayLiteral("ok\n");

} // namespace

SingleInstance::SingleInstance(const QString& key, QObject* parent) : QObject(parent) {
    QString safeKey = key;
    safeKey.remove(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")));
    socketPath_ = instance::channelFor(safeKey);
}

SingleInstance::~SingleInstance() {
    if (server_)
        server_->close(); // removes the socket file before the lock goes
}

bool SingleInstance::listen() {
    if (lock_.held())
        return true;
    switch (lock_.acquire(socketPath_)) {
    case instance::Lock::Outcome::HeldElsewhere:
        return false;
    case instance::Lock::Outcome::Unavailable:
        // Better two instances than none.
        qWarning("calnet: running without the single-instance guard");
        return true;
    case instance::Lock::Outcome::Acquired:
        break;
    }

    // Holding the lock, any socket at the path is a crashed primary's.
    QLocalServer::removeServer(socketPath_);
    server_ = new QLocalServer(this);
    server_->setSocketOptions(QLocalServer::UserAccessOption);
    connect(server_, &QLocalServer::newConnection, this, &SingleInstance::onNewConnection);
    if (!server_->listen(socketPath_))
        qWarning("calnet: cannot listen on %s: %s", qPrintable(socketPath_),
                 qPrintable(server_->errorString()));
    return true;
}

void SingleInstance::onNewConnection() {
    while (QLocalSocket* socket = server_->nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QLocalSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        QTimer::singleShot(kServerReadTimeoutMs, socket, [socket] {
            socket->abort();
            socket->deleteLater();
        });
        if (socket->bytesAvailable() > 0)
            onReadyRead(socket);
    }
}

void SingleInstance::onReadyRead(QLocalSocket* socket) {
    if (socket->property("calnetDone").toBool())
        return;
    if (socket->bytesAvailable() < kHeaderBytes)
        return;
    const QByteArray header = socket->peek(kHeaderBytes);
    const quint32 length = qFromBigEndian<quint32>(header.constData());
    if (length > quint32(kMaxMessageBytes)) {
        socket->abort();
        return;
    }
    if (socket->bytesAvailable() < kHeaderBytes + qint64(length))
        return;
    socket->skip(kHeaderBytes);
    const QByteArray payload = socket->read(length);

    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(payload, &error);
    if (error.error != QJsonParseError::NoError || !doc.isArray()) {
        socket->abort();
        return;
    }
    QStringList arguments;
    for (const QJsonValue& v : doc.array()) {
        if (!v.isString()) {
            socket->abort();
            return;
        }
        arguments << v.toString();
    }
    socket->setProperty("calnetDone", true);
    socket->write(kAck);
    // Out now: a slot connected to messageReceived may keep the event loop busy for a while.
    socket->flush();
    socket->disconnectFromServer(); // after the acknowledgement has been written
    emit messageReceived(arguments);
}

bool SingleInstance::sendToPrimary(const QStringList& arguments, int timeoutMs) {
    const QByteArray payload =
        QJsonDocument(QJsonArray::fromStringList(arguments)).toJson(QJsonDocument::Compact);
    if (payload.size() > kMaxMessageBytes)
        return false;
    QByteArray frame(kHeaderBytes, '\0');
    qToBigEndian<quint32>(quint32(payload.size()), frame.data());
    frame += payload;

    const QDeadlineTimer deadline(timeoutMs);
    auto remaining = [&] { return int(deadline.remainingTime()); };
    for (;;) {
        QLocalSocket socket;
        socket.connectToServer(socketPath_);
        if (socket.waitForConnected(remaining())) {
            if (!instance::peerIsSameUser(socket))
                return false;
            socket.write(frame);
            while (socket.bytesToWrite() > 0)
                if (!socket.waitForBytesWritten(remaining()))
                    return false;
            QByteArray reply;
            while (reply.size() < kAck.size()) {
                if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(remaining()))
                    break;
                reply += socket.read(kAck.size() - reply.size());
            }
            return reply == kAck;
        }
        if (deadline.hasExpired())
            return false;
        QThread::msleep(std::min<qint64>(kRetryIntervalMs, deadline.remainingTime()));
    }
}

} // namespace calnet::app
