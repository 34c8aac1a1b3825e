// Registry: the rules of the control plane, each operation one write transaction on Storage.
//
// Registration (docs/protocol.md "POST /api/v1/register") decides which node a request is:
//   1. a valid `credential` -> that node (key rotation if nodeKey differs, else a refresh);
//   2. otherwise a valid pre-auth key and a known nodeKey -> that node again;
//   3. otherwise a valid pre-auth key -> a new node with the next never-used overlay index.
// A one-time key is consumed (UPDATE ... WHERE used = 0) in the same transaction that creates or
// updates the node, so of two racing registrations exactly one gets the node.
//
// Every operation that changes what peers see appends to `changes`; Storage signals changed()
// after the commit and MapHub pushes the deltas. Any error rolls the whole transaction back.
#pragma once

#include <functional>

#include "server/apierror.h"
#include "server/requests.h"
#include "server/storage.h"

namespace calnet::server {

struct ServerConfig;

struct Registration {
    NodeRecord node;
    QString credential; // shown once
    QJsonObject toJson(const ServerConfig& config) const;
};

class Registry {
public:
    Registry(Storage* storage, const ServerConfig* config);

    // By credential (renewal), by a verified identity from the OpenID provider (`identity`,
    // else null), or by pre-auth key, in that order.
    ApiError registerNode(const RegisterRequest& request, const Identity* identity, qint64 now,
                          Registration* out);

    ApiError createAuthKey(const CreateAuthKeyRequest& request, qint64 now, AuthKeyRecord* out,
                           QString* key);
    ApiError revokeAuthKey(const QString& id);
    ApiError deleteNode(qint64 id, qint64 now);
    // POST /api/v1/logout: the node whose credential this is deletes itself (*deleted: its id);
    // unauthorized when the credential names no node.
    ApiError logout(const QString& credential, qint64 now, qint64* deleted);
    ApiError expireNode(qint64 id, qint64 now);
    // Disabling a user expires its nodes (off the map and the relays) and refuses it any
    // registration until enabled again.
    ApiError setUserDisabled(qint64 id, bool disabled, qint64 now);

    // The map stream of a node opened (online), closed (offline unless another stream took
    // over) or reported new endpoints.
    ApiError streamOpened(qint64 nodeId, const QString& server, const QString& stream,
                          const NodeReport& report, const QString& seen, qint64 now);
    ApiError streamClosed(qint64 nodeId, const QString& stream, qint64 now);
    ApiError streamEndpoints(qint64 nodeId, const NodeReport& report, const QString& seen,
                             qint64 now);

    // Announces (as a change) every node key that has expired since the last sweep.
    ApiError sweepExpired(qint64 now);

    // Housekeeping, run by every server process every few seconds:
    // marks offline (a change each) the nodes whose map stream was held by a server process
    // whose heartbeat is older than `deadline` — it was killed or lost — then forgets those
    // servers. *candidates: how many online nodes such servers held when looked at;
    ApiError sweepDeadServers(qint64 deadline, qint64 now, qint64* candidates);
    // deletes the changes recorded before `before`; a stream resuming from before them gets a
    // full map instead (MapHub).
    ApiError pruneChanges(qint64 before);

private:
    // Whether a node's credential (with `identity` when the client signed in again) may
    // register it: not when its user is disabled; for a node of someone who signed in, only by
    // the same person, and without a fresh sign-in only until its key expires (*renew false:
    // the expiry stays). A node of a pre-auth key signed in with `identity` becomes that
    // person's (*asIdentity).
    ApiError checkOwner(const NodeRecord& node, const Identity* identity, qint64 now, bool* renew,
                        bool* asIdentity);
    static ApiError disabledError(const QString& user);
    // The node a valid credential names; *out empty when it names none (or is not one).
    ApiError nodeByCredential(const QString& credential, std::optional<NodeRecord>* out);
    // Inside write(): the node gone, its address in quarantine, the change announced.
    ApiError removeNode(qint64 id, qint64 now);
    // The node of this node key (created with an overlay address when new), given to the user.
    ApiError assignNode(const RegisterRequest& r, qint64 userId, const QString& user, qint64 now,
                        std::optional<NodeRecord>* node);
    ApiError write(const std::function<ApiError()>& body);
    // streamClosed's body, inside a write.
    ApiError markOffline(qint64 nodeId, const QString& stream, qint64 now);

    Storage* m_storage;
    const ServerConfig* m_config;
};

} // namespace calnet::server
