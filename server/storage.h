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
// Every write method of the tables returns an ApiError (internal on a database failure, logged
// with the SQL error) and is only valid inside a write transaction; Registry (registry.h) holds
// the rules.
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

#include <memory>
#include <optional>

#include <QElapsedTimer>
#include <QObject>
#include <QSqlDatabase>
#include <QStringList>
#include <QVariantList>

#include "server/addresspool.h"
#include "server/apierror.h"
#include "server/changelog.h"
#include "server/keytable.h"
#include "server/migrations.h"
#include "server/nodetable.h"
#include "server/servertable.h"
#include "server/usertable.h"

class QSqlQuery;

namespace calnet::server {

// The tables, each a class of its own over this connection: NodeTable (nodes), UserTable
// (users), KeyTable (pre-auth keys), ChangeLog (changes), AddressPool (overlay indexes and their
// quarantine), ServerTable (server processes). Storage itself is the connection, the migrations and
// the write transaction.
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

    NodeTable& nodes() { return m_nodes; }
    KeyTable& keys() { return m_keys; }
    UserTable& users() { return m_users; }
    ChangeLog& changes() { return m_changes; }
    AddressPool& addresses() { return m_addresses; }
    ServerTable& servers() { return m_servers; }

    ApiError countRows(const QString& table, qint64* count); // tests and metrics

    // For the table classes: a query on this connection, one statement (reconnecting first
    // if the connection was lost), the error of a failed one, and the shorthands below.
    QSqlQuery query() const;
    bool exec(QSqlQuery& q, const QString& sql, const QVariantList& args = {});
    ApiError failure(const QString& what) const;
    // One statement; failure(what) if it fails. *affected: whether it changed exactly one row.
    ApiError run(const QString& what, const QString& sql, const QVariantList& args,
                 bool* affected = nullptr);
    // One statement whose first row's first column is an integer.
    ApiError scalar(const QString& what, const QString& sql, const QVariantList& args, qint64* out);
    // The open transaction appended a change: commit() signals changed() (and NOTIFYs).
    void noteChangeAppended() { m_txAppended = true; }

    // JSON text columns holding a list of strings.
    static QStringList jsonToList(const QString& text);
    static QString listToJson(const QStringList& list);

signals:
    void changed();

private:
    // PostgreSQL: client_min_messages and LISTEN, on every (re)connect.
    bool startSession(QString* error);
    // After a statement failed because the connection was lost: a new connection, at most once
    // a second; then changed() so that streams catch up on notifications missed meanwhile.
    bool reconnect();
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
    NodeTable m_nodes{*this};
    KeyTable m_keys{*this};
    UserTable m_users{*this};
    ChangeLog m_changes{*this};
    AddressPool m_addresses{*this};
    ServerTable m_servers{*this};
};

} // namespace calnet::server
