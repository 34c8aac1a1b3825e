// OpenID Connect ID token verification (server/oidc/idtoken.h) against keys made here with
// OpenSSL: good RS256 and ES256 tokens; every claim wrong in turn; expired and not yet valid
// with and without the leeway; a key the set does not have, then the rotated set that has it;
// "none", HMAC with the public key, and an algorithm that does not fit its key refused; a
// tampered payload, a foreign signature, malformed tokens; JWKS documents with keys that
// cannot be used.
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "jwttest.h"
#include "server/oidc/idtoken.h"

using namespace calnet::server::oidc;

using namespace jwttest;

namespace {

Expectation expect() {
    Expectation e;
    e.issuer = kIssuer;
    e.clientId = kClient;
    e.nonce = QStringLiteral("n-0S6_WzA2Mj");
    e.now = kNow;
    return e;
}

KeySet keySet(const QJsonArray& jwks) {
    QString error;
    auto set = KeySet::fromJwks(compact(QJsonObject{{"keys", jwks}}), &error);
    if (!set)
        qFatal("JWKS: %s", qPrintable(error));
    return std::move(*set);
}

} // namespace

class TestIdToken : public QObject {
    Q_OBJECT
private:
    TestKey rsaKey{true, QStringLiteral("rsa-1")};
    TestKey ecKey{false, QStringLiteral("ec-1")};
    TestKey otherRsa{true, QStringLiteral("rsa-1")}; // same kid, another key
    TestKey rotated{true, QStringLiteral("rsa-2")};

private slots:
    void goodTokens() {
        const KeySet keys = keySet({rsaKey.jwk(), ecKey.jwk()});
        QCOMPARE(keys.size(), 2);
        for (const TestKey* k : {&rsaKey, &ecKey}) {
            const Verified v = verifyIdToken(token(*k, goodClaims()), keys, expect());
            QVERIFY2(v.error == TokenError::None, qPrintable(v.message));
            QVERIFY(v.claims);
            QCOMPARE(v.claims->issuer, kIssuer);
            QCOMPARE(v.claims->subject, QStringLiteral("248289761001"));
            QCOMPARE(v.claims->email, QStringLiteral("ada@example.com"));
            QVERIFY(v.claims->emailVerified);
            QCOMPARE(v.claims->name, QStringLiteral("Ada Lovelace"));
            QCOMPARE(v.claims->groups, (QStringList{"calnet-admins", "staff"}));
            QCOMPARE(v.claims->expiresAt, kNow + 300);
        }
        // No nonce expected (a token renewed with a refresh token carries none).
        Expectation e = expect();
        e.nonce.clear();
        QJsonObject c = goodClaims();
        c.remove("nonce");
        QCOMPARE(verifyIdToken(token(rsaKey, c), keys, e).error, TokenError::None);
        // Several audiences with azp = us.
        c = goodClaims();
        c["aud"] = QJsonArray{kClient, "other"};
        c["azp"] = kClient;
        QCOMPARE(verifyIdToken(token(rsaKey, c), keys, expect()).error, TokenError::None);
    }

    void eachClaimWrong() {
        const KeySet keys = keySet({rsaKey.jwk()});
        struct Case {
            const char* name;
            std::function<void(QJsonObject&)> change;
            TokenError expected;
        };
        const std::vector<Case> cases = {
            {"issuer", [](QJsonObject& c) { c["iss"] = "https://evil.example"; },
             TokenError::Issuer},
            {"issuer with a slash", [](QJsonObject& c) { c["iss"] = kIssuer + "/"; },
             TokenError::Issuer},
            {"audience", [](QJsonObject& c) { c["aud"] = "someone-else"; }, TokenError::Audience},
            {"audiences without azp",
             [](QJsonObject& c) {
                 c["aud"] = QJsonArray{kClient, "other"};
             },
             TokenError::Audience},
            {"azp another client", [](QJsonObject& c) { c["azp"] = "other"; },
             TokenError::Audience},
            {"expired", [](QJsonObject& c) { c["exp"] = double(kNow - 61); }, TokenError::Expired},
            {"issued in the future", [](QJsonObject& c) { c["iat"] = double(kNow + 120); },
             TokenError::NotYetValid},
            {"not before", [](QJsonObject& c) { c["nbf"] = double(kNow + 120); },
             TokenError::NotYetValid},
            {"nonce", [](QJsonObject& c) { c["nonce"] = "replayed"; }, TokenError::Nonce},
            {"no nonce", [](QJsonObject& c) { c.remove("nonce"); }, TokenError::Nonce},
            {"no sub", [](QJsonObject& c) { c.remove("sub"); }, TokenError::MissingClaim},
            {"no exp", [](QJsonObject& c) { c.remove("exp"); }, TokenError::MissingClaim},
            {"exp a string", [](QJsonObject& c) { c["exp"] = "1800000300"; },
             TokenError::MissingClaim},
            {"no iat", [](QJsonObject& c) { c.remove("iat"); }, TokenError::MissingClaim},
        };
        for (const Case& k : cases) {
            QJsonObject c = goodClaims();
            k.change(c);
            const Verified v = verifyIdToken(token(rsaKey, c), keys, expect());
            QVERIFY2(v.error == k.expected, k.name);
            QVERIFY2(!v.claims, k.name);
            QVERIFY2(v.message.endsWith(QLatin1Char('.')) || v.message.endsWith(QLatin1Char('?')),
                     k.name); // a whole sentence
        }
        // Within the leeway (60 s): still good.
        QJsonObject c = goodClaims();
        c["exp"] = double(kNow - 59);
        c["iat"] = double(kNow + 59);
        c["nbf"] = double(kNow + 59);
        QCOMPARE(verifyIdToken(token(rsaKey, c), keys, expect()).error, TokenError::None);
    }

    void keysAndRotation() {
        const KeySet old = keySet({rsaKey.jwk(), ecKey.jwk()});
        // Signed with a key of the same kid that is not the provider's.
        QCOMPARE(verifyIdToken(token(otherRsa, goodClaims()), old, expect()).error,
                 TokenError::Signature);
        // A kid the set does not have: the caller refetches; the rotated set has it.
        const Verified unknown = verifyIdToken(token(rotated, goodClaims()), old, expect());
        QCOMPARE(unknown.error, TokenError::UnknownKey);
        QCOMPARE(unknown.kid, QStringLiteral("rsa-2"));
        const KeySet fresh = keySet({rotated.jwk(), ecKey.jwk()});
        QCOMPARE(verifyIdToken(token(rotated, goodClaims()), fresh, expect()).error,
                 TokenError::None);
        // The old key is gone from the rotated set.
        QCOMPARE(verifyIdToken(token(rsaKey, goodClaims()), fresh, expect()).error,
                 TokenError::UnknownKey);
        // Without a kid: only when exactly one key of that type could have signed.
        const QJsonObject noKid{{"alg", "RS256"}};
        QCOMPARE(verifyIdToken(token(rotated, goodClaims(), noKid), fresh, expect()).error,
                 TokenError::None);
        const KeySet two = keySet({rsaKey.jwk(), rotated.jwk()});
        QCOMPARE(verifyIdToken(token(rotated, goodClaims(), noKid), two, expect()).error,
                 TokenError::UnknownKey);
    }

    void algorithmConfusion() {
        const KeySet keys = keySet({rsaKey.jwk(), ecKey.jwk()});
        // alg none, no signature.
        const QByteArray unsigned_ = b64u(compact({{"alg", "none"}, {"kid", rsaKey.kid}})) + '.' +
                                     b64u(compact(goodClaims())) + '.';
        QCOMPARE(verifyIdToken(unsigned_, keys, expect()).error, TokenError::Algorithm);
        // HS256 keyed with the RSA public key's modulus (what a naive verifier would accept).
        const QByteArray input = b64u(compact({{"alg", "HS256"}, {"kid", rsaKey.kid}})) + '.' +
                                 b64u(compact(goodClaims()));
        const QByteArray secret = bnParam(rsaKey.pkey, OSSL_PKEY_PARAM_RSA_N);
        unsigned char mac[32];
        unsigned int macLen = 0;
        HMAC(EVP_sha256(), secret.constData(), secret.size(),
             reinterpret_cast<const unsigned char*>(input.constData()), size_t(input.size()), mac,
             &macLen);
        const QByteArray hs =
            input + '.' + b64u(QByteArray(reinterpret_cast<char*>(mac), int(macLen)));
        QCOMPARE(verifyIdToken(hs, keys, expect()).error, TokenError::Algorithm);
        // RS256 naming the EC key, ES256 naming the RSA key.
        QCOMPARE(verifyIdToken(token(rsaKey, goodClaims(), {{"alg", "RS256"}, {"kid", ecKey.kid}}),
                               keys, expect())
                     .error,
                 TokenError::Algorithm);
        QCOMPARE(verifyIdToken(token(ecKey, goodClaims(), {{"alg", "ES256"}, {"kid", rsaKey.kid}}),
                               keys, expect())
                     .error,
                 TokenError::Algorithm);
        // A JWK that says which algorithm it is for.
        QJsonObject pinned = rsaKey.jwk();
        pinned["alg"] = "RS512";
        QCOMPARE(verifyIdToken(token(rsaKey, goodClaims()), keySet({pinned}), expect()).error,
                 TokenError::Algorithm);
        for (const char* other : {"RS384", "PS256", "ES384", "EdDSA", ""})
            QCOMPARE(
                verifyIdToken(token(rsaKey, goodClaims(), {{"alg", other}, {"kid", rsaKey.kid}}),
                              keys, expect())
                    .error,
                TokenError::Algorithm);
    }

    void tamperedAndMalformed() {
        const KeySet keys = keySet({rsaKey.jwk(), ecKey.jwk()});
        const QByteArray good = token(rsaKey, goodClaims());
        const QList<QByteArray> parts = good.split('.');
        QJsonObject evil = goodClaims();
        evil["email"] = "mallory@example.com";
        const QByteArray tampered = parts[0] + '.' + b64u(compact(evil)) + '.' + parts[2];
        QCOMPARE(verifyIdToken(tampered, keys, expect()).error, TokenError::Signature);
        QByteArray flipped = good;
        flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
        QCOMPARE(verifyIdToken(flipped, keys, expect()).error, TokenError::Signature);
        const QByteArray ec = token(ecKey, goodClaims());
        QCOMPARE(verifyIdToken(ec.left(ec.lastIndexOf('.') + 1) + b64u(QByteArray(63, 'x')), keys,
                               expect())
                     .error,
                 TokenError::Signature); // not 64 bytes
        for (const QByteArray& bad :
             {QByteArray(), QByteArray("a.b"), parts[0] + '.' + parts[1], good + ".x",
              parts[0] + "=." + parts[1] + '.' + parts[2],
              QByteArray("e30.bm90IGpzb24.") + parts[2],
              good.left(good.size() / 2) + "$" + good.mid(good.size() / 2 + 1),
              QByteArray(20000, 'a') + ".b.c"})
            QCOMPARE(verifyIdToken(bad, keys, expect()).error == TokenError::Malformed ||
                         verifyIdToken(bad, keys, expect()).error == TokenError::Signature,
                     true);
        QCOMPARE(verifyIdToken("a.b", keys, expect()).error, TokenError::Malformed);
        // An extension we do not understand.
        QCOMPARE(verifyIdToken(
                     token(rsaKey, goodClaims(),
                           {{"alg", "RS256"}, {"kid", rsaKey.kid}, {"crit", QJsonArray{"exp"}}}),
                     keys, expect())
                     .error,
                 TokenError::Malformed);
    }

    void jwksDocuments() {
        QString error;
        QVERIFY(!KeySet::fromJwks("not json", &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!KeySet::fromJwks(R"({"keys": {}})", &error));
        TestKey shortRsa(true, QStringLiteral("short"), 1024);
        QJsonObject enc = rsaKey.jwk();
        enc["use"] = "enc";
        QJsonObject p384{
            {"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}, {"x", "AA"}, {"y", "AA"}};
        QJsonObject offCurve = ecKey.jwk();
        offCurve["y"] = QString::fromLatin1(b64u(QByteArray(32, '\x01')));
        QJsonObject oct{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}};
        int skipped = 0;
        const auto set =
            KeySet::fromJwks(compact(QJsonObject{{"keys", QJsonArray{shortRsa.jwk(), enc, p384,
                                                                     offCurve, oct, ecKey.jwk()}}}),
                             &error, &skipped);
        QVERIFY(set);
        QCOMPARE(set->size(), 1); // only the good EC key
        QCOMPARE(skipped, 5);
        QVERIFY(set->hasKid(QStringLiteral("ec-1")));
        QVERIFY(!set->hasKid(QStringLiteral("short")));
        QCOMPARE(verifyIdToken(token(shortRsa, goodClaims()), *set, expect()).error,
                 TokenError::UnknownKey);
    }
};

QTEST_APPLESS_MAIN(TestIdToken)
#include "tst_idtoken.moc"
