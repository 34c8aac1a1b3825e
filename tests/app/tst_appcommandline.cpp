// calnet's command line: usage errors exit 2 with one line before the app starts (no window,
// no single-instance socket); --help and --version print and exit 0.
#include <QTest>

#include "commandline.h"

class TestAppCommandLine : public QObject {
    Q_OBJECT
private slots:
    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("positional")
            << QStringList{QStringLiteral("extra")} << QStringLiteral("unexpected argument");
        QTest::newRow("unknown option")
            << QStringList{QStringLiteral("--bogus")} << QStringLiteral("bogus");
        QTest::newRow("empty socket") << QStringList{QStringLiteral("--socket"), QString()}
                                      << QStringLiteral("--socket: empty path");
        QTest::newRow("two sockets")
            << QStringList{QStringLiteral("--socket"), QStringLiteral("/a"),
                           QStringLiteral("--socket"), QStringLiteral("/b")}
            << QStringLiteral("more than once");
    }
    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        const testcli::Run r = testcli::run(QStringLiteral(CALNET_APP_EXECUTABLE), args, env);
        QVERIFY2(r.exitCode == 2,
                 qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("Try 'calnet --help'")), qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }
    void helpAndVersion() {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        testcli::Run r =
            testcli::run(QStringLiteral(CALNET_APP_EXECUTABLE), {QStringLiteral("--help")}, env);
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains(QStringLiteral("--no-tray")));
        r = testcli::run(QStringLiteral(CALNET_APP_EXECUTABLE), {QStringLiteral("--version")}, env);
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QStringLiteral("calnet " CALNET_VERSION "\n"));
    }
};

QTEST_GUILESS_MAIN(TestAppCommandLine)
#include "tst_appcommandline.moc"
