// What every calnet-server process (`serve` and `relay`) has in front: the HTTP(S) listener with
// its limits and TLS, the STUN listener beside it, and the gauges of both and of the relay.
#pragma once

#include <memory>

#include <QString>

#include <QJsonObject>

#include "server/apierror.h"
#include "server/http/httplistener.h"
#include "server/metrics.h"
#include "server/serverconfig.h"

namespace calnet::server {

class RelayHub;
class StunServer;

// The connection caps and timeouts of config.
http::ListenerLimits listenerLimits(const ServerConfig& config);
// Loads the TLS certificate and key (when configured), listens on config's --listen and starts
// STUN when config.stunPort is set (*stun is left empty otherwise). On failure nothing listens.
bool openListeners(const ServerConfig& config, http::HttpListener& listener,
                   std::unique_ptr<StunServer>* stun, QString* error);
// The HTTP, relay and STUN gauges (any pointer may be null).
void addFrontendGauges(Metrics::Gauges& g, const http::HttpListener* listener,
                       const RelayHub* relay, const StunServer* stun);
// Prepares a relay connection: a kernel send buffer with room for a few ms at relay speeds, and
// small enough that what a receiver does not read shows in the relay's own per-receiver queue
// (and is dropped there) instead of piling up unseen; and TCP_NODELAY, so that a relayed packet
// (or a pong) never waits for the previous one's ACK (up to 40 ms with delayed ACKs).
void prepareRelaySocket(http::WebSocket& socket);

// A JSON answer (and the API's error form, {"error": {"code", "message"}}).
http::Response jsonResponse(const QJsonObject& object, int status = 200);
http::Response errorResponse(const ApiError& e);

// "127.0.0.1:8080", "[::1]:8080": how `serve` and `relay` print what they listen on.
QString hostPortText(const QString& host, quint16 port);

} // namespace calnet::server
