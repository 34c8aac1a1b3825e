// PgFixture: a throwaway PostgreSQL cluster for one test executable.
//
// start() (as root only; postgres refuses to run as root, so everything runs as the `postgres`
// system user through `runuser -u postgres --`):
//   mkdtemp /tmp/calnet-pg-XXXXXX (chowned to postgres) -> initdb -A trust -> postgresql.conf:
//   listen_addresses = '' (no TCP at all), unix socket in the temp dir, a random port (it only
//   names the socket file), fsync off -> pg_ctl start -w.
// createDatabase() makes a fresh database per test and returns the server's --db spec.
// The destructor (or stop()) runs pg_ctl stop -m immediate and removes the directory. A
// detached guard shell does the same if this process dies without running the destructor.
//
// When not root or without initdb, start() returns false and skipReason() says why; the tests
// skip their PostgreSQL rows with it (CALNET_ENVIRONMENT_SKIP, tests/skip.h).
#pragma once

#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QString>
#include <QStringList>

#include <pwd.h>
#include <sys/types.h>

class PgFixture {
public:
    PgFixture() = default;
    PgFixture(const PgFixture&) = delete;
    PgFixture& operator=(const PgFixture&) = delete;
    ~PgFixture() { stop(); }

    bool start() {
        if (m_started) {
            return true;
        }
        if (!m_skipReason.isEmpty()) {
            return false;
        }
        if (::geteuid() != 0) {
            m_skipReason = QStringLiteral("PostgreSQL tests need root (to run initdb as the "
                                          "postgres user); CI runs them as root");
            return false;
        }
        const QStringList versions = QDir(QStringLiteral("/usr/lib/postgresql"))
                                         .entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        for (const QString& v : versions) {
            const QString bin = QStringLiteral("/usr/lib/postgresql/%1/bin").arg(v);
            if (QFile::exists(bin + QStringLiteral("/initdb"))) {
                m_bin = bin;
            }
        }
        const passwd* pw = ::getpwnam("postgres");
        if (m_bin.isEmpty() || pw == nullptr) {
            m_skipReason = QStringLiteral("PostgreSQL server binaries (initdb) or the postgres "
                                          "user are missing");
            return false;
        }
        QByteArray tmpl = QByteArrayLiteral("/tmp/calnet-pg-XXXXXX");
        if (::mkdtemp(tmpl.data()) == nullptr) {
            m_broken = true; // the machine has PostgreSQL: failing to start it is a failure
            m_skipReason = QStringLiteral("mkdtemp failed");
            return false;
        }
        m_dir = QString::fromLatin1(tmpl);
        if (::chown(tmpl.constData(), pw->pw_uid, pw->pw_gid) != 0) {
            m_broken = true; // the machine has PostgreSQL: failing to start it is a failure
            m_skipReason = QStringLiteral("chown of the cluster directory failed");
            removeDir();
            return false;
        }
        m_port = 20000 + int(QRandomGenerator::global()->bounded(40000));
        startGuard();
        const QString data = m_dir + QStringLiteral("/data");
        QString output;
        if (!runAsPostgres(m_bin + QStringLiteral("/initdb"),
                           {QStringLiteral("-D"), data, QStringLiteral("-A"),
                            QStringLiteral("trust"), QStringLiteral("-U"),
                            QStringLiteral("postgres"), QStringLiteral("-E"),
                            QStringLiteral("UTF8"), QStringLiteral("--no-sync")},
                           &output)) {
            m_broken = true; // the machine has PostgreSQL: failing to start it is a failure
            m_skipReason = QStringLiteral("initdb failed: ") + output;
            removeDir();
            return false;
        }
        QFile conf(data + QStringLiteral("/postgresql.conf"));
        if (!conf.open(QIODevice::Append)) {
            m_broken = true; // the machine has PostgreSQL: failing to start it is a failure
            m_skipReason = QStringLiteral("cannot write postgresql.conf");
            removeDir();
            return false;
        }
        conf.write(QStringLiteral("\nlisten_addresses = ''\nunix_socket_directories = '%1'\n"
                                  "port = %2\nfsync = off\nsynchronous_commit = off\n"
                                  "full_page_writes = off\nmax_connections = 40\n"
                                  "shared_buffers = 16MB\n")
                       .arg(m_dir)
                       .arg(m_port)
                       .toUtf8());
        conf.close();
        if (!runAsPostgres(m_bin + QStringLiteral("/pg_ctl"),
                           {QStringLiteral("-D"), data, QStringLiteral("-l"),
                            m_dir + QStringLiteral("/log"), QStringLiteral("-w"),
                            QStringLiteral("-t"), QStringLiteral("30"), QStringLiteral("start")},
                           &output)) {
            QFile log(m_dir + QStringLiteral("/log"));
            log.open(QIODevice::ReadOnly);
            m_broken = true; // the machine has PostgreSQL: failing to start it is a failure
            m_skipReason =
                QStringLiteral("pg_ctl start failed: ") + output + QString::fromUtf8(log.readAll());
            removeDir();
            return false;
        }
        m_started = true;
        return true;
    }

    QString skipReason() const { return m_skipReason; }
    // True when PostgreSQL is there and root runs the test but the cluster did not start
    // (initdb or pg_ctl failed): the tests fail with skipReason(), they do not skip.
    bool broken() const { return m_broken; }

    // A fresh database; returns "postgres:host=... port=... dbname=... user=postgres".
    QString createDatabase() {
        const QString name = QStringLiteral("calnet_%1").arg(++m_databases);
        QString output;
        if (!runAsPostgres(
                m_bin + QStringLiteral("/createdb"),
                {QStringLiteral("-h"), m_dir, QStringLiteral("-p"), QString::number(m_port), name},
                &output)) {
            m_broken = true;
            m_skipReason = QStringLiteral("createdb failed: ") + output;
            return {};
        }
        return QStringLiteral("postgres:host=%1 port=%2 dbname=%3 user=postgres")
            .arg(m_dir)
            .arg(m_port)
            .arg(name);
    }

    // Runs one SQL statement as the superuser in `database` (the dbname of a spec); true when
    // psql succeeded. *output: psql's unaligned, tuples-only output.
    bool superuserSql(const QString& database, const QString& sql, QString* output) {
        return runAsPostgres(m_bin + QStringLiteral("/psql"),
                             {QStringLiteral("-h"), m_dir, QStringLiteral("-p"),
                              QString::number(m_port), QStringLiteral("-d"), database,
                              QStringLiteral("-XAtq"), QStringLiteral("-v"),
                              QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-c"), sql},
                             output);
    }

    void stop() {
        if (m_started) {
            QString output;
            runAsPostgres(m_bin + QStringLiteral("/pg_ctl"),
                          {QStringLiteral("-D"), m_dir + QStringLiteral("/data"),
                           QStringLiteral("stop"), QStringLiteral("-m"),
                           QStringLiteral("immediate"), QStringLiteral("-w")},
                          &output);
            m_started = false;
        }
        removeDir();
    }

private:
    bool runAsPostgres(const QString& program, const QStringList& args, QString* output) {
        QProcess p;
        p.setWorkingDirectory(m_dir);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral("runuser"),
                QStringList{QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--"),
                            program} +
                    args);
        const bool finished = p.waitForFinished(60000);
        if (!finished) {
            p.kill();
            p.waitForFinished(5000);
        }
        *output = QString::fromLocal8Bit(p.readAll());
        return finished && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    }

    // If this process dies without its destructor, stop the cluster and remove the dir anyway.
    void startGuard() {
        const QString script =
            QStringLiteral("while kill -0 %1 2>/dev/null; do sleep 1; done; "
                           "if [ -d '%2/data' ]; then runuser -u postgres -- '%3/pg_ctl' -D "
                           "'%2/data' stop -m immediate; fi; rm -rf '%2'")
                .arg(QCoreApplication::applicationPid())
                .arg(m_dir, m_bin);
        QProcess guard;
        guard.setProgram(QStringLiteral("sh"));
        guard.setArguments({QStringLiteral("-c"), script});
        guard.setStandardInputFile(QProcess::nullDevice());
        guard.setStandardOutputFile(QProcess::nullDevice());
        guard.setStandardErrorFile(QProcess::nullDevice());
        guard.startDetached();
    }

    void removeDir() {
        if (!m_dir.isEmpty()) {
            QDir(m_dir).removeRecursively();
            m_dir.clear();
        }
    }

    QString m_bin;
    QString m_dir;
    QString m_skipReason;
    bool m_broken = false;
    int m_port = 0;
    int m_databases = 0;
    bool m_started = false;
};
