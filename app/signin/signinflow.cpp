#include "app/signin/signinflow.h"

#include <QJsonObject>
#include <QNetworkReply>

namespace calnet::signin {

namespace {

constexpr qint64 kMaxReply = 1024 * 1024;

QString unreachable(const QString& what, const QString& error) {
    return QObject::tr("Cannot reach the identity provider at %1: %2.").arg(what, error);
}

QString tokenError(const TokenReply& r) {
    if (r.error == QLatin1String("invalid_grant"))
        return QObject::tr("The identity provider no longer accepts this sign-in (%1). Sign in "
                           "again.")
            .arg(r.errorDescription.isEmpty() ? r.error : r.errorDescription);
    return QObject::tr("The identity provider refused the sign-in: %1.")
        .arg(r.errorDescription.isEmpty() ? r.error : r.errorDescription);
}

} // namespace

std::optional<OidcSettings> OidcSettings::fromServerInfo(const QJsonObject& info) {
    const QJsonObject o = info.value(QStringLiteral("oidc")).toObject();
    OidcSettings s{o.value(QStringLiteral("issuer")).toString(),
                   o.value(QStringLiteral("clientId")).toString(),
                   o.value(QStringLiteral("clientSecret")).toString()};
    if (s.issuer.isEmpty() || s.clientId.isEmpty() || !isSafeEndpoint(QUrl(s.issuer)))
        return std::nullopt;
    return s;
}

// ---- ProviderClient ----------------------------------------------------------------------------

ProviderClient::ProviderClient(OidcSettings settings, QObject* parent)
    : QObject(parent), settings_(std::move(settings)) {
    http_.setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
}

void ProviderClient::discover(DiscoveryDone done) {
    QNetworkRequest request(discoveryUrl(settings_.issuer));
    request.setTransferTimeout(kTimeoutMs);
    QNetworkReply* reply = http_.get(request);
    connect(reply, &QNetworkReply::finished, this, [this, reply, done = std::move(done)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 0) {
            done(std::nullopt, unreachable(settings_.issuer, reply->errorString()));
            return;
        }
        if (status != 200) {
            done(std::nullopt, tr("The identity provider at %1 answered HTTP %2 for its "
                                  "discovery document.")
                                   .arg(settings_.issuer)
                                   .arg(status));
            return;
        }
        QString error;
        auto info = parseDiscovery(reply->read(kMaxReply), settings_.issuer, &error);
        if (info)
            secretInForm_ = info->secretInForm;
        done(info, error);
    });
}

void ProviderClient::postForm(const QUrl& endpoint, QUrlQuery form, RawDone done) {
    QNetworkRequest request(endpoint);
    if (settings_.clientSecret.isEmpty()) { // a public client names itself
        form.addQueryItem(QStringLiteral("client_id"), settings_.clientId);
    } else if (secretInForm_) {
        form.addQueryItem(QStringLiteral("client_id"), settings_.clientId);
        form.addQueryItem(QStringLiteral("client_secret"), settings_.clientSecret);
    } else { // HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1)
        const QByteArray pair = QUrl::toPercentEncoding(settings_.clientId) + ':' +
                                QUrl::toPercentEncoding(settings_.clientSecret);
        request.setRawHeader("Authorization", "Basic " + pair.toBase64());
    }
    request.setTransferTimeout(kTimeoutMs);
    request.setHeader(QNetworkRequest::ContentTypeHeader,
                      QStringLiteral("application/x-www-form-urlencoded"));
    request.setRawHeader("Accept", "application/json");
    // Form encoding: every reserved character percent-encoded ('+' included).
    QByteArray body;
    for (const auto& [key, value] : form.queryItems(QUrl::FullyDecoded)) {
        if (!body.isEmpty())
            body += '&';
        body += QUrl::toPercentEncoding(key) + '=' + QUrl::toPercentEncoding(value);
    }
    QNetworkReply* reply = http_.post(request, body);
    connect(reply, &QNetworkReply::finished, this, [reply, done = std::move(done)] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        done(status, reply->read(kMaxReply), status == 0 ? reply->errorString() : QString());
    });
}

void ProviderClient::token(const QUrl& endpoint, QUrlQuery form, TokenDone done) {
    postForm(endpoint, std::move(form),
             [endpoint, done = std::move(done)](int status, const QByteArray& body,
                                                const QString& error) {
                 if (status == 0) {
                     TokenReply r;
                     r.error = QStringLiteral("network");
                     r.errorDescription = unreachable(endpoint.toString(), error);
                     done(r);
                     return;
                 }
                 done(parseTokenReply(status, body));
             });
}

// ---- BrowserSignIn -----------------------------------------------------------------------------

BrowserSignIn::BrowserSignIn(OidcSettings settings, QObject* parent)
    : QObject(parent), client_(std::move(settings)) {
    timeout_.setSingleShot(true);
    connect(&timeout_, &QTimer::timeout, this, [this] {
        fail(tr("The browser did not come back within %n minute(s). Sign in again.", nullptr,
                timeoutMs_ / 60000 > 0 ? timeoutMs_ / 60000 : 1));
    });
    connect(&receiver_, &LoopbackReceiver::codeReceived, this, &BrowserSignIn::exchange);
    connect(&receiver_, &LoopbackReceiver::failed, this, &BrowserSignIn::fail);
}

void BrowserSignIn::start(bool offlineAccess) {
    cancel(); // a sign-in started again drops the one before
    const int run = ++run_;
    over_ = false;
    request_ = AuthorizationRequest{};
    request_.clientId = client_.settings().clientId;
    request_.state = randomToken(24);
    request_.nonce = randomToken(24);
    request_.pkce = Pkce::make();
    request_.offlineAccess = offlineAccess;
    timeout_.start(timeoutMs_);
    client_.discover([this, run](const std::optional<ProviderInfo>& info, const QString& error) {
        if (over_ || run != run_)
            return;
        if (!info) {
            fail(error);
            return;
        }
        provider_ = info;
        QString listenError;
        if (!receiver_.listen(request_.state, &listenError)) {
            fail(listenError);
            return;
        }
        request_.redirectUri = receiver_.redirectUri();
        url_ = authorizationUrl(*provider_, request_);
        emit browserUrlReady(url_);
    });
}

void BrowserSignIn::cancel() {
    over_ = true;
    timeout_.stop();
    receiver_.close();
}

void BrowserSignIn::fail(const QString& message) {
    if (over_)
        return;
    cancel();
    emit failed(message);
}

void BrowserSignIn::exchange(const QString& code) {
    if (over_ || !provider_)
        return;
    QUrlQuery form;
    form.addQueryItem(QStringLiteral("grant_type"), QStringLiteral("authorization_code"));
    form.addQueryItem(QStringLiteral("code"), code);
    form.addQueryItem(QStringLiteral("redirect_uri"), request_.redirectUri);
    form.addQueryItem(QStringLiteral("code_verifier"), request_.pkce.verifier);
    client_.token(provider_->tokenEndpoint, form, [this](const TokenReply& r) {
        if (over_)
            return;
        if (!r.ok()) {
            fail(r.error == QLatin1String("network") ? r.errorDescription : tokenError(r));
            return;
        }
        // The nonce must come back in the token: the server checks it, and so do we (a token
        // from another sign-in is refused here with a clearer sentence).
        if (unverifiedClaims(r.idToken).value(QStringLiteral("nonce")).toString() !=
            request_.nonce) {
            fail(tr("The identity provider's answer belongs to another sign-in."));
            return;
        }
        over_ = true;
        timeout_.stop();
        emit finished(
            SignInResult{r.idToken, request_.nonce, r.refreshToken, accountName(r.idToken)});
    });
}

// ---- DeviceSignIn ------------------------------------------------------------------------------

DeviceSignIn::DeviceSignIn(OidcSettings settings, QObject* parent)
    : QObject(parent), client_(std::move(settings)) {
    pollTimer_.setSingleShot(true);
    connect(&pollTimer_, &QTimer::timeout, this, &DeviceSignIn::poll);
}

void DeviceSignIn::start() {
    over_ = false;
    client_.discover([this](const std::optional<ProviderInfo>& info, const QString& error) {
        if (over_)
            return;
        if (!info) {
            fail(error);
            return;
        }
        provider_ = info;
        if (provider_->deviceAuthorizationEndpoint.isEmpty()) {
            over_ = true;
            emit unsupported();
            return;
        }
        QUrlQuery form;
        form.addQueryItem(QStringLiteral("scope"), signInScopes(false));
        client_.postForm(
            provider_->deviceAuthorizationEndpoint, form,
            [this](int status, const QByteArray& body, const QString& netError) {
                if (over_)
                    return;
                if (status == 0) {
                    fail(unreachable(provider_->deviceAuthorizationEndpoint.toString(), netError));
                    return;
                }
                QString why;
                auto d = parseDeviceAuthorization(status, body, &why);
                if (!d) {
                    fail(why);
                    return;
                }
                device_ = *d;
                age_.start();
                emit userCodeReady(device_.verificationUri, device_.userCode,
                                   device_.verificationUriComplete);
                pollTimer_.start(device_.interval * 1000);
            });
    });
}

void DeviceSignIn::cancel() {
    over_ = true;
    pollTimer_.stop();
}

void DeviceSignIn::fail(const QString& message) {
    if (over_)
        return;
    cancel();
    emit failed(message);
}

void DeviceSignIn::poll() {
    if (over_)
        return;
    if (age_.elapsed() > device_.expiresIn * 1000) {
        fail(tr("The code %1 expired before the sign-in was done. Sign in again.")
                 .arg(device_.userCode));
        return;
    }
    QUrlQuery form;
    form.addQueryItem(QStringLiteral("grant_type"),
                      QStringLiteral("urn:ietf:params:oauth:grant-type:device_code"));
    form.addQueryItem(QStringLiteral("device_code"), device_.deviceCode);
    client_.token(provider_->tokenEndpoint, form, [this](const TokenReply& r) {
        if (over_)
            return;
        if (r.ok()) {
            over_ = true;
            emit finished(
                SignInResult{r.idToken, QString(), r.refreshToken, accountName(r.idToken)});
            return;
        }
        if (r.error == QLatin1String("authorization_pending") ||
            r.error == QLatin1String("network")) { // a lost poll is tried again
            pollTimer_.start(device_.interval * 1000);
        } else if (r.error == QLatin1String("slow_down")) {
            device_.interval += 5; // RFC 8628 §3.5
            pollTimer_.start(device_.interval * 1000);
        } else if (r.error == QLatin1String("access_denied")) {
            fail(tr("The sign-in was refused at the identity provider."));
        } else if (r.error == QLatin1String("expired_token")) {
            fail(tr("The code %1 expired before the sign-in was done. Sign in again.")
                     .arg(device_.userCode));
        } else {
            fail(tokenError(r));
        }
    });
}

// ---- refresh -----------------------------------------------------------------------------------

void refreshIdToken(ProviderClient* client, const QString& refreshToken,
                    std::function<void(const TokenReply&, const QString& error)> done) {
    client->discover([client, refreshToken, done = std::move(done)](
                         const std::optional<ProviderInfo>& info, const QString& error) {
        if (!info) {
            done(TokenReply{}, error);
            return;
        }
        QUrlQuery form;
        form.addQueryItem(QStringLiteral("grant_type"), QStringLiteral("refresh_token"));
        form.addQueryItem(QStringLiteral("refresh_token"), refreshToken);
        client->token(info->tokenEndpoint, form, [done](const TokenReply& r) {
            done(r, r.ok() ? QString()
                           : (r.error == QLatin1String("network") ? r.errorDescription
                                                                  : tokenError(r)));
        });
    });
}

} // namespace calnet::signin
