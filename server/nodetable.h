// NodeTable: the nodes table (one row per device) over Storage's connection. Reads work
// anywhere; writes only inside Storage::beginWrite()/commit() (Registry holds the rules).
#pragma once

#include <optional>
#include <utility>

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QStringList>

#include "server/apierror.h"

namespace calnet::server {

class OverlayPrefixes;
class Storage;

// What a node reports about itself on its map stream: where it may be reached directly, and its
// home relay.
struct NodeReport {
    QStringList endpoints;
    QString relay;

    friend bool operator==(const NodeReport&, const NodeReport&) = default;
};

struct NodeRecord {
    qint64 id = 0;
    qint64 userId = 0;
    QString user;
    QString nodeKey;
    QString discoKey;
    QString hostname;
    QString os;
    QString clientVersion;
    qint64 addrIndex = 0;
    QByteArray credentialHash; // hex BLAKE2b-256 of the current credential
    qint64 keyExpiry = 0;
    QStringList endpoints; // as reported by the node
    QString seenEndpoint;  // address the map stream came from, with the reported port
    QString homeRelay;     // the relay region the node receives on ("" = not reported)
    bool online = false;
    QString stream; // token of the map stream that set online
    qint64 lastSeen = 0;
    qint64 created = 0;

    // The contract's node object (docs/protocol.md "A node object").
    QJsonObject toJson(const OverlayPrefixes& prefixes) const;
};

class NodeTable {
public:
    explicit NodeTable(Storage& storage) : m_s(storage) {}

    ApiError get(qint64 id, std::optional<NodeRecord>* out);
    ApiError byKey(const QString& nodeKey, std::optional<NodeRecord>* out);
    ApiError all(QList<NodeRecord>* out);
    ApiError byIds(const QSet<qint64>& ids, QHash<qint64, NodeRecord>* out);
    ApiError expiredUnannounced(qint64 now, QList<qint64>* ids);
    // (node id, stream) of online nodes whose server's heartbeat is older than `deadline`, or
    // whose server row is gone.
    ApiError orphanedStreams(qint64 deadline, QList<std::pair<qint64, QString>>* out);
    ApiError countOnline(qint64* count);

    // Writes.
    ApiError insert(NodeRecord* node);                   // sets node->id
    ApiError updateRegistration(const NodeRecord& node); // keys, names, credential, expiry
    // Marks a node online, held by `stream` of the server process `server`.
    ApiError setStream(qint64 id, const QString& server, const QString& stream,
                       const NodeReport& report, const QString& seen, qint64 now);
    // Marks a node offline if `stream` still owns it; *changed says whether it did.
    ApiError clearStream(qint64 id, const QString& stream, qint64 now, bool* changed);
    ApiError setEndpoints(qint64 id, const NodeReport& report, const QString& seen);
    // Deletes a node; *addrIndex (if found) is the overlay address index it held.
    ApiError remove(qint64 id, bool* found, qint64* addrIndex = nullptr);
    ApiError expire(qint64 id, qint64 now, bool* found);
    ApiError markExpiryAnnounced(qint64 id, bool* won);

private:
    Storage& m_s;
};

} // namespace calnet::server
