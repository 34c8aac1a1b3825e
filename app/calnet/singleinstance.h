// One Calnet per user session. The first launch becomes the primary and listens on a local
// socket (a Unix socket; on Windows a named pipe); a second launch hands its command line to the
// primary (which raises its window) and exits.
//
// Who is primary is decided by an OS lock (app/platform/instancelock.h: an flock(2)ed file on
// Linux, a named mutex on Windows), not by the socket: a QLocalServer with socket options binds
// in a temporary directory and rename(2)s the socket into place, which silently replaces a live
// primary's socket, and on Windows any number of servers may open instances of one pipe name,
// so "listen failed" cannot detect a race. The lock goes with its holder, also when it crashes;
// the holder removes any stale socket before listening.
//
// Wire format (same user only: the socket or pipe admits this user alone, and the sender checks
// who answers): the second launch sends one frame, a 4-byte big-endian length followed by a
// UTF-8 JSON array of strings; the primary answers "ok\n" once it has accepted the message, then
// closes.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include "app/platform/instancelock.h"

class QLocalServer;
class QLocalSocket;

namespace calnet::app {

class SingleInstance : public QObject {
    Q_OBJECT

public:
    // `key` names the instance group ("calnet"); characters outside [A-Za-z0-9._-] are dropped.
    explicit SingleInstance(const QString& key, QObject* parent = nullptr);
    ~SingleInstance() override;

    // Tries to become the primary. True: this process is the primary and is listening (or, if
    // the runtime directory is unusable, runs unguarded). False: another instance is primary.
    bool listen();
    [[nodiscard]] bool isPrimary() const { return lock_.held(); }

    // From a secondary: delivers `arguments` to the primary and waits for its acknowledgement,
    // at most `timeoutMs` in all. Blocking; meant for before the event loop runs. Retries the
    // connection while the primary is still between taking the lock and listening.
    bool sendToPrimary(const QStringList& arguments, int timeoutMs);

    // Where the primary listens (instance::channelFor) and the name of its lock.
    [[nodiscard]] QString socketPath() const { return socketPath_; }
    [[nodiscard]] QString lockName() const { return instance::Lock::nameFor(socketPath_); }

    // Largest accepted message; a launch's command line is far smaller.
    static constexpr int kMaxMessageBytes = 64 * 1024;

signals:
    // In the primary: a second launch's arguments (argv without the program name is up to the
    // sender; Calnet sends all of argv).
    void messageReceived(const QStringList& arguments);

private:
    void onNewConnection();
    void onReadyRead(QLocalSocket* socket);

    QString socketPath_;
    instance::Lock lock_;
    QLocalServer* server_ = nullptr;
};

} // namespace calnet::app
