// ServerConfig: everything `calnet-server serve` is started with, and the parsers for its
// option values (durations, HOST:PORT, the admin token).
#pragma once

#include <functional>
#include <optional>

#include <QDateTime>
#include <QString>
#include <QStringList>

#include "helper/wire/mapnode.h"
#include "server/overlayprefixes.h"

namespace calnet::server {

struct ServerConfig {
    QString listenHost = QStringLiteral("127.0.0.1");
    quint16 listenPort = 8080;
    QString database;    // "sqlite:PATH" or "postgres:CONNINFO"
    QString tlsCertFile; // both empty = plain HTTP
    QString tlsKeyFile;
    OverlayPrefixes prefixes; // --prefix4 / --prefix6
    qint64 keyExpirySeconds = 180 * 86400;
    // A deleted node's overlay addresses are not given to another node for this long (packets
    // for the old node may still be in flight, and peers may still route to it).
    qint64 addressQuarantineSeconds = 7 * 86400;
    QString adminToken; // empty = admin API refuses everything
    // STUN (server/stunserver.h) on UDP: off unless stunPort is set (calnet-server serve turns
    // it on by default, on the --listen host and port 3478; port 0 picks a free one).
    QString stunHost;
    std::optional<quint16> stunPort;
    // The relay region of this process (its relay on the API listener and its STUN listener),
    // and the relay-only processes it lists after it (--relay NAME=URL), which check node keys
    // with GET /api/v1/relay/keys and relayToken.
    QString regionName = QStringLiteral("default");
    std::vector<wire::RelayRegion> otherRelays;
    QString relayToken; // empty = /api/v1/relay/keys refuses everything
    // Sign-in with an OpenID provider (SSO): its issuer URL and this network's client id there
    // (both empty = authkeys only).
    QString oidcIssuer;
    QString oidcClientId;
    // Given to clients in /api/v1/info for providers that want a secret even from desktop apps
    // (RFC 8252 §8.5: a secret in a native app is not confidential); empty = a public client.
    QString oidcClientSecret;
    QStringList oidcAllowedDomains; // lower case; empty = any verified email, or none
    QString oidcAdminGroup;         // members (the "groups" claim) may use the admin API
    QStringList oidcAdmins;         // verified emails (lower case) that may use the admin API
    int helloTimeoutMs = 10'000;
    int pingIntervalMs = 15'000;
    int expirySweepMs = 1'000;
    // Liveness of server processes (docs/protocol.md "Server processes"): every heartbeat
    // interval each server renews its row, marks offline the nodes held by servers silent for
    // serverTimeoutSeconds, and prunes changes older than changeRetentionSeconds.
    int heartbeatIntervalMs = 10'000;
    qint64 serverTimeoutSeconds = 30;
    qint64 changeRetentionSeconds = 86'400;
    // A stream whose unsent data exceeds this is closed (4429): a node that stops reading must
    // not make the server buffer without bound. It reconnects and resumes with `since`.
    qint64 sendQueueLimitBytes = 8 * 1024 * 1024;
    // The HTTP front end (server/http/httplistener.h): connection caps and timeouts.
    int maxConnections = 4096;
    int maxConnectionsPerSource = 256;
    int headTimeoutMs = 10'000; // request head (and body) must arrive within this
    int idleTimeoutMs = 30'000; // a kept-alive connection with no request
    // Per source (IPv4 address or IPv6 /64), as a token bucket: wrong pre-auth keys and wrong
    // admin tokens (then 429), and registrations of any outcome.
    double badKeysPerMinute = 10;
    int badKeysBurst = 10;
    double registrationsPerMinute = 120;
    int registrationsBurst = 60;
    // Wall clock in Unix seconds; tests move it by hand.
    std::function<qint64()> clock = [] { return QDateTime::currentSecsSinceEpoch(); };
};

// "30s", "10m", "24h", "7d" (a positive integer and one unit) -> seconds.
std::optional<qint64> parseDuration(const QString& text);
// "127.0.0.1:8080", "[::1]:0", "0.0.0.0:8080" -> host and port. False on anything else.
bool parseHostPort(const QString& text, QString* host, quint16* port);
// The contract's admin token: 16-256 printable ASCII characters.
bool isValidAdminToken(const QString& token);
// "NAME=URL[,stun=HOST:PORT|off]" (--relay): a relay-only process's region. URL is http(s) or
// ws(s) with a host; STUN defaults to the URL's host, port 3478 (and 3479, the alternate).
std::optional<wire::RelayRegion> parseRelayOption(const QString& text, QString* error);
// Where a relay URL really leads (TLS or not, host, port with the scheme's default, path without
// repeated or trailing slashes): two --relay URLs with the same key are one relay.
QString relayEndpointKey(const QString& url);
// Reads a token file: the first line, surrounding whitespace removed.
std::optional<QString> readTokenFile(const QString& path, QString* error);

} // namespace calnet::server
