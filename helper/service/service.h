// Service: calnetd --service. Keeps the tunnel profiles, connects one at a time (interface,
// keys, peers, addresses, routes, DNS), serves the IPC verbs of docs/ipc.md, and pushes state
// and peer statistics to subscribers.
//
// Connection state (Status.state), with its transitions:
//   disconnected  -> connecting     connect
//   connecting    -> connected      interface up, network configured
//   connecting    -> error          any step failed; everything done so far is rolled back
//   connected     -> disconnecting  disconnect, SIGTERM
//   disconnecting -> disconnected   routes, rules and DNS restored, interface removed
//   error         -> connecting     connect again
//
// Runs on the Qt event loop of the helper's main thread; the data path of a connected profile
// runs on the Tunnel's own threads.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>
#include <optional>

#include "core/config/wgquick.h"
#include "helper/service/accesspolicy.h"
#include "helper/service/ipcserver.h"
#include "helper/service/profilestore.h"

namespace calnet::helper {

class Tunnel;
class Connection;

class Service : public QObject {
    Q_OBJECT

public:
    enum class State { Disconnected, Connecting, Connected, Disconnecting, Error };
    [[nodiscard]] static QLatin1StringView toString(State state);

    struct Options {
        QString socketPath = QString(ipc::kDefaultSocketPath);
        QString stateDir = QString::fromLatin1(kDefaultStateDir);
        QString interfaceName = QStringLiteral("calnet0");
        std::optional<uid_t> operatorUid;
    };

    explicit Service(Options options, QObject* parent = nullptr);
    ~Service() override;

    // Rolls back what a crashed helper left, opens the store, listens, and reconnects the
    // profile that was connected when the helper last stopped.
    bool start(QString* error);
    // Disconnects (keeping the intent, so the next start reconnects) and closes the socket.
    void shutdown();

    [[nodiscard]] QJsonObject statusJson() const;
    [[nodiscard]] QJsonObject peersJson() const;

private:
    QJsonObject handle(const ipc::Request& request, ipc::Role role);
    QJsonObject connectProfile(qint64 id, const std::optional<QString>& requested);
    bool disconnectProfile(bool keepIntent, QString* error);
    void setState(State state, const QString& error = {});
    void publishPeers();

    Options options_;
    ProfileStore store_;
    IpcServer server_;
    std::unique_ptr<Connection> connection_;
    State state_ = State::Disconnected;
    QString error_;
    QTimer statsTimer_;
    QJsonObject lastPeers_;
};

} // namespace calnet::helper
