#include "app/platform/windows/instancelock.h"

#include <QLocalSocket>

#include <windows.h>

#include "helper/platform/windows/processuser.h"

namespace calnet::app::instance {

namespace {

DWORD sessionId() {
    DWORD session = 0;
    if (!::ProcessIdToSessionId(::GetCurrentProcessId(), &session))
        return 0;
    return session;
}

} // namespace

QString channelFor(const QString& safeKey) {
    // The user too: a program started "as another user" shares the session, and must get its
    // own primary rather than be refused this user's mutex.
    return QStringLiteral("calnet-%1-%2-%3")
        .arg(sessionId())
        .arg(calnet::platform::windows::currentUserSid(), safeKey);
}

QString Lock::nameFor(const QString& channel) {
    return QStringLiteral("Local\\") + channel;
}

Lock::~Lock() {
    if (handle_) {
        // Only the owning thread may release a mutex; elsewhere closing the handle abandons it,
        // which the next launch takes over just the same (WAIT_ABANDONED).
        if (!::ReleaseMutex(handle_))
            qWarning("calnet: the instance mutex was not released by its owner (error %lu)",
                     ::GetLastError());
        ::CloseHandle(handle_);
    }
}

Lock::Outcome Lock::acquire(const QString& channel) {
    if (handle_)
        return Outcome::Acquired;
    const std::wstring name = nameFor(channel).toStdWString();
    HANDLE mutex = ::CreateMutexW(nullptr, FALSE, name.c_str());
    if (!mutex) {
        const DWORD error = ::GetLastError();
        qWarning("calnet: cannot create the mutex %s (error %lu)", qPrintable(nameFor(channel)),
                 error);
        return Outcome::Unavailable;
    }
    switch (::WaitForSingleObject(mutex, 0)) {
    case WAIT_OBJECT_0:
    case WAIT_ABANDONED: // the last primary crashed: the mutex is ours now
        handle_ = mutex;
        return Outcome::Acquired;
    case WAIT_TIMEOUT:
        ::CloseHandle(mutex);
        return Outcome::HeldElsewhere;
    default: {
        const DWORD error = ::GetLastError();
        qWarning("calnet: cannot take the mutex %s (error %lu)", qPrintable(nameFor(channel)),
                 error);
        ::CloseHandle(mutex);
        return Outcome::Unavailable;
    }
    }
}

bool peerIsSameUser(const QLocalSocket& socket) {
    namespace win = calnet::platform::windows;
    const unsigned long pid =
        win::pipeServerProcessId(reinterpret_cast<void*>(socket.socketDescriptor()));
    const QString theirs = pid ? win::processUserSid(pid) : QString();
    return !theirs.isEmpty() && theirs == win::currentUserSid();
}

} // namespace calnet::app::instance
