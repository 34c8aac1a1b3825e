// Provider: one OpenID provider as the coordination server sees it (OpenID Connect Discovery
// 1.0): its discovery document and signing keys fetched and cached, and ID tokens verified
// against them (idtoken.h).
//
//   start() -> GET ISSUER/.well-known/openid-configuration -> its "issuer" must be ISSUER
//     exactly -> GET jwks_uri -> ready; a failure is retried after 5 s doubling to 5 min
//   verifyCached(token) -> at once, with the keys at hand; a kid they do not have -> the JWKS
//     again in the background (at most once a second, and once a minute per kid: tokens naming
//     made-up kids cannot make us hammer the provider) and *refetching set: the caller answers
//     "try again" and the same token verifies a moment later
//   every hour the keys are fetched again (rotation without an unknown kid first)
//
// Not thread-safe: runs on the server's event loop thread.
#pragma once

#include <map>
#include <memory>

#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include "server/oidc/idtoken.h"

namespace calnet::server::oidc {

class Provider : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString issuer;
        QString clientId;
        int jwksRefetchMinMs = 1'000;  // unknown kid: at most one refetch per this,
        int kidRefetchMinMs = 60'000;  // and per this for a kid already asked for
        int jwksRefreshMs = 3'600'000; // refetched this often anyway
        int retryMinMs = 5'000;
        int retryMaxMs = 300'000;
        int requestTimeoutMs = 10'000;
    };
    // The provider's endpoints, from its discovery document.
    struct Endpoints {
        QString authorization;
        QString token;
        QString deviceAuthorization; // empty when the provider has none (RFC 8628)
        QString jwks;
    };

    explicit Provider(Options options, QObject* parent = nullptr);
    ~Provider() override;

    void start();
    [[nodiscard]] bool ready() const { return keys_ != nullptr; }
    [[nodiscard]] const Endpoints& endpoints() const { return endpoints_; }
    [[nodiscard]] const QString& lastError() const { return lastError_; }
    [[nodiscard]] const Options& options() const { return options_; }

    // Verifies with the keys at hand, now. A kid they lack may start a refetch (see above) and
    // sets *refetching: the same token may verify in a moment.
    Verified verifyCached(const QByteArray& token, const QString& nonce, qint64 now,
                          bool* refetching);
    // Whether discovery or the keys are being fetched right now.
    [[nodiscard]] bool fetching() const { return fetching_; }

private:
    void fetchDiscovery();
    void fetchKeys();
    void failed(const QString& why);
    QNetworkReply* get(const QUrl& url);

    Options options_;
    QNetworkAccessManager network_;
    Endpoints endpoints_;
    std::unique_ptr<KeySet> keys_;
    QString lastError_;
    QTimer retryTimer_;
    QTimer refreshTimer_;
    int retryMs_ = 0;
    bool fetching_ = false;
    QElapsedTimer sinceKeys_;                    // since the keys were last fetched
    std::map<QString, QElapsedTimer> askedKids_; // unknown kids a refetch was made for
    // Whether a token naming `kid`, which the keys lack, may make us fetch them again (and
    // notes that it did).
    bool mayRefetchFor(const QString& kid);
};

} // namespace calnet::server::oidc
