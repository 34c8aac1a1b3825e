// Server: one calnet-server process's HTTP API (docs/protocol.md "Control plane"), behind
// HttpListener (server/http/), which owns the sockets and their limits.
//
//   head -> route by path, then method (404 / 405), decided before any body byte is read:
//     /api/v1/info, /metrics                     GET, answered at once
//     /api/v1/register                           POST: 429 while the source is over its
//                                                registration or wrong-key budget, else the
//                                                body is read and the node registered
//     /api/v1/admin/...                          Bearer admin token (constant time) checked on
//                                                the head: 401 (429 after repeated wrong
//                                                tokens) without reading the body
//     /api/v1/map                                WebSocket upgrade -> MapHub
//     /api/v1/relay                              WebSocket upgrade -> RelayHub
//     /api/v1/relay/keys                         GET with the relay token: unexpired node keys
//                                                for relay-only processes (?since=SEQ: only the
//                                                seq when nothing changed)
//   and STUN Binding on UDP beside it (StunServer, when configured)
//   -> reply JSON; errors as {"error": {"code", "message"}}; count the status for /metrics
//
// Handlers run on the event loop thread and answer synchronously; each write is one
// transaction (Registry), so a failed request leaves no trace.
#pragma once

#include <memory>
#include <optional>

#include <QJsonArray>
#include <QJsonObject>
#include <QObject>

#include "server/apierror.h"
#include "server/http/httplistener.h"
#include "server/requests.h"
#include "server/serverconfig.h"
#include "server/sourcelimiter.h"
#include "server/usertable.h"

namespace calnet::server {

class MapHub;
class Metrics;
class Registry;
class Storage;
class RelayHub;
namespace oidc {
class Provider;
}
class StunServer;

class Server : public QObject, private http::Handler {
    Q_OBJECT
public:
    explicit Server(ServerConfig config, QObject* parent = nullptr);
    ~Server() override;

    // Opens and migrates the database, then listens; port() is the real port afterwards.
    bool start(QString* error);
    quint16 port() const { return m_port; }
    // The STUN listener's UDP port, 0 when there is none.
    quint16 stunPort() const;
    // Stops listening and closes the map streams (their nodes go offline). The destructor does
    // it too.
    void shutdown();

    Storage* storage() const { return m_storage.get(); }
    const http::HttpListener* listener() const { return m_listener.get(); }

private:
    using Reply = http::Response;

    // http::Handler
    Decision onHead(const http::Request& head, const QHostAddress& peer, Reply* answer) override;
    Reply onRequest(const http::Request& request, const QHostAddress& peer) override;
    void onWebSocket(std::unique_ptr<http::WebSocket> socket, const QHostAddress& peer) override;

    // The answer to a request whose body (if it needs one) is in `request`.
    Reply route(const http::Request& request, const QHostAddress& peer);
    Reply admin(const http::Request& request, const QStringList& parts);
    Reply registerNode(const http::Request& request, const QHostAddress& peer);
    // POST /api/v1/logout {"credential"}: a node deletes itself when its user signs out.
    Reply logoutNode(const http::Request& request, const QHostAddress& peer);
    // The identity an ID token proves (signature, issuer, audience, times, nonce, issued in
    // the last 10 minutes).
    ApiError verifyIdentity(const RegisterRequest& r, std::optional<Identity>* out);
    Reply metrics();
    // GET /api/v1/relay/keys: the node keys relay-only processes let in (relayserver.h).
    Reply relayKeys(const http::Request& request);
    QJsonArray relays() const; // the "relays" of /api/v1/info
    static Reply json(const QJsonObject& object, int status = 200);
    static Reply error(const ApiError& e);
    static Reply tooMany(int retryAfterSeconds, const QString& message);
    // Who is calling the admin API: the admin token, an admin's ID token (--oidc-admin-group,
    // --oidc-admins), an ID token of someone else, one signed by a key still being fetched, or
    // nothing valid.
    enum class AdminAuth { Token, IdToken, NotAdmin, KeysComing, No };
    AdminAuth adminAuth(const http::Request& request);
    bool adminAuthorized(const http::Request& request);
    QJsonObject oidcInfo() const; // the "oidc" of /api/v1/info
    // Whether `head` carries `token` as a Bearer token; else *answer is 401, or 429 once the
    // source has spent its budget of wrong ones (`what`: "admin", "relay").
    bool tokenAccepted(const http::Request& head, const QHostAddress& peer, const QString& token,
                       SourceLimiter& wrong, const char* what, Reply* answer);
    Reply counted(Reply reply);

    ServerConfig m_config;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Registry> m_registry;
    std::unique_ptr<Metrics> m_metrics;
    std::unique_ptr<MapHub> m_hub;
    std::unique_ptr<http::HttpListener> m_listener;
    std::unique_ptr<StunServer> m_stun;
    std::unique_ptr<RelayHub> m_relay;
    std::unique_ptr<oidc::Provider> m_oidc; // with --oidc-issuer
    // Wrong pre-auth keys, wrong admin tokens, and registrations, per source.
    SourceLimiter m_badAuthKeys;
    SourceLimiter m_badAdminTokens;
    SourceLimiter m_badRelayTokens; // its own budget: a misconfigured relay cannot lock out admins
    SourceLimiter m_registrations;
    quint16 m_port = 0;
    bool m_shutDown = false;
};

} // namespace calnet::server
