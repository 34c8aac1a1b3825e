// The OpenID provider as the server sees it (server/oidc/provider.h), against a small provider
// served here on loopback: discovery and keys fetched, a token verified; a rotated key fetched
// once on its first unknown kid, and made-up kids refetched for at most once a second and once a
// minute per kid; a provider that names another issuer, or is down, is not trusted and says why.
#include <QTest>

#include "fakeidp.h"
#include "jwttest.h"
#include "server/oidc/provider.h"
#include "servertest.h"

using namespace calnet::server::oidc;
using namespace jwttest;

namespace {

QJsonObject claimsFor(const QString& issuer) {
    QJsonObject c = goodClaims();
    c["iss"] = issuer;
    return c;
}

// Verifies as the server does: at once with the keys at hand, and once more after a refetch
// the first attempt started (the client's "try again").
Verified verifyNow(Provider& p, const QByteArray& token) {
    bool refetching = false;
    Verified v = p.verifyCached(token, QStringLiteral("n-0S6_WzA2Mj"), kNow, &refetching);
    if (!refetching)
        return v;
    QElapsedTimer t;
    t.start();
    while (p.fetching() && t.elapsed() < 5000)
        QTest::qWait(10);
    return p.verifyCached(token, QStringLiteral("n-0S6_WzA2Mj"), kNow, &refetching);
}

bool waitReady(Provider& p) {
    QElapsedTimer t;
    t.start();
    while (!p.ready() && t.elapsed() < 5000)
        QTest::qWait(10);
    return p.ready();
}

} // namespace

class TestOidcProvider : public QObject {
    Q_OBJECT
private:
    TestKey first{false, QStringLiteral("k1")};
    TestKey second{true, QStringLiteral("k2")};

    Provider::Options options(const FakeIdp& f) {
        Provider::Options o;
        o.issuer = f.url();
        o.clientId = kClient;
        o.retryMinMs = 200;
        return o;
    }

private slots:
    void discoveryKeysAndRotation() {
        FakeIdp f;
        f.keys = QJsonArray{first.jwk()};
        Provider p(options(f));
        p.start();
        QVERIFY(waitReady(p));
        QCOMPARE(p.endpoints().authorization, f.url() + "/auth");
        QCOMPARE(p.endpoints().deviceAuthorization, f.url() + "/device");
        const Verified good = verifyNow(p, token(first, claimsFor(f.url())));
        QVERIFY2(good.error == TokenError::None, qPrintable(good.message));
        QCOMPARE(good.claims->email, QStringLiteral("ada@example.com"));
        QCOMPARE(f.jwksFetches, 1);
        // The provider rotates: the first token with the new kid fetches the keys once.
        f.keys = QJsonArray{second.jwk()};
        Provider::Options o = options(f);
        o.jwksRefetchMinMs = 0;
        Provider rotating(o);
        rotating.start();
        QVERIFY(waitReady(rotating));
        f.keys = QJsonArray{first.jwk(), second.jwk()};
        const int before = f.jwksFetches;
        const Verified rotated = verifyNow(rotating, token(first, claimsFor(f.url())));
        QVERIFY2(rotated.error == TokenError::None, qPrintable(rotated.message));
        QCOMPARE(f.jwksFetches, before + 1);
    }

    void madeUpKidsDoNotHammer() {
        FakeIdp f;
        f.keys = QJsonArray{first.jwk()};
        Provider p(options(f)); // a refetch a second at most, one a minute per kid
        p.start();
        QVERIFY(waitReady(p));
        QCOMPARE(f.jwksFetches, 1);
        TestKey stranger(true, QStringLiteral("made-up"));
        QCOMPARE(verifyNow(p, token(stranger, claimsFor(f.url()))).error, TokenError::UnknownKey);
        QCOMPARE(f.jwksFetches, 1); // the keys are under a second old
        QTest::qWait(1100);
        for (int i = 0; i < 20; ++i)
            QCOMPARE(verifyNow(p, token(stranger, claimsFor(f.url()))).error,
                     TokenError::UnknownKey);
        QCOMPARE(f.jwksFetches, 2); // once for the new kid, not for its repeats
        QTest::qWait(1100);
        QCOMPARE(verifyNow(p, token(stranger, claimsFor(f.url()))).error, TokenError::UnknownKey);
        QCOMPARE(f.jwksFetches, 2); // that kid was asked for under a minute ago
    }

    void anotherIssuerIsNotTrusted() {
        FakeIdp f;
        f.keys = QJsonArray{first.jwk()};
        f.issuerClaim = QStringLiteral("https://evil.example");
        Provider p(options(f));
        p.start();
        QTRY_VERIFY_WITH_TIMEOUT(!p.lastError().isEmpty(), 5000);
        QVERIFY(!p.ready());
        QVERIFY(p.lastError().contains(QStringLiteral("evil.example")));
        QCOMPARE(f.jwksFetches, 0);
        const Verified v = verifyNow(p, token(first, claimsFor(f.url())));
        QVERIFY(v.error != TokenError::None);
        QVERIFY(!v.claims);
    }

    // A server with --oidc-issuer says so in /api/v1/info: clients need only its URL.
    void infoAdvertisesSignIn() {
        FakeIdp f;
        f.keys = QJsonArray{first.jwk()};
        QTemporaryDir dir;
        auto config = servertest::testConfig(QStringLiteral("sqlite:") + dir.filePath("db"));
        config.oidcIssuer = f.url();
        config.oidcClientId = kClient;
        auto server = servertest::startInProcess(config);
        QVERIFY(server);
        const QJsonObject info =
            servertest::httpCall(server->port(), "GET", QStringLiteral("/api/v1/info")).json();
        QCOMPARE(info.value("auth").toArray(), (QJsonArray{"authkey", "oidc"}));
        QCOMPARE(info.value("oidc").toObject().value("issuer").toString(), f.url());
        QCOMPARE(info.value("oidc").toObject().value("clientId").toString(), kClient);
        QTRY_COMPARE_WITH_TIMEOUT(f.jwksFetches, 1, 5000); // discovery and keys at start
        // Without: authkeys only.
        auto plain = servertest::startInProcess(
            servertest::testConfig(QStringLiteral("sqlite:") + dir.filePath("db2")));
        QVERIFY(plain);
        const QJsonObject plainInfo =
            servertest::httpCall(plain->port(), "GET", QStringLiteral("/api/v1/info")).json();
        QCOMPARE(plainInfo.value("auth").toArray(), QJsonArray{"authkey"});
        QVERIFY(plainInfo.value("oidc").isNull());
    }

    void downThenUp() {
        FakeIdp f;
        f.keys = QJsonArray{first.jwk()};
        f.down = true;
        Provider p(options(f));
        p.start();
        QTRY_VERIFY_WITH_TIMEOUT(p.lastError().contains(QStringLiteral("503")), 5000);
        const Verified v = verifyNow(p, token(first, claimsFor(f.url())));
        QVERIFY(v.error != TokenError::None);
        QVERIFY(v.message.contains(QStringLiteral("cannot be reached")));
        f.down = false;
        QVERIFY(waitReady(p)); // retried after 200 ms, 400 ms, …
        QVERIFY(p.lastError().isEmpty());
        QCOMPARE(verifyNow(p, token(first, claimsFor(f.url()))).error, TokenError::None);
    }
};

QTEST_MAIN(TestOidcProvider)
#include "tst_oidcprovider.moc"
