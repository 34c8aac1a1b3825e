#include "server/oidc/provider.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkReply>

Q_LOGGING_CATEGORY(lcOidc, "calnet.server.oidc")

namespace calnet::server::oidc {

namespace {

constexpr qint64 kMaxDocumentBytes = 1024 * 1024;

// Reads a whole reply of at most kMaxDocumentBytes as a JSON object; "" or what is wrong.
QString readJson(QNetworkReply* reply, QJsonObject* out, QByteArray* raw) {
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError && status == 0)
        return reply->errorString();
    if (status != 200)
        return QStringLiteral("HTTP status %1 from %2").arg(status).arg(reply->url().toString());
    *raw = reply->read(kMaxDocumentBytes + 1);
    if (raw->size() > kMaxDocumentBytes)
        return QStringLiteral("%1 is larger than 1 MiB").arg(reply->url().toString());
    const QJsonDocument doc = QJsonDocument::fromJson(*raw);
    if (!doc.isObject())
        return QStringLiteral("%1 is not a JSON object").arg(reply->url().toString());
    *out = doc.object();
    return {};
}

} // namespace

Provider::Provider(Options options, QObject* parent)
    : QObject(parent), options_(std::move(options)) {
    retryTimer_.setSingleShot(true);
    connect(&retryTimer_, &QTimer::timeout, this, &Provider::fetchDiscovery);
    refreshTimer_.setInterval(options_.jwksRefreshMs);
    connect(&refreshTimer_, &QTimer::timeout, this, [this] {
        if (!fetching_ && !endpoints_.jwks.isEmpty())
            fetchKeys();
    });
}

Provider::~Provider() = default;

void Provider::start() {
    fetchDiscovery();
}

QNetworkReply* Provider::get(const QUrl& url) {
    QNetworkRequest request(url);
    request.setTransferTimeout(options_.requestTimeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setRawHeader("Accept", "application/json");
    return network_.get(request);
}

void Provider::fetchDiscovery() {
    fetching_ = true;
    QString issuer = options_.issuer;
    while (issuer.endsWith(QLatin1Char('/')))
        issuer.chop(1);
    QNetworkReply* reply = get(QUrl(issuer + QStringLiteral("/.well-known/openid-configuration")));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        QJsonObject doc;
        QByteArray raw;
        if (const QString e = readJson(reply, &doc, &raw); !e.isEmpty()) {
            failed(QStringLiteral("discovery: %1").arg(e));
            return;
        }
        // OpenID Connect Discovery §4.3: the issuer in the document is the one we asked.
        if (doc.value(QStringLiteral("issuer")).toString() != options_.issuer) {
            failed(QStringLiteral("discovery: the provider calls itself %1, not %2")
                       .arg(doc.value(QStringLiteral("issuer")).toString(), options_.issuer));
            return;
        }
        Endpoints e;
        e.authorization = doc.value(QStringLiteral("authorization_endpoint")).toString();
        e.token = doc.value(QStringLiteral("token_endpoint")).toString();
        e.deviceAuthorization =
            doc.value(QStringLiteral("device_authorization_endpoint")).toString();
        e.jwks = doc.value(QStringLiteral("jwks_uri")).toString();
        const QUrl jwks(e.jwks);
        if (!jwks.isValid() ||
            (jwks.scheme() != QLatin1String("https") && jwks.scheme() != QLatin1String("http"))) {
            failed(QStringLiteral("discovery: no usable jwks_uri"));
            return;
        }
        endpoints_ = e;
        fetchKeys();
    });
}

void Provider::fetchKeys() {
    fetching_ = true;
    QNetworkReply* reply = get(QUrl(endpoints_.jwks));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        QJsonObject doc;
        QByteArray raw;
        QString e = readJson(reply, &doc, &raw);
        std::optional<KeySet> set;
        int skipped = 0;
        if (e.isEmpty())
            set = KeySet::fromJwks(raw, &e, &skipped);
        if (!set) {
            failed(QStringLiteral("keys: %1").arg(e));
            return;
        }
        if (set->size() == 0) {
            failed(QStringLiteral("keys: none of the provider's %1 keys is RS256 or ES256")
                       .arg(skipped));
            return;
        }
        const bool first = !keys_;
        keys_ = std::make_unique<KeySet>(std::move(*set));
        sinceKeys_.start();
        fetching_ = false;
        retryMs_ = 0;
        if (!lastError_.isEmpty() || first)
            qCInfo(lcOidc, "%s: %d signing keys", qPrintable(options_.issuer), keys_->size());
        lastError_.clear();
        refreshTimer_.start();
    });
}

void Provider::failed(const QString& why) {
    fetching_ = false;
    if (why != lastError_)
        qCWarning(lcOidc, "%s: %s", qPrintable(options_.issuer), qPrintable(why));
    lastError_ = why;
    retryMs_ = retryMs_ == 0 ? options_.retryMinMs : std::min(retryMs_ * 2, options_.retryMaxMs);
    retryTimer_.start(retryMs_);
    // Those waiting get the answer with the keys we have (or none).
}

bool Provider::mayRefetchFor(const QString& kid) {
    if (fetching_)
        return true; // already on its way: wait for it
    if (sinceKeys_.isValid() && sinceKeys_.elapsed() < options_.jwksRefetchMinMs)
        return false;
    auto it = askedKids_.find(kid);
    if (it != askedKids_.end() && it->second.elapsed() < options_.kidRefetchMinMs)
        return false;
    if (askedKids_.size() >= 64)
        askedKids_.clear();
    askedKids_[kid].start();
    return true;
}

Verified Provider::verifyCached(const QByteArray& token, const QString& nonce, qint64 now,
                                bool* refetching) {
    *refetching = false;
    if (!keys_) {
        Verified v;
        v.error = TokenError::UnknownKey;
        v.message = QStringLiteral("The identity provider cannot be reached right now (%1).")
                        .arg(lastError_.isEmpty() ? QStringLiteral("no keys yet") : lastError_);
        *refetching = fetching_;
        return v;
    }
    Expectation e;
    e.issuer = options_.issuer;
    e.clientId = options_.clientId;
    e.nonce = nonce;
    e.now = now;
    Verified v = verifyIdToken(token, *keys_, e);
    if (v.error == TokenError::UnknownKey && mayRefetchFor(v.kid)) {
        if (!fetching_)
            fetchKeys();
        *refetching = true;
    }
    return v;
}

} // namespace calnet::server::oidc
