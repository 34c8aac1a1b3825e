#include "server/oidc/idtoken.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <QJsonArray>
#include <QJsonDocument>

namespace calnet::server::oidc {

namespace {

constexpr int kMinRsaBits = 2048;
constexpr qsizetype kMaxTokenBytes = 16 * 1024;

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CtxFree {
    void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BldFree {
    void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnFree {
    void operator()(BIGNUM* b) const { BN_free(b); }
};
struct SigFree {
    void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

std::optional<QByteArray> base64url(const QByteArray& text) {
    for (const char c : text)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return std::nullopt; // no padding, no standard alphabet, no whitespace
    auto decoded = QByteArray::fromBase64Encoding(
        text, QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals |
                  QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    return decoded.decoded;
}

std::optional<QByteArray> member(const QJsonObject& o, const char* name) {
    const QJsonValue v = o.value(QLatin1StringView(name));
    return v.isString() ? base64url(v.toString().toLatin1()) : std::nullopt;
}

EVP_PKEY* fromParams(const char* type, OSSL_PARAM_BLD* bld) {
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
        return nullptr;
    return key;
}

EVP_PKEY* rsaKey(const QByteArray& n, const QByteArray& e) {
    std::unique_ptr<BIGNUM, BnFree> bn(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n.constData()), int(n.size()), nullptr));
    std::unique_ptr<BIGNUM, BnFree> be(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e.constData()), int(e.size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bn || !be || !bld || BN_num_bits(bn.get()) < kMinRsaBits ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()))
        return nullptr;
    return fromParams("RSA", bld.get());
}

EVP_PKEY* p256Key(const QByteArray& x, const QByteArray& y) {
    if (x.size() != 32 || y.size() != 32)
        return nullptr;
    QByteArray point(1, '\x04');
    point += x;
    point += y;
    std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(),
                                          std::size_t(point.size())))
        return nullptr;
    // fromdata checks that the point is on the curve.
    return fromParams("EC", bld.get());
}

std::optional<QJsonObject> jsonPart(const QByteArray& part) {
    const auto raw = base64url(part);
    if (!raw)
        return std::nullopt;
    QJsonParseError e{};
    const QJsonDocument doc = QJsonDocument::fromJson(*raw, &e);
    if (e.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

// A NumericDate (RFC 7519 §2): an integral number of seconds.
std::optional<qint64> numericDate(const QJsonValue& v) {
    if (!v.isDouble())
        return std::nullopt;
    const double d = v.toDouble();
    if (!(d >= 0) || d > 1e12)
        return std::nullopt;
    return qint64(d);
}

Verified fail(TokenError e, const QString& message, const QString& kid = {}) {
    Verified v;
    v.error = e;
    v.message = message;
    v.kid = kid;
    return v;
}

} // namespace

struct KeySet::Key {
    QString kid;
    QString alg; // the JWK's own "alg", if any
    bool rsa = false;
    std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
};

KeySet::KeySet() = default;
KeySet::~KeySet() = default;
KeySet::KeySet(KeySet&&) noexcept = default;
KeySet& KeySet::operator=(KeySet&&) noexcept = default;

int KeySet::size() const {
    return int(keys_.size());
}

bool KeySet::hasKid(const QString& kid) const {
    return std::any_of(keys_.begin(), keys_.end(), [&](const auto& k) { return k->kid == kid; });
}

std::optional<KeySet> KeySet::fromJwks(const QByteArray& json, QString* error, int* skipped) {
    QJsonParseError e{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &e);
    if (e.error != QJsonParseError::NoError || !doc.isObject() ||
        !doc.object().value(QStringLiteral("keys")).isArray()) {
        *error = QStringLiteral("the provider's JWKS document is not a JSON object with \"keys\"");
        return std::nullopt;
    }
    KeySet set;
    int left = 0;
    for (const QJsonValue& v : doc.object().value(QStringLiteral("keys")).toArray()) {
        const QJsonObject jwk = v.toObject();
        const QString kty = jwk.value(QStringLiteral("kty")).toString();
        const QString use = jwk.value(QStringLiteral("use")).toString();
        auto key = std::make_unique<Key>();
        key->kid = jwk.value(QStringLiteral("kid")).toString();
        key->alg = jwk.value(QStringLiteral("alg")).toString();
        if (!use.isEmpty() && use != QStringLiteral("sig")) {
            ++left;
            continue;
        }
        if (kty == QStringLiteral("RSA")) {
            const auto n = member(jwk, "n");
            const auto ex = member(jwk, "e");
            if (n && ex)
                key->pkey.reset(rsaKey(*n, *ex));
            key->rsa = true;
        } else if (kty == QStringLiteral("EC") &&
                   jwk.value(QStringLiteral("crv")).toString() == QStringLiteral("P-256")) {
            const auto x = member(jwk, "x");
            const auto y = member(jwk, "y");
            if (x && y)
                key->pkey.reset(p256Key(*x, *y));
        }
        if (!key->pkey) {
            ++left;
            continue;
        }
        set.keys_.push_back(std::move(key));
    }
    if (skipped)
        *skipped = left;
    return set;
}

struct Verifier {
    static const KeySet::Key* find(const KeySet& set, const QString& kid, bool rsa) {
        const KeySet::Key* only = nullptr;
        int candidates = 0;
        for (const auto& k : set.keys_) {
            if (k->rsa != rsa)
                continue;
            if (!kid.isEmpty() && k->kid == kid)
                return k.get();
            ++candidates;
            only = k.get();
        }
        // Without a kid, only an unambiguous key of the right type will do.
        return kid.isEmpty() && candidates == 1 ? only : nullptr;
    }
};

namespace {

bool verifySignature(EVP_PKEY* key, bool rsa, const QByteArray& signingInput,
                     const QByteArray& signature) {
    QByteArray der;
    if (rsa) {
        der = signature;
    } else {
        // JWS ECDSA signatures are R || S, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER.
        if (signature.size() != 64)
            return false;
        std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
        BIGNUM* r =
            BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.constData()), 32, nullptr);
        BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.constData()) + 32,
                              32, nullptr);
        if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
            BN_free(r);
            BN_free(s);
            return false;
        }
        unsigned char* out = nullptr;
        const int len = i2d_ECDSA_SIG(sig.get(), &out);
        if (len <= 0)
            return false;
        der = QByteArray(reinterpret_cast<const char*>(out), len);
        OPENSSL_free(out);
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    if (!md || EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, key) != 1)
        return false;
    if (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return false;
    return EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(der.constData()),
                            std::size_t(der.size()),
                            reinterpret_cast<const unsigned char*>(signingInput.constData()),
                            std::size_t(signingInput.size())) == 1;
}

} // namespace

Verified verifyIdToken(const QByteArray& token, const KeySet& keys, const Expectation& expect) {
    const QList<QByteArray> parts = token.split('.');
    if (token.size() > kMaxTokenBytes || parts.size() != 3)
        return fail(TokenError::Malformed, QStringLiteral("The ID token is not a signed JWT."));
    const auto header = jsonPart(parts[0]);
    const auto payload = jsonPart(parts[1]);
    const auto signature = base64url(parts[2]);
    if (!header || !payload || !signature)
        return fail(TokenError::Malformed, QStringLiteral("The ID token is not a signed JWT."));
    const QString alg = header->value(QStringLiteral("alg")).toString();
    const QString kid = header->value(QStringLiteral("kid")).toString();
    if (header->contains(QStringLiteral("crit")))
        return fail(TokenError::Malformed,
                    QStringLiteral("The ID token names extensions this server does not know."),
                    kid);
    bool rsa = false;
    if (alg == QStringLiteral("RS256"))
        rsa = true;
    else if (alg != QStringLiteral("ES256"))
        return fail(TokenError::Algorithm,
                    QStringLiteral("The ID token is signed with %1; only RS256 and ES256 are "
                                   "accepted.")
                        .arg(alg.isEmpty() ? QStringLiteral("no algorithm") : alg),
                    kid);
    const KeySet::Key* key = Verifier::find(keys, kid, rsa);
    if (!key) {
        // A kid of the other key type is an algorithm confusion, not a rotation.
        if (!kid.isEmpty() && keys.hasKid(kid))
            return fail(
                TokenError::Algorithm,
                QStringLiteral("The ID token's algorithm %1 does not fit its key.").arg(alg), kid);
        return fail(TokenError::UnknownKey,
                    QStringLiteral("The ID token is signed with a key the provider does not "
                                   "list (kid \"%1\").")
                        .arg(kid),
                    kid);
    }
    if (!key->alg.isEmpty() && key->alg != alg)
        return fail(
            TokenError::Algorithm,
            QStringLiteral("The ID token's algorithm %1 is not its key's (%2).").arg(alg, key->alg),
            kid);
    const QByteArray signingInput = parts[0] + '.' + parts[1];
    if (!verifySignature(key->pkey.get(), rsa, signingInput, *signature))
        return fail(TokenError::Signature,
                    QStringLiteral("The ID token's signature does not verify."), kid);

    // Signed by the provider; now whether it is meant for us, now.
    const QJsonObject& c = *payload;
    Claims claims;
    claims.all = c;
    claims.issuer = c.value(QStringLiteral("iss")).toString();
    claims.subject = c.value(QStringLiteral("sub")).toString();
    const auto exp = numericDate(c.value(QStringLiteral("exp")));
    const auto iat = numericDate(c.value(QStringLiteral("iat")));
    if (claims.subject.isEmpty() || !exp || !iat)
        return fail(TokenError::MissingClaim, QStringLiteral("The ID token lacks sub, exp or iat."),
                    kid);
    claims.expiresAt = *exp;
    claims.issuedAt = *iat;
    if (claims.issuer != expect.issuer)
        return fail(TokenError::Issuer,
                    QStringLiteral("The ID token was issued by %1, not by %2.")
                        .arg(claims.issuer, expect.issuer),
                    kid);
    QStringList audiences;
    const QJsonValue aud = c.value(QStringLiteral("aud"));
    if (aud.isString())
        audiences << aud.toString();
    else
        for (const QJsonValue& a : aud.toArray())
            audiences << a.toString();
    const QString azp = c.value(QStringLiteral("azp")).toString();
    if (!audiences.contains(expect.clientId) || (audiences.size() > 1 && azp != expect.clientId) ||
        (!azp.isEmpty() && azp != expect.clientId))
        return fail(TokenError::Audience,
                    QStringLiteral("The ID token is meant for another client than %1.")
                        .arg(expect.clientId),
                    kid);
    if (expect.now > *exp + expect.leewaySeconds)
        return fail(TokenError::Expired, QStringLiteral("The ID token has expired."), kid);
    const auto nbf = numericDate(c.value(QStringLiteral("nbf")));
    if (c.contains(QStringLiteral("nbf")) && !nbf)
        return fail(TokenError::MissingClaim,
                    QStringLiteral("The ID token's nbf is not a time in seconds."), kid);
    if (*iat > expect.now + expect.leewaySeconds ||
        (nbf && *nbf > expect.now + expect.leewaySeconds))
        return fail(TokenError::NotYetValid,
                    QStringLiteral("The ID token is not valid yet: is this computer's clock or "
                                   "the server's set wrong?"),
                    kid);
    if (!expect.nonce.isEmpty() && c.value(QStringLiteral("nonce")).toString() != expect.nonce)
        return fail(TokenError::Nonce,
                    QStringLiteral("The ID token does not answer this sign-in (nonce)."), kid);
    claims.email = c.value(QStringLiteral("email")).toString();
    claims.emailVerified = c.value(QStringLiteral("email_verified")).toBool();
    claims.name = c.value(QStringLiteral("name")).toString();
    for (const QJsonValue& g : c.value(QStringLiteral("groups")).toArray())
        if (g.isString())
            claims.groups << g.toString();
    Verified v;
    v.claims = std::move(claims);
    v.kid = kid;
    return v;
}

} // namespace calnet::server::oidc
