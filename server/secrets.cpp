#include "server/secrets.h"

#include <sodium.h>

namespace calnet::server::secrets {

namespace {

constexpr int kSecretBytes = 32;
constexpr int kSecretChars = 43; // unpadded base64url of 32 bytes

bool isBase64Url(QStringView s) {
    for (QChar c : s) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                        (u >= '0' && u <= '9') || u == '-' || u == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool isLowerHex(QStringView s) {
    for (QChar c : s) {
        const char16_t u = c.unicode();
        if (!((u >= '0' && u <= '9') || (u >= 'a' && u <= 'f'))) {
            return false;
        }
    }
    return true;
}

void ensureInit() {
    static const bool ok = sodium_init() >= 0;
    Q_UNUSED(ok);
}

} // namespace

QString randomSecret() {
    ensureInit();
    unsigned char raw[kSecretBytes];
    randombytes_buf(raw, sizeof raw);
    char out[sodium_base64_ENCODED_LEN(kSecretBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(out, sizeof out, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    const QString s = QString::fromLatin1(out);
    sodium_memzero(out, sizeof out);
    return s;
}

QString randomKeyId() {
    ensureInit();
    unsigned char raw[6];
    randombytes_buf(raw, sizeof raw);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(raw), 6).toHex());
}

QString randomToken() {
    ensureInit();
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    return QString::fromLatin1(QByteArray(reinterpret_cast<const char*>(raw), 16).toHex());
}

QByteArray hashSecret(const QString& secret) {
    ensureInit();
    const QByteArray in = secret.toUtf8();
    unsigned char out[crypto_generichash_BYTES];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(in.constData()),
                       quint64(in.size()), nullptr, 0);
    return QByteArray(reinterpret_cast<const char*>(out), sizeof out).toHex();
}

bool verifySecret(const QString& secret, const QByteArray& storedHexHash) {
    const QByteArray stored = QByteArray::fromHex(storedHexHash);
    const QByteArray candidate = QByteArray::fromHex(hashSecret(secret));
    if (stored.size() != int(crypto_generichash_BYTES) || candidate.size() != stored.size()) {
        return false;
    }
    return sodium_memcmp(stored.constData(), candidate.constData(), size_t(stored.size())) == 0;
}

bool constantTimeEquals(const QString& a, const QString& b) {
    const QByteArray ha = QByteArray::fromHex(hashSecret(a));
    const QByteArray hb = QByteArray::fromHex(hashSecret(b));
    return sodium_memcmp(ha.constData(), hb.constData(), size_t(ha.size())) == 0;
}

QString makeAuthKey(const QString& id) {
    return QStringLiteral("calnet-auth-") + id + QLatin1Char('-') + randomSecret();
}

QString makeCredential(qint64 nodeId) {
    return QStringLiteral("calnet-node-") + QString::number(nodeId) + QLatin1Char('-') +
           randomSecret();
}

bool isKeyId(QStringView id) {
    return id.size() == 12 && isLowerHex(id);
}

std::optional<qint64> parseId(QStringView text) {
    if (text.isEmpty() || text.size() > 18 || text.front() == QLatin1Char('0')) {
        return std::nullopt;
    }
    for (QChar c : text) {
        if (c.unicode() < '0' || c.unicode() > '9') {
            return std::nullopt;
        }
    }
    return text.toLongLong();
}

std::optional<QString> authKeyId(const QString& key) {
    static const QString prefix = QStringLiteral("calnet-auth-");
    if (key.size() != prefix.size() + 12 + 1 + kSecretChars || !key.startsWith(prefix)) {
        return std::nullopt;
    }
    const QStringView id = QStringView(key).mid(prefix.size(), 12);
    if (!isKeyId(id) || key[prefix.size() + 12] != QLatin1Char('-') ||
        !isBase64Url(QStringView(key).mid(prefix.size() + 13))) {
        return std::nullopt;
    }
    return id.toString();
}

std::optional<qint64> credentialNodeId(const QString& credential) {
    static const QString prefix = QStringLiteral("calnet-node-");
    if (!credential.startsWith(prefix) || credential.size() > prefix.size() + 20 + kSecretChars) {
        return std::nullopt;
    }
    const qsizetype dash = credential.indexOf(QLatin1Char('-'), prefix.size());
    if (dash < 0 || credential.size() - dash - 1 != kSecretChars ||
        !isBase64Url(QStringView(credential).mid(dash + 1))) {
        return std::nullopt;
    }
    return parseId(QStringView(credential).mid(prefix.size(), dash - prefix.size()));
}

} // namespace calnet::server::secrets
