#include "server/storage.h"

#include <atomic>

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QTimer>

#include "server/overlayprefixes.h"

Q_LOGGING_CATEGORY(lcStorage, "calnet.server.storage")

namespace calnet::server {

namespace {

std::atomic<int> g_connectionCounter{0};

// PostgreSQL: the connection itself is gone (SQLSTATE class 08, the server shutting down or
// terminating this backend, 57P01-57P03), or libpq failed before the server answered (no
// SQLSTATE at all).
bool isConnectionFailure(const QSqlError& e) {
    const QString state = e.nativeErrorCode();
    return state.isEmpty() || state.startsWith(QStringLiteral("08")) ||
           state == QStringLiteral("57P01") || state == QStringLiteral("57P02") ||
           state == QStringLiteral("57P03");
}

const QString kNodeColumns =
    QStringLiteral("SELECT n.id, n.user_id, u.name, n.node_key, n.disco_key, n.hostname, n.os, "
                   "n.client_version, n.addr_index, n.credential_hash, n.key_expiry, n.endpoints, "
                   "n.seen_endpoint, n.online, n.stream, n.last_seen, n.created FROM nodes n "
                   "JOIN users u ON u.id = n.user_id ");

const QString kAuthKeyColumns = QStringLiteral(
    "SELECT k.id, k.hash, k.user_id, u.name, k.reusable, k.tags, k.created, k.expires, k.used, "
    "k.revoked FROM authkeys k JOIN users u ON u.id = k.user_id ");

QStringList jsonToList(const QString& text) {
    QStringList out;
    const QJsonArray a = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const QJsonValue& v : a) {
        out.append(v.toString());
    }
    return out;
}

QString listToJson(const QStringList& list) {
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}

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
    n.endpoints = jsonToList(q.value(11).toString());
    n.seenEndpoint = q.value(12).toString();
    n.online = q.value(13).toLongLong() != 0;
    n.stream = q.value(14).toString();
    n.lastSeen = q.value(15).toLongLong();
    n.created = q.value(16).toLongLong();
    return n;
}

AuthKeyRecord readAuthKey(const QSqlQuery& q) {
    AuthKeyRecord k;
    k.id = q.value(0).toString();
    k.hash = q.value(1).toString().toLatin1();
    k.userId = q.value(2).toLongLong();
    k.user = q.value(3).toString();
    k.reusable = q.value(4).toLongLong() != 0;
    k.tags = jsonToList(q.value(5).toString());
    k.created = q.value(6).toLongLong();
    k.expires = q.value(7).toLongLong();
    k.used = q.value(8).toLongLong() != 0;
    k.revoked = q.value(9).toLongLong() != 0;
    return k;
}

} // namespace

QJsonObject NodeRecord::toJson(const OverlayPrefixes& prefixes) const {
    QStringList eps = endpoints;
    if (!seenEndpoint.isEmpty() && !eps.contains(seenEndpoint)) {
        eps.append(seenEndpoint);
    }
    return QJsonObject{
        {QStringLiteral("id"), id},
        {QStringLiteral("nodeKey"), nodeKey},
        {QStringLiteral("discoKey"), discoKey},
        {QStringLiteral("hostname"), hostname},
        {QStringLiteral("os"), os},
        {QStringLiteral("user"), user},
        {QStringLiteral("addresses"), QJsonArray::fromStringList(prefixes.addresses(addrIndex))},
        {QStringLiteral("endpoints"), QJsonArray::fromStringList(eps)},
        {QStringLiteral("online"), online},
        {QStringLiteral("lastSeen"), lastSeen},
        {QStringLiteral("keyExpiry"), keyExpiry},
    };
}

QJsonObject AuthKeyRecord::toJson() const {
    return QJsonObject{
        {QStringLiteral("id"), id},
        {QStringLiteral("user"), user},
        {QStringLiteral("reusable"), reusable},
        {QStringLiteral("tags"), QJsonArray::fromStringList(tags)},
        {QStringLiteral("createdAt"), created},
        {QStringLiteral("expiresAt"), expires == 0 ? QJsonValue() : QJsonValue(expires)},
        {QStringLiteral("used"), used},
        {QStringLiteral("revoked"), revoked},
    };
}

Storage::Storage(QObject* parent)
    : QObject(parent),
      m_connection(QStringLiteral("calnet-storage-%1").arg(++g_connectionCounter)) {}

Storage::~Storage() {
    if (m_db.isValid()) {
        if (m_inTransaction) {
            rollback();
        }
        m_db.close();
        m_db = QSqlDatabase();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool Storage::open(const QString& spec, QString* error) {
    if (spec.startsWith(QStringLiteral("sqlite:"))) {
        m_dialect = Dialect::Sqlite;
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        m_db.setDatabaseName(spec.mid(7));
        m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=15000"));
    } else if (spec.startsWith(QStringLiteral("postgres:"))) {
        m_dialect = Dialect::Postgres;
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_connection);
        // QPSQL appends the connect options to its libpq conninfo string as they are. The
        // application name tells an administrator (pg_stat_activity) which process is which;
        // the connect timeout bounds how long a reconnect to an unreachable host blocks the
        // event loop (libpq waits for ever by default).
        QString conninfo = spec.mid(9);
        if (!conninfo.contains(QStringLiteral("application_name"))) {
            conninfo += QStringLiteral(" application_name=calnet-server/%1")
                            .arg(QCoreApplication::applicationPid());
        }
        if (!conninfo.contains(QStringLiteral("connect_timeout"))) {
            conninfo += QStringLiteral(" connect_timeout=5");
        }
        m_db.setConnectOptions(conninfo);
    } else {
        *error = QStringLiteral("--db must be sqlite:PATH or postgres:CONNINFO");
        return false;
    }
    if (!m_db.isValid()) {
        *error =
            QStringLiteral("no Qt SQL driver for %1").arg(spec.section(QLatin1Char(':'), 0, 0));
        return false;
    }
    if (!m_db.open()) {
        *error = QStringLiteral("cannot open database: %1").arg(m_db.lastError().text());
        return false;
    }
    QSqlQuery q(m_db);
    if (m_dialect == Dialect::Sqlite) {
        // Switching to WAL needs a moment alone with the file and ignores the busy timeout,
        // so a second server starting at the same instant retries (for up to 5 s).
        bool wal = false;
        for (int attempt = 0; attempt < 100 && !wal; ++attempt) {
            wal = q.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
            if (!wal) {
                q.finish();
                QThread::msleep(50);
            }
        }
        if (!wal) {
            *error = QStringLiteral("cannot switch the database to WAL mode: %1")
                         .arg(q.lastError().text());
            return false;
        }
        for (const char* pragma : {"PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
            if (!exec(q, QString::fromLatin1(pragma))) {
                *error = m_lastError;
                return false;
            }
        }
    } else {
        connect(m_db.driver(), &QSqlDriver::notification, this,
                [this](const QString& name, QSqlDriver::NotificationSource source,
                       const QVariant&) { onNotification(name, int(source)); });
        if (!startSession(error)) {
            return false;
        }
    }
    return migrate(error);
}

bool Storage::startSession(QString* error) {
    QSqlQuery q(m_db);
    if (!exec(q, QStringLiteral("SET client_min_messages TO warning"))) {
        *error = m_lastError;
        return false;
    }
    QSqlDriver* driver = m_db.driver();
    if (!driver->subscribeToNotification(QString::fromLatin1(kChannel))) {
        *error = QStringLiteral("LISTEN %1 failed: %2")
                     .arg(QString::fromLatin1(kChannel), driver->lastError().text());
        return false;
    }
    return true;
}

bool Storage::reconnect() {
    if (m_lastReconnect.isValid() && m_lastReconnect.elapsed() < kReconnectIntervalMs) {
        return false;
    }
    m_lastReconnect.start();
    m_db.close(); // also forgets the LISTEN
    QString error;
    if (!m_db.open()) {
        qCWarning(lcStorage).noquote()
            << "database connection lost; reconnecting failed:" << m_db.lastError().text();
        return false;
    }
    m_connectionLost = false;
    if (!startSession(&error)) {
        qCWarning(lcStorage).noquote() << "database reconnected, but:" << error;
        m_connectionLost = true;
        return false;
    }
    qCWarning(lcStorage) << "database connection lost and re-established";
    // Notifications sent while we were away are gone: look at the changes once.
    QTimer::singleShot(0, this, &Storage::changed);
    return true;
}

void Storage::onNotification(const QString& name, int source) {
    // Our own NOTIFY comes back too; commit() already signalled those.
    if (name == QLatin1String(kChannel) && source != int(QSqlDriver::SelfSource)) {
        emit changed();
    }
}

bool Storage::exec(QSqlQuery& q, const QString& sql, const QVariantList& args) {
    // A lost connection is replaced between transactions only: inside one, every statement
    // fails until the caller rolls back.
    if (m_connectionLost && !m_inTransaction) {
        if (!reconnect()) {
            m_lastError = QStringLiteral("no database connection");
            return false;
        }
        q = QSqlQuery(m_db);
    }
    bool ok = false;
    if (args.isEmpty()) {
        ok = q.exec(sql);
    } else {
        ok = q.prepare(sql);
        if (ok) {
            for (const QVariant& a : args) {
                // A null QString would bind as SQL NULL; our columns are NOT NULL ''.
                const bool nullString = a.typeId() == QMetaType::QString && a.toString().isNull();
                q.addBindValue(nullString ? QVariant(QStringLiteral("")) : a);
            }
            ok = q.exec();
        }
    }
    if (!ok) {
        m_lastError = QStringLiteral("%1 (in: %2)").arg(q.lastError().text(), sql.left(120));
        qCWarning(lcStorage).noquote() << "SQL error:" << m_lastError;
        if (m_dialect == Dialect::Postgres &&
            (!m_db.isOpen() || isConnectionFailure(q.lastError()))) {
            m_connectionLost = true;
        }
    }
    return ok;
}

ApiError Storage::failure(const QString& what) const {
    return ApiError::internal(QStringLiteral("database error while %1").arg(what));
}

ApiError Storage::run(const QString& what, const QString& sql, const QVariantList& args,
                      bool* affected) {
    QSqlQuery q(m_db);
    if (!exec(q, sql, args)) {
        return failure(what);
    }
    if (affected) {
        *affected = q.numRowsAffected() == 1;
    }
    return {};
}

ApiError Storage::scalar(const QString& what, const QString& sql, const QVariantList& args,
                         qint64* out) {
    QSqlQuery q(m_db);
    if (!exec(q, sql, args) || !q.next()) {
        return failure(what);
    }
    *out = q.value(0).toLongLong();
    return {};
}

bool Storage::migrate(QString* error) {
    const QList<Migration> list = migrations(m_dialect);
    QSqlQuery q(m_db);
    const bool pg = m_dialect == Dialect::Postgres;
    if (!exec(q, pg ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE"))) {
        *error = m_lastError;
        return false;
    }
    auto fail = [&] {
        *error = QStringLiteral("migration failed: ") + m_lastError;
        q.finish();
        exec(q, QStringLiteral("ROLLBACK"));
        return false;
    };
    // Two servers starting at once on one PostgreSQL database: the second waits here.
    if (pg && !exec(q, QStringLiteral("SELECT pg_advisory_xact_lock(7307846)"))) {
        return fail();
    }
    if (!exec(q, QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER "
                                "PRIMARY KEY, applied BIGINT NOT NULL)")) ||
        !exec(q, QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_version")) ||
        !q.next()) {
        return fail();
    }
    const int current = q.value(0).toInt();
    q.finish();
    if (current > list.size()) {
        m_lastError = QStringLiteral("database schema version %1 is newer than this server (%2)")
                          .arg(current)
                          .arg(list.size());
        return fail();
    }
    for (const Migration& m : list) {
        if (m.version <= current) {
            continue;
        }
        for (const QString& statement : m.statements) {
            if (!exec(q, statement)) {
                return fail();
            }
        }
        if (!exec(q, QStringLiteral("INSERT INTO schema_version (version, applied) VALUES (?, ?)"),
                  {m.version, QDateTime::currentSecsSinceEpoch()})) {
            return fail();
        }
        qCInfo(lcStorage) << "applied schema migration" << m.version;
    }
    q.finish();
    if (!exec(q, QStringLiteral("COMMIT"))) {
        return fail();
    }
    return true;
}

ApiError Storage::schemaVersion(int* version) {
    qint64 v = 0;
    ApiError e =
        scalar(QStringLiteral("reading the schema version"),
               QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_version"), {}, &v);
    *version = int(v);
    return e;
}

bool Storage::beginWrite() {
    QSqlQuery q(m_db);
    if (m_dialect == Dialect::Sqlite) {
        if (!exec(q, QStringLiteral("BEGIN IMMEDIATE"))) {
            return false;
        }
    } else {
        if (!exec(q, QStringLiteral("BEGIN"))) {
            return false;
        }
        if (!exec(q, QStringLiteral("SELECT id FROM networks WHERE id = ? FOR UPDATE"),
                  {kNetwork})) {
            q.finish();
            exec(q, QStringLiteral("ROLLBACK"));
            return false;
        }
    }
    m_inTransaction = true;
    m_txAppended = false;
    return true;
}

bool Storage::commit() {
    QSqlQuery q(m_db);
    const bool appended = m_txAppended;
    // NOTIFY inside the transaction: PostgreSQL delivers it only if the commit succeeds.
    if (appended && m_dialect == Dialect::Postgres &&
        !exec(q, QStringLiteral("NOTIFY ") + QString::fromLatin1(kChannel))) {
        rollback();
        return false;
    }
    if (!exec(q, QStringLiteral("COMMIT"))) {
        rollback();
        return false;
    }
    m_inTransaction = false;
    m_txAppended = false;
    if (appended) {
        emit changed();
    }
    return true;
}

void Storage::rollback() {
    QSqlQuery q(m_db);
    exec(q, QStringLiteral("ROLLBACK"));
    m_inTransaction = false;
    m_txAppended = false;
}

ApiError Storage::node(qint64 id, std::optional<NodeRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q, kNodeColumns + QStringLiteral("WHERE n.id = ?"), {id})) {
        return failure(QStringLiteral("reading a node"));
    }
    *out = q.next() ? std::optional(readNode(q)) : std::nullopt;
    return {};
}

ApiError Storage::nodeByKey(const QString& nodeKey, std::optional<NodeRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q, kNodeColumns + QStringLiteral("WHERE n.node_key = ?"), {nodeKey})) {
        return failure(QStringLiteral("reading a node"));
    }
    *out = q.next() ? std::optional(readNode(q)) : std::nullopt;
    return {};
}

ApiError Storage::nodes(QList<NodeRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q, kNodeColumns + QStringLiteral("WHERE n.network = ? ORDER BY n.id"), {kNetwork})) {
        return failure(QStringLiteral("listing nodes"));
    }
    out->clear();
    while (q.next()) {
        out->append(readNode(q));
    }
    return {};
}

ApiError Storage::nodesByIds(const QSet<qint64>& ids, QHash<qint64, NodeRecord>* out) {
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
    QSqlQuery q(m_db);
    if (!exec(q, kNodeColumns + QStringLiteral("WHERE n.id IN (%1)").arg(marks.join(u',')), args)) {
        return failure(QStringLiteral("reading nodes"));
    }
    while (q.next()) {
        const NodeRecord n = readNode(q);
        out->insert(n.id, n);
    }
    return {};
}

ApiError Storage::authKey(const QString& id, std::optional<AuthKeyRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q, kAuthKeyColumns + QStringLiteral("WHERE k.id = ?"), {id})) {
        return failure(QStringLiteral("reading a pre-auth key"));
    }
    *out = q.next() ? std::optional(readAuthKey(q)) : std::nullopt;
    return {};
}

ApiError Storage::authKeys(QList<AuthKeyRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q, kAuthKeyColumns + QStringLiteral("ORDER BY k.created, k.id"))) {
        return failure(QStringLiteral("listing pre-auth keys"));
    }
    out->clear();
    while (q.next()) {
        out->append(readAuthKey(q));
    }
    return {};
}

ApiError Storage::users(QList<UserRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q,
              QStringLiteral("SELECT u.id, u.name, u.created, (SELECT COUNT(*) FROM nodes n "
                             "WHERE n.user_id = u.id) FROM users u WHERE u.network = ? "
                             "ORDER BY u.id"),
              {kNetwork})) {
        return failure(QStringLiteral("listing users"));
    }
    out->clear();
    while (q.next()) {
        out->append({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toLongLong(),
                     q.value(3).toLongLong()});
    }
    return {};
}

ApiError Storage::currentSeq(qint64* seq, qint64* pruned) {
    QSqlQuery q(m_db);
    if (!exec(q, QStringLiteral("SELECT last_seq, pruned_seq FROM networks WHERE id = ?"),
              {kNetwork}) ||
        !q.next()) {
        return failure(QStringLiteral("reading the change sequence"));
    }
    *seq = q.value(0).toLongLong();
    if (pruned) {
        *pruned = q.value(1).toLongLong();
    }
    return {};
}

ApiError Storage::changesAfter(qint64 seq, QList<ChangeRecord>* out) {
    QSqlQuery q(m_db);
    if (!exec(q,
              QStringLiteral("SELECT seq, node_id, kind FROM changes WHERE network = ? AND "
                             "seq > ? ORDER BY seq"),
              {kNetwork, seq})) {
        return failure(QStringLiteral("reading changes"));
    }
    out->clear();
    while (q.next()) {
        out->append({q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toString()});
    }
    return {};
}

ApiError Storage::expiredUnannounced(qint64 now, QList<qint64>* ids) {
    QSqlQuery q(m_db);
    if (!exec(q,
              QStringLiteral("SELECT id FROM nodes WHERE expiry_announced = 0 AND "
                             "key_expiry <= ? AND network = ?"),
              {now, kNetwork})) {
        return failure(QStringLiteral("looking for expired nodes"));
    }
    ids->clear();
    while (q.next()) {
        ids->append(q.value(0).toLongLong());
    }
    return {};
}

ApiError Storage::orphanedStreams(qint64 deadline, QList<std::pair<qint64, QString>>* out) {
    QSqlQuery q(m_db);
    if (!exec(q,
              QStringLiteral("SELECT id, stream FROM nodes WHERE network = ? AND online = 1 AND "
                             "server NOT IN (SELECT id FROM servers WHERE heartbeat >= ?)"),
              {kNetwork, deadline})) {
        return failure(QStringLiteral("looking for streams of dead servers"));
    }
    out->clear();
    while (q.next()) {
        out->append({q.value(0).toLongLong(), q.value(1).toString()});
    }
    return {};
}

ApiError Storage::prunableThrough(qint64 before, qint64* seq) {
    return scalar(
        QStringLiteral("looking for old changes"),
        QStringLiteral("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE network = ? AND at < ?"),
        {kNetwork, before}, seq);
}

ApiError Storage::countRows(const QString& table, qint64* count) {
    static const QStringList allowed = {
        QStringLiteral("nodes"),   QStringLiteral("users"),   QStringLiteral("authkeys"),
        QStringLiteral("changes"), QStringLiteral("servers"), QStringLiteral("schema_version")};
    if (!allowed.contains(table)) {
        return ApiError::internal(QStringLiteral("unknown table"));
    }
    return scalar(QStringLiteral("counting rows"), QStringLiteral("SELECT COUNT(*) FROM ") + table,
                  {}, count);
}

ApiError Storage::countOnline(qint64* count) {
    return scalar(QStringLiteral("counting nodes"),
                  QStringLiteral("SELECT COUNT(*) FROM nodes WHERE online = 1"), {}, count);
}

ApiError Storage::ensureUser(const QString& name, qint64 now, qint64* id) {
    QSqlQuery q(m_db);
    if (!exec(q, QStringLiteral("SELECT id FROM users WHERE network = ? AND name = ?"),
              {kNetwork, name})) {
        return failure(QStringLiteral("reading a user"));
    }
    if (q.next()) {
        *id = q.value(0).toLongLong();
        return {};
    }
    q.finish();
    if (!exec(q, QStringLiteral("INSERT INTO users (network, name, created) VALUES (?, ?, ?)"),
              {kNetwork, name, now}) ||
        !exec(q, QStringLiteral("SELECT id FROM users WHERE network = ? AND name = ?"),
              {kNetwork, name}) ||
        !q.next()) {
        return failure(QStringLiteral("creating a user"));
    }
    *id = q.value(0).toLongLong();
    return {};
}

ApiError Storage::insertAuthKey(const AuthKeyRecord& k) {
    QSqlQuery q(m_db);
    if (!exec(q,
              QStringLiteral("INSERT INTO authkeys (id, hash, user_id, reusable, tags, "
                             "created, expires, used, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, "
                             "0, 0)"),
              {k.id, QString::fromLatin1(k.hash), k.userId, int(k.reusable), listToJson(k.tags),
               k.created, k.expires})) {
        return failure(QStringLiteral("storing a pre-auth key"));
    }
    return {};
}

ApiError Storage::consumeAuthKey(const QString& id, bool reusable, bool* won) {
    return run(QStringLiteral("using a pre-auth key"),
               reusable
                   ? QStringLiteral("UPDATE authkeys SET used = 1 WHERE id = ? AND revoked = 0")
                   : QStringLiteral("UPDATE authkeys SET used = 1 WHERE id = ? AND used = 0 "
                                    "AND revoked = 0"),
               {id}, won);
}

ApiError Storage::revokeAuthKey(const QString& id, bool* found) {
    return run(QStringLiteral("revoking a pre-auth key"),
               QStringLiteral("UPDATE authkeys SET revoked = 1 WHERE id = ?"), {id}, found);
}

ApiError Storage::allocateIndex(qint64 capacity, qint64* index) {
    // The networks row is locked by beginWrite(), so no other writer sees the same value;
    // UNIQUE (network, addr_index) would still refuse a duplicate.
    QSqlQuery q(m_db);
    if (!exec(q, QStringLiteral("SELECT next_index FROM networks WHERE id = ?"), {kNetwork}) ||
        !q.next()) {
        return failure(QStringLiteral("allocating an address"));
    }
    const qint64 next = q.value(0).toLongLong();
    q.finish();
    if (next > capacity) {
        return ApiError::exhausted(QStringLiteral("no overlay address left in this network"));
    }
    if (!exec(q, QStringLiteral("UPDATE networks SET next_index = ? WHERE id = ?"),
              {next + 1, kNetwork})) {
        return failure(QStringLiteral("allocating an address"));
    }
    *index = next;
    return {};
}

ApiError Storage::insertNode(NodeRecord* n) {
    QSqlQuery q(m_db);
    if (!exec(q,
              QStringLiteral("INSERT INTO nodes (network, user_id, node_key, disco_key, "
                             "hostname, os, client_version, addr_index, credential_hash, "
                             "key_expiry, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
              {kNetwork, n->userId, n->nodeKey, n->discoKey, n->hostname, n->os, n->clientVersion,
               n->addrIndex, QString::fromLatin1(n->credentialHash), n->keyExpiry, n->created}) ||
        !exec(q, QStringLiteral("SELECT id FROM nodes WHERE node_key = ?"), {n->nodeKey}) ||
        !q.next()) {
        return failure(QStringLiteral("creating a node"));
    }
    n->id = q.value(0).toLongLong();
    return {};
}

ApiError Storage::updateRegistration(const NodeRecord& n) {
    return run(QStringLiteral("updating a node"),
               QStringLiteral("UPDATE nodes SET user_id = ?, node_key = ?, disco_key = ?, "
                              "hostname = ?, os = ?, client_version = ?, credential_hash = ?, "
                              "key_expiry = ?, expiry_announced = 0 WHERE id = ?"),
               {n.userId, n.nodeKey, n.discoKey, n.hostname, n.os, n.clientVersion,
                QString::fromLatin1(n.credentialHash), n.keyExpiry, n.id});
}

ApiError Storage::setStream(qint64 id, const QString& server, const QString& stream,
                            const QStringList& endpoints, const QString& seen, qint64 now) {
    return run(QStringLiteral("updating a node"),
               QStringLiteral("UPDATE nodes SET server = ?, stream = ?, online = 1, endpoints = ?, "
                              "seen_endpoint = ?, last_seen = ? WHERE id = ?"),
               {server, stream, listToJson(endpoints), seen, now, id});
}

ApiError Storage::clearStream(qint64 id, const QString& stream, qint64 now, bool* changed) {
    return run(QStringLiteral("updating a node"),
               QStringLiteral("UPDATE nodes SET online = 0, stream = '', server = '', "
                              "last_seen = ? WHERE id = ? AND stream = ?"),
               {now, id, stream}, changed);
}

ApiError Storage::setEndpoints(qint64 id, const QStringList& endpoints, const QString& seen) {
    return run(QStringLiteral("updating a node"),
               QStringLiteral("UPDATE nodes SET endpoints = ?, seen_endpoint = ? WHERE id = ?"),
               {listToJson(endpoints), seen, id});
}

ApiError Storage::deleteNode(qint64 id, bool* found) {
    return run(QStringLiteral("deleting a node"), QStringLiteral("DELETE FROM nodes WHERE id = ?"),
               {id}, found);
}

ApiError Storage::expireNode(qint64 id, qint64 now, bool* found) {
    return run(QStringLiteral("expiring a node"),
               QStringLiteral("UPDATE nodes SET key_expiry = ?, expiry_announced = 1 WHERE id = ?"),
               {now, id}, found);
}

ApiError Storage::markExpiryAnnounced(qint64 id, bool* won) {
    return run(QStringLiteral("expiring a node"),
               QStringLiteral("UPDATE nodes SET expiry_announced = 1 WHERE id = ? AND "
                              "expiry_announced = 0"),
               {id}, won);
}

ApiError Storage::appendChange(qint64 nodeId, const QString& kind, qint64 now, qint64* seq) {
    QSqlQuery q(m_db);
    if (!exec(q, QStringLiteral("UPDATE networks SET last_seq = last_seq + 1 WHERE id = ?"),
              {kNetwork}) ||
        !exec(q, QStringLiteral("SELECT last_seq FROM networks WHERE id = ?"), {kNetwork}) ||
        !q.next()) {
        return failure(QStringLiteral("recording a change"));
    }
    const qint64 s = q.value(0).toLongLong();
    q.finish();
    if (!exec(q,
              QStringLiteral("INSERT INTO changes (network, seq, node_id, kind, at) VALUES "
                             "(?, ?, ?, ?, ?)"),
              {kNetwork, s, nodeId, kind, now})) {
        return failure(QStringLiteral("recording a change"));
    }
    m_txAppended = true;
    if (seq) {
        *seq = s;
    }
    return {};
}

ApiError Storage::pruneChanges(qint64 through) {
    const QString what = QStringLiteral("pruning changes");
    if (ApiError e = run(what, QStringLiteral("DELETE FROM changes WHERE network = ? AND seq <= ?"),
                         {kNetwork, through})) {
        return e;
    }
    return run(what,
               QStringLiteral("UPDATE networks SET pruned_seq = ? WHERE id = ? AND pruned_seq < ?"),
               {through, kNetwork, through});
}

ApiError Storage::heartbeat(const QString& server, qint64 now, bool* known) {
    if (ApiError e = run(QStringLiteral("renewing the heartbeat"),
                         QStringLiteral("UPDATE servers SET heartbeat = ? WHERE id = ?"),
                         {now, server}, known)) {
        return e;
    }
    return *known ? ApiError{}
                  : run(QStringLiteral("registering this server"),
                        QStringLiteral("INSERT INTO servers (id, started, heartbeat) VALUES "
                                       "(?, ?, ?)"),
                        {server, now, now});
}

ApiError Storage::removeServer(const QString& server) {
    return run(QStringLiteral("removing this server"),
               QStringLiteral("DELETE FROM servers WHERE id = ?"), {server});
}

ApiError Storage::removeDeadServers(qint64 deadline) {
    return run(QStringLiteral("removing dead servers"),
               QStringLiteral("DELETE FROM servers WHERE heartbeat < ?"), {deadline});
}

} // namespace calnet::server
