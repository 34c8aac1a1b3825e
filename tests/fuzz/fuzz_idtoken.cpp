// libFuzzer target for OpenID Connect ID token verification (server/oidc/idtoken.h), which
// reads tokens and JWKS documents from outside. Three modes by the first byte: the rest as a
// token; the rest as a JWKS document; or the rest as a header and claims (split at the first
// newline) that this target signs with its own ES256 key, so that the claims checks behind
// the signature are reached with any JSON. Whatever verifies meets every expectation.
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "fuzzcheck.h"
#include "server/oidc/idtoken.h"

using namespace calnet::server::oidc;

namespace {

EVP_PKEY* g_key = nullptr;
KeySet* g_keys = nullptr;

QByteArray b64u(const QByteArray& raw) {
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray signEs256(const QByteArray& input) {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, g_key);
    size_t len = 0;
    EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   size_t(input.size()));
    QByteArray der(int(len), '\0');
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), size_t(input.size()));
    EVP_MD_CTX_free(md);
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.constData());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, long(len));
    QByteArray rs(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(rs.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(rs.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return rs;
}

Expectation expectation() {
    Expectation e;
    e.issuer = QStringLiteral("https://idp.example");
    e.clientId = QStringLiteral("calnet");
    e.nonce = QStringLiteral("n");
    e.now = 1'800'000'000;
    return e;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    unsigned char point[65];
    size_t len = 0;
    EVP_PKEY_get_octet_string_param(g_key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    const QByteArray p(reinterpret_cast<const char*>(point), int(len));
    const QJsonObject jwk{{"kty", "EC"},
                          {"crv", "P-256"},
                          {"kid", "k"},
                          {"x", QString::fromLatin1(b64u(p.mid(1, 32)))},
                          {"y", QString::fromLatin1(b64u(p.mid(33, 32)))}};
    QString error;
    g_keys = new KeySet(std::move(*KeySet::fromJwks(
        QJsonDocument(QJsonObject{{"keys", QJsonArray{jwk}}}).toJson(), &error)));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const QByteArray rest(reinterpret_cast<const char*>(data) + 1, int(size - 1));
    const Expectation e = expectation();
    QByteArray token;
    switch (data[0] % 3) {
    case 0:
        token = rest;
        break;
    case 1: {
        QString error;
        int skipped = 0;
        if (auto set = KeySet::fromJwks(rest, &error, &skipped)) {
            CHECK(set->size() >= 0 && skipped >= 0);
        } else {
            CHECK(!error.isEmpty());
        }
        return 0;
    }
    default: {
        const qsizetype nl = rest.indexOf('\n');
        const QByteArray header = nl < 0 ? QByteArray(R"({"alg":"ES256","kid":"k"})") : rest.left(nl);
        const QByteArray claims = nl < 0 ? rest : rest.mid(nl + 1);
        const QByteArray input = b64u(header) + '.' + b64u(claims);
        token = input + '.' + b64u(signEs256(input));
        break;
    }
    }
    const Verified v = verifyIdToken(token, *g_keys, e);
    if (v.error == TokenError::None) {
        CHECK(v.claims.has_value());
        CHECK(v.claims->issuer == e.issuer);
        CHECK(!v.claims->subject.isEmpty());
        CHECK(v.claims->expiresAt + e.leewaySeconds >= e.now);
        CHECK(v.claims->issuedAt <= e.now + e.leewaySeconds);
        CHECK(v.claims->all.value(QStringLiteral("nonce")).toString() == e.nonce);
    } else {
        CHECK(!v.claims.has_value());
        CHECK(!v.message.isEmpty());
    }
    return 0;
}
