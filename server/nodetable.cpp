#include "server/nodetable.h"

#include "helper/wire/mapnode.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlQuery>

#include "server/overlayprefixes.h"
#include "server/storage.h"

namespace calnet::server {

namespace {

const QString kNodeColumns =
    QStringLiteral("SELECT n.id, n.user_id, u.name, n.node_key, n.disco_key, n.hostname, n.os, "
                   "n.client_version, n.addr_index, n.credential_hash, n.key_expiry, n.endpoints, "
                   "n.seen_endpoint, n.online, n.stream, n.last_seen, n.created, n.home_relay "
                   "FROM nodes n "
                   "JOIN users u ON u.id = n.user_id ");

NodeRecord readNode(const QSqlQuery& q) {
    NodeRecord n;
    n.id = q.value(0).toLongLong();
    n.userId = q.value(1).toLongLong();
    n.user = q.value(2).toString();
    n.nodeKey = q.value(3).toString();
    n.discoKey = q.value(4).toString();
    n.hostname = q.value(5).toString();
    n.os = q.value(6).toString();
    n.clientVersion = q.value(7).toString();
    n.addrIndex = q.value(8).toLongLong();
    n.credentialHash = q.value(9).toString().toLatin1();
    n.keyExpiry = q.value(10).toLongLong();
    n.endpoints = Storage::jsonToList(q.value(11).toString());
    n.seenEndpoint = q.value(12).toString();
    n.online = q.value(13).toLongLong() != 0;
    n.stream = q.value(14).toString();
    n.lastSeen = q.value(15).toLongLong();
    n.created = q.value(16).toLongLong();
    n.homeRelay = q.value(17).toString();
    return n;
}

} // namespace

QJsonObject NodeRecord::toJson(const OverlayPrefixes& prefixes) const {
    QStringList eps = endpoints;
    if (!seenEndpoint.isEmpty() && !eps.contains(seenEndpoint)) {
        eps.append(seenEndpoint);
    }
    // The node object of docs/protocol.md, as calnetd reads it (one definition: core/wire).
    wire::MapNode n;
    n.id = id;
    n.nodeKey = nodeKey;
    n.discoKey = discoKey;
    n.hostname = hostname;
    n.os = os;
    n.user = user;
    n.addresses = prefixes.addresses(addrIndex);
    n.endpoints = eps;
    n.relay = homeRelay;
    n.online = online;
    n.lastSeen = lastSeen;
    n.keyExpiry = keyExpiry;
    return n.toJson();
}

ApiError NodeTable::get(qint64 id, std::optional<NodeRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kNodeColumns + QStringLiteral("WHERE n.id = ?"), {id})) {
        return m_s.failure(QStringLiteral("reading a node"));
    }
    *out = q.next() ? std::optional(readNode(q)) : std::nullopt;
    return {};
}

ApiError NodeTable::byKey(const QString& nodeKey, std::optional<NodeRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kNodeColumns + QStringLiteral("WHERE n.node_key = ?"), {nodeKey})) {
        return m_s.failure(QStringLiteral("reading a node"));
    }
    *out = q.next() ? std::optional(readNode(q)) : std::nullopt;
    return {};
}

ApiError NodeTable::all(QList<NodeRecord>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kNodeColumns + QStringLiteral("WHERE n.network = ? ORDER BY n.id"),
                  {Storage::kNetwork})) {
        return m_s.failure(QStringLiteral("listing nodes"));
    }
    out->clear();
    while (q.next()) {
        out->append(readNode(q));
    }
    return {};
}

ApiError NodeTable::byIds(const QSet<qint64>& ids, QHash<qint64, NodeRecord>* out) {
    out->clear();
    if (ids.isEmpty()) {
        return {};
    }
    QStringList marks;
    QVariantList args;
    for (qint64 id : ids) {
        marks.append(QStringLiteral("?"));
        args.append(id);
    }
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q, kNodeColumns + QStringLiteral("WHERE n.id IN (%1)").arg(marks.join(u',')),
                  args)) {
        return m_s.failure(QStringLiteral("reading nodes"));
    }
    while (q.next()) {
        const NodeRecord n = readNode(q);
        out->insert(n.id, n);
    }
    return {};
}

ApiError NodeTable::expiredUnannounced(qint64 now, QList<qint64>* ids) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q,
                  QStringLiteral("SELECT id FROM nodes WHERE expiry_announced = 0 AND "
                                 "key_expiry <= ? AND network = ?"),
                  {now, Storage::kNetwork})) {
        return m_s.failure(QStringLiteral("looking for expired nodes"));
    }
    ids->clear();
    while (q.next()) {
        ids->append(q.value(0).toLongLong());
    }
    return {};
}

ApiError NodeTable::orphanedStreams(qint64 deadline, QList<std::pair<qint64, QString>>* out) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(
            q,
            QStringLiteral("SELECT id, stream FROM nodes WHERE network = ? AND online = 1 AND "
                           "server NOT IN (SELECT id FROM servers WHERE heartbeat >= ?)"),
            {Storage::kNetwork, deadline})) {
        return m_s.failure(QStringLiteral("looking for streams of dead servers"));
    }
    out->clear();
    while (q.next()) {
        out->append({q.value(0).toLongLong(), q.value(1).toString()});
    }
    return {};
}

ApiError NodeTable::countOnline(qint64* count) {
    return m_s.scalar(QStringLiteral("counting nodes"),
                      QStringLiteral("SELECT COUNT(*) FROM nodes WHERE online = 1"), {}, count);
}

ApiError NodeTable::insert(NodeRecord* n) {
    QSqlQuery q = m_s.query();
    if (!m_s.exec(q,
                  QStringLiteral("INSERT INTO nodes (network, user_id, node_key, disco_key, "
                                 "hostname, os, client_version, addr_index, credential_hash, "
                                 "key_expiry, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                  {Storage::kNetwork, n->userId, n->nodeKey, n->discoKey, n->hostname, n->os,
                   n->clientVersion, n->addrIndex, QString::fromLatin1(n->credentialHash),
                   n->keyExpiry, n->created}) ||
        !m_s.exec(q, QStringLiteral("SELECT id FROM nodes WHERE node_key = ?"), {n->nodeKey}) ||
        !q.next()) {
        return m_s.failure(QStringLiteral("creating a node"));
    }
    n->id = q.value(0).toLongLong();
    return {};
}

ApiError NodeTable::updateRegistration(const NodeRecord& n) {
    return m_s.run(QStringLiteral("updating a node"),
                   QStringLiteral("UPDATE nodes SET user_id = ?, node_key = ?, disco_key = ?, "
                                  "hostname = ?, os = ?, client_version = ?, credential_hash = ?, "
                                  "key_expiry = ?, expiry_announced = 0 WHERE id = ?"),
                   {n.userId, n.nodeKey, n.discoKey, n.hostname, n.os, n.clientVersion,
                    QString::fromLatin1(n.credentialHash), n.keyExpiry, n.id});
}

ApiError NodeTable::setStream(qint64 id, const QString& server, const QString& stream,
                              const NodeReport& report, const QString& seen, qint64 now) {
    return m_s.run(
        QStringLiteral("updating a node"),
        QStringLiteral("UPDATE nodes SET server = ?, stream = ?, online = 1, endpoints = ?, "
                       "home_relay = ?, seen_endpoint = ?, last_seen = ? WHERE id = ?"),
        {server, stream, Storage::listToJson(report.endpoints), report.relay, seen, now, id});
}

ApiError NodeTable::clearStream(qint64 id, const QString& stream, qint64 now, bool* changed) {
    return m_s.run(QStringLiteral("updating a node"),
                   QStringLiteral("UPDATE nodes SET online = 0, stream = '', server = '', "
                                  "last_seen = ? WHERE id = ? AND stream = ?"),
                   {now, id, stream}, changed);
}

ApiError NodeTable::setEndpoints(qint64 id, const NodeReport& report, const QString& seen) {
    return m_s.run(
        QStringLiteral("updating a node"),
        QStringLiteral(
            "UPDATE nodes SET endpoints = ?, home_relay = ?, seen_endpoint = ? WHERE id = ?"),
        {Storage::listToJson(report.endpoints), report.relay, seen, id});
}

ApiError NodeTable::remove(qint64 id, bool* found, qint64* addrIndex) {
    std::optional<NodeRecord> node;
    if (ApiError e = get(id, &node)) {
        return e;
    }
    if (!node) {
        *found = false;
        return {};
    }
    if (addrIndex) {
        *addrIndex = node->addrIndex;
    }
    return m_s.run(QStringLiteral("deleting a node"),
                   QStringLiteral("DELETE FROM nodes WHERE id = ?"), {id}, found);
}

ApiError NodeTable::expire(qint64 id, qint64 now, bool* found) {
    return m_s.run(
        QStringLiteral("expiring a node"),
        QStringLiteral("UPDATE nodes SET key_expiry = ?, expiry_announced = 1 WHERE id = ?"),
        {now, id}, found);
}

ApiError NodeTable::markExpiryAnnounced(qint64 id, bool* won) {
    return m_s.run(QStringLiteral("expiring a node"),
                   QStringLiteral("UPDATE nodes SET expiry_announced = 1 WHERE id = ? AND "
                                  "expiry_announced = 0"),
                   {id}, won);
}

} // namespace calnet::server
