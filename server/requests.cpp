#include "server/requests.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include "core/config/keyencoding.h"
#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"
#include "helper/ipc/protocol.h"
#include "helper/wire/mapnode.h"
#include "server/secrets.h"

namespace calnet::server {

namespace {

constexpr int kMaxEndpoints = 16;
constexpr int kMaxTags = 16;

bool isPrintable(const QString& s) {
    for (QChar c : s) {
        if (c.unicode() < 0x20 || c.unicode() > 0x7e) {
            return false;
        }
    }
    return true;
}

// 1-63 ASCII letters, digits and characters of `extra`.
bool isShortName(const QString& s, std::u16string_view extra) {
    return !s.isEmpty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [extra](QChar c) {
        const char16_t u = c.unicode();
        return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9') ||
               extra.find(u) != std::u16string_view::npos;
    });
}

// Reads the fields of one JSON object, remembering the first problem.
class Fields {
public:
    Fields(const QJsonObject& object, QStringList allowed) : m_object(object) {
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!allowed.contains(it.key())) {
                fail(QStringLiteral("unknown field \"%1\"").arg(it.key()));
                break;
            }
        }
    }

    QString error() const { return m_error; }

    // Empty string when absent and not required.
    QString string(const QString& name, bool required, int maxLength) {
        const QJsonValue v = m_object.value(name);
        if (v.isUndefined()) {
            if (required) {
                fail(QStringLiteral("missing field \"%1\"").arg(name));
            }
            return {};
        }
        if (!v.isString()) {
            fail(QStringLiteral("\"%1\" must be a string").arg(name));
            return {};
        }
        const QString s = v.toString();
        if (s.size() > maxLength || !isPrintable(s)) {
            fail(QStringLiteral("\"%1\" must be up to %2 printable characters")
                     .arg(name)
                     .arg(maxLength));
            return {};
        }
        return s;
    }

    bool has(const QString& name) const { return m_object.contains(name); }

    qint64 integer(const QString& name, bool required, qint64 min, qint64 max, qint64 fallback) {
        const QJsonValue v = m_object.value(name);
        if (v.isUndefined()) {
            if (required) {
                fail(QStringLiteral("missing field \"%1\"").arg(name));
            }
            return fallback;
        }
        const double d = v.toDouble(std::nan(""));
        if (!v.isDouble() || std::trunc(d) != d || d < double(min) || d > double(max)) {
            fail(QStringLiteral("\"%1\" must be an integer from %2 to %3")
                     .arg(name)
                     .arg(min)
                     .arg(max));
            return fallback;
        }
        return qint64(d);
    }

    bool boolean(const QString& name, bool fallback) {
        const QJsonValue v = m_object.value(name);
        if (v.isUndefined()) {
            return fallback;
        }
        if (!v.isBool()) {
            fail(QStringLiteral("\"%1\" must be true or false").arg(name));
            return fallback;
        }
        return v.toBool();
    }

    QStringList strings(const QString& name, int maxItems, bool (*valid)(const QString&)) {
        const QJsonValue v = m_object.value(name);
        if (v.isUndefined()) {
            return {};
        }
        if (!v.isArray() || v.toArray().size() > maxItems) {
            fail(QStringLiteral("\"%1\" must be an array of at most %2 strings")
                     .arg(name)
                     .arg(maxItems));
            return {};
        }
        QStringList out;
        for (const QJsonValue& item : v.toArray()) {
            if (!item.isString() || !valid(item.toString())) {
                fail(QStringLiteral("bad entry in \"%1\"").arg(name));
                return {};
            }
            if (!out.contains(item.toString())) {
                out.append(item.toString());
            }
        }
        return out;
    }

    void fail(const QString& message) {
        if (m_error.isEmpty()) {
            m_error = message;
        }
    }

private:
    QJsonObject m_object;
    QString m_error;
};

ApiError parseObject(const QByteArray& body, QJsonObject* out) {
    if (body.size() > kMaxBodyBytes) {
        return ApiError::tooLarge(QStringLiteral("request body over 64 KiB"));
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError) {
        return ApiError::badRequest(QStringLiteral("malformed JSON: %1 at offset %2")
                                        .arg(error.errorString())
                                        .arg(error.offset));
    }
    if (!doc.isObject()) {
        return ApiError::badRequest(QStringLiteral("the body must be a JSON object"));
    }
    *out = doc.object();
    return {};
}

} // namespace

bool isValidHostname(const QString& hostname) {
    return ipc::isValidMeshHostname(hostname); // the rule calnetctl checks before sending
}

bool isValidUserName(const QString& name) {
    return isShortName(name, u"-_.@");
}

bool isValidTag(const QString& tag) {
    return isShortName(tag, u"-_:");
}

bool isValidEndpoint(const QString& endpoint) {
    // An IP literal and port as WireGuard takes them (core's parser: decimal port 1-65535,
    // bracketed IPv6 without a zone); names are not endpoints here.
    if (endpoint.size() > 64) {
        return false;
    }
    const auto spec = net::EndpointSpec::parse(endpoint.toStdString());
    return spec && spec->literalAddress();
}

ApiError parseRegisterRequest(const QByteArray& body, RegisterRequest* out) {
    QJsonObject object;
    if (ApiError e = parseObject(body, &object)) {
        return e;
    }
    Fields f(object,
             {QStringLiteral("nodeKey"), QStringLiteral("discoKey"), QStringLiteral("hostname"),
              QStringLiteral("os"), QStringLiteral("clientVersion"), QStringLiteral("authKey"),
              QStringLiteral("credential"), QStringLiteral("idToken"), QStringLiteral("nonce")});
    RegisterRequest r;
    r.nodeKey = f.string(QStringLiteral("nodeKey"), true, 44);
    r.discoKey = f.string(QStringLiteral("discoKey"), true, 44);
    r.hostname = f.string(QStringLiteral("hostname"), true, 63);
    r.os = f.string(QStringLiteral("os"), false, 32);
    r.clientVersion = f.string(QStringLiteral("clientVersion"), false, 32);
    r.authKey = f.string(QStringLiteral("authKey"), false, 128);
    r.credential = f.string(QStringLiteral("credential"), false, 128);
    r.idToken = f.string(QStringLiteral("idToken"), false, 16 * 1024);
    r.nonce = f.string(QStringLiteral("nonce"), false, 256);
    if (!f.error().isEmpty()) {
        return ApiError::badRequest(f.error());
    }
    const auto nodeKey = config::decodeKeyBase64(r.nodeKey.toStdString());
    if (!nodeKey) {
        return ApiError::badRequest(QStringLiteral("nodeKey must be base64 of 32 bytes"));
    }
    const auto discoKey = config::decodeKeyBase64(r.discoKey.toStdString());
    if (!discoKey) {
        return ApiError::badRequest(QStringLiteral("discoKey must be base64 of 32 bytes"));
    }
    // An all-zero or other small-order key makes every handshake with the node fail.
    if (!crypto::isUsablePublicKey(*nodeKey) || !crypto::isUsablePublicKey(*discoKey)) {
        return ApiError::badRequest(QStringLiteral("nodeKey and discoKey must be valid X25519 "
                                                   "public keys (not of small order)"));
    }
    if (!isValidHostname(r.hostname)) {
        return ApiError::badRequest(QStringLiteral("hostname must be 1-63 of [A-Za-z0-9-]"));
    }
    if (r.authKey.isEmpty() && r.credential.isEmpty() && r.idToken.isEmpty()) {
        return ApiError::badRequest(QStringLiteral("authKey, idToken or credential is required"));
    }
    if (!r.authKey.isEmpty() && !r.idToken.isEmpty()) {
        return ApiError::badRequest(QStringLiteral("give authKey or idToken, not both"));
    }
    r.hostname = r.hostname.toLower();
    *out = r;
    return {};
}

ApiError parseCreateAuthKeyRequest(const QByteArray& body, CreateAuthKeyRequest* out) {
    QJsonObject object;
    if (ApiError e = parseObject(body.isEmpty() ? QByteArrayLiteral("{}") : body, &object)) {
        return e;
    }
    Fields f(object,
             {QStringLiteral("user"), QStringLiteral("reusable"), QStringLiteral("expiresIn"),
              QStringLiteral("tags"), QStringLiteral("maxUses")});
    CreateAuthKeyRequest r;
    if (f.has(QStringLiteral("user"))) {
        r.user = f.string(QStringLiteral("user"), true, 63);
        if (f.error().isEmpty() && !isValidUserName(r.user)) {
            f.fail(QStringLiteral("user must be 1-63 of [A-Za-z0-9._@-]"));
        }
    }
    r.reusable = f.boolean(QStringLiteral("reusable"), false);
    r.expiresIn = f.integer(QStringLiteral("expiresIn"), false, 1, 3650LL * 86400, r.expiresIn);
    r.tags = f.strings(QStringLiteral("tags"), kMaxTags, isValidTag);
    r.maxUses = f.integer(QStringLiteral("maxUses"), false, 1, 1'000'000, 0);
    if (f.error().isEmpty() && r.maxUses != 0 && !r.reusable) {
        f.fail(QStringLiteral("maxUses is for reusable keys (a one-time key has one use)"));
    }
    if (!f.error().isEmpty()) {
        return ApiError::badRequest(f.error());
    }
    *out = r;
    return {};
}

namespace {

// The optional "relay" of a hello or endpoints message: a region name, "" when absent.
QString relayName(Fields& f) {
    const QString name = f.string(QStringLiteral("relay"), false, 32);
    if (!name.isEmpty() && !wire::isValidRelayName(name)) {
        f.fail(QStringLiteral("\"relay\" must be a relay region name"));
        return {};
    }
    return name;
}

} // namespace

QString parseHello(const QJsonObject& message, HelloMessage* out) {
    if (message.value(QStringLiteral("type")).toString() != QStringLiteral("hello")) {
        return QStringLiteral("the first message must be a hello");
    }
    Fields f(message,
             {QStringLiteral("type"), QStringLiteral("nodeId"), QStringLiteral("credential"),
              QStringLiteral("since"), QStringLiteral("endpoints"), QStringLiteral("relay")});
    HelloMessage h;
    h.nodeId = f.integer(QStringLiteral("nodeId"), true, 1, (qint64(1) << 53), 0);
    h.credential = f.string(QStringLiteral("credential"), true, 128);
    h.since = f.integer(QStringLiteral("since"), false, 0, (qint64(1) << 53), 0);
    h.report.endpoints = f.strings(QStringLiteral("endpoints"), kMaxEndpoints, isValidEndpoint);
    h.report.relay = relayName(f);
    if (!f.error().isEmpty()) {
        return f.error();
    }
    *out = h;
    return {};
}

QString parseEndpointsMessage(const QJsonObject& message, NodeReport* report) {
    if (message.value(QStringLiteral("type")).toString() != QStringLiteral("endpoints")) {
        return QStringLiteral("unknown message type");
    }
    Fields f(message,
             {QStringLiteral("type"), QStringLiteral("endpoints"), QStringLiteral("relay")});
    if (!f.has(QStringLiteral("endpoints"))) {
        f.fail(QStringLiteral("missing field \"endpoints\""));
    }
    NodeReport r;
    r.endpoints = f.strings(QStringLiteral("endpoints"), kMaxEndpoints, isValidEndpoint);
    r.relay = relayName(f);
    if (!f.error().isEmpty()) {
        return f.error();
    }
    *report = r;
    return {};
}

} // namespace calnet::server
