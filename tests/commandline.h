// Runs one of the project's programs to the end and keeps what it printed, for the tests of
// command lines (exit code 2 and one line on a usage error, --help and --version on stdout).
#pragma once

#include <QProcess>
#include <QStringList>

namespace testcli {

struct Run {
    int exitCode = -1; // -1: crashed or did not finish within the time limit
    QString out;
    QString err;
};

inline Run run(const QString& program, const QStringList& args,
               const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(program, args);
    p.closeWriteChannel();
    Run r;
    if (!p.waitForFinished(20000)) {
        p.kill();
        p.waitForFinished(5000);
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    // Windows programs end lines with CRLF on the console; the tests compare lines.
    r.out = QString::fromUtf8(p.readAllStandardOutput())
                .replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    r.err = QString::fromUtf8(p.readAllStandardError())
                .replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    return r;
}

} // namespace testcli
