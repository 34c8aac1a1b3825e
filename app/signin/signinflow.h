// The sign-in flows at an OpenID provider, for the app and calnetctl:
//
//   BrowserSignIn  authorization code with PKCE S256, state and nonce, the browser sent back to
//                  a LoopbackReceiver; the code is exchanged at the token endpoint. Gives up
//                  after 5 minutes (the browser was closed) or on cancel().
//   DeviceSignIn   the device authorization grant (RFC 8628): a code to enter on any device,
//                  the token endpoint polled at the interval the provider asks (slower on
//                  slow_down) until the person has signed in, said no, or the code expired.
//   refreshIdToken a fresh ID token for a refresh token (RFC 6749 §6), for silent renewal.
//
// Each ends with finished(SignInResult) or failed(sentence). They talk to the provider only; the
// ID token goes to calnetd, which registers with the Calnet server.
#pragma once

#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrlQuery>

#include <functional>
#include <memory>
#include <optional>

#include "app/signin/loopbackreceiver.h"
#include "app/signin/oauth.h"

namespace calnet::signin {

// What the Calnet server said about its provider (server.info's "oidc").
struct OidcSettings {
    QString issuer;
    QString clientId;
    QString clientSecret; // only for providers that insist on one from desktop apps
    [[nodiscard]] static std::optional<OidcSettings> fromServerInfo(const QJsonObject& info);
};

struct SignInResult {
    QString idToken;
    QString nonce; // "" for the device grant, which has none
    QString refreshToken;
    QString account; // email (else name) from the ID token, for display
};

// The provider's HTTP: discovery and the token endpoint, each call bounded in time and size.
class ProviderClient : public QObject {
    Q_OBJECT
public:
    explicit ProviderClient(OidcSettings settings, QObject* parent = nullptr);

    using DiscoveryDone = std::function<void(const std::optional<ProviderInfo>&, const QString&)>;
    void discover(DiscoveryDone done);
    using TokenDone = std::function<void(const TokenReply&)>;
    // POST to the token endpoint with the client's name: client_id for a public client; with a
    // secret, HTTP Basic (or client_id and client_secret in the form when discovery lists only
    // client_secret_post).
    void token(const QUrl& endpoint, QUrlQuery form, TokenDone done);
    using RawDone = std::function<void(int status, const QByteArray& body, const QString& error)>;
    void postForm(const QUrl& endpoint, QUrlQuery form, RawDone done);

    [[nodiscard]] const OidcSettings& settings() const { return settings_; }
    static constexpr int kTimeoutMs = 15'000;

private:
    OidcSettings settings_;
    bool secretInForm_ = false; // from discovery: client_secret_post only
    QNetworkAccessManager http_;
};

class BrowserSignIn : public QObject {
    Q_OBJECT
public:
    explicit BrowserSignIn(OidcSettings settings, QObject* parent = nullptr);
    // offlineAccess: ask for a refresh token too (the app keeps it in the keychain).
    void start(bool offlineAccess);
    void cancel();
    [[nodiscard]] QUrl url() const { return url_; } // the authorization URL ("Copy link")
    [[nodiscard]] const LoopbackReceiver& receiver() const { return receiver_; }
    static constexpr int kBrowserTimeoutMs = 5 * 60 * 1000;
    void setBrowserTimeoutForTesting(int ms) { timeoutMs_ = ms; }

signals:
    // Open this in the browser (the receiver is listening by now).
    void browserUrlReady(const QUrl& url);
    void finished(const calnet::signin::SignInResult& result);
    void failed(const QString& message);

private:
    void fail(const QString& message);
    void exchange(const QString& code);

    ProviderClient client_;
    LoopbackReceiver receiver_;
    std::optional<ProviderInfo> provider_;
    AuthorizationRequest request_;
    QUrl url_;
    QTimer timeout_;
    int timeoutMs_ = kBrowserTimeoutMs;
    int run_ = 0; // which start() a discovery answer belongs to
    bool over_ = false;
};

class DeviceSignIn : public QObject {
    Q_OBJECT
public:
    explicit DeviceSignIn(OidcSettings settings, QObject* parent = nullptr);
    void start();
    void cancel();

signals:
    // The provider has no device grant: the caller falls back to BrowserSignIn.
    void unsupported();
    void userCodeReady(const QUrl& verificationUri, const QString& userCode,
                       const QUrl& verificationUriComplete);
    void finished(const calnet::signin::SignInResult& result);
    void failed(const QString& message);

private:
    void poll();
    void fail(const QString& message);

    ProviderClient client_;
    std::optional<ProviderInfo> provider_;
    DeviceAuthorization device_;
    QTimer pollTimer_;
    QElapsedTimer age_;
    bool over_ = false;
};

// A fresh ID token for `refreshToken`; done(reply) with reply.ok() or the provider's error.
void refreshIdToken(ProviderClient* client, const QString& refreshToken,
                    std::function<void(const TokenReply&, const QString& error)> done);

} // namespace calnet::signin

Q_DECLARE_METATYPE(calnet::signin::SignInResult)
