// ControlClient: calnetd's side of the calnet-server control plane (docs/protocol.md "Control
// plane: calnet-server"), for one mesh profile.
//
//   registerNode()  POST <server>/api/v1/register (http or https), answered through a callback
//   start()         WebSocket <server>/api/v1/map (ws or wss): sends hello {nodeId, credential,
//                   since, endpoints}, then applies `map` (replaces) and `delta` (upsert/remove)
//                   messages to map() and emits mapChanged() after each
//
// Stream states (state()):
//   Idle          not started, or stop()ped
//   Connecting    first connection attempt after start() (no map or delta arrived yet)
//   Connected     a map or delta arrived on the current socket
//   Reconnecting  the socket closed or failed (or went silent for idleTimeout): a new attempt
//                 follows after minBackoff doubling to maxBackoff, each delay jittered to a
//                 uniform value in [d/2, d]; the delay resets once a map or delta arrives. The
//                 hello of a new attempt carries since = the last seq applied, so the server
//                 sends only what changed meanwhile.
//   Error         the server closed with 4401 (bad or replaced credential) or 4403 (node
//                 deleted); no further attempt. errorString() says why.
// Close code 4410 (node key expired) stops the attempts and emits keyExpired(): the owner
// registers again with the credential and calls start() with the new one (or
// resumeAfterBackoff() when the registration could not reach the server).
//
// Endpoints: options.endpoints() is read for every hello, every endpointPoll and whenever the
// owner calls refreshEndpoints() (calnetd: on rtnetlink announcements, AddressWatcher); when the
// list differs from what the server last got, {"type": "endpoints"} goes out.
//
// Runs on the helper's Qt event loop; never touches the data path.
#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUrl>

#include <chrono>
#include <functional>
#include <optional>

#include "core/util/backoff.h"
#include "helper/service/networkmap.h"

class QNetworkAccessManager;
class QWebSocket;

namespace calnet::helper {

// WebSocket close codes of calnet-server.
inline constexpr int kCloseBadMessage = 4400;
inline constexpr int kCloseUnauthorized = 4401;
inline constexpr int kCloseNodeDeleted = 4403;
inline constexpr int kCloseNoHello = 4408;
inline constexpr int kCloseKeyExpired = 4410;

// What lets a node join beside (or instead of) its stored credential: a pre-auth key, or an ID
// token from the network's OpenID provider with the nonce of that sign-in. Held only for the
// registration that uses it, never stored.
struct JoinSecret {
    QString authKey;
    QString idToken;
    QString nonce;
};

class ControlClient : public QObject {
    Q_OBJECT

public:
    enum class State { Idle, Connecting, Connected, Reconnecting, Error };
    [[nodiscard]] static QLatin1StringView toString(State state);

    struct Options {
        std::chrono::milliseconds minBackoff{250};
        std::chrono::milliseconds maxBackoff{10000};
        std::chrono::milliseconds endpointPoll{10000};
        std::chrono::milliseconds registerTimeout{15000};
        std::chrono::milliseconds pingInterval{15000};
        // Nothing received (messages, pongs) for this long: the connection is taken as dead.
        std::chrono::milliseconds idleTimeout{45000};
        std::function<QStringList()> endpoints; // this node's endpoints; none when unset
    };

    struct RegisterRequest {
        QString nodeKey; // base64 public keys
        QString discoKey;
        QString hostname;
        QString os = QStringLiteral("linux");
        QString clientVersion = QStringLiteral(CALNET_VERSION);
        QString authKey;    // sent when not empty
        QString credential; // sent when not empty
        QString idToken;    // an ID token from the OpenID provider, sent when not empty
        QString nonce;      // the nonce of that sign-in
    };
    struct Registration {
        qint64 nodeId = 0;
        QString user;
        QString network;
        QStringList addresses;
        QStringList prefixes;
        QString credential;
        qint64 keyExpiry = 0;
    };
    struct RegisterError {
        int httpStatus = 0; // 0: no HTTP reply (connection refused, TLS, timeout)
        QString code;       // the server's error code, or "network" / "bad_reply"
        QString message;
    };
    using RegisterCallback =
        std::function<void(const std::optional<Registration>&, const RegisterError&)>;

    // serverUrl: http(s)://host[:port][/prefix], as ipc::normaliseServerUrl() makes it.
    ControlClient(const QString& serverUrl, Options options, QObject* parent = nullptr);
    ~ControlClient() override;

    [[nodiscard]] QUrl registerUrl() const;
    [[nodiscard]] QUrl mapUrl() const;

    // One POST; the callback runs once on this thread (never after the client is destroyed).
    void registerNode(const RegisterRequest& request, RegisterCallback callback);
    // GET /api/v1/info: how the server lets nodes join ({"auth": [...], "oidc": {...}}).
    using InfoCallback =
        std::function<void(const std::optional<QJsonObject>&, const RegisterError&)>;
    void fetchInfo(InfoCallback callback);
    // POST /api/v1/logout: the node deletes itself on the server with its credential.
    using DoneCallback = std::function<void(const RegisterError&)>; // httpStatus 200 = done
    void deleteNode(const QString& credential, DoneCallback callback);

    // A map kept from an earlier run (MapCache), set before start(): map() serves it until the
    // server answers, and the first hello resumes from its seq. A `map` reply replaces it, a
    // `delta` applies on top of it.
    void restoreMap(NetworkMap map);
    // Opens the map stream now; `since` is used for the first hello when no map has been
    // applied yet (0 = send the full map).
    void start(qint64 nodeId, const QString& credential, qint64 since = 0);
    // Schedules the next attempt with the current backoff (after a failed re-registration).
    void resumeAfterBackoff();
    void stop();
    // Stops and reports `error` (state Error), e.g. when renewing the key was refused.
    void fail(const QString& error);

    [[nodiscard]] State state() const { return state_; }
    [[nodiscard]] const QString& errorString() const { return error_; }
    [[nodiscard]] const NetworkMap& map() const { return map_; }
    [[nodiscard]] int attempts() const { return backoff_.attempts(); }
    // The endpoints last sent to the server (hello or endpoints message).
    [[nodiscard]] const QStringList& reportedEndpoints() const { return reported_; }
    // Reads the endpoints now and reports them if they changed.
    void refreshEndpoints();
    // The relay region this node receives on, reported with the endpoints (now, if connected).
    void setHomeRelay(const QString& region);

signals:
    void stateChanged();
    void mapChanged();
    void keyExpired();
    void nodeDeleted();
    void credentialRejected();

private:
    void connectNow();
    void onConnected();
    void onMessage(const QString& text);
    void onSocketGone();
    void scheduleReconnect();
    void setState(State state, const QString& error = {});
    void dropSocket();
    void checkIdle();
    [[nodiscard]] QStringList currentEndpoints() const;

    QUrl base_;
    Options options_;
    QNetworkAccessManager* http_ = nullptr;
    QPointer<QWebSocket> socket_;
    QTimer reconnectTimer_;
    QTimer endpointTimer_;
    QTimer pingTimer_;
    QElapsedTimer lastReceived_;
    State state_ = State::Idle;
    QString error_;
    NetworkMap map_;
    qint64 nodeId_ = 0;
    QString credential_;
    qint64 since_ = 0;
    Backoff backoff_;
    bool helloSent_ = false;
    bool live_ = false; // a map or delta from the server was applied (not only a restored map)
    QStringList reported_;
    QString homeRelay_;
    QString reportedRelay_;
};

// Every address of an interface that is up, not loopback, not point-to-point and not
// `excludeInterface` (our tunnel): IPv4 except 169.254/16, IPv6 except link-local, loopback
// and the unspecified address; each with `port` ("192.168.1.20:41641", "[2001:db8::20]:41641").
[[nodiscard]] QStringList localEndpoints(std::uint16_t port, const QString& excludeInterface);

} // namespace calnet::helper
