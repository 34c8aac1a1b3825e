// Helpers of the OpenID Connect tests: signing keys made with OpenSSL (RSA 2048, P-256), their
// JWKs, ID tokens signed with them, and a good set of claims.
#pragma once

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace jwttest {

inline const QString kIssuer = QStringLiteral("https://idp.example");
inline const QString kClient = QStringLiteral("calnet");
inline constexpr qint64 kNow = 1'800'000'000;

inline QByteArray b64u(const QByteArray& raw) {
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

inline QByteArray bnParam(EVP_PKEY* k, const char* name) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(k, name, &bn);
    QByteArray out(BN_num_bytes(bn), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
}

struct TestKey {
    EVP_PKEY* pkey = nullptr;
    bool rsa = true;
    QString kid;
    TestKey(bool isRsa, QString id, int bits = 2048) : rsa(isRsa), kid(std::move(id)) {
        pkey = rsa ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(bits))
                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    }
    ~TestKey() { EVP_PKEY_free(pkey); }
    TestKey(const TestKey&) = delete;
    TestKey& operator=(const TestKey&) = delete;

    QJsonObject jwk() const {
        if (rsa)
            return {{"kty", "RSA"},
                    {"kid", kid},
                    {"use", "sig"},
                    {"n", QString::fromLatin1(b64u(bnParam(pkey, OSSL_PKEY_PARAM_RSA_N)))},
                    {"e", QString::fromLatin1(b64u(bnParam(pkey, OSSL_PKEY_PARAM_RSA_E)))}};
        unsigned char point[65];
        size_t len = 0;
        EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
        const QByteArray p(reinterpret_cast<const char*>(point), int(len));
        return {{"kty", "EC"},
                {"kid", kid},
                {"crv", "P-256"},
                {"x", QString::fromLatin1(b64u(p.mid(1, 32)))},
                {"y", QString::fromLatin1(b64u(p.mid(33, 32)))}};
    }

    QByteArray sign(const QByteArray& input) const {
        EVP_MD_CTX* md = EVP_MD_CTX_new();
        EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, pkey);
        size_t len = 0;
        EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                       size_t(input.size()));
        QByteArray sig(int(len), '\0');
        EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), size_t(input.size()));
        EVP_MD_CTX_free(md);
        sig.resize(int(len));
        if (rsa)
            return sig;
        // DER -> R || S
        const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.constData());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, long(sig.size()));
        QByteArray rs(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(rs.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
        ECDSA_SIG_free(es);
        return rs;
    }
};

inline QJsonObject goodClaims() {
    return {{"iss", kIssuer},
            {"sub", "248289761001"},
            {"aud", kClient},
            {"exp", double(kNow + 300)},
            {"iat", double(kNow - 10)},
            {"nonce", "n-0S6_WzA2Mj"},
            {"email", "ada@example.com"},
            {"email_verified", true},
            {"name", "Ada Lovelace"},
            {"groups", QJsonArray{"calnet-admins", "staff"}}};
}

inline QByteArray compact(const QJsonObject& o) {
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

inline QByteArray token(const TestKey& key, const QJsonObject& claims, QJsonObject header = {}) {
    if (header.isEmpty())
        header = {{"alg", key.rsa ? "RS256" : "ES256"}, {"kid", key.kid}, {"typ", "JWT"}};
    const QByteArray input = b64u(compact(header)) + '.' + b64u(compact(claims));
    return input + '.' + b64u(key.sign(input));
}

} // namespace jwttest
