// Registering a node with an OpenID Connect ID token (docs/protocol.md "POST /api/v1/register"),
// against an in-process server whose provider is a small one served here on loopback: a good
// token registers a node for the user the provider names (issuer + subject), created on first
// sign-in and found again on the next; a token for another client, from another issuer, too
// old, with the wrong nonce, or of a disabled user is refused with a sentence; a key the
// provider has just rotated in is fetched and the same token goes through a moment later.
#include <QDateTime>
#include <QTest>

#include "fakeidp.h"
#include "jwttest.h"
#include "server/storage.h"
#include "servertest.h"

using namespace jwttest;
using namespace servertest;

namespace {

QJsonObject claims(const QString& issuer, const QString& subject, const QString& email) {
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    return {{"iss", issuer},          {"sub", subject},
            {"aud", kClient},         {"exp", double(now + 300)},
            {"iat", double(now - 5)}, {"nonce", "nonce-1"},
            {"email", email},         {"email_verified", true},
            {"name", "Ada Lovelace"}};
}

QJsonObject body(const QByteArray& idToken, const QString& nonce = QStringLiteral("nonce-1")) {
    return {{"nodeKey", randomKey()},
            {"discoKey", randomKey()},
            {"hostname", "laptop"},
            {"os", "linux"},
            {"idToken", QString::fromLatin1(idToken)},
            {"nonce", nonce}};
}

} // namespace

class TestSsoRegister : public QObject {
    Q_OBJECT
private:
    TestKey key{false, QStringLiteral("k1")};
    TestKey later{true, QStringLiteral("k2")};
    QTemporaryDir dir;
    int databases = 0;

    std::unique_ptr<calnet::server::Server> start(const FakeIdp& idp) {
        auto config =
            testConfig(QStringLiteral("sqlite:") + dir.filePath(QString::number(++databases)));
        config.oidcIssuer = idp.url();
        config.oidcClientId = kClient;
        auto server = startInProcess(config);
        return server;
    }
    static bool waitKeys(const FakeIdp& idp) {
        QElapsedTimer t;
        t.start();
        while (idp.jwksFetches == 0 && t.elapsed() < 5000)
            QTest::qWait(10);
        QTest::qWait(50);
        return idp.jwksFetches > 0;
    }

private slots:
    void registersForTheProvidersUser() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp);
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const Response r = registerNode(
            server->port(), body(token(key, claims(idp.url(), "ada-1", "ada@example.com"))));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("user").toString(), QStringLiteral("ada@example.com"));
        QVERIFY(!r.json().value("credential").toString().isEmpty());
        // The same person from another device: the same user.
        const Response second = registerNode(
            server->port(), body(token(key, claims(idp.url(), "ada-1", "ada@example.com"))));
        QCOMPARE(second.status, 200);
        // Another person with the same email text at another subject: another user.
        const Response other = registerNode(
            server->port(), body(token(key, claims(idp.url(), "eve-9", "ada@example.com"))));
        QCOMPARE(other.status, 200);
        QCOMPARE(other.json().value("user").toString(), QStringLiteral("ada@example.com (2)"));
        const QJsonArray users =
            admin(server->port(), "GET", "users").json().value("users").toArray();
        QCOMPARE(users.size(), 2);
        QCOMPARE(users[0].toObject().value("issuer").toString(), idp.url());
        QCOMPARE(users[0].toObject().value("subject").toString(), QStringLiteral("ada-1"));
        QCOMPARE(users[0].toObject().value("email").toString(), QStringLiteral("ada@example.com"));
        QCOMPARE(users[0].toObject().value("nodes").toInt(), 2);
    }

    void refusals() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp);
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const quint16 port = server->port();
        auto refused = [&](const QJsonObject& b, int status, const char* code) {
            const Response r = registerNode(port, b);
            if (r.status != status || r.errorCode() != QLatin1String(code))
                qWarning("got %d %s: %s", r.status, qPrintable(r.errorCode()), r.body.constData());
            return r.status == status && r.errorCode() == QLatin1String(code);
        };
        QJsonObject c = claims(idp.url(), "ada-1", "ada@example.com");
        c["aud"] = "another-client";
        QVERIFY(refused(body(token(key, c)), 401, "invalid_id_token"));
        c = claims("https://evil.example", "ada-1", "ada@example.com");
        QVERIFY(refused(body(token(key, c)), 401, "invalid_id_token"));
        c = claims(idp.url(), "ada-1", "ada@example.com");
        c["iat"] = double(QDateTime::currentSecsSinceEpoch() - 11 * 60);
        c["exp"] = double(QDateTime::currentSecsSinceEpoch() + 3600);
        QVERIFY(refused(body(token(key, c)), 401, "invalid_id_token")); // too old a sign-in
        QVERIFY(refused(body(token(key, claims(idp.url(), "ada-1", "a@example.com")), "other"), 401,
                        "invalid_id_token")); // nonce
        TestKey stranger(false, QStringLiteral("k1"));
        QVERIFY(refused(body(token(stranger, claims(idp.url(), "ada-1", "a@example.com"))), 401,
                        "invalid_id_token")); // signature
        QJsonObject both = body(token(key, claims(idp.url(), "ada-1", "a@example.com")));
        both["authKey"] = createKey(port, true);
        QVERIFY(refused(both, 400, "bad_request"));
        // A disabled user's devices cannot register.
        QCOMPARE(registerNode(port, body(token(key, claims(idp.url(), "bob-2", "bob@example.com"))))
                     .status,
                 200);
        auto* storage = server->storage();
        QList<calnet::server::UserRecord> users;
        QVERIFY(storage->users().users(&users).ok());
        QVERIFY(storage->beginWrite());
        bool found = false;
        QVERIFY(storage->users().setDisabled(users.last().id, true, &found).ok());
        QVERIFY(storage->commit());
        QVERIFY(found);
        QVERIFY(refused(body(token(key, claims(idp.url(), "bob-2", "bob@example.com"))), 403,
                        "forbidden"));
    }

    void withoutSsoTheServerSaysSo() {
        auto server = startInProcess(
            testConfig(QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("plain"))));
        QVERIFY(server);
        const Response r = registerNode(server->port(), body("a.b.c"));
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value("error").toObject().value("message").toString().contains("sign-in"));
    }

    void rotatedKeyIsFetched() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp);
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        idp.keys = QJsonArray{key.jwk(), later.jwk()};
        QTest::qWait(1100); // a refetch a second at most
        const QJsonObject b = body(token(later, claims(idp.url(), "ada-1", "ada@example.com")));
        const Response first = registerNode(server->port(), b);
        QCOMPARE(first.status, 503); // the new key is on its way
        QElapsedTimer t;
        t.start();
        while (idp.jwksFetches < 2 && t.elapsed() < 5000)
            QTest::qWait(10);
        QTest::qWait(50);
        QCOMPARE(registerNode(server->port(), b).status, 200);
    }
};

QTEST_MAIN(TestSsoRegister)
#include "tst_ssoregister.moc"
