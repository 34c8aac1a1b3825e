// AccountVerbs: the IPC verbs of signing in and out of a Calnet network, kept out of Service.
//
//   server.info  what a coordination server offers for joining ({"auth": ["authkey", "oidc"],
//                "oidc": {"issuer", "clientId"}}), fetched by calnetd so that the app and the
//                CLI never talk to the server themselves; they sign in at the provider and hand
//                the ID token to `up`.
//   logout       takes a mesh profile's node down and forgets it here (its keys and credential),
//                first deleting the node on the server when asked (`deleteNode`).
//
// Both answer later, through a deferred reply.
#pragma once

#include <QJsonObject>
#include <QObject>

#include <functional>
#include <optional>

#include "helper/ipc/protocol.h"
#include "helper/service/controlclient.h"
#include "helper/service/ipcserver.h"

namespace calnet::helper {

class ConnectionController;
class ProfileStore;

class AccountVerbs : public QObject {
    Q_OBJECT
public:
    AccountVerbs(ConnectionController& controller, ProfileStore& store, IpcServer& server,
                 ControlClient::Options control, QObject* parent = nullptr);

    // The reply to one of its verbs ({} when deferred), or nullopt when the method is not one.
    std::optional<QJsonObject> handle(const ipc::Request& request);

private:
    QJsonObject serverInfo(qint64 id, const ipc::ServerInfoParams& params);
    QJsonObject logout(qint64 id, const ipc::LogoutParams& params);
    // Disconnects `name` when it is the profile up (or on its way), then runs `then`.
    void takeDown(const QString& name, const IpcServer::DeferredReply& to, qint64 id,
                  std::function<void()> then);
    void forget(const QString& name, const IpcServer::DeferredReply& to, qint64 id,
                const QJsonObject& result);

    ConnectionController& controller_;
    ProfileStore& store_;
    IpcServer& server_;
    ControlClient::Options control_;
};

} // namespace calnet::helper
