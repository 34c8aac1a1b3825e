// The GUI/CLI <-> calnetd message schema, version 1 (docs/ipc.md is the contract; keep both in
// step). Three message shapes travel in frames (frame.h):
//
//   request  {"v":1, "id":<1..2^53>, "method":<string>, "params":{...}}    client -> helper
//   reply    {"v":1, "id":<same>, "result":{...}}                           helper -> client
//            {"v":1, "id":<same>|null, "error":{"code","message","details"?}}
//   event    {"v":1, "event":"state"|"peers", "data":{...}}                 helper -> client
//
// Everything here is pure parsing/building: no sockets, no clock.
#pragma once

#include <QAnyStringView>
#include <QJsonObject>
#include <QLatin1StringView>
#include <QString>
#include <QStringList>
#include <QStringView>

#include <optional>
#include <span>
#include <variant>

#include "helper/platform/ipcendpoint.h"

namespace calnet::ipc {

constexpr int kProtocolVersion = 1;

// Where calnetd --service listens unless told otherwise (docs/ipc.md): a Unix socket, and on
// Windows a named pipe (helper/platform/ipcendpoint.h).
inline constexpr QLatin1StringView kDefaultSocketPath = kDefaultEndpoint;

// Largest id a client may use: every integer up to 2^53 survives a trip through a JSON double.
constexpr qint64 kMaxRequestId = qint64(1) << 53;

// Error codes on the wire (docs/ipc.md "Error codes"), plus two that only IpcClient produces.
enum class ErrorCode {
    BadRequest,         // not a JSON object, missing/mistyped v, id, method or params
    UnsupportedVersion, // v is an integer other than kProtocolVersion
    UnknownMethod,      // no such method
    InvalidParams,      // params of the wrong type or out of range
    PermissionDenied,   // the caller's role may not call this method
    NotFound,           // no profile with that name
    Conflict,           // name taken, or profile busy
    Failed,             // valid but failed; also stands in for codes this build does not know
    Disconnected,       // local only: the connection dropped before the reply arrived
    Timeout,            // local only: no reply in time
};
[[nodiscard]] QLatin1StringView toString(ErrorCode code);
[[nodiscard]] std::optional<ErrorCode> errorCodeFromString(QAnyStringView text);

// Reader: any local user. Admin: root, the `calnet` group or the configured operator.
enum class Role { Reader, Admin };
[[nodiscard]] QLatin1StringView toString(Role role);

// Method names, so callers cannot misspell them.
inline constexpr QLatin1StringView kMethodVersion{"version"};
inline constexpr QLatin1StringView kMethodStatus{"status"};
inline constexpr QLatin1StringView kMethodProfilesList{"profiles.list"};
inline constexpr QLatin1StringView kMethodProfilesImport{"profiles.import"};
inline constexpr QLatin1StringView kMethodProfilesRename{"profiles.rename"};
inline constexpr QLatin1StringView kMethodProfilesRemove{"profiles.remove"};
inline constexpr QLatin1StringView kMethodProfilesExport{"profiles.export"};
inline constexpr QLatin1StringView kMethodConnect{"connect"};
inline constexpr QLatin1StringView kMethodDisconnect{"disconnect"};
inline constexpr QLatin1StringView kMethodPeers{"peers"};
inline constexpr QLatin1StringView kMethodSubscribe{"subscribe"};
inline constexpr QLatin1StringView kMethodUp{"up"};
inline constexpr QLatin1StringView kMethodNetcheck{"netcheck"};
inline constexpr QLatin1StringView kMethodPing{"ping"};
inline constexpr QLatin1StringView kMethodServerInfo{"server.info"};
inline constexpr QLatin1StringView kMethodLogout{"logout"};

inline constexpr QLatin1StringView kEventState{"state"};
inline constexpr QLatin1StringView kEventPeers{"peers"};

struct MethodInfo {
    QLatin1StringView name;
    Role role; // the least role allowed to call it
};
// Every method of docs/ipc.md "Methods".
[[nodiscard]] std::span<const MethodInfo> methods();
[[nodiscard]] const MethodInfo* findMethod(QAnyStringView name);

// --- Building messages ---

[[nodiscard]] QJsonObject makeRequest(qint64 id, QAnyStringView method,
                                      const QJsonObject& params = {});
[[nodiscard]] QJsonObject makeResult(qint64 id, const QJsonObject& result = {});
// A null id answers a request whose id could not be read.
[[nodiscard]] QJsonObject makeError(std::optional<qint64> id, ErrorCode code,
                                    const QString& message, const QJsonObject& details = {});
[[nodiscard]] QJsonObject makeEvent(QAnyStringView name, const QJsonObject& data);

// --- Reading requests (helper side) ---

// Why a request was refused. `id` is set when the request carried a readable id, so the error
// reply can be matched by the client; toReply() builds that reply.
struct RequestError {
    std::optional<qint64> id;
    ErrorCode code = ErrorCode::BadRequest;
    QString message;

    [[nodiscard]] QJsonObject toReply() const { return makeError(id, code, message); }
};

struct Request {
    int v = kProtocolVersion;
    qint64 id = 0;
    QString method;     // a name findMethod() knows
    QJsonObject params; // {} when absent
    const MethodInfo* info = nullptr;

    // Checks in this order: v is an integer, id is an integer in 1..kMaxRequestId (bad_request),
    // v == 1 (unsupported_version), method is a string, params an object or absent
    // (bad_request), method known (unknown_method). Parameter contents are checked per method by
    // the parse*Params helpers below.
    [[nodiscard]] static std::variant<Request, RequestError> parse(const QJsonObject& message);
};

// --- Reading replies and events (client side) ---

struct ReplyError {
    ErrorCode code = ErrorCode::Failed;
    QString message;
    QJsonObject details;
};

struct Reply {
    qint64 id = 0;
    QJsonObject result;              // meaningful when ok()
    std::optional<ReplyError> error; // set for error replies and local failures

    [[nodiscard]] bool ok() const { return !error.has_value(); }
    [[nodiscard]] static Reply failure(qint64 id, ErrorCode code, const QString& message);
};

struct Event {
    QString name;
    QJsonObject data;
};

// What the helper sent: a reply, an event, or something malformed (the string says what).
using Incoming = std::variant<Reply, Event, QString>;
// A reply with "id": null (the helper could not read our id) comes back as Reply with id 0.
[[nodiscard]] Incoming parseIncoming(const QJsonObject& message);

// --- Parameters (docs/ipc.md "Methods") ---

constexpr qsizetype kMaxProfileNameLength = 32;
constexpr qsizetype kMaxConfigBytes = 256 * 1024; // UTF-8 bytes of an imported wg-quick file

// 1..32 characters of [A-Za-z0-9_.-], not starting with '.' (names become file names).
[[nodiscard]] bool isValidProfileName(QStringView name);
// A coordination server URL: http(s)://host[:port][/path], no user info, query or fragment.
// Returns it normalised (fully encoded, no trailing slash); nullopt when it is not one.
[[nodiscard]] std::optional<QString> normaliseServerUrl(const QString& text);
// A mesh hostname: 1 to 63 of A-Z a-z 0-9 -.
[[nodiscard]] bool isValidMeshHostname(QStringView hostname);

// Why params were refused: the invalid_params reply's message and details ({"param": key}).
struct ParamsError {
    QString message;
    QJsonObject details;

    [[nodiscard]] QJsonObject toReply(qint64 id) const {
        return makeError(id, ErrorCode::InvalidParams, message, details);
    }
};

// Single-value readers. requireX fails when the key is absent; optionalX returns nullopt for an
// absent key and leaves `error` untouched, so check `error` after the call.
[[nodiscard]] std::optional<QString> requireString(const QJsonObject& params, QLatin1StringView key,
                                                   qsizetype maxLength,
                                                   std::optional<ParamsError>& error);
[[nodiscard]] std::optional<QString> optionalString(const QJsonObject& params,
                                                    QLatin1StringView key, qsizetype maxLength,
                                                    std::optional<ParamsError>& error);
[[nodiscard]] std::optional<QString> requireProfileName(const QJsonObject& params,
                                                        QLatin1StringView key,
                                                        std::optional<ParamsError>& error);
[[nodiscard]] std::optional<QString> optionalProfileName(const QJsonObject& params,
                                                         QLatin1StringView key,
                                                         std::optional<ParamsError>& error);
// Fails on any key not in `allowed`: a misspelt optional key must not be silently ignored.
[[nodiscard]] std::optional<ParamsError>
rejectUnknownKeys(const QJsonObject& params, std::span<const QLatin1StringView> allowed);

// Typed params, one parser per method that takes any. Methods without params (version,
// status, profiles.list, disconnect, peers) use parseNoParams.
struct ImportParams {
    QString config;              // wg-quick text, at most kMaxConfigBytes
    std::optional<QString> name; // helper picks one from the file name or config when absent
};
struct RenameParams {
    QString name;
    QString newName;
};
struct NameParams { // profiles.remove, profiles.export
    QString name;
};
struct ConnectParams {
    std::optional<QString> name; // default: the last connected or only profile
};
// up: join (or rejoin) a Calnet network and connect to it.
constexpr qsizetype kMaxServerUrlLength = 2048;
constexpr qsizetype kMaxAuthKeyLength = 512;
constexpr qsizetype kMaxHostnameLength = 63;
constexpr qsizetype kMaxIdTokenLength = 16 * 1024;
constexpr qsizetype kMaxNonceLength = 256;
struct UpParams {
    QString server;                  // http:// or https:// URL with a host
    std::optional<QString> authKey;  // pre-auth key; needed the first time only
    std::optional<QString> idToken;  // or an OpenID Connect ID token (SSO), never stored
    std::optional<QString> nonce;    // the nonce of the sign-in that made idToken
    std::optional<QString> hostname; // 1-63 of [A-Za-z0-9-]; default: this machine's name
    std::optional<QString> name;     // profile name; default "calnet-<server host>"
};
struct ServerInfoParams { // server.info: what a server offers, asked by calnetd
    QString server;       // normalised like UpParams::server
};
struct LogoutParams {
    std::optional<QString> name; // the mesh profile; default: the connected or only one
    bool deleteNode = false;     // also delete the node on the server
};
struct SubscribeParams {
    bool state = true;
    bool peers = true;
};

template <typename T> using ParamsResult = std::variant<T, ParamsError>;

[[nodiscard]] std::optional<ParamsError> parseNoParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<ImportParams> parseImportParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<RenameParams> parseRenameParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<NameParams> parseNameParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<ConnectParams> parseConnectParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<SubscribeParams> parseSubscribeParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<UpParams> parseUpParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<ServerInfoParams> parseServerInfoParams(const QJsonObject& params);
[[nodiscard]] ParamsResult<LogoutParams> parseLogoutParams(const QJsonObject& params);

// --- Handshake health (docs/ipc.md "Peer"), shared so server, CLI and app agree ---

enum class Health {
    Healthy, // last handshake under 180 s ago (a clock running backwards counts as recent)
    Stale,   // 180 .. 600 s: past Reject-After-Time, so the peer is idle or failing to rekey
    Dead,    // over 600 s
    Never,   // no handshake since the profile was connected
};
constexpr qint64 kStaleAfterSeconds = 180;
constexpr qint64 kDeadAfterSeconds = 600;

[[nodiscard]] Health healthFor(std::optional<qint64> handshakeAgeSeconds);
[[nodiscard]] QLatin1StringView toString(Health health);
[[nodiscard]] std::optional<Health> healthFromString(QAnyStringView text);

} // namespace calnet::ipc
