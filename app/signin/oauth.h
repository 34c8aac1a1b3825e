// The pieces of OAuth 2.0 / OpenID Connect a native app needs to sign in at a provider, pure
// functions without I/O: PKCE (RFC 7636, S256 only), random state and nonce, the provider's
// discovery document (OpenID Connect Discovery 1.0 §3/§4.3), the authorization request for a
// loopback redirect (RFC 8252 §7.3), and reading token endpoint replies (RFC 6749 §5, RFC 8628
// §3.5). The ID token itself is verified by the server; here it is only read for display.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace calnet::signin {

// A high-entropy, URL-safe random string: `bytes` random bytes, base64url without padding.
[[nodiscard]] QString randomToken(int bytes = 32);

// RFC 7636: a 43-character verifier (32 random bytes) and its S256 challenge.
struct Pkce {
    QString verifier;
    QString challenge;
    [[nodiscard]] static Pkce make();
    [[nodiscard]] static QString challengeFor(const QString& verifier); // BASE64URL(SHA256(v))
};

// What a provider's discovery document says about its endpoints.
struct ProviderInfo {
    QString issuer;
    QUrl authorizationEndpoint;
    QUrl tokenEndpoint;
    QUrl deviceAuthorizationEndpoint; // empty when the provider has no device grant
    QStringList codeChallengeMethods; // empty when not published
    // How a client with a secret authenticates at the token endpoint: HTTP Basic (RFC 6749
    // §2.3.1, which every server must support, and the default when none is published), or the
    // secret in the form when that is all the provider lists.
    bool secretInForm = false;
};
// Reads a discovery document: the issuer must be `expectedIssuer` exactly (Discovery §4.3), the
// endpoints https, or http on loopback (a provider on this machine). nullopt and *error (a
// sentence) otherwise.
[[nodiscard]] std::optional<ProviderInfo>
parseDiscovery(const QByteArray& json, const QString& expectedIssuer, QString* error);
[[nodiscard]] QUrl discoveryUrl(const QString& issuer);
// Whether `url` is one a client may send secrets to: https, or http to a loopback host.
[[nodiscard]] bool isSafeEndpoint(const QUrl& url);

// The scopes asked for: the ID token with email and name; a refresh token for silent renewal.
[[nodiscard]] QString signInScopes(bool offlineAccess);

struct AuthorizationRequest {
    QString clientId;
    QString redirectUri; // http://127.0.0.1:PORT/callback
    QString state;
    QString nonce;
    Pkce pkce;
    bool offlineAccess = false; // ask for a refresh token
};
[[nodiscard]] QUrl authorizationUrl(const ProviderInfo& provider, const AuthorizationRequest& r);

// A token endpoint reply (success or error), from its HTTP status and body.
struct TokenReply {
    QString idToken;
    QString accessToken;
    QString refreshToken;
    qint64 expiresIn = 0;
    QString error;            // "" on success; else the OAuth error code (or "bad_reply")
    QString errorDescription; // the provider's words, when it gave any
    [[nodiscard]] bool ok() const { return error.isEmpty(); }
};
[[nodiscard]] TokenReply parseTokenReply(int httpStatus, const QByteArray& body);

// The claims of a JWT read without verifying it (to show who signed in; the server verifies).
[[nodiscard]] QJsonObject unverifiedClaims(const QString& jwt);
// The person's email (else name, else subject) from an ID token, for display.
[[nodiscard]] QString accountName(const QString& idToken);

// The device authorization reply (RFC 8628 §3.2).
struct DeviceAuthorization {
    QString deviceCode;
    QString userCode;
    QUrl verificationUri;
    QUrl verificationUriComplete; // may be empty
    qint64 expiresIn = 0;
    int interval = 5;
};
[[nodiscard]] std::optional<DeviceAuthorization>
parseDeviceAuthorization(int httpStatus, const QByteArray& body, QString* error);

} // namespace calnet::signin
