// MeshDiagnostics: the IPC verbs that look at how this node reaches its Calnet network, kept out
// of Service: `netcheck` (what `calnetctl netcheck` shows: UDP, the public address STUN sees,
// whether the NAT's mapping depends on the destination, the relays and their latency) and `ping`
// (disco pings to one peer, one round a second, reporting each pong and the path it came over,
// until one comes directly or the rounds are used up; the reply is deferred).
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <memory>
#include <optional>

#include "core/crypto/x25519.h"
#include "helper/ipc/protocol.h"
#include "helper/service/ipcserver.h"

namespace calnet::helper {

class ConnectionController;

class MeshDiagnostics : public QObject {
    Q_OBJECT
public:
    MeshDiagnostics(const ConnectionController& controller, IpcServer& server,
                    QObject* parent = nullptr);
    ~MeshDiagnostics() override;

    // The reply to one of its verbs ({} when deferred), or nullopt when the method is not one.
    std::optional<QJsonObject> handle(const ipc::Request& request);

private:
    struct PingRun;
    QJsonObject netcheck(qint64 id);
    QJsonObject ping(qint64 id, const QJsonObject& params);
    void pingRound();
    void finishPing();

    const ConnectionController& controller_;
    IpcServer& server_;
    std::unique_ptr<PingRun> ping_;
    QTimer pingTimer_;
};

} // namespace calnet::helper
