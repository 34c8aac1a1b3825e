// calnetd's command line: every usage error exits 2 with one line that names the problem and
// starts nothing (no socket, no interface); --help and --version print and exit 0.
#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include "commandline.h"

class TestCommandLine : public QObject {
    Q_OBJECT
private slots:
    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("nothing") << QStringList{} << QStringLiteral("interface name");
        QTest::newRow("two interfaces") << QStringList{QStringLiteral("wg0"), QStringLiteral("wg1")}
                                        << QStringLiteral("one interface name");
        QTest::newRow("interface name too long") << QStringList{QStringLiteral("abcdefghijklmnop")}
                                                 << QStringLiteral("not an interface name");
        QTest::newRow("interface name with /")
            << QStringList{QStringLiteral("a/b")} << QStringLiteral("not an interface name");
        QTest::newRow("unknown option")
            << QStringList{QStringLiteral("--bogus"), QStringLiteral("wg0")}
            << QStringLiteral("bogus");
        QTest::newRow("service with interface name")
            << QStringList{QStringLiteral("--service"), QStringLiteral("wg0")}
            << QStringLiteral("--service");
        QTest::newRow("uid not a number")
            << QStringList{QStringLiteral("--service"), QStringLiteral("--operator-uid"),
                           QStringLiteral("abc")}
            << QStringLiteral("not a uid");
        QTest::newRow("uid -1") << QStringList{QStringLiteral("--service"),
                                               QStringLiteral("--operator-uid"),
                                               QStringLiteral("-1")}
                                << QStringLiteral("not a uid");
        QTest::newRow("uid 2^32-1")
            << QStringList{QStringLiteral("--service"), QStringLiteral("--operator-uid"),
                           QStringLiteral("4294967295")}
            << QStringLiteral("not a uid");
        QTest::newRow("socket without service")
            << QStringList{QStringLiteral("--socket"), QStringLiteral("/tmp/x"),
                           QStringLiteral("wg0")}
            << QStringLiteral("needs --service");
        QTest::newRow("empty socket")
            << QStringList{QStringLiteral("--service"), QStringLiteral("--socket"), QString()}
            << QStringLiteral("empty");
        QTest::newRow("bad service interface")
            << QStringList{QStringLiteral("--service"), QStringLiteral("--interface"),
                           QStringLiteral("a b")}
            << QStringLiteral("--interface");
        QTest::newRow("rollback with service")
            << QStringList{QStringLiteral("--rollback"), QStringLiteral("--service")}
            << QStringLiteral("--rollback takes only");
        QTest::newRow("rollback with an interface name")
            << QStringList{QStringLiteral("--rollback"), QStringLiteral("wg0")}
            << QStringLiteral("--rollback takes only");
    }
    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        // Point every path somewhere harmless: a usage error must not reach any of them.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        if (args.contains(QStringLiteral("--service"))) {
            if (!args.contains(QStringLiteral("--socket")))
                args << QStringLiteral("--socket") << dir.filePath(QStringLiteral("calnetd.sock"));
            args << QStringLiteral("--state-dir") << dir.filePath(QStringLiteral("state"));
        }
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("WG_PROCESS_FOREGROUND"), QStringLiteral("1"));
        const testcli::Run r = testcli::run(QStringLiteral(CALNETD_EXECUTABLE), args, env);
        QVERIFY2(r.exitCode == 2,
                 qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("Try 'calnetd --help'")), qPrintable(r.err));
        QCOMPARE(r.err.count(u'\n'), 2);
        QVERIFY(r.out.isEmpty());
        QVERIFY(QDir(dir.path()).isEmpty());
    }
    void helpAndVersion() {
        testcli::Run r =
            testcli::run(QStringLiteral(CALNETD_EXECUTABLE), {QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains(QStringLiteral("--service")));
        QVERIFY(r.out.contains(QStringLiteral("--operator-uid")));
        QVERIFY(r.err.isEmpty());
        r = testcli::run(QStringLiteral(CALNETD_EXECUTABLE), {QStringLiteral("--version")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.startsWith(QStringLiteral("calnetd " CALNET_VERSION)), qPrintable(r.out));
    }
};

QTEST_GUILESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"
