// Registering a node with an OpenID Connect ID token (docs/protocol.md "POST /api/v1/register"),
// against an in-process server whose provider is a small one served here on loopback: a good
// token registers a node for the user the provider names (issuer + subject), created on first
// sign-in and found again on the next; a token for another client, from another issuer, too
// old, with the wrong nonce, or of a disabled user is refused with a sentence; a key the
// provider has just rotated in is fetched and the same token goes through a moment later.
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include <QTest>
#include <functional>

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

    std::unique_ptr<calnet::server::Server>
    start(const FakeIdp& idp,
          const std::function<void(calnet::server::ServerConfig&)>& adjust = {}) {
        auto config =
            testConfig(QStringLiteral("sqlite:") + dir.filePath(QString::number(++databases)));
        config.oidcIssuer = idp.url();
        config.oidcClientId = kClient;
        if (adjust)
            adjust(config);
        auto server = startInProcess(config);
        return server;
    }
    static Response adminAs(quint16 port, const QByteArray& bearer) {
        return httpCall(port, "GET", QStringLiteral("/api/v1/admin/users"), {},
                        QString::fromLatin1(bearer));
    }
    static QJsonObject nodeOf(quint16 port, qint64 id) {
        return findNode(admin(port, "GET", "nodes").json().value("nodes").toArray(), id);
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

    void allowedDomains() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp, [](auto& c) { c.oidcAllowedDomains = {"example.com", "b.org"}; });
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const quint16 port = server->port();
        QCOMPARE(
            registerNode(port, body(token(key, claims(idp.url(), "a", "Ada@Example.COM")))).status,
            200);
        QCOMPARE(registerNode(port, body(token(key, claims(idp.url(), "b", "bo@b.org")))).status,
                 200);
        const Response outside =
            registerNode(port, body(token(key, claims(idp.url(), "e", "eve@example.com.evil"))));
        QCOMPARE(outside.status, 403);
        QVERIFY(outside.body.contains("eve@example.com.evil is not in a domain this network "
                                      "allows (example.com, b.org)"));
        QJsonObject unverified = claims(idp.url(), "u", "ada@example.com");
        unverified["email_verified"] = false;
        const Response u = registerNode(port, body(token(key, unverified)));
        QCOMPARE(u.status, 403);
        QVERIFY(u.body.contains("did not give one"));
        QCOMPARE(
            registerNode(port, body(token(key, claims(idp.url(), "x", "x@evil.org@example.com"))))
                .status,
            403);
    }

    void signingInOnAPreAuthKeyNodeMakesItThePersons() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp);
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const quint16 port = server->port();
        const QString nodeKey = randomKey();
        const Response byKey = registerNode(
            port, registerBody(nodeKey, QStringLiteral("laptop"), createKey(port, false)));
        QCOMPARE(byKey.status, 200);
        QCOMPARE(byKey.json().value("user").toString(), QStringLiteral("default"));
        QJsonObject signIn = registerBody(nodeKey, QStringLiteral("laptop"), QString());
        signIn.remove("authKey");
        signIn["credential"] = byKey.json().value("credential");
        signIn["idToken"] =
            QString::fromLatin1(token(key, claims(idp.url(), "ada", "ada@example.com")));
        signIn["nonce"] = "nonce-1";
        const Response r = registerNode(port, signIn);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("user").toString(), QStringLiteral("ada@example.com"));
        QCOMPARE(r.json().value("nodeId"), byKey.json().value("nodeId")); // the same device
        // A pre-auth key cannot be made in a signed-in person's name.
        const Response key2 =
            admin(port, "POST", "authkeys", QJsonObject{{"user", "ada@example.com"}});
        QCOMPARE(key2.status, 409);
        // nbf that is not a time is refused, not ignored.
        QJsonObject c = claims(idp.url(), "ada", "ada@example.com");
        c["nbf"] = "soon";
        QCOMPARE(registerNode(port, body(token(key, c))).status, 401);
    }

    void adminApiTakesAnAdminsIdToken() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp, [](auto& c) {
            c.oidcAdmins = {"boss@example.com"};
            c.oidcAdminGroup = QStringLiteral("calnet-admins");
        });
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const quint16 port = server->port();
        QJsonObject boss = claims(idp.url(), "boss", "Boss@example.com");
        boss.remove("nonce"); // nobody asked for a nonce for this token
        QCOMPARE(adminAs(port, token(key, boss)).status, 200);
        QJsonObject member = claims(idp.url(), "m", "m@example.com");
        member["groups"] = QJsonArray{"staff", "calnet-admins"};
        QCOMPARE(adminAs(port, token(key, member)).status, 200);
        // Signed by the provider, but not an admin: refused, and said so.
        QJsonObject staff = claims(idp.url(), "s", "s@example.com");
        staff["groups"] = QJsonArray{"staff"};
        QCOMPARE(adminAs(port, token(key, staff)).status, 403);
        QJsonObject unverified = claims(idp.url(), "x", "boss@example.com");
        unverified["email_verified"] = false;
        QCOMPARE(adminAs(port, token(key, unverified)).status, 403);
        // Not the provider's signature, expired, or for another client: a wrong token.
        TestKey stranger(false, QStringLiteral("k1"));
        QCOMPARE(adminAs(port, token(stranger, boss)).status, 401);
        QJsonObject old = boss;
        old["exp"] = double(QDateTime::currentSecsSinceEpoch() - 3600);
        QCOMPARE(adminAs(port, token(key, old)).status, 401);
        QJsonObject other = boss;
        other["aud"] = "another-client";
        QCOMPARE(adminAs(port, token(key, other)).status, 401);
        // The admin token still works beside them.
        QCOMPARE(admin(port, "GET", "users").status, 200);
        // A disabled admin is no admin, and cannot enable itself again.
        QCOMPARE(registerNode(port, body(token(key, claims(idp.url(), "boss", "boss@example.com"))))
                     .status,
                 200);
        qint64 bossId = 0;
        for (const QJsonValue& u : admin(port, "GET", "users").json().value("users").toArray())
            if (u.toObject().value("subject").toString() == QStringLiteral("boss"))
                bossId = u.toObject().value("id").toInteger();
        QVERIFY(bossId > 0);
        QCOMPARE(admin(port, "POST", QStringLiteral("users/%1/disable").arg(bossId)).status, 200);
        QCOMPARE(adminAs(port, token(key, boss)).status, 403);
        QCOMPARE(httpCall(port, "POST", QStringLiteral("/api/v1/admin/users/%1/enable").arg(bossId),
                          {}, QString::fromLatin1(token(key, boss)))
                     .status,
                 403);
        QCOMPARE(adminAs(port, token(key, member)).status, 200); // other admins still are
    }

    void disablingAUserTakesItsNodesOff() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp);
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const quint16 port = server->port();
        const QJsonObject first = body(token(key, claims(idp.url(), "bob", "bob@example.com")));
        const Response a = registerNode(port, first);
        const Response b =
            registerNode(port, body(token(key, claims(idp.url(), "bob", "bob@example.com"))));
        QCOMPARE(a.status, 200);
        QCOMPARE(b.status, 200);
        const qint64 userId = admin(port, "GET", "users")
                                  .json()
                                  .value("users")
                                  .toArray()[0]
                                  .toObject()
                                  .value("id")
                                  .toInteger();
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        QVERIFY(nodeOf(port, a.json().value("nodeId").toInteger()).value("keyExpiry").toInteger() >
                now);
        QCOMPARE(admin(port, "POST", QStringLiteral("users/%1/disable").arg(userId)).status, 200);
        for (const Response* r : {&a, &b}) {
            const qint64 id = r->json().value("nodeId").toInteger();
            QVERIFY(nodeOf(port, id).value("keyExpiry").toInteger() <= now + 1);
        }
        QVERIFY(admin(port, "GET", "users")
                    .json()
                    .value("users")
                    .toArray()[0]
                    .toObject()
                    .value("disabled")
                    .toBool());
        // Neither its credential nor a new sign-in brings a node back.
        QJsonObject again = first;
        again.remove("idToken");
        again.remove("nonce");
        again["credential"] = a.json().value("credential");
        QCOMPARE(registerNode(port, again).status, 403);
        QCOMPARE(registerNode(port, body(token(key, claims(idp.url(), "bob", "bob@example.com"))))
                     .status,
                 403);
        QCOMPARE(admin(port, "POST", QStringLiteral("users/%1/enable").arg(userId)).status, 200);
        // Enabled again: its expired key wants a fresh sign-in.
        const Response stale = registerNode(port, again);
        QCOMPARE(stale.status, 401);
        QCOMPARE(stale.errorCode(), QStringLiteral("expired"));
        QJsonObject fresh = again;
        fresh["idToken"] =
            QString::fromLatin1(token(key, claims(idp.url(), "bob", "bob@example.com")));
        fresh["nonce"] = "nonce-1";
        QCOMPARE(registerNode(port, fresh).status, 200);
        QCOMPARE(admin(port, "POST", "users/999/disable").status, 404);
        QCOMPARE(admin(port, "GET", QStringLiteral("users/%1/disable").arg(userId)).status, 405);
    }

    void renewingWantsAFreshSignInBySamePerson() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server = start(idp);
        QVERIFY(server);
        QVERIFY(waitKeys(idp));
        const quint16 port = server->port();
        const QJsonObject b = body(token(key, claims(idp.url(), "ada", "ada@example.com")));
        const Response r = registerNode(port, b);
        QCOMPARE(r.status, 200);
        const qint64 expiry = r.json().value("keyExpiry").toInteger();
        QJsonObject byCredential = b;
        byCredential.remove("idToken");
        byCredential.remove("nonce");
        byCredential["credential"] = r.json().value("credential");
        QTest::qWait(1100);
        // The credential keeps the node on, without moving its expiry.
        const Response kept = registerNode(port, byCredential);
        QCOMPARE(kept.status, 200);
        QCOMPARE(kept.json().value("keyExpiry").toInteger(), expiry);
        byCredential["credential"] = kept.json().value("credential");
        // Someone else's sign-in cannot take this node over.
        QJsonObject other = byCredential;
        other["idToken"] =
            QString::fromLatin1(token(key, claims(idp.url(), "eve", "e@example.com")));
        other["nonce"] = "nonce-1";
        const Response takeover = registerNode(port, other);
        QCOMPARE(takeover.status, 403);
        QVERIFY(takeover.body.contains("This device belongs to ada@example.com."));
        // Expired: the credential alone is refused; the same person signing in renews it.
        QCOMPARE(admin(port, "POST",
                       QStringLiteral("nodes/%1/expire").arg(r.json().value("nodeId").toInteger()))
                     .status,
                 200);
        const Response refused = registerNode(port, byCredential);
        QCOMPARE(refused.status, 401);
        QCOMPARE(refused.errorCode(), QStringLiteral("expired"));
        QJsonObject renew = byCredential;
        renew["idToken"] =
            QString::fromLatin1(token(key, claims(idp.url(), "ada", "a@example.com")));
        renew["nonce"] = "nonce-1";
        const Response renewed = registerNode(port, renew);
        QCOMPARE(renewed.status, 200);
        QCOMPARE(renewed.json().value("nodeId"), r.json().value("nodeId"));
        QVERIFY(renewed.json().value("keyExpiry").toInteger() > expiry);
    }

    void infoNamesTheProviderAndTheSecretWhenThereIsOne() {
        FakeIdp idp;
        idp.keys = QJsonArray{key.jwk()};
        auto server =
            start(idp, [](auto& c) { c.oidcClientSecret = QStringLiteral("not-secret"); });
        QVERIFY(server);
        const QJsonObject info =
            httpCall(server->port(), "GET", QStringLiteral("/api/v1/info")).json();
        QCOMPARE(info.value("auth").toArray(), (QJsonArray{"authkey", "oidc"}));
        QCOMPARE(info.value("oidc").toObject(), (QJsonObject{{"issuer", idp.url()},
                                                             {"clientId", kClient},
                                                             {"clientSecret", "not-secret"}}));
        // A node signs itself out: its credential deletes it; a wrong one is 401.
        QVERIFY(waitKeys(idp));
        const Response r = registerNode(
            server->port(), body(token(key, claims(idp.url(), "ada", "ada@example.com"))));
        QCOMPARE(r.status, 200);
        const auto logout = [&](const QString& credential) {
            return httpCall(server->port(), "POST", QStringLiteral("/api/v1/logout"),
                            QJsonDocument(QJsonObject{{"credential", credential}}).toJson());
        };
        QCOMPARE(logout(QStringLiteral("calnet-node-1-wrong")).status, 401);
        const Response out = logout(r.json().value("credential").toString());
        QCOMPARE(out.status, 200);
        QCOMPARE(out.json().value("deleted"), r.json().value("nodeId"));
        QVERIFY(admin(server->port(), "GET", "nodes").json().value("nodes").toArray().isEmpty());
        QCOMPARE(logout(r.json().value("credential").toString()).status, 401); // gone
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
