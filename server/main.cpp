// calnet-server: the coordination server (docs/protocol.md "Control plane").
//
//   calnet-server serve --listen HOST:PORT --db sqlite:PATH|postgres:CONNINFO
//                       [--tls-cert F --tls-key F] [--prefix4 P] [--prefix6 P]
//                       [--key-expiry DURATION] [--admin-token-file F] [--max-connections N]
//                       [--max-connections-per-source N] [--registrations-per-minute N]
//                       [--address-quarantine DURATION] [--stun-listen HOST:PORT|off]
//                                                             (serve --help lists them)
//   calnet-server relay --listen HOST:PORT --server URL --token-file F [--tls-cert F --tls-key F]
//                       [--stun-listen HOST:PORT|off]         (a relay-only process, relayserver.h)
//   calnet-server authkey|nodes|users ...   (adminclient.h)
//
// `serve` prints "stun listening on HOST:PORT" (unless --stun-listen off), then "listening on
// HOST:PORT" once it accepts connections (with the real ports when a PORT is 0), and exits 0 on
// SIGTERM/SIGINT after closing the map streams. `relay` prints the same, "relay listening on".
#include <algorithm>
#include <cstdio>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QHostAddress>
#include <QLoggingCategory>
#include <QUrl>

#include "server/adminclient.h"
#include "server/frontend.h"
#include "server/platform/process.h"
#include "server/relayserver.h"
#include "server/server.h"
#include "server/serverconfig.h"

using namespace calnet::server;
namespace wire = calnet::wire;

namespace {

constexpr quint16 kDefaultStunPort = 3478; // RFC 8489 §9

int fail(const QString& message) {
    std::fputs(qPrintable(QStringLiteral("calnet-server: ") + message + QLatin1Char('\n')), stderr);
    return 2;
}

// A positive number with an upper bound, for the numeric options.
template <class T> bool positive(const QString& text, T max, T* out) {
    bool ok = false;
    const double v = text.toDouble(&ok);
    if (!ok || !(v > 0) || v > double(max)) {
        return false;
    }
    *out = T(v);
    return true;
}

// The options of what every server process has in front (frontend.h): listener, TLS, STUN,
// connection caps.
struct FrontendOptions {
    QCommandLineOption listen{QStringLiteral("listen"),
                              QStringLiteral("Where to listen (default 127.0.0.1:8080)."),
                              QStringLiteral("HOST:PORT"), QStringLiteral("127.0.0.1:8080")};
    QCommandLineOption tlsCert{QStringLiteral("tls-cert"),
                               QStringLiteral("PEM certificate (chain) for https/wss."),
                               QStringLiteral("FILE")};
    QCommandLineOption tlsKey{QStringLiteral("tls-key"),
                              QStringLiteral("PEM private key for --tls-cert."),
                              QStringLiteral("FILE")};
    QCommandLineOption stunListen{
        QStringLiteral("stun-listen"),
        QStringLiteral("STUN on UDP, and on PORT+1 for telling symmetric NATs (default: the "
                       "--listen host, port 3478; 'off' for none)."),
        QStringLiteral("HOST:PORT|off")};
    QCommandLineOption maxConnections{
        QStringLiteral("max-connections"),
        QStringLiteral(
            "Open connections in all (default 4096; lowered to fit the open-file limit)."),
        QStringLiteral("N")};
    QCommandLineOption maxPerSource{
        QStringLiteral("max-connections-per-source"),
        QStringLiteral("Open connections per IPv4 address or IPv6 /64 (default 256)."),
        QStringLiteral("N")};

    [[nodiscard]] QList<QCommandLineOption> all() const {
        return {listen, tlsCert, tlsKey, stunListen, maxConnections, maxPerSource};
    }

    // Fills config from the parsed options; "" or what is wrong.
    [[nodiscard]] QString apply(const QCommandLineParser& parser, ServerConfig* config) const {
        config->tlsCertFile = parser.value(tlsCert);
        config->tlsKeyFile = parser.value(tlsKey);
        if (config->tlsCertFile.isEmpty() != config->tlsKeyFile.isEmpty()) {
            return QStringLiteral("--tls-cert and --tls-key go together");
        }
        if (parser.isSet(maxConnections) &&
            !positive(parser.value(maxConnections), 1'000'000, &config->maxConnections)) {
            return QStringLiteral("--max-connections wants a number from 1 to 1000000");
        }
        if (parser.isSet(maxPerSource) &&
            !positive(parser.value(maxPerSource), 1'000'000, &config->maxConnectionsPerSource)) {
            return QStringLiteral("--max-connections-per-source wants a number from 1 to 1000000");
        }
        if (!parseHostPort(parser.value(listen), &config->listenHost, &config->listenPort)) {
            return QStringLiteral("bad --listen %1 (want HOST:PORT)").arg(parser.value(listen));
        }
        if (!parser.isSet(stunListen)) {
            config->stunHost = config->listenHost;
            config->stunPort = kDefaultStunPort;
        } else if (parser.value(stunListen) != QStringLiteral("off")) {
            quint16 port = 0;
            if (!parseHostPort(parser.value(stunListen), &config->stunHost, &port)) {
                return QStringLiteral("bad --stun-listen %1 (want HOST:PORT or off)")
                    .arg(parser.value(stunListen));
            }
            config->stunPort = port;
        }
        return {};
    }
};

// Parses a command's arguments; an exit code when there is nothing more to do (--help, or a
// bad command line, reported).
std::optional<int> parseCommand(QCommandLineParser& parser, const QString& command,
                                const QStringList& args) {
    if (!parser.parse(QStringList{QStringLiteral("calnet-server ") + command} + args)) {
        return fail(parser.errorText());
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        return fail(
            QStringLiteral("unexpected argument %1").arg(parser.positionalArguments().front()));
    }
    return std::nullopt;
}

// A token from --OPTION FILE, else from the environment variable; "" when neither is set, and
// an error when one is set but not 16-256 printable characters.
std::optional<QString> tokenFrom(const QCommandLineParser& parser, const QCommandLineOption& option,
                                 const char* variable, const char* what, QString* error) {
    const std::optional<QString> token = parser.isSet(option)
                                             ? readTokenFile(parser.value(option), error)
                                             : std::optional(qEnvironmentVariable(variable));
    if (token && !token->isEmpty() && !isValidAdminToken(*token)) {
        *error = QStringLiteral("the %1 token must be 16-256 printable characters")
                     .arg(QLatin1StringView(what));
        return std::nullopt;
    }
    return token;
}

// A comma-separated list, lower-cased, empty items dropped.
QStringList lowerList(const QString& text) {
    QStringList out;
    for (const QString& item : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        out.append(item.trimmed().toLower());
    }
    out.removeAll(QString());
    return out;
}

// The --oidc-* options beyond issuer and client id; "" when they are fine, else why not.
QString applyOidcOptions(const QCommandLineParser& parser, const QCommandLineOption& secretFile,
                         const QCommandLineOption& domains, const QCommandLineOption& adminGroup,
                         const QCommandLineOption& admins, ServerConfig* config) {
    const bool any = parser.isSet(secretFile) || parser.isSet(domains) ||
                     parser.isSet(adminGroup) || parser.isSet(admins);
    if (any && config->oidcIssuer.isEmpty()) {
        return QStringLiteral("the --oidc-* options need --oidc-issuer");
    }
    if (parser.isSet(secretFile)) {
        QString error;
        const std::optional<QString> secret = readTokenFile(parser.value(secretFile), &error);
        if (!secret || secret->isEmpty()) {
            return secret ? QStringLiteral("the client secret file is empty") : error;
        }
        config->oidcClientSecret = *secret;
    }
    config->oidcAllowedDomains = lowerList(parser.value(domains));
    for (const QString& d : std::as_const(config->oidcAllowedDomains)) {
        if (d.contains(QLatin1Char('@')) || d.contains(QLatin1Char(' '))) {
            return QStringLiteral("bad --oidc-allowed-domains entry %1 (want a domain)").arg(d);
        }
    }
    config->oidcAdminGroup = parser.value(adminGroup);
    config->oidcAdmins = lowerList(parser.value(admins));
    for (const QString& e : std::as_const(config->oidcAdmins)) {
        if (!e.contains(QLatin1Char('@'))) {
            return QStringLiteral("bad --oidc-admins entry %1 (want an email)").arg(e);
        }
    }
    return {};
}

int serve(const QStringList& args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Runs the coordination server: the API, the map streams and the relay on "
                       "one HTTP listener, and STUN on UDP."));
    parser.addHelpOption();
    const QCommandLineOption db(QStringLiteral("db"),
                                QStringLiteral("sqlite:PATH or postgres:CONNINFO (required)."),
                                QStringLiteral("DATABASE"));
    const QCommandLineOption prefix4(QStringLiteral("prefix4"),
                                     QStringLiteral("IPv4 overlay prefix (default 100.70.0.0/24)."),
                                     QStringLiteral("PREFIX"), QStringLiteral("100.70.0.0/24"));
    const QCommandLineOption prefix6(
        QStringLiteral("prefix6"),
        QStringLiteral("IPv6 overlay prefix (default fd70:6361:6c6e::/64)."),
        QStringLiteral("PREFIX"), QStringLiteral("fd70:6361:6c6e::/64"));
    const QCommandLineOption keyExpiry(QStringLiteral("key-expiry"),
                                       QStringLiteral("Node key lifetime, e.g. 180d (default)."),
                                       QStringLiteral("DURATION"));
    const QCommandLineOption tokenFile(
        QStringLiteral("admin-token-file"),
        QStringLiteral("File whose first line is the admin token (else CALNET_ADMIN_TOKEN)."),
        QStringLiteral("FILE"));
    const QCommandLineOption registrationsPerMinute(
        QStringLiteral("registrations-per-minute"),
        QStringLiteral("Registrations per source and minute, half of it at once (default 120)."),
        QStringLiteral("N"));
    const QCommandLineOption quarantine(
        QStringLiteral("address-quarantine"),
        QStringLiteral("How long a deleted node's overlay address stays unused (default 7d)."),
        QStringLiteral("DURATION"));
    const QCommandLineOption region(
        QStringLiteral("region"),
        QStringLiteral("Name of this server's own relay region (default 'default')."),
        QStringLiteral("NAME"), QStringLiteral("default"));
    const QCommandLineOption relay(
        QStringLiteral("relay"),
        QStringLiteral("Also list the relay-only process at URL as region NAME (repeatable); its "
                       "STUN is at the URL's host, port 3478, unless ,stun=HOST:PORT or ,stun=off "
                       "follows."),
        QStringLiteral("NAME=URL[,stun=HOST:PORT|off]"));
    const QCommandLineOption relayTokenFile(
        QStringLiteral("relay-token-file"),
        QStringLiteral("File whose first line is the token relay-only processes present to read "
                       "the node keys (else CALNET_RELAY_TOKEN; needed with --relay)."),
        QStringLiteral("FILE"));
    const FrontendOptions frontend;
    parser.addOptions(frontend.all());
    const QCommandLineOption oidcIssuer(
        QStringLiteral("oidc-issuer"),
        QStringLiteral("Sign-in with this OpenID provider (its issuer URL, https)."),
        QStringLiteral("URL"));
    const QCommandLineOption oidcClientId(
        QStringLiteral("oidc-client-id"),
        QStringLiteral("This network's client id at the OpenID provider (with --oidc-issuer)."),
        QStringLiteral("ID"));
    const QCommandLineOption oidcClientSecretFile(
        QStringLiteral("oidc-client-secret-file"),
        QStringLiteral("File whose first line is the client secret, for providers that want one "
                       "even from desktop apps (it is passed to clients: not confidential)."),
        QStringLiteral("FILE"));
    const QCommandLineOption oidcAllowedDomains(
        QStringLiteral("oidc-allowed-domains"),
        QStringLiteral("Only people with a verified email in these domains may sign in "
                       "(comma-separated)."),
        QStringLiteral("DOMAINS"));
    const QCommandLineOption oidcAdminGroup(
        QStringLiteral("oidc-admin-group"),
        QStringLiteral("Members of this group (the ID token's \"groups\" claim) may use the admin "
                       "API with their ID token."),
        QStringLiteral("NAME"));
    const QCommandLineOption oidcAdmins(
        QStringLiteral("oidc-admins"),
        QStringLiteral("These verified emails may use the admin API with their ID token "
                       "(comma-separated)."),
        QStringLiteral("EMAILS"));
    parser.addOptions({db, prefix4, prefix6, keyExpiry, tokenFile, registrationsPerMinute,
                       quarantine, region, relay, relayTokenFile, oidcIssuer, oidcClientId,
                       oidcClientSecretFile, oidcAllowedDomains, oidcAdminGroup, oidcAdmins});
    if (const std::optional<int> done = parseCommand(parser, QStringLiteral("serve"), args)) {
        return *done;
    }

    ServerConfig config;
    config.database = parser.value(db);
    if (parser.isSet(keyExpiry)) {
        const std::optional<qint64> d = parseDuration(parser.value(keyExpiry));
        if (!d) {
            return fail(QStringLiteral("bad --key-expiry %1 (examples: 30s, 10m, 24h, 180d)")
                            .arg(parser.value(keyExpiry)));
        }
        config.keyExpirySeconds = *d;
    }
    if (parser.isSet(quarantine)) {
        const std::optional<qint64> d = parseDuration(parser.value(quarantine));
        if (!d) {
            return fail(QStringLiteral("bad --address-quarantine %1 (examples: 1h, 7d)")
                            .arg(parser.value(quarantine)));
        }
        config.addressQuarantineSeconds = *d;
    }
    if (parser.isSet(registrationsPerMinute)) {
        if (!positive(parser.value(registrationsPerMinute), 1e9, &config.registrationsPerMinute)) {
            return fail(QStringLiteral("--registrations-per-minute wants a positive number"));
        }
        config.registrationsBurst = std::max(1, int(config.registrationsPerMinute / 2));
    }
    if (const QString problem = frontend.apply(parser, &config); !problem.isEmpty()) {
        return fail(problem);
    }
    config.oidcIssuer = parser.value(oidcIssuer);
    config.oidcClientId = parser.value(oidcClientId);
    if (config.oidcIssuer.isEmpty() != config.oidcClientId.isEmpty()) {
        return fail(QStringLiteral("--oidc-issuer and --oidc-client-id go together"));
    }
    if (!config.oidcIssuer.isEmpty()) {
        const QUrl issuer(config.oidcIssuer, QUrl::StrictMode);
        // http only for a provider on this machine (a test, or one behind a local proxy).
        const bool local = issuer.host() == QStringLiteral("localhost") ||
                           QHostAddress(issuer.host()).isLoopback();
        if (!issuer.isValid() || issuer.host().isEmpty() || issuer.hasQuery() ||
            issuer.hasFragment() ||
            !(issuer.scheme() == QLatin1String("https") ||
              (issuer.scheme() == QLatin1String("http") && local))) {
            return fail(QStringLiteral("bad --oidc-issuer %1 (want https://HOST[/PATH]; http only "
                                       "on loopback)")
                            .arg(config.oidcIssuer));
        }
    }
    if (const QString problem = applyOidcOptions(parser, oidcClientSecretFile, oidcAllowedDomains,
                                                 oidcAdminGroup, oidcAdmins, &config);
        !problem.isEmpty()) {
        return fail(problem);
    }
    config.regionName = parser.value(region);
    if (!wire::isValidRelayName(config.regionName)) {
        return fail(
            QStringLiteral("bad --region %1: a-z, 0-9 and '-', up to 32").arg(config.regionName));
    }
    for (const QString& text : parser.values(relay)) {
        QString why;
        const std::optional<wire::RelayRegion> r = parseRelayOption(text, &why);
        if (!r) {
            return fail(why);
        }
        const bool taken =
            r->name == config.regionName ||
            std::any_of(config.otherRelays.begin(), config.otherRelays.end(),
                        [&](const wire::RelayRegion& o) { return o.name == r->name; });
        if (taken) {
            return fail(QStringLiteral("relay region %1 is named twice").arg(r->name));
        }
        // Two regions on one relay would make each node's two connections replace each other.
        const bool sameUrl = std::any_of(
            config.otherRelays.begin(), config.otherRelays.end(), [&](const wire::RelayRegion& o) {
                return relayEndpointKey(o.url) == relayEndpointKey(r->url);
            });
        if (sameUrl) {
            return fail(QStringLiteral("relay URL %1 is listed twice").arg(r->url));
        }
        config.otherRelays.push_back(*r);
    }
    if (config.database.isEmpty()) {
        return fail(QStringLiteral("--db sqlite:PATH or --db postgres:CONNINFO is required"));
    }
    QString error;
    if (!config.prefixes.set(parser.value(prefix4), parser.value(prefix6), &error)) {
        return fail(error);
    }
    const std::optional<QString> adminToken =
        tokenFrom(parser, tokenFile, "CALNET_ADMIN_TOKEN", "admin", &error);
    const std::optional<QString> relayToken =
        adminToken ? tokenFrom(parser, relayTokenFile, "CALNET_RELAY_TOKEN", "relay", &error)
                   : std::nullopt;
    if (!relayToken) {
        return fail(error);
    }
    config.adminToken = *adminToken;
    config.relayToken = *relayToken;
    if (!config.otherRelays.empty() && config.relayToken.isEmpty()) {
        return fail(QString::fromLatin1(parser.isSet(relayTokenFile)
                                            ? "the relay token file is empty"
                                            : "--relay needs --relay-token-file: relay-only "
                                              "processes read node keys with it"));
    }
    if (!config.relayToken.isEmpty() && config.relayToken == config.adminToken) {
        return fail(QStringLiteral("the relay token must differ from the admin token"));
    }
    process::raiseOpenFileLimit();

    if (!process::quitOnStopSignals()) {
        return fail(QStringLiteral("socketpair failed"));
    }
    Server server(config);
    if (!server.start(&error)) {
        return fail(error);
    }
    if (config.stunPort) {
        std::printf("stun listening on %s\n",
                    qPrintable(hostPortText(config.stunHost, server.stunPort())));
    }
    std::printf("listening on %s\n", qPrintable(hostPortText(config.listenHost, server.port())));
    std::fflush(stdout);
    if (config.adminToken.isEmpty()) {
        std::fputs("calnet-server: no admin token configured; the admin API is disabled\n", stderr);
    }
    const int rc = QCoreApplication::exec();
    server.shutdown();
    return rc;
}

int relay(const QStringList& args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs a relay-only process for another region: the relay (WebSocket) and STUN, letting in "
        "the nodes the coordination server knows. List it there with --relay NAME=URL."));
    parser.addHelpOption();
    const FrontendOptions frontend;
    const QCommandLineOption server(
        QStringLiteral("server"),
        QStringLiteral("The coordination server's URL, e.g. https://calnet.example (required)."),
        QStringLiteral("URL"));
    const QCommandLineOption tokenFile(
        QStringLiteral("token-file"),
        QStringLiteral("File whose first line is the coordination server's relay token (its "
                       "--relay-token-file; else CALNET_RELAY_TOKEN)."),
        QStringLiteral("FILE"));
    parser.addOptions(frontend.all());
    parser.addOptions({server, tokenFile});
    if (const std::optional<int> done = parseCommand(parser, QStringLiteral("relay"), args)) {
        return *done;
    }
    ServerConfig config;
    if (const QString problem = frontend.apply(parser, &config); !problem.isEmpty()) {
        return fail(problem);
    }
    const QUrl coordination(parser.value(server), QUrl::StrictMode);
    if (!coordination.isValid() || coordination.host().isEmpty() ||
        !coordination.userInfo().isEmpty() ||
        (coordination.scheme() != QLatin1String("https") &&
         coordination.scheme() != QLatin1String("http"))) {
        return fail(QStringLiteral("--server https://HOST[:PORT] (or http://) is required"));
    }
    QString error;
    const std::optional<QString> token =
        tokenFrom(parser, tokenFile, "CALNET_RELAY_TOKEN", "relay", &error);
    if (!token) {
        return fail(error);
    }
    if (token->isEmpty()) {
        return fail(QStringLiteral("the relay token is needed: --token-file FILE or "
                                   "CALNET_RELAY_TOKEN"));
    }
    config.relayToken = *token;
    process::raiseOpenFileLimit();
    if (!process::quitOnStopSignals()) {
        return fail(QStringLiteral("socketpair failed"));
    }
    RelayServer relayServer(config, coordination);
    if (!relayServer.start(&error)) {
        return fail(error);
    }
    if (config.stunPort) {
        std::printf("stun listening on %s\n",
                    qPrintable(hostPortText(config.stunHost, relayServer.stunPort())));
    }
    std::printf("relay listening on %s\n",
                qPrintable(hostPortText(config.listenHost, relayServer.port())));
    std::fflush(stdout);
    const int rc = QCoreApplication::exec();
    relayServer.shutdown();
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("calnet-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(CALNET_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "The Calnet coordination server.\n\n"
        "  serve --listen HOST:PORT --db sqlite:PATH|postgres:CONNINFO [options]\n"
        "  relay --listen HOST:PORT --server URL --token-file FILE [options]\n"
        "  authkey ... | nodes ... | users ...   admin commands (see calnet-server authkey "
        "--help)"));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("command"),
                                 QStringLiteral("serve, relay, authkey, nodes or users"),
                                 QStringLiteral("COMMAND [ARGS]"));
    // Everything after the command is the command's own.
    parser.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
    if (!parser.parse(QCoreApplication::arguments())) {
        std::fprintf(stderr, "calnet-server: %s\nTry 'calnet-server --help' for more.\n",
                     qPrintable(parser.errorText()));
        return 2;
    }
    if (parser.isSet(version)) {
        std::printf("calnet-server %s\n", CALNET_VERSION);
        return 0;
    }
    const QStringList args = parser.positionalArguments();
    const QString command = args.value(0);
    if (parser.isSet(help) || command.isEmpty()) {
        std::fputs(qPrintable(parser.helpText()),
                   command.isEmpty() && !parser.isSet(help) ? stderr : stdout);
        return parser.isSet(help) ? 0 : 2;
    }
    if (command == QStringLiteral("serve")) {
        return serve(args.mid(1));
    }
    if (command == QStringLiteral("relay")) {
        return relay(args.mid(1));
    }
    if (command == QStringLiteral("authkey") || command == QStringLiteral("nodes") ||
        command == QStringLiteral("users")) {
        return runAdminCommand(args);
    }
    std::fprintf(stderr,
                 "calnet-server: unknown command %s\nTry 'calnet-server --help' for more.\n",
                 qPrintable(command));
    return 2;
}
