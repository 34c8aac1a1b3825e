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

using namespace calnet::signin;

namespace {

QByteArray b64(const QByteArray& raw) {
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// An unsigned JWT-shaped token: the client only reads it; the server verifies real ones.
QString fakeJwt(const QJsonObject& claims) {
    return QString::fromLatin1(b64(R"({"alg":"RS256","kid":"k"})") + '.' +
                               b64(QJsonDocument(claims).toJson(QJsonDocument::Compact)) + ".c2ln");
}

struct RawResponse {
    int status = 0;
    QByteArray body;
};

// One raw HTTP request to 127.0.0.1:port with the Host header given; waits at most 5 s.
RawResponse rawGet(quint16 port, const QByteArray& target, const QByteArray& host) {
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(5000))
        return {};
    s.write("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    QByteArray all;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 5000 && s.state() == QAbstractSocket::ConnectedState) {
        QCoreApplication::processEvents();
        if (s.waitForReadyRead(50))
            all += s.readAll();
    }
    all += s.readAll();
    RawResponse r;
    r.status = all.mid(9, 3).toInt();
    r.body = all.mid(all.indexOf("\r\n\r\n") + 4);
    return r;
}

RawResponse callback(const LoopbackReceiver& rx, const QByteArray& query) {
    const QByteArray port = QByteArray::number(rx.port());
    return rawGet(rx.port(), "/callback?" + query, "127.0.0.1:" + port);
}

// A provider on 127.0.0.1: discovery, an authorize endpoint the "browser" follows by hand, a
// token endpoint for codes (PKCE checked), refresh tokens and device codes (scripted answers).
class FakeProvider : public QObject {
public:
    FakeProvider() {
        server_.listen(QHostAddress::LocalHost, 0);
        connect(&server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = server_.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] { serve(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(server_.serverPort()); }
    OidcSettings settings() const { return {url(), QStringLiteral("calnet-desktop"), {}}; }

    bool device = true;
    std::deque<QByteArray> devicePolls; // OAuth error codes to answer before the tokens
    int polls = 0;
    QString challenge; // from the authorization request the test followed
    QString nonce;
    QString lastVerifier;
    QUrlQuery lastTokenForm;

private:
    void serve(QTcpSocket* s) {
        buffer_ += s->readAll();
        const qsizetype end = buffer_.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buffer_.left(end);
        const qsizetype length = head.toLower().indexOf("content-length:") >= 0
                                     ? head.mid(head.toLower().indexOf("content-length:") + 15)
                                           .split('\r')
                                           .value(0)
                                           .trimmed()
                                           .toLongLong()
                                     : 0;
        if (buffer_.size() < end + 4 + length)
            return;
        const QByteArray body = buffer_.mid(end + 4, length);
        buffer_.clear();
        const QByteArray path = head.split(' ').value(1).split('?').value(0);
        int status = 200;
        QJsonObject reply;
        if (path == "/.well-known/openid-configuration") {
            reply = {{"issuer", url()},
                     {"authorization_endpoint", url() + "/auth"},
                     {"token_endpoint", url() + "/token"},
                     {"code_challenge_methods_supported", QJsonArray{"S256"}}};
            if (device)
                reply.insert("device_authorization_endpoint", url() + "/device");
        } else if (path == "/device") {
            reply = {{"device_code", "dev-123"},
                     {"user_code", "WDJB-MJHT"},
                     {"verification_uri", url() + "/activate"},
                     {"expires_in", 600},
                     {"interval", 1}};
        } else if (path == "/token") {
            const QUrlQuery form(QString::fromUtf8(body));
            lastTokenForm = form;
            const QString grant = form.queryItemValue("grant_type", QUrl::FullyDecoded);
            if (grant == "authorization_code") {
                lastVerifier = form.queryItemValue("code_verifier", QUrl::FullyDecoded);
                if (form.queryItemValue("code") != "code-42" ||
                    Pkce::challengeFor(lastVerifier) != challenge) {
                    status = 400;
                    reply = {{"error", "invalid_grant"}, {"error_description", "PKCE mismatch"}};
                } else {
                    reply = tokens(nonce);
                }
            } else if (grant == "urn:ietf:params:oauth:grant-type:device_code") {
                ++polls;
                if (!devicePolls.empty()) {
                    status = 400;
                    reply = {{"error", QString::fromLatin1(devicePolls.front())}};
                    devicePolls.pop_front();
                } else {
                    reply = tokens({});
                }
            } else if (grant == "refresh_token") {
                if (form.queryItemValue("refresh_token") == "refresh-1") {
                    reply = tokens({});
                } else {
                    status = 400;
                    reply = {{"error", "invalid_grant"}};
                }
            }
        } else {
            status = 404;
        }
        const QByteArray out = QJsonDocument(reply).toJson(QJsonDocument::Compact);
        s->write("HTTP/1.1 " + QByteArray::number(status) +
                 " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                 QByteArray::number(out.size()) + "\r\n\r\n" + out);
        s->disconnectFromHost();
    }
    QJsonObject tokens(const QString& withNonce) const {
        QJsonObject claims{{"iss", url()}, {"sub", "ada"}, {"email", "ada@example.com"}};
        if (!withNonce.isEmpty())
            claims.insert("nonce", withNonce);
        return {{"id_token", fakeJwt(claims)},
                {"access_token", "at"},
                {"refresh_token", "refresh-1"},
                {"expires_in", 300},
                {"token_type", "Bearer"}};
    }
    QTcpServer server_;
    QByteArray buffer_;
};

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
