// The sign-in pieces of app/signin: PKCE against RFC 7636's own example, the authorization URL,
// discovery and token replies read strictly, the loopback receiver against bad callbacks (wrong
// state, no code, another Host port, another path, a second request, the provider's "no"), and
// the browser and device flows end to end against a small provider served here on loopback
// whose token endpoint checks the PKCE verifier against the challenge it was given.
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUrlQuery>

#include <deque>

#include "app/signin/loopbackreceiver.h"
#include "app/signin/oauth.h"
#include "app/signin/signinflow.h"
#include "fakeprovider.h"

using namespace calnet::signin;

namespace {

using calnet::test::fakeJwt;
using calnet::test::FakeProvider;
using calnet::test::rawGet;
using calnet::test::RawResponse;

RawResponse callback(const LoopbackReceiver& rx, const QByteArray& query) {
    const QByteArray port = QByteArray::number(rx.port());
    return rawGet(rx.port(), "/callback?" + query, "127.0.0.1:" + port);
}

} // namespace

class TestSignIn : public QObject {
    Q_OBJECT
private slots:
    void pkceMatchesRfc7636() {
        // RFC 7636 Appendix B.
        QCOMPARE(Pkce::challengeFor(QStringLiteral("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
                 QStringLiteral("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        const Pkce a = Pkce::make();
        const Pkce b = Pkce::make();
        QCOMPARE(a.verifier.size(), 43); // 32 bytes, base64url, no padding
        QVERIFY(a.verifier != b.verifier);
        QCOMPARE(a.challenge, Pkce::challengeFor(a.verifier));
        QVERIFY(randomToken() != randomToken());
    }

    void authorizationUrlCarriesEverything() {
        ProviderInfo p;
        p.authorizationEndpoint = QUrl("https://idp.example/authorize?tenant=a+b");
        AuthorizationRequest r;
        r.clientId = "calnet desktop";
        r.redirectUri = "http://127.0.0.1:5555/callback";
        r.state = "st";
        r.nonce = "no+nce";
        r.pkce = Pkce::make();
        const QUrlQuery q(authorizationUrl(p, r));
        QCOMPARE(q.queryItemValue("response_type"), QStringLiteral("code"));
        QCOMPARE(q.queryItemValue("client_id", QUrl::FullyDecoded),
                 QStringLiteral("calnet desktop"));
        QCOMPARE(q.queryItemValue("redirect_uri", QUrl::FullyDecoded), r.redirectUri);
        QCOMPARE(q.queryItemValue("state"), QStringLiteral("st"));
        QCOMPARE(q.queryItemValue("nonce", QUrl::FullyDecoded), QStringLiteral("no+nce"));
        QCOMPARE(q.queryItemValue("code_challenge"), r.pkce.challenge);
        QCOMPARE(q.queryItemValue("code_challenge_method"), QStringLiteral("S256"));
        QCOMPARE(q.queryItemValue("scope", QUrl::FullyDecoded),
                 QStringLiteral("openid email profile"));
        QVERIFY(q.hasQueryItem("tenant"));
        QVERIFY(!q.hasQueryItem("code_verifier")); // the verifier never leaves the app
    }

    void discoveryIsReadStrictly() {
        QString error;
        const QByteArray good =
            R"({"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/a",)"
            R"("token_endpoint":"https://idp.example/t",)"
            R"("device_authorization_endpoint":"https://idp.example/d"})";
        const auto p = parseDiscovery(good, "https://idp.example", &error);
        QVERIFY2(p, qPrintable(error));
        QCOMPARE(p->deviceAuthorizationEndpoint, QUrl("https://idp.example/d"));
        QVERIFY(!parseDiscovery(good, "https://other.example", &error));
        QVERIFY(error.contains("calls itself"));
        const QByteArray httpOffLoopback = "{\"issuer\":\"https://i\",\"authorization_endpoint\":"
                                           "\"http://i/a\",\"token_endpoint\":\"https://i/t\"}";
        QVERIFY(!parseDiscovery(httpOffLoopback, "https://i", &error));
        const QByteArray plainOnly = "{\"issuer\":\"https://i\",\"authorization_endpoint\":"
                                     "\"https://i/a\",\"token_endpoint\":\"https://i/t\","
                                     "\"code_challenge_methods_supported\":[\"plain\"]}";
        QVERIFY(!parseDiscovery(plainOnly, "https://i", &error));
        QVERIFY(error.contains("S256"));
        QVERIFY(!parseDiscovery("not json", "https://i", &error));
        const QByteArray loopback = "{\"issuer\":\"http://127.0.0.1:9\",\"authorization_endpoint\":"
                                    "\"http://127.0.0.1:9/a\",\"token_endpoint\":"
                                    "\"http://127.0.0.1:9/t\"}";
        QVERIFY(parseDiscovery(loopback, "http://127.0.0.1:9", &error));
    }

    void tokenRepliesAreRead() {
        const TokenReply ok =
            parseTokenReply(200, R"({"id_token":"a.b.c","refresh_token":"r","expires_in":60})");
        QVERIFY(ok.ok());
        QCOMPARE(ok.refreshToken, QStringLiteral("r"));
        const TokenReply denied =
            parseTokenReply(400, R"({"error":"invalid_grant","error_description":"used"})");
        QCOMPARE(denied.error, QStringLiteral("invalid_grant"));
        QCOMPARE(denied.errorDescription, QStringLiteral("used"));
        QCOMPARE(parseTokenReply(502, "<html>").error, QStringLiteral("bad_reply"));
        QCOMPARE(parseTokenReply(200, R"({"access_token":"x"})").error,
                 QStringLiteral("bad_reply")); // no ID token
        QCOMPARE(accountName(fakeJwt({{"sub", "s"}, {"email", "e@x"}})), QStringLiteral("e@x"));
        QCOMPARE(accountName(fakeJwt({{"sub", "s"}})), QStringLiteral("s"));
        QCOMPARE(accountName("garbage"), QString());
    }

    void receiverTakesOnlyItsCallback() {
        LoopbackReceiver rx;
        QString error;
        QVERIFY(rx.listen("the-state", &error));
        QSignalSpy codes(&rx, &LoopbackReceiver::codeReceived);
        QSignalSpy failures(&rx, &LoopbackReceiver::failed);
        QVERIFY(rx.redirectUri().startsWith("http://127.0.0.1:"));
        // Wrong state, no state, another Host port, another path: refused, still waiting.
        QCOMPARE(callback(rx, "code=x&state=wrong").status, 400);
        QCOMPARE(callback(rx, "code=x").status, 400);
        QCOMPARE(rawGet(rx.port(), "/callback?code=x&state=the-state", "127.0.0.1:1").status, 400);
        QCOMPARE(rawGet(rx.port(), "/callback?code=x&state=the-state", "evil.example").status, 400);
        QCOMPARE(
            rawGet(rx.port(), "/favicon.ico", "127.0.0.1:" + QByteArray::number(rx.port())).status,
            404);
        QCOMPARE(codes.size(), 0);
        QCOMPARE(failures.size(), 0);
        QVERIFY(rx.isListening());
        // The right one.
        const RawResponse done = callback(rx, "code=abc%2Bdef&state=the-state");
        QCOMPARE(done.status, 200);
        QVERIFY(done.body.contains("You can close this tab"));
        QCOMPARE(codes.size(), 1);
        QCOMPARE(codes[0][0].toString(), QStringLiteral("abc+def"));
        // A second request finds nobody.
        QVERIFY(!rx.isListening());
        QCOMPARE(callback(rx, "code=again&state=the-state").status, 0);
        QCOMPARE(codes.size(), 1);
    }

    void callbackParsing() {
        using K = Callback::Kind;
        auto kind = [](const QByteArray& head) {
            return parseCallback(head, 4321, QStringLiteral("st")).kind;
        };
        const QByteArray host = "\r\nHost: 127.0.0.1:4321";
        QCOMPARE(kind("GET /callback?code=c&state=st HTTP/1.1" + host), K::Code);
        QCOMPARE(
            parseCallback("GET /callback?code=a%2Bb&state=st HTTP/1.1" + host, 4321, "st").code,
            QStringLiteral("a+b"));
        QCOMPARE(kind("GET /callback?state=st HTTP/1.1" + host), K::NoCode);
        QCOMPARE(kind("GET /callback?error=access_denied&state=st HTTP/1.1" + host),
                 K::ProviderError);
        // Not ours, or not the way a browser sends it.
        QCOMPARE(kind("GET /callback?code=c&state=st&state=st HTTP/1.1" + host), K::WrongState);
        QCOMPARE(kind("GET /callback?code=c&code=d&state=st HTTP/1.1" + host), K::WrongState);
        QCOMPARE(kind("GET /callback?code=c&state=ST HTTP/1.1" + host), K::WrongState);
        QCOMPARE(kind("GET /callback?code=c&state=st HTTP/1.1" + host + "\r\nHOST: evil"),
                 K::WrongHost);
        QCOMPARE(kind("GET /callback?code=c&state=st HTTP/1.1\r\nHost: localhost:4321"),
                 K::WrongHost);
        QCOMPARE(kind("GET /callback?code=c&state=st HTTP/1.1"), K::WrongHost);
        QCOMPARE(kind("GET http://127.0.0.1:4321/callback?code=c&state=st HTTP/1.1" + host),
                 K::NotFound);
        QCOMPARE(kind("GET /%63allback?code=c&state=st HTTP/1.1" + host), K::NotFound);
        QCOMPARE(kind(" GET /callback?code=c&state=st HTTP/1.1" + host), K::BadRequest);
        QCOMPARE(kind("POST /callback?code=c&state=st HTTP/1.1" + host), K::BadRequest);
        QCOMPARE(kind("GET /callback?code=\xe5&state=st HTTP/1.1" + host), K::BadRequest);
        QCOMPARE(kind("GET /callback?code=c&state=st HTTP/2" + host), K::BadRequest);
    }

    void receiverReportsTheProvidersNo() {
        LoopbackReceiver rx;
        QString error;
        QVERIFY(rx.listen("s", &error));
        QSignalSpy failures(&rx, &LoopbackReceiver::failed);
        QCOMPARE(callback(rx, "error=access_denied&state=s").status, 400);
        QCOMPARE(failures.size(), 1);
        QVERIFY(failures[0][0].toString().contains("cancelled"));

        LoopbackReceiver noCode;
        QVERIFY(noCode.listen("s", &error));
        QSignalSpy broken(&noCode, &LoopbackReceiver::failed);
        QCOMPARE(callback(noCode, "state=s").status, 400);
        QCOMPARE(broken.size(), 1);
        QVERIFY(broken[0][0].toString().contains("without a sign-in code"));
    }

    void browserFlowEndToEnd() {
        FakeProvider idp;
        BrowserSignIn flow(idp.settings());
        QSignalSpy urls(&flow, &BrowserSignIn::browserUrlReady);
        QSignalSpy done(&flow, &BrowserSignIn::finished);
        QSignalSpy failed(&flow, &BrowserSignIn::failed);
        flow.start(true);
        QVERIFY(urls.wait(5000));
        // The "browser": the provider would log the person in, then redirect with a code.
        const QUrlQuery q(urls[0][0].toUrl());
        QCOMPARE(q.queryItemValue("scope", QUrl::FullyDecoded),
                 QStringLiteral("openid email profile offline_access"));
        idp.challenge = q.queryItemValue("code_challenge");
        idp.nonce = q.queryItemValue("nonce");
        const QUrl redirect(q.queryItemValue("redirect_uri", QUrl::FullyDecoded));
        QCOMPARE(redirect.host(), QStringLiteral("127.0.0.1"));
        const RawResponse page =
            rawGet(quint16(redirect.port()),
                   "/callback?code=code-42&state=" + q.queryItemValue("state").toLatin1(),
                   "127.0.0.1:" + QByteArray::number(redirect.port()));
        QCOMPARE(page.status, 200);
        QVERIFY(done.wait(5000));
        QCOMPARE(failed.size(), 0);
        const auto result = done[0][0].value<SignInResult>();
        QCOMPARE(result.account, QStringLiteral("ada@example.com"));
        QCOMPARE(result.nonce, idp.nonce);
        QCOMPARE(result.refreshToken, QStringLiteral("refresh-1"));
        QCOMPARE(idp.lastTokenForm.queryItemValue("redirect_uri", QUrl::FullyDecoded),
                 redirect.toString());
        QCOMPARE(Pkce::challengeFor(idp.lastVerifier), idp.challenge);
    }

    void browserFlowRefusesAnotherSignInsToken() {
        FakeProvider idp;
        BrowserSignIn flow(idp.settings());
        QSignalSpy urls(&flow, &BrowserSignIn::browserUrlReady);
        QSignalSpy failed(&flow, &BrowserSignIn::failed);
        flow.start(false);
        QVERIFY(urls.wait(5000));
        const QUrlQuery q(urls[0][0].toUrl());
        idp.challenge = q.queryItemValue("code_challenge");
        idp.nonce = "someone-elses-nonce";
        const QUrl redirect(q.queryItemValue("redirect_uri", QUrl::FullyDecoded));
        rawGet(quint16(redirect.port()),
               "/callback?code=code-42&state=" + q.queryItemValue("state").toLatin1(),
               "127.0.0.1:" + QByteArray::number(redirect.port()));
        QVERIFY(failed.wait(5000));
        QVERIFY(failed[0][0].toString().contains("another sign-in"));
    }

    void browserFlowGivesUp() {
        FakeProvider idp;
        BrowserSignIn flow(idp.settings());
        flow.setBrowserTimeoutForTesting(300);
        QSignalSpy failed(&flow, &BrowserSignIn::failed);
        flow.start(false);
        QVERIFY(failed.wait(5000));
        QVERIFY(failed[0][0].toString().contains("did not come back"));
        QVERIFY(!flow.receiver().isListening());
        // An unreachable provider says so.
        BrowserSignIn nowhere(OidcSettings{"http://127.0.0.1:1", "c", {}});
        QSignalSpy unreachable(&nowhere, &BrowserSignIn::failed);
        nowhere.start(false);
        QVERIFY(unreachable.wait(20000));
        QVERIFY(unreachable[0][0].toString().contains("Cannot reach the identity provider"));
    }

    void deviceFlowPollsAsAsked() {
        FakeProvider idp;
        idp.devicePolls = {"authorization_pending", "slow_down"};
        DeviceSignIn flow(idp.settings());
        QSignalSpy codes(&flow, &DeviceSignIn::userCodeReady);
        QSignalSpy done(&flow, &DeviceSignIn::finished);
        flow.start();
        QVERIFY(codes.wait(5000));
        QCOMPARE(codes[0][1].toString(), QStringLiteral("WDJB-MJHT"));
        QElapsedTimer t;
        t.start();
        QVERIFY(done.wait(15000));
        // 1 s, 1 s, then 6 s after slow_down.
        QVERIFY2(t.elapsed() >= 7000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(idp.polls, 3);
        QCOMPARE(done[0][0].value<SignInResult>().account, QStringLiteral("ada@example.com"));
        QCOMPARE(done[0][0].value<SignInResult>().nonce, QString());
    }

    void deviceFlowEndsOnNo() {
        FakeProvider idp;
        idp.devicePolls = {"access_denied"};
        DeviceSignIn flow(idp.settings());
        QSignalSpy failed(&flow, &DeviceSignIn::failed);
        flow.start();
        QVERIFY(failed.wait(5000));
        QVERIFY(failed[0][0].toString().contains("refused"));
        FakeProvider noDevice;
        noDevice.device = false;
        DeviceSignIn fallback(noDevice.settings());
        QSignalSpy unsupported(&fallback, &DeviceSignIn::unsupported);
        fallback.start();
        QVERIFY(unsupported.wait(5000));
    }

    void refreshGivesAFreshIdToken() {
        FakeProvider idp;
        ProviderClient client(idp.settings());
        bool called = false;
        TokenReply got;
        QString why;
        refreshIdToken(&client, "refresh-1", [&](const TokenReply& r, const QString& e) {
            called = true;
            got = r;
            why = e;
        });
        QTRY_VERIFY_WITH_TIMEOUT(called, 5000);
        QVERIFY2(got.ok(), qPrintable(why));
        QCOMPARE(idp.lastTokenForm.queryItemValue("client_id"), QStringLiteral("calnet-desktop"));
        called = false;
        refreshIdToken(&client, "revoked", [&](const TokenReply& r, const QString& e) {
            called = true;
            got = r;
            why = e;
        });
        QTRY_VERIFY_WITH_TIMEOUT(called, 5000);
        QVERIFY(!got.ok());
        QVERIFY(why.contains("Sign in again"));
    }

    void aClientWithASecretAuthenticatesAsTheProviderSays() {
        for (const bool postOnly : {false, true}) {
            FakeProvider idp;
            idp.secret = QStringLiteral("s3cret:+/");
            idp.postOnly = postOnly;
            OidcSettings settings = idp.settings();
            settings.clientSecret = idp.secret;
            ProviderClient client(settings);
            bool called = false;
            TokenReply got;
            QString why;
            refreshIdToken(&client, "refresh-1", [&](const TokenReply& r, const QString& e) {
                called = true;
                got = r;
                why = e;
            });
            QTRY_VERIFY_WITH_TIMEOUT(called, 5000);
            QVERIFY2(got.ok(), qPrintable(why)); // HTTP Basic by default, the form when post-only
            // The wrong secret is refused, and said so.
            settings.clientSecret = QStringLiteral("wrong");
            ProviderClient wrong(settings);
            called = false;
            refreshIdToken(&wrong, "refresh-1", [&](const TokenReply& r, const QString& e) {
                called = true;
                got = r;
                why = e;
            });
            QTRY_VERIFY_WITH_TIMEOUT(called, 5000);
            QCOMPARE(got.error, QStringLiteral("invalid_client"));
        }
    }

    void serverInfoSettings() {
        QVERIFY(!OidcSettings::fromServerInfo({{"auth", QJsonArray{"authkey"}}}));
        const auto s = OidcSettings::fromServerInfo(
            {{"oidc", QJsonObject{{"issuer", "https://idp.example"}, {"clientId", "c"}}}});
        QVERIFY(s);
        QCOMPARE(s->clientId, QStringLiteral("c"));
        QVERIFY(!OidcSettings::fromServerInfo(
            {{"oidc", QJsonObject{{"issuer", "http://idp.example"}, {"clientId", "c"}}}}));
    }
};

QTEST_MAIN(TestSignIn)
#include "tst_signin.moc"
