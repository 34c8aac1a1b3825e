// Secrets: pre-auth keys, node credentials and admin tokens (docs/protocol.md "Identifiers and
// secrets").
//
//   pre-auth key     calnet-auth-<id>-<secret>     id = 12 hex digits, secret = 43 chars base64url
//   node credential  calnet-node-<nodeId>-<secret>
//
// The server stores only BLAKE2b-256 (crypto_generichash) of the whole string, as hex, and
// compares hashes with sodium_memcmp so timing never tells how much of a guess was right.
#pragma once

#include <optional>

#include <QByteArray>
#include <QString>

namespace calnet::server::secrets {

// 32 random bytes as unpadded base64url (43 characters).
QString randomSecret();
// 12 random hex digits: a pre-auth key's public id.
QString randomKeyId();
// A random opaque token (used to tell streams of one node apart).
QString randomToken();

// Hex of BLAKE2b-256 over the UTF-8 text.
QByteArray hashSecret(const QString& secret);
// Constant-time: does `secret` hash to `storedHexHash`?
bool verifySecret(const QString& secret, const QByteArray& storedHexHash);
// Constant-time comparison of two strings of any length (both are hashed first).
bool constantTimeEquals(const QString& a, const QString& b);

QString makeAuthKey(const QString& id); // calnet-auth-<id>-<fresh secret>
QString makeCredential(qint64 nodeId);  // calnet-node-<nodeId>-<fresh secret>
// A pre-auth key's public id: 12 lowercase hex digits.
bool isKeyId(QStringView id);
// A node id as text: a positive decimal without leading zeros, at most 18 digits.
std::optional<qint64> parseId(QStringView text);
std::optional<QString> authKeyId(const QString& key); // nullopt unless well-formed
std::optional<qint64> credentialNodeId(const QString& credential);

} // namespace calnet::server::secrets
