#include "app/platform/linux/instancelock.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace calnet::app::instance {

namespace {

QString runtimeDirectory() {
    const QString runtime = qEnvironmentVariable("XDG_RUNTIME_DIR");
    if (!runtime.isEmpty() && QDir::isAbsolutePath(runtime) && QFileInfo(runtime).isDir())
        return runtime;
    return QDir::tempPath();
}

} // namespace

QString channelFor(const QString& safeKey) {
    return QDir::cleanPath(runtimeDirectory()) +
           QStringLiteral("/calnet-%1-%2.sock").arg(::geteuid()).arg(safeKey);
}

QString Lock::nameFor(const QString& channel) {
    return channel + QStringLiteral(".lock");
}

Lock::~Lock() {
    if (fd_ >= 0)
        ::close(fd_);
}

Lock::Outcome Lock::acquire(const QString& channel) {
    if (fd_ >= 0)
        return Outcome::Acquired;
    const QByteArray path = QFile::encodeName(nameFor(channel));
    const int fd = ::open(path.constData(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        qWarning("calnet: cannot open %s (%s)", path.constData(), std::strerror(errno));
        return Outcome::Unavailable;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_uid != ::geteuid()) {
        qWarning("calnet: %s is not ours", path.constData());
        ::close(fd);
        return Outcome::Unavailable;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        ::close(fd);
        if (error == EWOULDBLOCK)
            return Outcome::HeldElsewhere;
        qWarning("calnet: cannot lock %s (%s)", path.constData(), std::strerror(error));
        return Outcome::Unavailable;
    }
    fd_ = fd;
    return Outcome::Acquired;
}

bool peerIsSameUser(const QLocalSocket& socket) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    const auto fd = static_cast<int>(socket.socketDescriptor());
    if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    return cred.uid == ::geteuid();
}

} // namespace calnet::app::instance
