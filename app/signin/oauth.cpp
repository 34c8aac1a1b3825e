#include "app/signin/oauth.h"

#include <QCryptographicHash>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QUrlQuery>

namespace calnet::signin {

namespace {

constexpr auto kBase64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

bool isLoopbackHost(const QString& host) {
    return host == QLatin1String("localhost") || QHostAddress(host).isLoopback();
}

} // namespace

QString randomToken(int bytes) {
    QByteArray raw(bytes, Qt::Uninitialized);
    // QRandomGenerator::system() is the operating system's CSPRNG (getrandom on Linux).
    QRandomGenerator::system()->generate(raw.begin(), raw.end());
    return QString::fromLatin1(raw.toBase64(kBase64Url));
}

Pkce Pkce::make() {
    Pkce p;
    p.verifier = randomToken(32);
    p.challenge = challengeFor(p.verifier);
    return p;
}

QString Pkce::challengeFor(const QString& verifier) {
    return QString::fromLatin1(
        QCryptographicHash::hash(verifier.toLatin1(), QCryptographicHash::Sha256)
            .toBase64(kBase64Url));
}

bool isSafeEndpoint(const QUrl& url) {
    if (!url.isValid() || url.host().isEmpty() || !url.userInfo().isEmpty())
        return false;
    return url.scheme() == QLatin1String("https") ||
           (url.scheme() == QLatin1String("http") && isLoopbackHost(url.host()));
}

QUrl discoveryUrl(const QString& issuer) {
    QString base = issuer;
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return QUrl(base + QStringLiteral("/.well-known/openid-configuration"));
}

std::optional<ProviderInfo> parseDiscovery(const QByteArray& json, const QString& expectedIssuer,
                                           QString* error) {
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    if (o.isEmpty()) {
        *error = QStringLiteral("The identity provider's discovery document is not JSON.");
        return std::nullopt;
    }
    ProviderInfo p;
    p.issuer = o.value(QStringLiteral("issuer")).toString();
    if (p.issuer != expectedIssuer) {
        *error = QStringLiteral("The identity provider calls itself %1, not %2.")
                     .arg(p.issuer, expectedIssuer);
        return std::nullopt;
    }
    p.authorizationEndpoint = QUrl(o.value(QStringLiteral("authorization_endpoint")).toString());
    p.tokenEndpoint = QUrl(o.value(QStringLiteral("token_endpoint")).toString());
    const QString device = o.value(QStringLiteral("device_authorization_endpoint")).toString();
    if (!device.isEmpty())
        p.deviceAuthorizationEndpoint = QUrl(device);
    for (const QJsonValue& v :
         o.value(QStringLiteral("code_challenge_methods_supported")).toArray())
        p.codeChallengeMethods << v.toString();
    QStringList authMethods;
    for (const QJsonValue& v :
         o.value(QStringLiteral("token_endpoint_auth_methods_supported")).toArray())
        authMethods << v.toString();
    p.secretInForm = !authMethods.isEmpty() &&
                     !authMethods.contains(QStringLiteral("client_secret_basic")) &&
                     authMethods.contains(QStringLiteral("client_secret_post"));
    if (!isSafeEndpoint(p.authorizationEndpoint) || !isSafeEndpoint(p.tokenEndpoint) ||
        (!p.deviceAuthorizationEndpoint.isEmpty() &&
         !isSafeEndpoint(p.deviceAuthorizationEndpoint))) {
        *error = QStringLiteral("The identity provider's endpoints are missing or not https.");
        return std::nullopt;
    }
    if (!p.codeChallengeMethods.isEmpty() &&
        !p.codeChallengeMethods.contains(QStringLiteral("S256"))) {
        *error = QStringLiteral("The identity provider does not offer PKCE with S256.");
        return std::nullopt;
    }
    return p;
}

QString signInScopes(bool offlineAccess) {
    return offlineAccess ? QStringLiteral("openid email profile offline_access")
                         : QStringLiteral("openid email profile");
}

QUrl authorizationUrl(const ProviderInfo& provider, const AuthorizationRequest& r) {
    QUrl url = provider.authorizationEndpoint;
    QUrlQuery q(url); // keep what the endpoint URL already carries
    q.addQueryItem(QStringLiteral("response_type"), QStringLiteral("code"));
    q.addQueryItem(QStringLiteral("client_id"), r.clientId);
    q.addQueryItem(QStringLiteral("redirect_uri"), r.redirectUri);
    q.addQueryItem(QStringLiteral("scope"), signInScopes(r.offlineAccess));
    q.addQueryItem(QStringLiteral("state"), r.state);
    q.addQueryItem(QStringLiteral("nonce"), r.nonce);
    q.addQueryItem(QStringLiteral("code_challenge"), r.pkce.challenge);
    q.addQueryItem(QStringLiteral("code_challenge_method"), QStringLiteral("S256"));
    if (r.offlineAccess)
        q.addQueryItem(QStringLiteral("prompt"), QStringLiteral("consent"));
    // Every reserved character encoded: a '+' in a value must not read as a space.
    QString encoded;
    for (const auto& [key, value] : q.queryItems(QUrl::FullyDecoded)) {
        if (!encoded.isEmpty())
            encoded += QLatin1Char('&');
        encoded += QString::fromLatin1(QUrl::toPercentEncoding(key)) + QLatin1Char('=') +
                   QString::fromLatin1(QUrl::toPercentEncoding(value));
    }
    url.setQuery(encoded, QUrl::StrictMode);
    return url;
}

TokenReply parseTokenReply(int httpStatus, const QByteArray& body) {
    TokenReply r;
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (httpStatus != 200) {
        r.error = o.value(QStringLiteral("error")).toString();
        r.errorDescription = o.value(QStringLiteral("error_description")).toString();
        if (r.error.isEmpty()) {
            r.error = QStringLiteral("bad_reply");
            r.errorDescription =
                QStringLiteral("the token endpoint answered HTTP %1").arg(httpStatus);
        }
        return r;
    }
    r.idToken = o.value(QStringLiteral("id_token")).toString();
    r.accessToken = o.value(QStringLiteral("access_token")).toString();
    r.refreshToken = o.value(QStringLiteral("refresh_token")).toString();
    r.expiresIn = o.value(QStringLiteral("expires_in")).toInteger(0);
    if (r.idToken.isEmpty()) {
        r.error = QStringLiteral("bad_reply");
        r.errorDescription = QStringLiteral("the identity provider sent no ID token");
    }
    return r;
}

QJsonObject unverifiedClaims(const QString& jwt) {
    const QStringList parts = jwt.split(QLatin1Char('.'));
    if (parts.size() != 3)
        return {};
    const auto decoded = QByteArray::fromBase64Encoding(
        parts[1].toLatin1(),
        QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return {};
    return QJsonDocument::fromJson(*decoded).object();
}

QString accountName(const QString& idToken) {
    const QJsonObject c = unverifiedClaims(idToken);
    for (const char* key : {"email", "name", "preferred_username", "sub"}) {
        const QString v = c.value(QLatin1String(key)).toString();
        if (!v.isEmpty())
            return v;
    }
    return {};
}

std::optional<DeviceAuthorization> parseDeviceAuthorization(int httpStatus, const QByteArray& body,
                                                            QString* error) {
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (httpStatus != 200) {
        const QString code = o.value(QStringLiteral("error")).toString();
        *error = QStringLiteral("The identity provider refused the device sign-in: %1 %2")
                     .arg(code.isEmpty() ? QStringLiteral("HTTP %1").arg(httpStatus) : code,
                          o.value(QStringLiteral("error_description")).toString())
                     .trimmed();
        return std::nullopt;
    }
    DeviceAuthorization d;
    d.deviceCode = o.value(QStringLiteral("device_code")).toString();
    d.userCode = o.value(QStringLiteral("user_code")).toString();
    d.verificationUri = QUrl(o.value(QStringLiteral("verification_uri")).toString());
    const QString complete = o.value(QStringLiteral("verification_uri_complete")).toString();
    if (!complete.isEmpty())
        d.verificationUriComplete = QUrl(complete);
    d.expiresIn = o.value(QStringLiteral("expires_in")).toInteger(600);
    d.interval = std::clamp(int(o.value(QStringLiteral("interval")).toInteger(5)), 1, 60);
    if (d.deviceCode.isEmpty() || d.userCode.isEmpty() || !d.verificationUri.isValid() ||
        d.verificationUri.isEmpty()) {
        *error = QStringLiteral("The identity provider's device sign-in reply is incomplete.");
        return std::nullopt;
    }
    return d;
}

} // namespace calnet::signin
