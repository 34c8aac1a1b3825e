// OpenID Connect ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.7; RFC 7515/7517/7518/7519):
// the provider's signing keys from its JWKS document, and the verification of an ID token
// against them and against what this server expects (issuer, client id, nonce, time).
//
// Only asymmetric signatures are accepted: RS256 (RSA PKCS#1 v1.5, SHA-256, keys of 2048 bits
// or more) and ES256 (ECDSA P-256, SHA-256). "none", the HMAC algorithms (HS*: a public key
// used as an HMAC secret is the classic confusion) and anything else are refused, as is an
// `alg` that does not fit the key's type or the key's own "alg". A token with `crit` is refused
// (no extension is understood).
//
// Pure functions over OpenSSL's libcrypto; no I/O, no clock (the caller passes `now`).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace calnet::server::oidc {

// A provider's signing keys (RFC 7517), those of them that can verify RS256 or ES256.
class KeySet {
public:
    KeySet();
    ~KeySet();
    KeySet(KeySet&&) noexcept;
    KeySet& operator=(KeySet&&) noexcept;

    // Reads a JWKS document; keys of other types, curves, uses ("enc") or too short are left
    // out (and counted in `skipped`). nullopt when it is not a JWKS document at all.
    static std::optional<KeySet> fromJwks(const QByteArray& json, QString* error,
                                          int* skipped = nullptr);

    [[nodiscard]] int size() const;
    [[nodiscard]] bool hasKid(const QString& kid) const;

    struct Key;

private:
    friend struct Verifier;
    std::vector<std::unique_ptr<Key>> keys_;
};

struct Expectation {
    QString issuer;   // must equal `iss` exactly
    QString clientId; // must be in `aud`; with several audiences, `azp` must be it
    QString nonce;    // must equal `nonce` when not empty
    qint64 now = 0;   // Unix seconds
    qint64 leewaySeconds = 60;
};

struct Claims {
    QString issuer;
    QString subject;
    QString email;
    bool emailVerified = false;
    QString name;
    QStringList groups;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    QJsonObject all; // every claim, as sent
};

enum class TokenError {
    None,
    Malformed,    // not three base64url parts of JSON objects
    Algorithm,    // alg none, HMAC, unknown, or not the key's
    UnknownKey,   // no key with this kid (the caller may refetch the JWKS once)
    Signature,    // does not verify
    Issuer,       // iss is not the expected issuer
    Audience,     // aud does not contain the client id (or azp is wrong)
    Expired,      // exp (plus leeway) has passed
    NotYetValid,  // nbf or iat (minus leeway) is in the future: often a clock set wrong
    Nonce,        // nonce missing or different
    MissingClaim, // sub, exp or iat missing or of the wrong type
};

struct Verified {
    TokenError error = TokenError::None;
    QString message; // a whole sentence when error != None
    std::optional<Claims> claims;
    QString kid; // the header's kid (for refetch on UnknownKey)
};

Verified verifyIdToken(const QByteArray& token, const KeySet& keys, const Expectation& expect);

} // namespace calnet::server::oidc
