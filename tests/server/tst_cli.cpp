// The calnet-server executable end to end on SQLite: `serve` prints its port, migrates once
// and again on restart, exits 0 on SIGTERM; the admin subcommands (authkey, nodes, users) work
// against it with the token from a file or the environment and fail without it.
#include <QFile>
#include <QTest>

#include "servertest.h"

using namespace servertest;

class TestCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void serveAndAdminCommands();
    void refusesBadOptions();

private:
    QTemporaryDir m_dir;
    QString m_tokenFile;
};

void TestCli::initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFile::exists(QStringLiteral(CALNET_SERVER_EXECUTABLE)), CALNET_SERVER_EXECUTABLE);
    m_tokenFile = m_dir.filePath(QStringLiteral("token"));
    QFile f(m_tokenFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kAdminToken.toUtf8() + "\n");
}

void TestCli::serveAndAdminCommands() {
    const QString db = QStringLiteral("sqlite:") + m_dir.filePath(QStringLiteral("cli.sqlite"));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("CALNET_ADMIN_TOKEN"));
    ServerProcess server;
    QVERIFY(server.start({QStringLiteral("--db"), db, QStringLiteral("--admin-token-file"),
                          m_tokenFile, QStringLiteral("--prefix4"), QStringLiteral("10.99.0.0/24"),
                          QStringLiteral("--key-expiry"), QStringLiteral("7d")},
                         env));
    const QString url = QStringLiteral("http://127.0.0.1:%1").arg(server.port);
    const QStringList common = {QStringLiteral("--server"), url,
                                QStringLiteral("--admin-token-file"), m_tokenFile};

    CliResult r = runCli(
        QStringList{QStringLiteral("authkey"), QStringLiteral("create"),
                    QStringLiteral("--reusable"), QStringLiteral("--expires"), QStringLiteral("1h"),
                    QStringLiteral("--tag"), QStringLiteral("tag:a"), QStringLiteral("--tag"),
                    QStringLiteral("tag:b"), QStringLiteral("--user"), QStringLiteral("alice")} +
            common,
        env);
    QCOMPARE(r.exitCode, 0);
    const QStringList lines = r.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1);
    const QString key = lines[0];
    QVERIFY(key.startsWith(QStringLiteral("calnet-auth-")));

    const Registered node = registerNew(server.port, key, QStringLiteral("cli-host"));
    QCOMPARE(node.id, 1);
    QCOMPARE(node.reply.value(QStringLiteral("addresses")).toArray()[0].toString(),
             QStringLiteral("10.99.0.1/32"));
    const qint64 expiry = node.reply.value(QStringLiteral("keyExpiry")).toInteger();
    QVERIFY(qAbs(expiry - QDateTime::currentSecsSinceEpoch() - 7 * 86400) < 10);

    r = runCli(QStringList{QStringLiteral("nodes"), QStringLiteral("list")} + common, env);
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains(QStringLiteral("cli-host")));
    QVERIFY(r.out.contains(QStringLiteral("10.99.0.1/32")));

    r = runCli(QStringList{QStringLiteral("authkey"), QStringLiteral("list")} + common, env);
    QCOMPARE(r.exitCode, 0);
    const QString id = key.mid(12, 12);
    QVERIFY(r.out.contains(id));
    QVERIFY(r.out.contains(QStringLiteral("tag:a,tag:b")));
    QVERIFY(!r.out.contains(key));

    // The token from the environment works too, and --json prints the reply.
    QProcessEnvironment withToken = env;
    withToken.insert(QStringLiteral("CALNET_ADMIN_TOKEN"), kAdminToken);
    r = runCli({QStringLiteral("users"), QStringLiteral("list"), QStringLiteral("--server"), url,
                QStringLiteral("--json")},
               withToken);
    QCOMPARE(r.exitCode, 0);
    const QJsonArray users =
        QJsonDocument::fromJson(r.out.toUtf8()).object().value(QStringLiteral("users")).toArray();
    QCOMPARE(users.size(), 1);
    QCOMPARE(users[0].toObject().value(QStringLiteral("name")).toString(), QStringLiteral("alice"));

    r = runCli(QStringList{QStringLiteral("nodes"), QStringLiteral("expire"), QStringLiteral("1")} +
                   common,
               env);
    QCOMPARE(r.exitCode, 0);
    r = runCli(QStringList{QStringLiteral("nodes"), QStringLiteral("delete"), QStringLiteral("1")} +
                   common,
               env);
    QCOMPARE(r.exitCode, 0);
    r = runCli(QStringList{QStringLiteral("nodes"), QStringLiteral("delete"), QStringLiteral("1")} +
                   common,
               env);
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains(QStringLiteral("not_found")));
    r = runCli(QStringList{QStringLiteral("authkey"), QStringLiteral("revoke"), id} + common, env);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(
        registerNode(server.port, registerBody(randomKey(), QStringLiteral("late"), key)).status,
        403);

    // A reusable key with a usage limit registers that many nodes and no more.
    r = runCli(QStringList{QStringLiteral("authkey"), QStringLiteral("create"),
                           QStringLiteral("--reusable"), QStringLiteral("--uses"),
                           QStringLiteral("2")} +
                   common,
               env);
    QCOMPARE(r.exitCode, 0);
    const QString limited = r.out.trimmed();
    QVERIFY(limited.startsWith(QStringLiteral("calnet-auth-")));
    QCOMPARE(registerNode(server.port, registerBody(randomKey(), QStringLiteral("use1"), limited))
                 .status,
             200);
    QCOMPARE(registerNode(server.port, registerBody(randomKey(), QStringLiteral("use2"), limited))
                 .status,
             200);
    QCOMPARE(registerNode(server.port, registerBody(randomKey(), QStringLiteral("use3"), limited))
                 .status,
             403);
    r = runCli(QStringList{QStringLiteral("nodes"), QStringLiteral("list")} + common, env);
    QVERIFY(r.out.contains(QStringLiteral("use2")));
    QVERIFY(!r.out.contains(QStringLiteral("use3")));

    // No token, or a wrong one: refused.
    r = runCli({QStringLiteral("nodes"), QStringLiteral("list"), QStringLiteral("--server"), url},
               env);
    QCOMPARE(r.exitCode, 1);
    QProcessEnvironment wrong = env;
    wrong.insert(QStringLiteral("CALNET_ADMIN_TOKEN"), QStringLiteral("wrong-token-0123456789"));
    r = runCli({QStringLiteral("nodes"), QStringLiteral("list"), QStringLiteral("--server"), url},
               wrong);
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains(QStringLiteral("unauthorized")));
    r = runCli(QStringList{QStringLiteral("authkey"), QStringLiteral("create"),
                           QStringLiteral("--expires"), QStringLiteral("3 days")} +
                   common,
               env);
    QCOMPARE(r.exitCode, 2); // refused by the client, before it asks the server
    QVERIFY(r.err.contains(QStringLiteral("--expires")));

    QCOMPARE(server.terminate(), 0);

    // Restart on the same database: migrations are not re-applied, the data is there, and the
    // next node gets the next free address (.1 belonged to the deleted node and is still in
    // quarantine; .2 and .3 went to use1 and use2).
    ServerProcess again;
    QVERIFY(again.start({QStringLiteral("--db"), db, QStringLiteral("--admin-token-file"),
                         m_tokenFile, QStringLiteral("--prefix4"), QStringLiteral("10.99.0.0/24")},
                        env));
    QVERIFY(!again.stderrText().contains("applied schema migration"));
    const QString key2 = createKey(again.port, false);
    const Registered second = registerNew(again.port, key2, QStringLiteral("second"));
    QCOMPARE(second.reply.value(QStringLiteral("addresses")).toArray()[0].toString(),
             QStringLiteral("10.99.0.4/32"));
    QCOMPARE(again.terminate(), 0);
}

void TestCli::refusesBadOptions() {
    const QString db = QStringLiteral("sqlite:") + m_dir.filePath(QStringLiteral("bad.sqlite"));
    const QList<QStringList> bad = {
        {QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1")},
        {QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")},
        {QStringLiteral("serve"), QStringLiteral("--db"), QStringLiteral("mysql:x")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--key-expiry"), QStringLiteral("5y")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--prefix4"),
         QStringLiteral("100.70.0.1/24")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--bogus"), QStringLiteral("1")},
        {QStringLiteral("frobnicate")},
        {},
        // Several relays: another region needs the relay token; names are region names.
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--relay"),
         QStringLiteral("fra=https://relay.example")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--region"), QStringLiteral("Home")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--relay"), QStringLiteral("fra=ftp://x")},
        // SSO: issuer and client id together; https, or http on loopback only.
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--oidc-issuer"),
         QStringLiteral("https://idp.example")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--oidc-issuer"),
         QStringLiteral("http://idp.example"), QStringLiteral("--oidc-client-id"),
         QStringLiteral("calnet")},
        // The other --oidc-* options need --oidc-issuer; domains are domains, admins emails.
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--oidc-allowed-domains"),
         QStringLiteral("example.com")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--oidc-issuer"),
         QStringLiteral("https://idp.example"), QStringLiteral("--oidc-client-id"),
         QStringLiteral("calnet"), QStringLiteral("--oidc-allowed-domains"),
         QStringLiteral("ada@example.com")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--oidc-issuer"),
         QStringLiteral("https://idp.example"), QStringLiteral("--oidc-client-id"),
         QStringLiteral("calnet"), QStringLiteral("--oidc-admins"), QStringLiteral("boss")},
        {QStringLiteral("serve"), QStringLiteral("--db"), db, QStringLiteral("--listen"),
         QStringLiteral("127.0.0.1:0"), QStringLiteral("--oidc-issuer"),
         QStringLiteral("https://idp.example"), QStringLiteral("--oidc-client-id"),
         QStringLiteral("calnet"), QStringLiteral("--oidc-client-secret-file"),
         QStringLiteral("/nonexistent/secret")},
        // A relay-only process needs a coordination server and a good token.
        {QStringLiteral("relay"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")},
        {QStringLiteral("relay"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
         QStringLiteral("--server"), QStringLiteral("ftp://x")},
        {QStringLiteral("relay"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
         QStringLiteral("--server"), QStringLiteral("http://127.0.0.1:1")},
        {QStringLiteral("relay"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
         QStringLiteral("--server"), QStringLiteral("http://127.0.0.1:1"),
         QStringLiteral("--token-file"), QStringLiteral("/nonexistent/token")},
        // The admin commands check their command line before they send anything.
        {QStringLiteral("authkey"), QStringLiteral("create"), QStringLiteral("--uses"),
         QStringLiteral("3")},
        {QStringLiteral("authkey"), QStringLiteral("create"), QStringLiteral("--reusable"),
         QStringLiteral("--uses"), QStringLiteral("0")},
        {QStringLiteral("authkey"), QStringLiteral("create"), QStringLiteral("--reusable"),
         QStringLiteral("--uses"), QStringLiteral("1000001")},
        {QStringLiteral("authkey"), QStringLiteral("create"), QStringLiteral("--user"),
         QStringLiteral("a"), QStringLiteral("--user"), QStringLiteral("b")},
        {QStringLiteral("authkey"), QStringLiteral("list"), QStringLiteral("--reusable")},
        {QStringLiteral("authkey"), QStringLiteral("create"), QStringLiteral("--server"),
         QStringLiteral("ftp://x")},
        {QStringLiteral("nodes"), QStringLiteral("delete")},
        {QStringLiteral("nodes"), QStringLiteral("delete"), QStringLiteral("1"),
         QStringLiteral("2")},
        {QStringLiteral("users"), QStringLiteral("frobnicate")},
    };
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("CALNET_ADMIN_TOKEN"), QStringLiteral("short"));
    for (const QStringList& args : bad) {
        const CliResult r = runCli(args, env);
        QVERIFY2(r.exitCode == 2, qPrintable(args.join(u' ') + QStringLiteral(" -> ") + r.err));
        QVERIFY(!r.out.contains(QStringLiteral("listening")));
    }
    // A too-short admin token is refused at start.
    const CliResult r = runCli({QStringLiteral("serve"), QStringLiteral("--db"), db,
                                QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")},
                               env);
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.err.contains(QStringLiteral("admin token")));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
