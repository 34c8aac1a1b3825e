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

} // namespace

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

QStringList Storage::jsonToList(const QString& text) {
    QStringList out;
    const QJsonArray a = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const QJsonValue& v : a) {
        out.append(v.toString());
    }
    return out;
}

QString Storage::listToJson(const QStringList& list) {
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}

QSqlQuery Storage::query() const {
    return QSqlQuery(m_db);
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

ApiError Storage::countRows(const QString& table, qint64* count) {
    static const QStringList allowed = {
        QStringLiteral("nodes"),         QStringLiteral("users"),
        QStringLiteral("authkeys"),      QStringLiteral("changes"),
        QStringLiteral("servers"),       QStringLiteral("schema_version"),
        QStringLiteral("free_addresses")};
    if (!allowed.contains(table)) {
        return ApiError::internal(QStringLiteral("unknown table"));
    }
    return scalar(QStringLiteral("counting rows"), QStringLiteral("SELECT COUNT(*) FROM ") + table,
                  {}, count);
}

} // namespace calnet::server
