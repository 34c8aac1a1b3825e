// calnetctl's command line: usage errors exit 2 with one line before any request is sent (the
// socket given does not exist, so a request would exit 3 instead); --version works without a
// helper; a missing helper is exit 3 with the socket's path in the message.
#include <QTemporaryDir>
#include <QTest>

#include "commandline.h"

class TestCtlCommandLine : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString socket() const { return m_dir.filePath(QStringLiteral("absent.sock")); }
    testcli::Run ctl(QStringList args) const {
        args << QStringLiteral("--socket") << socket();
        return testcli::run(QStringLiteral(CALNETCTL_EXECUTABLE), args);
    }

private slots:
    void usageErrors_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("no command") << QStringList{} << QStringLiteral("no command");
        QTest::newRow("unknown command")
            << QStringList{QStringLiteral("frobnicate")} << QStringLiteral("unknown command");
        QTest::newRow("status with an argument")
            << QStringList{QStringLiteral("status"), QStringLiteral("x")}
            << QStringLiteral("wrong number");
        QTest::newRow("remove without a profile")
            << QStringList{QStringLiteral("remove")} << QStringLiteral("wrong number");
        QTest::newRow("unknown option")
            << QStringList{QStringLiteral("status"), QStringLiteral("--bogus")}
            << QStringLiteral("bogus");
        QTest::newRow("name with status")
            << QStringList{QStringLiteral("status"), QStringLiteral("--name"), QStringLiteral("x")}
            << QStringLiteral("--name goes with");
        QTest::newRow("server with down")
            << QStringList{QStringLiteral("down"), QStringLiteral("--server"),
                           QStringLiteral("http://h")}
            << QStringLiteral("--server goes with up");
        QTest::newRow("auth key without server")
            << QStringList{QStringLiteral("up"), QStringLiteral("--auth-key"), QStringLiteral("k")}
            << QStringLiteral("go with up --server");
        QTest::newRow("two auth keys")
            << QStringList{QStringLiteral("up"),       QStringLiteral("--server"),
                           QStringLiteral("http://h"), QStringLiteral("--auth-key"),
                           QStringLiteral("k"),        QStringLiteral("--auth-key-file"),
                           QStringLiteral("/dev/null")}
            << QStringLiteral("not both");
        QTest::newRow("repeated option")
            << QStringList{QStringLiteral("up"), QStringLiteral("--server"),
                           QStringLiteral("http://a"), QStringLiteral("--server"),
                           QStringLiteral("http://b")}
            << QStringLiteral("more than once");
    }
    void usageErrors() {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QVERIFY(m_dir.isValid());
        const testcli::Run r = ctl(args);
        QVERIFY2(r.exitCode == 2,
                 qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("Try 'calnetctl --help'")), qPrintable(r.err));
        QCOMPARE(r.err.count(u'\n'), 2);
        QVERIFY(r.out.isEmpty());
    }
    void emptySocket() {
        const testcli::Run r =
            testcli::run(QStringLiteral(CALNETCTL_EXECUTABLE),
                         {QStringLiteral("--socket"), QString(), QStringLiteral("status")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains(QStringLiteral("--socket")));
    }
    void helpAndVersion() {
        testcli::Run r = ctl({QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains(QStringLiteral("Exit codes")));
        r = ctl({QStringLiteral("--version")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QStringLiteral("calnetctl " CALNET_VERSION "\n"));
    }
    void helperUnavailable() {
        const testcli::Run r = ctl({QStringLiteral("status")});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains(socket()), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCtlCommandLine)
#include "tst_ctlcommandline.moc"
