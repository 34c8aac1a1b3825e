#include "app/platform/windows/instancelock.h"

#include <QLocalSocket>

#include <memory>
#include <vector>

#include <windows.h>

namespace calnet::app::instance {

namespace {

DWORD sessionId() {
    DWORD session = 0;
    if (!::ProcessIdToSessionId(::GetCurrentProcessId(), &session))
        return 0;
    return session;
}

struct HandleCloser {
    void operator()(void* h) const {
        if (h && h != INVALID_HANDLE_VALUE)
            ::CloseHandle(h);
    }
};
using Handle = std::unique_ptr<void, HandleCloser>;

// The user SID in a process's token, as bytes (empty when it cannot be read).
std::vector<unsigned char> userSidOf(HANDLE process) {
    HANDLE rawToken = nullptr;
    if (!::OpenProcessToken(process, TOKEN_QUERY, &rawToken))
        return {};
    Handle token(rawToken);
    DWORD size = 0;
    ::GetTokenInformation(rawToken, TokenUser, nullptr, 0, &size);
    if (size == 0)
        return {};
    std::vector<unsigned char> buffer(size);
    if (!::GetTokenInformation(rawToken, TokenUser, buffer.data(), size, &size))
        return {};
    const auto* user = reinterpret_cast<const TOKEN_USER*>(buffer.data());
    if (!::IsValidSid(user->User.Sid))
        return {};
    const DWORD length = ::GetLengthSid(user->User.Sid);
    const auto* bytes = static_cast<const unsigned char*>(user->User.Sid);
    return {bytes, bytes + length};
}

} // namespace

QString channelFor(const QString& safeKey) {
    return QStringLiteral("calnet-%1-%2").arg(sessionId()).arg(safeKey);
}

QString Lock::nameFor(const QString& channel) {
    return QStringLiteral("Local\\") + channel;
}

Lock::~Lock() {
    if (handle_) {
        ::ReleaseMutex(handle_);
        ::CloseHandle(handle_);
    }
}

Lock::Outcome Lock::acquire(const QString& channel) {
    if (handle_)
        return Outcome::Acquired;
    const std::wstring name = nameFor(channel).toStdWString();
    HANDLE mutex = ::CreateMutexW(nullptr, FALSE, name.c_str());
    if (!mutex) {
        qWarning("calnet: cannot create the mutex %s (error %lu)", qPrintable(nameFor(channel)),
                 ::GetLastError());
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
    default:
        qWarning("calnet: cannot take the mutex %s (error %lu)", qPrintable(nameFor(channel)),
                 ::GetLastError());
        ::CloseHandle(mutex);
        return Outcome::Unavailable;
    }
}

bool peerIsSameUser(const QLocalSocket& socket) {
    const auto pipe = reinterpret_cast<HANDLE>(socket.socketDescriptor());
    ULONG serverPid = 0;
    if (!pipe || pipe == INVALID_HANDLE_VALUE || !::GetNamedPipeServerProcessId(pipe, &serverPid))
        return false;
    Handle server(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, serverPid));
    if (!server)
        return false;
    const auto theirs = userSidOf(server.get());
    const auto ours = userSidOf(::GetCurrentProcess());
    return !ours.empty() && theirs == ours;
}

} // namespace calnet::app::instance
