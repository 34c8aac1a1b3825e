// Message schema v1: building and strict reading of requests, replies, events and params.
#include "helper/ipc/protocol.h"

#include <QJsonArray>
#include <QJsonValue>
#include <QUrl>

#include <algorithm>
#include <array>
#include <limits>

namespace calnet::ipc {

using namespace Qt::StringLiterals;

namespace {

constexpr std::array kMethods{
    MethodInfo{kMethodVersion, Role::Reader},
    MethodInfo{kMethodStatus, Role::Reader},
    MethodInfo{kMethodProfilesList, Role::Reader},
    MethodInfo{kMethodProfilesImport, Role::Admin},
    MethodInfo{kMethodProfilesRename, Role::Admin},
    MethodInfo{kMethodProfilesRemove, Role::Admin},
    MethodInfo{kMethodProfilesExport, Role::Admin}, // the only reply that carries keys
    MethodInfo{kMethodConnect, Role::Admin},
    MethodInfo{kMethodDisconnect, Role::Admin},
    MethodInfo{kMethodPeers, Role::Reader},
    MethodInfo{kMethodSubscribe, Role::Reader},
    MethodInfo{kMethodUp, Role::Admin},
    MethodInfo{kMethodNetcheck, Role::Reader},
    MethodInfo{kMethodPing, Role::Admin}, // sends packets
    // Makes calnetd fetch a URL: not for everyone.
    MethodInfo{kMethodServerInfo, Role::Admin},
    MethodInfo{kMethodLogout, Role::Admin},
};

struct ErrorCodeName {
    ErrorCode code;
    QLatin1StringView name;
};
constexpr std::array kErrorCodeNames{
    ErrorCodeName{ErrorCode::BadRequest, "bad_request"_L1},
    ErrorCodeName{ErrorCode::UnsupportedVersion, "unsupported_version"_L1},
    ErrorCodeName{ErrorCode::UnknownMethod, "unknown_method"_L1},
    ErrorCodeName{ErrorCode::InvalidParams, "invalid_params"_L1},
    ErrorCodeName{ErrorCode::PermissionDenied, "permission_denied"_L1},
    ErrorCodeName{ErrorCode::NotFound, "not_found"_L1},
    ErrorCodeName{ErrorCode::Conflict, "conflict"_L1},
    ErrorCodeName{ErrorCode::Failed, "failed"_L1},
    ErrorCodeName{ErrorCode::Disconnected, "disconnected"_L1},
    ErrorCodeName{ErrorCode::Timeout, "timeout"_L1},
};

// Peer-supplied text echoed in messages is cut short so a reply never grows with the input.
QString excerpt(QStringView text) {
    constexpr qsizetype kMax = 64;
    return text.size() <= kMax ? text.toString() : text.left(kMax).toString() + u'\x2026';
}

// A JSON number that is a whole number representable as qint64 (1.0 and 1e3 count).
std::optional<qint64> exactInteger(const QJsonValue& value) {
    constexpr qint64 kNotInteger = std::numeric_limits<qint64>::min();
    if (!value.isDouble()) {
        return std::nullopt;
    }
    const qint64 integer = value.toInteger(kNotInteger);
    if (integer == kNotInteger) {
        return std::nullopt;
    }
    return integer;
}

ParamsError paramsError(QLatin1StringView key, const QString& message) {
    return ParamsError{message, QJsonObject{{"param"_L1, QString(key)}}};
}

qsizetype utf8Length(QStringView text) {
    qsizetype bytes = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        if (c < 0x80) {
            bytes += 1;
        } else if (c < 0x800) {
            bytes += 2;
        } else if (QChar::isHighSurrogate(c) && i + 1 < text.size() &&
                   QChar::isLowSurrogate(text[i + 1].unicode())) {
            bytes += 4;
            ++i;
        } else {
            bytes += 3;
        }
    }
    return bytes;
}

} // namespace

QLatin1StringView toString(ErrorCode code) {
    for (const auto& entry : kErrorCodeNames) {
        if (entry.code == code) {
            return entry.name;
        }
    }
    return "failed"_L1;
}

std::optional<ErrorCode> errorCodeFromString(QAnyStringView text) {
    for (const auto& entry : kErrorCodeNames) {
        if (text == entry.name) {
            return entry.code;
        }
    }
    return std::nullopt;
}

QLatin1StringView toString(Role role) {
    return role == Role::Admin ? "admin"_L1 : "reader"_L1;
}

std::span<const MethodInfo> methods() {
    return kMethods;
}

const MethodInfo* findMethod(QAnyStringView name) {
    for (const auto& method : kMethods) {
        if (name == method.name) {
            return &method;
        }
    }
    return nullptr;
}

QJsonObject makeRequest(qint64 id, QAnyStringView method, const QJsonObject& params) {
    return QJsonObject{{"v"_L1, kProtocolVersion},
                       {"id"_L1, id},
                       {"method"_L1, method.toString()},
                       {"params"_L1, params}};
}

QJsonObject makeResult(qint64 id, const QJsonObject& result) {
    return QJsonObject{{"v"_L1, kProtocolVersion}, {"id"_L1, id}, {"result"_L1, result}};
}

QJsonObject makeError(std::optional<qint64> id, ErrorCode code, const QString& message,
                      const QJsonObject& details) {
    QJsonObject error{{"code"_L1, QString(toString(code))}, {"message"_L1, message}};
    if (!details.isEmpty()) {
        error.insert("details"_L1, details);
    }
    return QJsonObject{{"v"_L1, kProtocolVersion},
                       {"id"_L1, id ? QJsonValue(*id) : QJsonValue(QJsonValue::Null)},
                       {"error"_L1, error}};
}

QJsonObject makeEvent(QAnyStringView name, const QJsonObject& data) {
    return QJsonObject{
        {"v"_L1, kProtocolVersion}, {"event"_L1, name.toString()}, {"data"_L1, data}};
}

std::variant<Request, RequestError> Request::parse(const QJsonObject& message) {
    // v and id come first: with them the client can at least match the error reply.
    const auto version = exactInteger(message.value("v"_L1));
    if (!version) {
        return RequestError{std::nullopt, ErrorCode::BadRequest, u"\"v\" must be an integer"_s};
    }
    const auto id = exactInteger(message.value("id"_L1));
    if (!id || *id < 1 || *id > kMaxRequestId) {
        return RequestError{std::nullopt, ErrorCode::BadRequest,
                            u"\"id\" must be an integer from 1 to 2^53"_s};
    }
    if (*version != kProtocolVersion) {
        return RequestError{
            id, ErrorCode::UnsupportedVersion,
            u"protocol version %1 is not supported; this helper speaks %2"_s.arg(*version).arg(
                kProtocolVersion)};
    }
    const QJsonValue method = message.value("method"_L1);
    if (!method.isString()) {
        return RequestError{id, ErrorCode::BadRequest, u"\"method\" must be a string"_s};
    }
    QJsonObject params;
    if (message.contains("params"_L1)) {
        const QJsonValue value = message.value("params"_L1);
        if (!value.isObject()) {
            return RequestError{id, ErrorCode::BadRequest, u"\"params\" must be an object"_s};
        }
        params = value.toObject();
    }
    const QString name = method.toString();
    const MethodInfo* info = findMethod(name);
    if (!info) {
        return RequestError{id, ErrorCode::UnknownMethod,
                            u"unknown method \"%1\""_s.arg(excerpt(name))};
    }
    return Request{int(*version), *id, name, std::move(params), info};
}

Reply Reply::failure(qint64 id, ErrorCode code, const QString& message) {
    return Reply{id, {}, ReplyError{code, message, {}}};
}

Incoming parseIncoming(const QJsonObject& message) {
    const auto version = exactInteger(message.value("v"_L1));
    if (version != kProtocolVersion) {
        return u"message without \"v\": 1"_s;
    }
    if (message.contains("event"_L1)) {
        const QJsonValue name = message.value("event"_L1);
        const QJsonValue data = message.value("data"_L1);
        if (!name.isString() || !data.isObject()) {
            return u"event needs a string \"event\" and an object \"data\""_s;
        }
        return Event{name.toString(), data.toObject()};
    }
    Reply reply;
    const QJsonValue idValue = message.value("id"_L1);
    if (!idValue.isNull()) {
        const auto id = exactInteger(idValue);
        if (!id || *id < 1 || *id > kMaxRequestId) {
            return u"reply with an invalid \"id\""_s;
        }
        reply.id = *id;
    }
    const bool hasResult = message.contains("result"_L1);
    const bool hasError = message.contains("error"_L1);
    if (hasResult == hasError) {
        return u"reply needs exactly one of \"result\" and \"error\""_s;
    }
    if (hasResult) {
        const QJsonValue result = message.value("result"_L1);
        if (!result.isObject()) {
            return u"\"result\" must be an object"_s;
        }
        if (reply.id == 0) {
            return u"result reply without an id"_s;
        }
        reply.result = result.toObject();
        return reply;
    }
    const QJsonValue errorValue = message.value("error"_L1);
    const QJsonObject error = errorValue.toObject();
    const QJsonValue code = error.value("code"_L1);
    const QJsonValue text = error.value("message"_L1);
    const QJsonValue details = error.value("details"_L1);
    if (!errorValue.isObject() || !code.isString() || !text.isString() ||
        !(details.isUndefined() || details.isObject())) {
        return u"\"error\" needs a string \"code\" and \"message\" and an object \"details\""_s;
    }
    // A code from a newer helper still reads as a failure, with its message intact.
    reply.error = ReplyError{errorCodeFromString(code.toString()).value_or(ErrorCode::Failed),
                             text.toString(), details.toObject()};
    return reply;
}

bool isValidProfileName(QStringView name) {
    if (name.isEmpty() || name.size() > kMaxProfileNameLength || name.front() == u'.') {
        return false;
    }
    for (const QChar c : name) {
        const char16_t u = c.unicode();
        const bool ok = (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') ||
                        (u >= u'0' && u <= u'9') || u == u'_' || u == u'.' || u == u'-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::optional<QString> normaliseServerUrl(const QString& text) {
    const QUrl url(text.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1) ||
        url.host().isEmpty() || !url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment()) {
        return std::nullopt;
    }
    QString out = url.toString(QUrl::FullyEncoded);
    while (out.endsWith(u'/')) {
        out.chop(1);
    }
    return out;
}

bool isValidMeshHostname(QStringView hostname) {
    // One DNS label (RFC 1123 §2.1): letters, digits and hyphens, 1-63 of them, neither first
    // nor last a hyphen, so that <hostname>.<network> always resolves as a name.
    if (hostname.isEmpty() || hostname.size() > kMaxHostnameLength || hostname.front() == u'-' ||
        hostname.back() == u'-') {
        return false;
    }
    return std::all_of(hostname.begin(), hostname.end(), [](QChar c) {
        const char16_t u = c.unicode();
        return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') || (u >= u'0' && u <= u'9') ||
               u == u'-';
    });
}

std::optional<QString> optionalString(const QJsonObject& params, QLatin1StringView key,
                                      qsizetype maxLength, std::optional<ParamsError>& error) {
    const QJsonValue value = params.value(key);
    if (value.isUndefined()) {
        return std::nullopt;
    }
    if (!value.isString()) {
        error = paramsError(key, u"\"%1\" must be a string"_s.arg(key));
        return std::nullopt;
    }
    QString text = value.toString();
    if (text.size() > maxLength) {
        error = paramsError(key, u"\"%1\" is longer than %2 characters"_s.arg(key).arg(maxLength));
        return std::nullopt;
    }
    return text;
}

std::optional<QString> requireString(const QJsonObject& params, QLatin1StringView key,
                                     qsizetype maxLength, std::optional<ParamsError>& error) {
    if (!params.contains(key)) {
        error = paramsError(key, u"\"%1\" is required"_s.arg(key));
        return std::nullopt;
    }
    return optionalString(params, key, maxLength, error);
}

std::optional<QString> optionalProfileName(const QJsonObject& params, QLatin1StringView key,
                                           std::optional<ParamsError>& error) {
    auto name = optionalString(params, key, kMaxProfileNameLength, error);
    if (name && !isValidProfileName(*name)) {
        error = paramsError(key, u"\"%1\" must be 1 to %2 characters of A-Z a-z 0-9 _ . - "
                                 "and not start with '.'"_s.arg(key)
                                     .arg(kMaxProfileNameLength));
        return std::nullopt;
    }
    return name;
}

std::optional<QString> requireProfileName(const QJsonObject& params, QLatin1StringView key,
                                          std::optional<ParamsError>& error) {
    if (!params.contains(key)) {
        error = paramsError(key, u"\"%1\" is required"_s.arg(key));
        return std::nullopt;
    }
    return optionalProfileName(params, key, error);
}

std::optional<ParamsError> rejectUnknownKeys(const QJsonObject& params,
                                             std::span<const QLatin1StringView> allowed) {
    for (auto it = params.begin(); it != params.end(); ++it) {
        const QString key = it.key();
        bool known = false;
        for (const auto candidate : allowed) {
            known = known || key == candidate;
        }
        if (!known) {
            return ParamsError{u"unknown parameter \"%1\""_s.arg(excerpt(key)),
                               QJsonObject{{"param"_L1, excerpt(key)}}};
        }
    }
    return std::nullopt;
}

std::optional<ParamsError> parseNoParams(const QJsonObject& params) {
    return rejectUnknownKeys(params, {});
}

ParamsResult<ImportParams> parseImportParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"config"_L1, "name"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    // The UTF-8 limit is checked below; kMaxConfigBytes UTF-16 units is a cheap upper bound.
    auto config = requireString(params, "config"_L1, kMaxConfigBytes, error);
    auto name = optionalProfileName(params, "name"_L1, error);
    if (error) {
        return *error;
    }
    if (utf8Length(*config) > kMaxConfigBytes) {
        return paramsError("config"_L1,
                           u"\"config\" is larger than %1 bytes"_s.arg(kMaxConfigBytes));
    }
    return ImportParams{std::move(*config), std::move(name)};
}

ParamsResult<RenameParams> parseRenameParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"name"_L1, "newName"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    auto name = requireProfileName(params, "name"_L1, error);
    auto newName = requireProfileName(params, "newName"_L1, error);
    if (error) {
        return *error;
    }
    return RenameParams{std::move(*name), std::move(*newName)};
}

ParamsResult<NameParams> parseNameParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"name"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    auto name = requireProfileName(params, "name"_L1, error);
    if (error) {
        return *error;
    }
    return NameParams{std::move(*name)};
}

ParamsResult<ConnectParams> parseConnectParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"name"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    auto name = optionalProfileName(params, "name"_L1, error);
    if (error) {
        return *error;
    }
    return ConnectParams{std::move(name)};
}

ParamsResult<SubscribeParams> parseSubscribeParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"events"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    if (!params.contains("events"_L1)) {
        return SubscribeParams{};
    }
    const QJsonValue events = params.value("events"_L1);
    if (!events.isArray()) {
        return paramsError("events"_L1, u"\"events\" must be an array of event names"_s);
    }
    SubscribeParams result{false, false};
    for (const QJsonValue event : events.toArray()) {
        if (event == QJsonValue(kEventState)) {
            result.state = true;
        } else if (event == QJsonValue(kEventPeers)) {
            result.peers = true;
        } else {
            return paramsError("events"_L1, u"\"events\" may hold only \"state\" and \"peers\""_s);
        }
    }
    return result;
}

namespace {

// "server": required, an http:// or https:// URL with a host, normalised; nullopt and `error`
// set otherwise (an earlier error is kept).
std::optional<QString> serverUrlParam(const QJsonObject& params,
                                      std::optional<ParamsError>& error) {
    auto server = requireString(params, "server"_L1, kMaxServerUrlLength, error);
    if (!server) {
        return std::nullopt;
    }
    std::optional<QString> url = normaliseServerUrl(*server);
    if (!url && !error) {
        error = paramsError("server"_L1,
                            u"\"server\" must be an http:// or https:// URL with a host"_s);
    }
    return url;
}

} // namespace

ParamsResult<UpParams> parseUpParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"server"_L1, "authKey"_L1,  "idToken"_L1,
                                  "nonce"_L1,  "hostname"_L1, "name"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    auto url = serverUrlParam(params, error);
    auto authKey = optionalString(params, "authKey"_L1, kMaxAuthKeyLength, error);
    auto idToken = optionalString(params, "idToken"_L1, kMaxIdTokenLength, error);
    auto nonce = optionalString(params, "nonce"_L1, kMaxNonceLength, error);
    auto hostname = optionalString(params, "hostname"_L1, kMaxHostnameLength, error);
    auto name = optionalProfileName(params, "name"_L1, error);
    if (error) {
        return *error;
    }
    if (authKey) {
        const bool printable =
            !authKey->isEmpty() && std::all_of(authKey->begin(), authKey->end(), [](QChar c) {
                return c.unicode() > 0x20 && c.unicode() < 0x7f;
            });
        if (!printable) {
            return paramsError("authKey"_L1,
                               u"\"authKey\" must be printable ASCII without spaces"_s);
        }
    }
    if (idToken) {
        if (authKey) {
            return paramsError("idToken"_L1, u"give \"authKey\" or \"idToken\", not both"_s);
        }
        // A JWS in compact form: three base64url parts.
        const bool compact = idToken->count(QLatin1Char('.')) == 2 &&
                             std::all_of(idToken->begin(), idToken->end(), [](QChar c) {
                                 const char16_t u = c.unicode();
                                 return (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') ||
                                        (u >= u'0' && u <= u'9') || u == u'-' || u == u'_' ||
                                        u == u'.';
                             });
        if (!compact) {
            return paramsError("idToken"_L1, u"\"idToken\" is not a compact JWT"_s);
        }
    }
    if (nonce && !idToken) {
        return paramsError("nonce"_L1, u"\"nonce\" goes with \"idToken\""_s);
    }
    if (hostname) {
        if (!isValidMeshHostname(*hostname)) {
            return paramsError("hostname"_L1,
                               u"\"hostname\" must be 1 to %1 characters of A-Z a-z 0-9 -"_s.arg(
                                   kMaxHostnameLength));
        }
    }
    return UpParams{std::move(*url),  std::move(authKey),  std::move(idToken),
                    std::move(nonce), std::move(hostname), std::move(name)};
}

ParamsResult<ServerInfoParams> parseServerInfoParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"server"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    auto url = serverUrlParam(params, error);
    if (error) {
        return *error;
    }
    return ServerInfoParams{std::move(*url)};
}

ParamsResult<LogoutParams> parseLogoutParams(const QJsonObject& params) {
    constexpr std::array kAllowed{"name"_L1, "deleteNode"_L1};
    if (auto error = rejectUnknownKeys(params, kAllowed)) {
        return *error;
    }
    std::optional<ParamsError> error;
    auto name = optionalProfileName(params, "name"_L1, error);
    if (error) {
        return *error;
    }
    LogoutParams out{std::move(name), false};
    if (params.contains("deleteNode"_L1)) {
        if (!params.value("deleteNode"_L1).isBool()) {
            return paramsError("deleteNode"_L1, u"\"deleteNode\" must be true or false"_s);
        }
        out.deleteNode = params.value("deleteNode"_L1).toBool();
    }
    return out;
}

Health healthFor(std::optional<qint64> handshakeAgeSeconds) {
    if (!handshakeAgeSeconds) {
        return Health::Never;
    }
    if (*handshakeAgeSeconds < kStaleAfterSeconds) {
        return Health::Healthy;
    }
    return *handshakeAgeSeconds <= kDeadAfterSeconds ? Health::Stale : Health::Dead;
}

QLatin1StringView toString(Health health) {
    switch (health) {
    case Health::Healthy:
        return "healthy"_L1;
    case Health::Stale:
        return "stale"_L1;
    case Health::Dead:
        return "dead"_L1;
    case Health::Never:
        return "never"_L1;
    }
    return "never"_L1;
}

std::optional<Health> healthFromString(QAnyStringView text) {
    for (const Health health : {Health::Healthy, Health::Stale, Health::Dead, Health::Never}) {
        if (text == toString(health)) {
            return health;
        }
    }
    return std::nullopt;
}

} // namespace calnet::ipc
