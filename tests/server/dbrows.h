// Data-driven backend rows: every storage/API test runs once on SQLite and once on a real
// PostgreSQL (pgfixture.h); the PostgreSQL row is skipped with a reason when it cannot run.
#pragma once

#include <memory>

#include <QTemporaryDir>
#include <QTest>

#include "pgfixture.h"
#include "skip.h"

class DbRows {
public:
    static void addRows() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }

    // A new, empty database for one test; empty string when the backend is unavailable.
    QString fresh(const QString& backend) {
        if (backend == QStringLiteral("sqlite")) {
            m_dirs.push_back(std::make_unique<QTemporaryDir>());
            return QStringLiteral("sqlite:") + m_dirs.back()->filePath(QStringLiteral("db.sqlite"));
        }
        if (!m_pg.start()) {
            return {};
        }
        return m_pg.createDatabase();
    }

    QString skipReason() const { return m_pg.skipReason(); }
    bool broken() const { return m_pg.broken(); }
    PgFixture& pg() { return m_pg; }

private:
    PgFixture m_pg;
    std::vector<std::unique_ptr<QTemporaryDir>> m_dirs;
};

// PostgreSQL cannot be used: a failure when it is installed but would not start, else a skip
// (which CI turns into a failure too, tests/skip.h).
#define CALNET_PG_UNAVAILABLE(rows)                                                                \
    do {                                                                                           \
        if ((rows).broken())                                                                       \
            QFAIL(qPrintable((rows).skipReason()));                                                \
        CALNET_ENVIRONMENT_SKIP((rows).skipReason().toUtf8());                                     \
    } while (false)

// In a test function with a "backend" column: declares `spec` or skips the row.
#define CALNET_FRESH_DB(rows, spec)                                                                \
    QFETCH(QString, backend);                                                                      \
    const QString spec = (rows).fresh(backend);                                                    \
    if (spec.isEmpty())                                                                            \
        CALNET_PG_UNAVAILABLE(rows);
