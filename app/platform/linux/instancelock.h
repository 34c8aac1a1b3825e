// SingleInstance on Linux: the primary is whoever holds an flock(2) on "<socket>.lock"; it
// listens on a Unix socket in $XDG_RUNTIME_DIR (or the temporary directory), named per user and
// key. The kernel drops the lock when its holder exits or crashes, so a crashed primary blocks
// nothing. The lock file stays in place on exit: unlinking it would let a launch that had
// already opened it lock an orphaned inode while a third creates and locks a new one.
#pragma once

#include <QString>

class QLocalSocket;

namespace calnet::app::instance {

// "$XDG_RUNTIME_DIR/calnet-<uid>-<key>.sock", or the same under QDir::tempPath() when
// XDG_RUNTIME_DIR is unset, relative or not a directory.
[[nodiscard]] QString channelFor(const QString& safeKey);

class Lock {
public:
    enum class Outcome { Acquired, HeldElsewhere, Unavailable };
    Lock() = default;
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    // Takes the lock that goes with `channel` without waiting. Unavailable: the lock file
    // cannot be opened, is not ours, or flock fails otherwise (the caller runs unguarded).
    Outcome acquire(const QString& channel);
    [[nodiscard]] bool held() const { return fd_ >= 0; }
    // The lock file ("<channel>.lock").
    [[nodiscard]] static QString nameFor(const QString& channel);

private:
    int fd_ = -1;
};

// The process at the other end of a connected socket runs as this user (SO_PEERCRED): under
// /tmp another user could have put a socket of theirs at our path.
[[nodiscard]] bool peerIsSameUser(const QLocalSocket& socket);

} // namespace calnet::app::instance
