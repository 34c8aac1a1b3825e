// Schema migrations: an ordered list per SQL dialect. Migration N (1-based) takes the schema
// from version N-1 to N; `schema_version` holds the versions applied. Never edit a shipped
// migration: append a new one, to both lists, with the same number.
//
// Dialect differences are kept to types: SQLite INTEGER/TEXT vs PostgreSQL BIGINT/TEXT.
// Booleans are integers 0/1 and hashes hex TEXT in both, so the queries are identical.
#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace calnet::server {

enum class Dialect { Sqlite, Postgres };

struct Migration {
    int version;
    QStringList statements;
};

QList<Migration> migrations(Dialect dialect);

} // namespace calnet::server
