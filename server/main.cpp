// calnet-server: the coordination server (docs/protocol.md "Control plane").
//
//   calnet-server serve --listen HOST:PORT --db sqlite:PATH|postgres:CONNINFO
//                       [--tls-cert F --tls-key F] [--prefix4 P] [--prefix6 P]
//                       [--key-expiry DURATION] [--admin-token-file F] [--max-connections N]
//                       [--max-connections-per-source N] [--registrations-per-minute N]
//                       [--address-quarantine DURATION] [--stun-listen HOST:PORT|off]
//                                                             (serve --help lists them)
//   calnet-server authkey|nodes|users ...   (adminclient.h)
//
// `serve` prints "stun listening on HOST:PORT" (unless --stun-listen off), then "listening on
// HOST:PORT" once it accepts connections (with the real ports when a PORT is 0), and exits 0 on
// SIGTERM/SIGINT after closing the map streams.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include "server/adminclient.h"
#include "server/server.h"
#include "server/serverconfig.h"

using namespace calnet::server;

namespace {

int g_signalFds[2] = {-1, -1};

void onSignal(int) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_signalFds[0], &byte, 1);
}

// The soft open-file limit up to the hard one: every connection is a descriptor, and the
// usual soft limit of 1,024 is what an attacker with 1,100 idle connections would hit.
void raiseOpenFileLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

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

int serve(const QStringList& args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Runs the coordination server: the API, the map streams and (later) the "
                       "relay on one HTTP listener."));
    parser.addHelpOption();
    const QCommandLineOption listen(QStringLiteral("listen"),
                                    QStringLiteral("Where to listen (default 127.0.0.1:8080)."),
                                    QStringLiteral("HOST:PORT"), QStringLiteral("127.0.0.1:8080"));
    const QCommandLineOption db(QStringLiteral("db"),
                                QStringLiteral("sqlite:PATH or postgres:CONNINFO (required)."),
                                QStringLiteral("DATABASE"));
    const QCommandLineOption tlsCert(QStringLiteral("tls-cert"),
                                     QStringLiteral("PEM certificate (chain) for https/wss."),
                                     QStringLiteral("FILE"));
    const QCommandLineOption tlsKey(QStringLiteral("tls-key"),
                                    QStringLiteral("PEM private key for --tls-cert."),
                                    QStringLiteral("FILE"));
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
    const QCommandLineOption maxConnections(
        QStringLiteral("max-connections"),
        QStringLiteral(
            "Open connections in all (default 4096; lowered to fit the open-file limit)."),
        QStringLiteral("N"));
    const QCommandLineOption maxPerSource(
        QStringLiteral("max-connections-per-source"),
        QStringLiteral("Open connections per IPv4 address or IPv6 /64 (default 256)."),
        QStringLiteral("N"));
    const QCommandLineOption registrationsPerMinute(
        QStringLiteral("registrations-per-minute"),
        QStringLiteral("Registrations per source and minute, half of it at once (default 120)."),
        QStringLiteral("N"));
    const QCommandLineOption quarantine(
        QStringLiteral("address-quarantine"),
        QStringLiteral("How long a deleted node's overlay address stays unused (default 7d)."),
        QStringLiteral("DURATION"));
    const QCommandLineOption stunListen(
        QStringLiteral("stun-listen"),
        QStringLiteral("STUN on UDP (default: the --listen host, port 3478; 'off' for none)."),
        QStringLiteral("HOST:PORT|off"));
    parser.addOptions({listen, db, tlsCert, tlsKey, prefix4, prefix6, keyExpiry, tokenFile,
                       maxConnections, maxPerSource, registrationsPerMinute, quarantine,
                       stunListen});
    if (!parser.parse(QStringList{QStringLiteral("calnet-server serve")} + args)) {
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

    ServerConfig config;
    config.database = parser.value(db);
    config.tlsCertFile = parser.value(tlsCert);
    config.tlsKeyFile = parser.value(tlsKey);
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
    if (parser.isSet(maxConnections) &&
        !positive(parser.value(maxConnections), 1'000'000, &config.maxConnections)) {
        return fail(QStringLiteral("--max-connections wants a number from 1 to 1000000"));
    }
    if (parser.isSet(maxPerSource) &&
        !positive(parser.value(maxPerSource), 1'000'000, &config.maxConnectionsPerSource)) {
        return fail(
            QStringLiteral("--max-connections-per-source wants a number from 1 to 1000000"));
    }
    if (parser.isSet(registrationsPerMinute)) {
        if (!positive(parser.value(registrationsPerMinute), 1e9, &config.registrationsPerMinute)) {
            return fail(QStringLiteral("--registrations-per-minute wants a positive number"));
        }
        config.registrationsBurst = std::max(1, int(config.registrationsPerMinute / 2));
    }
    if (!parseHostPort(parser.value(listen), &config.listenHost, &config.listenPort)) {
        return fail(QStringLiteral("bad --listen %1 (want HOST:PORT)").arg(parser.value(listen)));
    }
    if (!parser.isSet(stunListen)) {
        config.stunHost = config.listenHost;
        config.stunPort = kDefaultStunPort;
    } else if (parser.value(stunListen) != QStringLiteral("off")) {
        quint16 port = 0;
        if (!parseHostPort(parser.value(stunListen), &config.stunHost, &port)) {
            return fail(QStringLiteral("bad --stun-listen %1 (want HOST:PORT or off)")
                            .arg(parser.value(stunListen)));
        }
        config.stunPort = port;
    }
    if (config.database.isEmpty()) {
        return fail(QStringLiteral("--db sqlite:PATH or --db postgres:CONNINFO is required"));
    }
    if (config.tlsCertFile.isEmpty() != config.tlsKeyFile.isEmpty()) {
        return fail(QStringLiteral("--tls-cert and --tls-key go together"));
    }
    QString error;
    if (!config.prefixes.set(parser.value(prefix4), parser.value(prefix6), &error)) {
        return fail(error);
    }
    config.adminToken = qEnvironmentVariable("CALNET_ADMIN_TOKEN");
    if (parser.isSet(tokenFile)) {
        const std::optional<QString> token = readTokenFile(parser.value(tokenFile), &error);
        if (!token) {
            return fail(error);
        }
        config.adminToken = *token;
    }
    if (!config.adminToken.isEmpty() && !isValidAdminToken(config.adminToken)) {
        return fail(QStringLiteral("the admin token must be 16-256 printable characters"));
    }
    raiseOpenFileLimit();

    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalFds) != 0) {
        return fail(QStringLiteral("socketpair failed"));
    }
    QSocketNotifier notifier(g_signalFds[1], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, qApp, [] {
        char byte = 0;
        [[maybe_unused]] const ssize_t n = ::read(g_signalFds[1], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    Server server(config);
    if (!server.start(&error)) {
        return fail(error);
    }
    const QString host = config.listenHost.contains(QLatin1Char(':'))
                             ? QLatin1Char('[') + config.listenHost + QLatin1Char(']')
                             : config.listenHost;
    if (config.stunPort) {
        const QString stunHost = config.stunHost.contains(QLatin1Char(':'))
                                     ? QLatin1Char('[') + config.stunHost + QLatin1Char(']')
                                     : config.stunHost;
        std::printf("stun listening on %s:%u\n", qPrintable(stunHost), unsigned(server.stunPort()));
    }
    std::printf("listening on %s:%u\n", qPrintable(host), unsigned(server.port()));
    std::fflush(stdout);
    if (config.adminToken.isEmpty()) {
        std::fputs("calnet-server: no admin token configured; the admin API is disabled\n", stderr);
    }
    const int rc = QCoreApplication::exec();
    server.shutdown();
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
        "  authkey ... | nodes ... | users ...   admin commands (see calnet-server authkey "
        "--help)"));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("command"),
                                 QStringLiteral("serve, authkey, nodes or users"),
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
    if (command == QStringLiteral("authkey") || command == QStringLiteral("nodes") ||
        command == QStringLiteral("users")) {
        return runAdminCommand(args);
    }
    std::fprintf(stderr,
                 "calnet-server: unknown command %s\nTry 'calnet-server --help' for more.\n",
                 qPrintable(command));
    return 2;
}
