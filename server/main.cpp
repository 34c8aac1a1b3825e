// calnet-server: the coordination server (docs/protocol.md "Control plane").
//
//   calnet-server serve --listen HOST:PORT --db sqlite:PATH|postgres:CONNINFO
//                       [--tls-cert F --tls-key F] [--prefix4 P] [--prefix6 P]
//                       [--key-expiry DURATION] [--admin-token-file F]
//   calnet-server authkey|nodes|users ...   (adminclient.h)
//
// `serve` prints "listening on HOST:PORT" once it accepts connections (with the real port when
// PORT is 0) and exits 0 on SIGTERM/SIGINT after closing the map streams.
#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>

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

int fail(const QString& message) {
    std::fputs(qPrintable(QStringLiteral("calnet-server: ") + message + QLatin1Char('\n')), stderr);
    return 2;
}

int serve(const QStringList& args) {
    ServerConfig config;
    QString listen = QStringLiteral("127.0.0.1:8080");
    QString prefix4 = QStringLiteral("100.70.0.0/24");
    QString prefix6 = QStringLiteral("fd70:6361:6c6e::/64");
    QString tokenFile;
    for (int i = 0; i < args.size(); ++i) {
        const QString& a = args[i];
        if (i + 1 >= args.size()) {
            return fail(QStringLiteral("unknown option or missing value: %1").arg(a));
        }
        const QString v = args[++i];
        if (a == QStringLiteral("--listen")) {
            listen = v;
        } else if (a == QStringLiteral("--db")) {
            config.database = v;
        } else if (a == QStringLiteral("--tls-cert")) {
            config.tlsCertFile = v;
        } else if (a == QStringLiteral("--tls-key")) {
            config.tlsKeyFile = v;
        } else if (a == QStringLiteral("--prefix4")) {
            prefix4 = v;
        } else if (a == QStringLiteral("--prefix6")) {
            prefix6 = v;
        } else if (a == QStringLiteral("--key-expiry")) {
            const std::optional<qint64> d = parseDuration(v);
            if (!d) {
                return fail(
                    QStringLiteral("bad --key-expiry %1 (examples: 30s, 10m, 24h, 180d)").arg(v));
            }
            config.keyExpirySeconds = *d;
        } else if (a == QStringLiteral("--admin-token-file")) {
            tokenFile = v;
        } else {
            return fail(QStringLiteral("unknown option %1").arg(a));
        }
    }
    if (!parseHostPort(listen, &config.listenHost, &config.listenPort)) {
        return fail(QStringLiteral("bad --listen %1 (want HOST:PORT)").arg(listen));
    }
    if (config.database.isEmpty()) {
        return fail(QStringLiteral("--db sqlite:PATH or --db postgres:CONNINFO is required"));
    }
    if (config.tlsCertFile.isEmpty() != config.tlsKeyFile.isEmpty()) {
        return fail(QStringLiteral("--tls-cert and --tls-key go together"));
    }
    QString error;
    if (!config.prefixes.set(prefix4, prefix6, &error)) {
        return fail(error);
    }
    config.adminToken = qEnvironmentVariable("CALNET_ADMIN_TOKEN");
    if (!tokenFile.isEmpty()) {
        const std::optional<QString> token = readTokenFile(tokenFile, &error);
        if (!token) {
            return fail(error);
        }
        config.adminToken = *token;
    }
    if (!config.adminToken.isEmpty() && !isValidAdminToken(config.adminToken)) {
        return fail(QStringLiteral("the admin token must be 16-256 printable characters"));
    }

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
    QStringList args = QCoreApplication::arguments().mid(1);
    const QString command = args.value(0);
    if (command == QStringLiteral("serve")) {
        return serve(args.mid(1));
    }
    if (command == QStringLiteral("authkey") || command == QStringLiteral("nodes") ||
        command == QStringLiteral("users")) {
        return runAdminCommand(args);
    }
    if (command == QStringLiteral("--version")) {
        std::printf("calnet-server %s\n", CALNET_VERSION);
        return 0;
    }
    return fail(QStringLiteral("usage: calnet-server serve --listen HOST:PORT --db "
                               "sqlite:PATH|postgres:CONNINFO [options] | authkey ... | "
                               "nodes ... | users ..."));
}
