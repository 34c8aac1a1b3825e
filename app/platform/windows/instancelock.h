// SingleInstance on Windows: the primary is whoever owns a named mutex in the session's
// "Local" namespace; it listens on a named pipe whose name carries the session id and the user's
// SID (pipes share one namespace machine-wide; a program run as another user shares the
// session). Windows releases the mutex when its owner exits or crashes (an
// abandoned mutex), so a crashed primary blocks nothing.
#pragma once

#include <QString>

class QLocalSocket;

namespace calnet::app::instance {

// "calnet-<session id>-<user SID>-<key>" (a QLocalServer name, the pipe \\.\pipe\<that>).
[[nodiscard]] QString channelFor(const QString& safeKey);

// Used on one thread: a Windows mutex is released only by the thread that took it.
class Lock {
public:
    enum class Outcome { Acquired, HeldElsewhere, Unavailable };
    Lock() = default;
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    // Creates (or opens) the mutex named after `channel` and takes it without waiting.
    Outcome acquire(const QString& channel);
    [[nodiscard]] bool held() const { return handle_ != nullptr; }
    // "Local\calnet-<session id>-<user SID>-<key>".
    [[nodiscard]] static QString nameFor(const QString& channel);

private:
    void* handle_ = nullptr; // HANDLE of the mutex, owned
};

// The server end of the connected pipe runs as this user (GetNamedPipeServerProcessId, then
// the token's user SID): another user could have created the pipe name first.
[[nodiscard]] bool peerIsSameUser(const QLocalSocket& socket);

} // namespace calnet::app::instance
