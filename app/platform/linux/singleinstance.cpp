#include "app/platform/linux/singleinstance.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocalServer>
#include <QLocalSocket>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <QtEndian>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace calnet::app {

namespace {

constexpr int kHeaderBytes = 4;
// A connection that has not delivered its message by then is dropped.
constexpr int kServerReadTimeoutMs = 5000;
// Pause between connection attempts while the primary is between locking and listening.
constexpr int kRetryIntervalMs = 20;
const QByteArray kAck = QByteArrayLiteral("ok\n");

QString runtimeDirectory() {
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty() && QDir::isAbsolutePath(runtime) && QFileInfo(runtime).isDir())
        return runtime;
    return QDir::tempPath();
}

// Whoever listens at the other end must be us: under /tmp another user could have put a socket
// of theirs at our path.
bool peerIsSameUser(const QLocalSocket& socket) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    const auto fd = static_cast<int>(socket.socketDescriptor());
    if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    return cred.uid == ::geteuid();
}

} // namespace

SingleInstance::SingleInstance(const QString& key, QObject* parent) : QObject(parent) {
    QString safeKey = key;
    safeKey.remove(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]")));
    socketPath_ = QDir::cleanPath(runtimeDirectory()) +
                  QStringLiteral("/calnet-%1-%2.sock").arg(::geteuid()).arg(safeKey);
}

SingleInstance::~SingleInstance() {
    if (server_)
        server_->close(); // removes the socket file before the lock goes
    if (lockFd_ >= 0)
        ::close(lockFd_);
}

bool SingleInstance::listen() {
    if (lockFd_ >= 0)
        return true;
    const QByteArray lock = QFile::encodeName(lockPath());
    const int fd = ::open(lock.constData(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        // Better two instances than none.
        qWarning("calnet: cannot open %s (%s); running without the single-instance guard",
                 lock.constData(), std::strerror(errno));
        return true;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_uid != ::geteuid()) {
        qWarning("calnet: %s is not ours; running without the single-instance guard",
                 lock.constData());
        ::close(fd);
        return true;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK)
            return false;
        qWarning("calnet: cannot lock %s (%s); running without the single-instance guard",
                 lock.constData(), std::strerror(error));
        return true;
    }
    lockFd_ = fd;

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
            if (!peerIsSameUser(socket))
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
