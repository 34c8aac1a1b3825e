#include "server/registry.h"

#include <QJsonArray>

#include "server/secrets.h"
#include "server/serverconfig.h"

namespace calnet::server {

namespace {

const QString kUpsert = QStringLiteral("upsert");

} // namespace

QJsonObject Registration::toJson(const ServerConfig& config) const {
    return QJsonObject{
        {QStringLiteral("nodeId"), node.id},
        {QStringLiteral("user"), node.user},
        {QStringLiteral("network"), QStringLiteral("default")},
        {QStringLiteral("addresses"),
         QJsonArray::fromStringList(config.prefixes.addresses(node.addrIndex))},
        {QStringLiteral("prefixes"), QJsonArray::fromStringList(config.prefixes.prefixes())},
        {QStringLiteral("credential"), credential},
        {QStringLiteral("keyExpiry"), node.keyExpiry},
    };
}

Registry::Registry(Storage* storage, const ServerConfig* config)
    : m_storage(storage), m_config(config) {}

ApiError Registry::write(const std::function<ApiError()>& body) {
    if (!m_storage->beginWrite()) {
        return ApiError::internal(QStringLiteral("database unavailable"));
    }
    if (ApiError e = body()) {
        m_storage->rollback();
        return e;
    }
    if (!m_storage->commit()) {
        return ApiError::internal(QStringLiteral("database commit failed"));
    }
    return {};
}

ApiError Registry::assignNode(const RegisterRequest& r, qint64 userId, const QString& user,
                              qint64 now, std::optional<NodeRecord>* node) {
    if (ApiError e = m_storage->nodes().byKey(r.nodeKey, node)) {
        return e;
    }
    if (!*node) {
        // The identity first: the credential embeds the node id the insert assigns, so
        // everything else is written by the update that follows, as for a known node.
        NodeRecord fresh;
        if (ApiError e = m_storage->addresses().allocate(m_config->prefixes.capacity(), now,
                                                         m_config->addressQuarantineSeconds,
                                                         &fresh.addrIndex)) {
            return e;
        }
        fresh.nodeKey = r.nodeKey;
        fresh.created = now;
        fresh.credentialHash = "pending";
        fresh.userId = userId;
        if (ApiError e = m_storage->nodes().insert(&fresh)) {
            return e;
        }
        *node = fresh;
    }
    (*node)->userId = userId;
    (*node)->user = user;
    return {};
}

ApiError Registry::nodeByCredential(const QString& credential, std::optional<NodeRecord>* out) {
    out->reset();
    const std::optional<qint64> id = secrets::credentialNodeId(credential);
    if (!id) {
        return {};
    }
    std::optional<NodeRecord> candidate;
    if (ApiError e = m_storage->nodes().get(*id, &candidate)) {
        return e;
    }
    if (candidate && secrets::verifySecret(credential, candidate->credentialHash)) {
        *out = std::move(candidate);
    }
    return {};
}

ApiError Registry::logout(const QString& credential, qint64 now, qint64* deleted) {
    return write([&]() -> ApiError {
        std::optional<NodeRecord> node;
        if (ApiError e = nodeByCredential(credential, &node)) {
            return e;
        }
        if (!node) {
            return ApiError::unauthorized(QStringLiteral("invalid node credential"));
        }
        *deleted = node->id;
        return removeNode(node->id, now);
    });
}

ApiError Registry::checkOwner(const NodeRecord& node, const Identity* identity, qint64 now,
                              bool* renew, bool* asIdentity) {
    std::optional<UserRecord> owner;
    if (ApiError e = m_storage->users().get(node.userId, &owner)) {
        return e;
    }
    if (!owner) {
        return {};
    }
    if (owner->disabled) {
        return disabledError(owner->name);
    }
    if (owner->issuer.isEmpty()) {
        // A node of a pre-auth key: its credential renews it; a sign-in makes it the signed-in
        // person's (*asIdentity: registered as a sign-in without a credential would be).
        *asIdentity = identity != nullptr;
        return {};
    }
    // A node of someone who signed in: its credential keeps it on the network until its key
    // expires; staying longer wants a fresh sign-in by the same person.
    if (identity) {
        if (identity->issuer != owner->issuer || identity->subject != owner->subject) {
            return ApiError::forbidden(
                QStringLiteral("This device belongs to %1. Sign out on it first to join as "
                               "someone else.")
                    .arg(owner->name));
        }
        UserRecord refreshed; // email and name as the provider says them now
        return m_storage->users().ensureIdentityUser(*identity, now, &refreshed);
    }
    if (node.keyExpiry <= now) {
        return ApiError::expired(
            QStringLiteral("The device's key has expired. Sign in again to stay connected."));
    }
    *renew = false;
    return {};
}

ApiError Registry::disabledError(const QString& user) {
    return ApiError::forbidden(
        QStringLiteral("The account %1 is disabled on this network.").arg(user));
}

ApiError Registry::setUserDisabled(qint64 id, bool disabled, qint64 now) {
    return write([&]() -> ApiError {
        bool found = false;
        if (ApiError e = m_storage->users().setDisabled(id, disabled, &found)) {
            return e;
        }
        if (!found) {
            return ApiError::notFound(QStringLiteral("no such user"));
        }
        if (!disabled) {
            return {}; // its nodes come back when they register again
        }
        // Off the map and the relays now, as `nodes expire` does for one node.
        QList<NodeRecord> nodes;
        if (ApiError e = m_storage->nodes().all(&nodes)) {
            return e;
        }
        for (const NodeRecord& n : std::as_const(nodes)) {
            if (n.userId != id || n.keyExpiry <= now) {
                continue;
            }
            bool expired = false;
            if (ApiError e = m_storage->nodes().expire(n.id, now, &expired)) {
                return e;
            }
            if (ApiError e = m_storage->changes().append(n.id, QStringLiteral("expire"), now)) {
                return e;
            }
        }
        return {};
    });
}

ApiError Registry::registerNode(const RegisterRequest& r, const Identity* identity, qint64 now,
                                Registration* out) {
    return write([&]() -> ApiError {
        std::optional<NodeRecord> node;
        // 1. A valid credential names the node.
        if (!r.credential.isEmpty()) {
            if (ApiError e = nodeByCredential(r.credential, &node)) {
                return e;
            }
            if (!node && r.authKey.isEmpty() && !identity) {
                return ApiError::unauthorized(QStringLiteral("invalid node credential"));
            }
        }
        bool renew = true; // the node key's expiry starts again
        bool asIdentity = false;
        if (node) {
            if (ApiError e = checkOwner(*node, identity, now, &renew, &asIdentity)) {
                return e;
            }
        }
        if (asIdentity) {
            node.reset(); // the sign-in path below finds it by its key and makes it theirs
        }
        if (node) {
            if (r.nodeKey != node->nodeKey) { // key rotation
                std::optional<NodeRecord> other;
                if (ApiError e = m_storage->nodes().byKey(r.nodeKey, &other)) {
                    return e;
                }
                if (other) {
                    return ApiError::conflict(
                        QStringLiteral("this node key is registered to another node"));
                }
            }
        } else if (identity) {
            // 2. A verified identity from the OpenID provider: its user, created on first
            // sign-in.
            UserRecord user;
            if (ApiError e = m_storage->users().ensureIdentityUser(*identity, now, &user)) {
                return e;
            }
            if (user.disabled) {
                return disabledError(user.name);
            }
            if (ApiError e = assignNode(r, user.id, user.name, now, &node)) {
                return e;
            }
        } else {
            // 3. A pre-auth key.
            const std::optional<QString> keyId = secrets::authKeyId(r.authKey);
            std::optional<AuthKeyRecord> key;
            if (keyId) {
                if (ApiError e = m_storage->keys().authKey(*keyId, &key)) {
                    return e;
                }
            }
            if (!key || !secrets::verifySecret(r.authKey, key->hash)) {
                return ApiError::unauthorized(QStringLiteral("invalid pre-auth key"));
            }
            if (key->revoked) {
                return ApiError::forbidden(QStringLiteral("this pre-auth key was revoked"));
            }
            if (key->expires != 0 && key->expires <= now) {
                return ApiError::expired(QStringLiteral("this pre-auth key has expired"));
            }
            std::optional<UserRecord> owner;
            if (ApiError e = m_storage->users().get(key->userId, &owner)) {
                return e;
            }
            if (owner && owner->disabled) {
                return disabledError(owner->name);
            }
            bool won = false;
            if (ApiError e = m_storage->keys().consumeAuthKey(key->id, key->reusable, &won)) {
                return e;
            }
            if (!won) {
                return ApiError::forbidden(
                    key->reusable
                        ? QStringLiteral("this pre-auth key has been used %1 times, its limit")
                              .arg(key->maxUses)
                        : QStringLiteral("this one-time pre-auth key was used"));
            }
            if (ApiError e = assignNode(r, key->userId, key->user, now, &node)) {
                return e;
            }
        }
        const QString credential = secrets::makeCredential(node->id);
        node->nodeKey = r.nodeKey;
        node->discoKey = r.discoKey;
        node->hostname = r.hostname;
        node->os = r.os;
        node->clientVersion = r.clientVersion;
        node->credentialHash = secrets::hashSecret(credential);
        if (renew) {
            node->keyExpiry = now + m_config->keyExpirySeconds;
        }
        if (ApiError e = m_storage->nodes().updateRegistration(*node)) {
            return e;
        }
        if (ApiError e = m_storage->changes().append(node->id, kUpsert, now)) {
            return e;
        }
        std::optional<NodeRecord> stored;
        if (ApiError e = m_storage->nodes().get(node->id, &stored); e || !stored) {
            return e ? e : ApiError::internal(QStringLiteral("node vanished"));
        }
        out->node = *stored;
        out->credential = credential;
        return {};
    });
}

ApiError Registry::createAuthKey(const CreateAuthKeyRequest& r, qint64 now, AuthKeyRecord* out,
                                 QString* key) {
    return write([&]() -> ApiError {
        AuthKeyRecord k;
        if (ApiError e = m_storage->users().ensureUser(r.user, now, &k.userId)) {
            return e;
        }
        k.id = secrets::randomKeyId();
        const QString full = secrets::makeAuthKey(k.id);
        k.hash = secrets::hashSecret(full);
        k.user = r.user;
        k.reusable = r.reusable;
        k.tags = r.tags;
        k.maxUses = r.maxUses;
        k.created = now;
        k.expires = now + r.expiresIn;
        if (ApiError e = m_storage->keys().insertAuthKey(k)) {
            return e;
        }
        *out = k;
        *key = full;
        return {};
    });
}

ApiError Registry::revokeAuthKey(const QString& id) {
    return write([&]() -> ApiError {
        bool found = false;
        if (ApiError e = m_storage->keys().revokeAuthKey(id, &found)) {
            return e;
        }
        return found ? ApiError{} : ApiError::notFound(QStringLiteral("no such pre-auth key"));
    });
}

ApiError Registry::deleteNode(qint64 id, qint64 now) {
    return write([&]() -> ApiError { return removeNode(id, now); });
}

ApiError Registry::removeNode(qint64 id, qint64 now) {
    bool found = false;
    qint64 index = 0;
    if (ApiError e = m_storage->nodes().remove(id, &found, &index)) {
        return e;
    }
    if (!found) {
        return ApiError::notFound(QStringLiteral("no such node"));
    }
    // Its address is not given to another node before the quarantine has passed.
    if (ApiError e = m_storage->addresses().release(index, now)) {
        return e;
    }
    return m_storage->changes().append(id, QStringLiteral("remove"), now);
}

ApiError Registry::expireNode(qint64 id, qint64 now) {
    return write([&]() -> ApiError {
        bool found = false;
        if (ApiError e = m_storage->nodes().expire(id, now, &found)) {
            return e;
        }
        if (!found) {
            return ApiError::notFound(QStringLiteral("no such node"));
        }
        return m_storage->changes().append(id, QStringLiteral("expire"), now);
    });
}

ApiError Registry::streamOpened(qint64 nodeId, const QString& server, const QString& stream,
                                const NodeReport& report, const QString& seen, qint64 now) {
    return write([&]() -> ApiError {
        if (ApiError e = m_storage->nodes().setStream(nodeId, server, stream, report, seen, now)) {
            return e;
        }
        return m_storage->changes().append(nodeId, kUpsert, now);
    });
}

ApiError Registry::markOffline(qint64 nodeId, const QString& stream, qint64 now) {
    bool changed = false;
    if (ApiError e = m_storage->nodes().clearStream(nodeId, stream, now, &changed)) {
        return e;
    }
    return changed ? m_storage->changes().append(nodeId, kUpsert, now) : ApiError{};
}

ApiError Registry::streamClosed(qint64 nodeId, const QString& stream, qint64 now) {
    return write([&] { return markOffline(nodeId, stream, now); });
}

ApiError Registry::streamEndpoints(qint64 nodeId, const NodeReport& report, const QString& seen,
                                   qint64 now) {
    return write([&]() -> ApiError {
        std::optional<NodeRecord> node;
        if (ApiError e = m_storage->nodes().get(nodeId, &node)) {
            return e;
        }
        if (!node || (node->endpoints == report.endpoints && node->homeRelay == report.relay &&
                      node->seenEndpoint == seen)) {
            return {};
        }
        if (ApiError e = m_storage->nodes().setEndpoints(nodeId, report, seen)) {
            return e;
        }
        return m_storage->changes().append(nodeId, kUpsert, now);
    });
}

ApiError Registry::sweepExpired(qint64 now) {
    QList<qint64> ids;
    if (ApiError e = m_storage->nodes().expiredUnannounced(now, &ids)) { // cheap check, no lock
        return e;
    }
    if (ids.isEmpty()) {
        return {};
    }
    return write([&]() -> ApiError {
        for (qint64 id : ids) {
            bool won = false; // another server may have announced it meanwhile
            if (ApiError e = m_storage->nodes().markExpiryAnnounced(id, &won)) {
                return e;
            }
            if (won) {
                if (ApiError e = m_storage->changes().append(id, QStringLiteral("expire"), now)) {
                    return e;
                }
            }
        }
        return {};
    });
}

ApiError Registry::sweepDeadServers(qint64 deadline, qint64 now, qint64* candidates) {
    QList<std::pair<qint64, QString>> orphans;
    if (ApiError e =
            m_storage->nodes().orphanedStreams(deadline, &orphans)) { // cheap check, no lock
        return e;
    }
    *candidates = qint64(orphans.size());
    // A node that reconnected meanwhile has a new stream token: markOffline leaves it online.
    const auto markAll = [&]() -> ApiError {
        for (const auto& [id, stream] : orphans) {
            if (ApiError e = markOffline(id, stream, now)) {
                return e;
            }
        }
        return {};
    };
    if (ApiError e = orphans.isEmpty() ? ApiError{} : write(markAll)) {
        return e;
    }
    return m_storage->servers().removeDead(deadline);
}

ApiError Registry::pruneChanges(qint64 before) {
    qint64 through = 0;
    if (ApiError e =
            m_storage->changes().prunableThrough(before, &through)) { // cheap check, no lock
        return e;
    }
    qint64 seq = 0;
    qint64 pruned = 0;
    if (ApiError e = m_storage->changes().currentSeq(&seq, &pruned)) {
        return e;
    }
    if (through <= pruned) {
        return {};
    }
    return write([&] { return m_storage->changes().prune(through); });
}

} // namespace calnet::server
