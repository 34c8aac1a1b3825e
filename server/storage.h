// Storage: the server's tables over QSqlDatabase, on SQLite (QSQLITE) or PostgreSQL (QPSQL).
//
// One Storage is one database connection, used only by the thread that opened it. open() applies
// the migrations (migrations.h) under a lock (BEGIN IMMEDIATE / pg_advisory_xact_lock), so
// several servers starting on one database migrate it exactly once.
//
// Writes happen between beginWrite() and commit()/rollback(). beginWrite() takes the network's
// write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE on the networks row),
// so writers are serialised: a change number is only handed out after every earlier change is
// committed, and a map stream that has seen seq N can never miss a change numbered below N.
//
// Every write method returns an ApiError (internal on a database failure, logged with the SQL
// error) and is only valid inside a write transaction; Registry (registry.h) holds the rules.
//
// Signals: changed() after a committed transaction appended changes; on PostgreSQL also when
// another connection sent NOTIFY calnet_changes (another server process on the same database),
// and after a lost connection was re-established (LISTEN again, notifications missed).
//
// PostgreSQL connection loss (server restart, pg_terminate_backend, network): the failing
// statement returns an error; the next statement outside a transaction reconnects first (at
// most once a second), so the server recovers without a restart. SQLite has no connection to
// lose.
#pragma once

#include <optional>
#include <utility>

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSet>
#include <QSqlDatabase>
#include <QStringList>
#include <QVariantList>

#include "server/apierror.h"
#include "server/migrations.h"

class QSqlQuery;

namespace calnet::server {

class OverlayPrefixes;

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
    bool online = false;
    QString stream; // token of the map stream that set online
    qint64 lastSeen = 0;
    qint64 created = 0;

    // The contract's node object (docs/protocol.md "A node object").
    QJsonObject toJson(const OverlayPrefixes& prefixes) const;
};

struct AuthKeyRecord {
    QString id;
    QByteArray hash;
    qint64 userId = 0;
    QString user;
    bool reusable = false;
    QStringList tags;
    qint64 created = 0;
    qint64 expires = 0; // 0 = never
    bool used = false;
    bool revoked = false;

    QJsonObject toJson() const; // never the key or its hash
};

struct UserRecord {
    qint64 id = 0;
    QString name;
    qint64 created = 0;
    qint64 nodes = 0;
};

struct ChangeRecord {
    qint64 seq = 0;
    qint64 nodeId = 0;
    QString kind; // "upsert", "remove", "expire"
};

class Storage : public QObject {
    Q_OBJECT
public:
    static constexpr qint64 kNetwork = 1; // the "default" network
    static constexpr const char* kChannel = "calnet_changes";

    explicit Storage(QObject* parent = nullptr);
    ~Storage() override;

    // spec: "sqlite:PATH" or "postgres:CONNINFO". Opens, migrates, and on PostgreSQL LISTENs.
    bool open(const QString& spec, QString* error);
    ApiError schemaVersion(int* version);

    bool beginWrite();
    bool commit();
    void rollback();

    // Reads.
    ApiError node(qint64 id, std::optional<NodeRecord>* out);
    ApiError nodeByKey(const QString& nodeKey, std::optional<NodeRecord>* out);
    ApiError nodes(QList<NodeRecord>* out);
    ApiError nodesByIds(const QSet<qint64>& ids, QHash<qint64, NodeRecord>* out);
    ApiError authKey(const QString& id, std::optional<AuthKeyRecord>* out);
    ApiError authKeys(QList<AuthKeyRecord>* out);
    ApiError users(QList<UserRecord>* out);
    // The last change number; *pruned: changes up to this number are gone (see pruneChanges).
    ApiError currentSeq(qint64* seq, qint64* pruned = nullptr);
    ApiError changesAfter(qint64 seq, QList<ChangeRecord>* out);
    ApiError expiredUnannounced(qint64 now, QList<qint64>* ids);
    // (node id, stream) of online nodes whose server's heartbeat is older than `deadline`, or
    // whose server row is gone.
    ApiError orphanedStreams(qint64 deadline, QList<std::pair<qint64, QString>>* out);
    // The highest change number recorded before `before` (0 when there is none).
    ApiError prunableThrough(qint64 before, qint64* seq);
    ApiError countRows(const QString& table, qint64* count); // tests and metrics
    ApiError countOnline(qint64* count);

    // Writes (inside beginWrite()/commit()).
    ApiError ensureUser(const QString& name, qint64 now, qint64* id);
    ApiError insertAuthKey(const AuthKeyRecord& key);
    // One-time keys: UPDATE ... WHERE used = 0 AND revoked = 0; *won says whether this call
    // consumed it. Reusable keys are only marked used.
    ApiError consumeAuthKey(const QString& id, bool reusable, bool* won);
    ApiError revokeAuthKey(const QString& id, bool* found);
    ApiError allocateIndex(qint64 capacity, qint64* index); // exhausted when none is left
    ApiError insertNode(NodeRecord* node);                  // sets node->id
    ApiError updateRegistration(const NodeRecord& node);    // keys, names, credential, expiry
    // Marks a node online, held by `stream` of the server process `server`.
    ApiError setStream(qint64 id, const QString& server, const QString& stream,
                       const QStringList& endpoints, const QString& seen, qint64 now);
    // Marks a node offline if `stream` still owns it; *changed says whether it did.
    ApiError clearStream(qint64 id, const QString& stream, qint64 now, bool* changed);
    ApiError setEndpoints(qint64 id, const QStringList& endpoints, const QString& seen);
    ApiError deleteNode(qint64 id, bool* found);
    ApiError expireNode(qint64 id, qint64 now, bool* found);
    ApiError markExpiryAnnounced(qint64 id, bool* won);
    ApiError appendChange(qint64 nodeId, const QString& kind, qint64 now, qint64* seq = nullptr);
    // Deletes the changes numbered up to `through` and records it as networks.pruned_seq.
    ApiError pruneChanges(qint64 through);

    // The servers table: single statements, outside the network's write lock. heartbeat()
    // renews this process's row or inserts it (*known = false then: new, or removed by another
    // server that took this one for dead).
    ApiError heartbeat(const QString& server, qint64 now, bool* known);
    ApiError removeServer(const QString& server);
    // Rows whose heartbeat is older than `deadline`.
    ApiError removeDeadServers(qint64 deadline);

signals:
    void changed();

private:
    bool exec(QSqlQuery& q, const QString& sql, const QVariantList& args = {});
    // PostgreSQL: client_min_messages and LISTEN, on every (re)connect.
    bool startSession(QString* error);
    // After a statement failed because the connection was lost: a new connection, at most once
    // a second; then changed() so that streams catch up on notifications missed meanwhile.
    bool reconnect();
    ApiError failure(const QString& what) const;
    // One statement; failure(what) if it fails. *affected: whether it changed exactly one row.
    ApiError run(const QString& what, const QString& sql, const QVariantList& args,
                 bool* affected = nullptr);
    // One statement whose first row's first column is an integer.
    ApiError scalar(const QString& what, const QString& sql, const QVariantList& args, qint64* out);
    bool migrate(QString* error);
    void onNotification(const QString& name, int source);

    QString m_connection;
    QSqlDatabase m_db;
    Dialect m_dialect = Dialect::Sqlite;
    bool m_inTransaction = false;
    bool m_txAppended = false; // the open transaction appended a change
    bool m_connectionLost = false;
    QElapsedTimer m_lastReconnect;
    static constexpr int kReconnectIntervalMs = 1000;
    QString m_lastError;
};

} // namespace calnet::server
