// calnetctl: the command-line client of calnetd (docs/ipc.md). Every command is one request
// over the local socket; --json prints the helper's reply as is.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

#include <cstdio>

#include "app/calnetctl/format.h"
#include "app/calnetctl/login.h"
#include "helper/ipc/client.h"

using namespace calnet;

namespace {

constexpr int kTimeoutMs = 30000; // connect can take a while: DNS, interface, routes

const char* kCommands =
    "Commands:\n"
    "  status                 connection state, profile, interface, addresses\n"
    "  up [PROFILE]           connect (default: the last connected or only profile)\n"
    "  up --server URL [--auth-key KEY | --auth-key-file FILE] [--hostname H] [--name N]\n"
    "                         join a Calnet network (the auth key is needed the first time)\n"
    "                         and connect to it; the profile is named N, by default\n"
    "                         calnet-<server host>\n"
    "  login --server URL [--hostname H] [--name N] [--browser]\n"
    "                         join a Calnet network by signing in at its identity provider:\n"
    "                         prints a URL and a code to enter there (or, with --browser or\n"
    "                         a provider without device sign-in, a link for a browser on\n"
    "                         this machine), then connects\n"
    "  logout [--name N] [--delete]\n"
    "                         disconnect and forget this device's identity in the network\n"
    "                         (--delete: delete the node on the server too)\n"
    "  down                   disconnect\n"
    "  import FILE [--name N] import a wg-quick file (FILE '-' reads standard input)\n"
    "  profiles               list profiles (* = connected)\n"
    "  peers                  peers of the connection: endpoint, handshake age and health,\n"
    "                         transfer, keepalive, path (direct, relayed via NAME, or none)\n"
    "  netcheck               this network as the node sees it: UDP, public address, whether\n"
    "                         the NAT maps each destination to its own port, relay latency\n"
    "  ping PEER [--count N]  disco pings to a peer (hostname, overlay address or key), one a\n"
    "                         second, until one comes back directly (default 10 rounds)\n"
    "  remove PROFILE         delete a profile\n"
    "  export PROFILE         print a profile as a wg-quick file, keys included (admin only)\n"
    "  version                protocol and helper version\n"
    "\n"
    "Exit codes: 0 ok, 1 failed, 2 usage, 3 helper unavailable, 4 permission denied,\n"
    "5 not found, 6 invalid input, 7 conflict.";

int usageError(const QString& message) {
    std::fprintf(stderr, "calnetctl: %s\nTry 'calnetctl --help' for more.\n", qPrintable(message));
    return ctl::ExitUsage;
}

void print(const QString& text) {
    std::fputs(text.toLocal8Bit().constData(), stdout);
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The command-line client of calnetd.\n\n") +
                                     QString::fromLatin1(kCommands));
    const QCommandLineOption helpOption({QStringLiteral("h"), QStringLiteral("help")},
                                        QStringLiteral("Show this help."));
    const QCommandLineOption versionOption({QStringLiteral("v"), QStringLiteral("version")},
                                           QStringLiteral("Show calnetctl's version (the "
                                                          "helper's: the version command)."));
    const QCommandLineOption socketOption(
        QStringLiteral("socket"),
        QStringLiteral("The helper's socket (default %1).").arg(QString(ipc::kDefaultSocketPath)),
        QStringLiteral("path"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print the helper's JSON reply."));
    const QCommandLineOption nameOption(QStringLiteral("name"),
                                        QStringLiteral("import, up --server: the profile's name."),
                                        QStringLiteral("name"));
    const QCommandLineOption serverOption(QStringLiteral("server"),
                                          QStringLiteral("up, login: the Calnet server to join."),
                                          QStringLiteral("url"));
    const QCommandLineOption browserOption(
        QStringLiteral("browser"),
        QStringLiteral("login: sign in with a browser on this machine, not with a code."));
    const QCommandLineOption deleteOption(
        QStringLiteral("delete"), QStringLiteral("logout: delete the node on the server too."));
    const QCommandLineOption authKeyOption(QStringLiteral("auth-key"),
                                           QStringLiteral("up --server: a pre-auth key."),
                                           QStringLiteral("key"));
    const QCommandLineOption authKeyFileOption(
        QStringLiteral("auth-key-file"),
        QStringLiteral("up --server: read the pre-auth key from a file."), QStringLiteral("file"));
    const QCommandLineOption hostnameOption(
        QStringLiteral("hostname"), QStringLiteral("up --server: this node's name in the network."),
        QStringLiteral("name"));
    const QCommandLineOption countOption(QStringLiteral("count"),
                                         QStringLiteral("ping: rounds, 1 to 100 (default 10)."),
                                         QStringLiteral("n"));
    parser.addOptions({helpOption, versionOption, socketOption, jsonOption, nameOption,
                       serverOption, authKeyOption, authKeyFileOption, hostnameOption, countOption,
                       browserOption, deleteOption});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("See Commands."),
                                 QStringLiteral("COMMAND [ARGS]"));
    if (!parser.parse(app.arguments()))
        return usageError(parser.errorText());
    if (parser.isSet(helpOption)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return ctl::ExitOk;
    }
    if (parser.isSet(versionOption)) {
        std::printf("calnetctl %s\n", CALNET_VERSION);
        return ctl::ExitOk;
    }
    // Each option once: a repeated one would silently mean only its last value.
    for (const auto* o : {&socketOption, &nameOption, &serverOption, &authKeyOption,
                          &authKeyFileOption, &hostnameOption, &countOption})
        if (parser.values(*o).size() > 1)
            return usageError(
                QStringLiteral("--%1 given more than once").arg(o->names().constFirst()));
    auto optional = [&](const QCommandLineOption& o) -> std::optional<QString> {
        if (!parser.isSet(o))
            return std::nullopt;
        return parser.value(o);
    };
    const QString socketPath = optional(socketOption).value_or(QString(ipc::kDefaultSocketPath));
    if (socketPath.isEmpty())
        return usageError(QStringLiteral("--socket: empty path"));
    const bool json = parser.isSet(jsonOption);
    const std::optional<QString> importName = optional(nameOption);
    const std::optional<QString> server = optional(serverOption);
    std::optional<QString> authKey = optional(authKeyOption);
    const std::optional<QString> authKeyFile = optional(authKeyFileOption);
    const std::optional<QString> hostname = optional(hostnameOption);
    QStringList positional = parser.positionalArguments();
    if (positional.isEmpty())
        return usageError(QStringLiteral("no command"));
    const QString command = positional.takeFirst();

    QString method;
    QJsonObject params;
    auto needs = [&](int n) { return positional.size() == n; };
    const bool login = command == QLatin1StringView("login");
    const bool logout = command == QLatin1StringView("logout");
    if ((authKey || authKeyFile || hostname) && !server)
        return usageError(QStringLiteral("--auth-key, --auth-key-file and --hostname go "
                                         "with up --server or login --server"));
    if (authKey && authKeyFile)
        return usageError(QStringLiteral("give --auth-key or --auth-key-file, not both"));
    if (server && command != QLatin1StringView("up") && !login)
        return usageError(QStringLiteral("--server goes with up or login"));
    if (login && (authKey || authKeyFile))
        return usageError(QStringLiteral("login signs in at the identity provider; an auth key "
                                         "goes with up --server"));
    if (parser.isSet(browserOption) && !login)
        return usageError(QStringLiteral("--browser goes with login"));
    if (parser.isSet(deleteOption) && !logout)
        return usageError(QStringLiteral("--delete goes with logout"));
    if (login) {
        if (!server || !needs(0))
            return usageError(QStringLiteral("login needs --server URL"));
        return ctl::runLogin(
            {socketPath, *server, hostname, importName, json, parser.isSet(browserOption)});
    }
    if (parser.isSet(countOption) && command != QLatin1StringView("ping"))
        return usageError(QStringLiteral("--count goes with ping"));
    int timeoutMs = kTimeoutMs;
    if (importName && command != QLatin1StringView("import") && !server && !logout)
        return usageError(QStringLiteral("--name goes with import, up --server, login or logout"));
    if (command == QLatin1StringView("status") && needs(0)) {
        method = QStringLiteral("status");
    } else if (command == QLatin1StringView("version") && needs(0)) {
        method = QStringLiteral("version");
    } else if (command == QLatin1StringView("up") && server && needs(0)) {
        method = QStringLiteral("up");
        params.insert("server", *server);
        if (authKeyFile) {
            QFile file(*authKeyFile);
            if (!file.open(QIODevice::ReadOnly)) {
                std::fprintf(stderr, "calnetctl: cannot read %s: %s\n", qPrintable(*authKeyFile),
                             qPrintable(file.errorString()));
                return ctl::ExitFailed;
            }
            authKey = QString::fromUtf8(file.read(4096)).trimmed();
        }
        if (authKey)
            params.insert("authKey", *authKey);
        if (hostname)
            params.insert("hostname", *hostname);
        if (importName)
            params.insert("name", *importName);
    } else if (command == QLatin1StringView("up") && !server && positional.size() <= 1) {
        method = QStringLiteral("connect");
        if (!positional.isEmpty())
            params.insert("name", positional.first());
    } else if (logout && needs(0)) {
        method = QStringLiteral("logout");
        if (importName)
            params.insert("name", *importName);
        if (parser.isSet(deleteOption))
            params.insert("deleteNode", true);
    } else if (command == QLatin1StringView("down") && needs(0)) {
        method = QStringLiteral("disconnect");
    } else if (command == QLatin1StringView("profiles") && needs(0)) {
        method = QStringLiteral("profiles.list");
    } else if (command == QLatin1StringView("peers") && needs(0)) {
        method = QStringLiteral("peers");
    } else if (command == QLatin1StringView("netcheck") && needs(0)) {
        method = QStringLiteral("netcheck");
    } else if (command == QLatin1StringView("ping") && needs(1)) {
        method = QStringLiteral("ping");
        params.insert("peer", positional.first());
        if (parser.isSet(countOption)) {
            bool ok = false;
            const int n = parser.value(countOption).toInt(&ok);
            if (!ok || n < 1 || n > 100)
                return usageError(QStringLiteral("--count: a number from 1 to 100"));
            params.insert("count", n);
            timeoutMs = (n + 5) * 1000;
        }
    } else if ((command == QLatin1StringView("remove") || command == QLatin1StringView("export")) &&
               needs(1)) {
        method = command == QLatin1StringView("remove") ? QStringLiteral("profiles.remove")
                                                        : QStringLiteral("profiles.export");
        params.insert("name", positional.first());
    } else if (command == QLatin1StringView("import") && needs(1)) {
        method = QStringLiteral("profiles.import");
        QFile file;
        const QString path = positional.first();
        const bool ok = path == QLatin1StringView("-")
                            ? file.open(stdin, QIODevice::ReadOnly)
                            : (file.setFileName(path), file.open(QIODevice::ReadOnly));
        if (!ok) {
            std::fprintf(stderr, "calnetctl: cannot read %s: %s\n", qPrintable(path),
                         qPrintable(file.errorString()));
            return ctl::ExitFailed;
        }
        params.insert("config", QString::fromUtf8(file.read(ipc::kMaxConfigBytes + 1)));
        // Default name: the file's name without .conf, as wg-quick names interfaces.
        const QString base = QFileInfo(path).completeBaseName();
        if (importName)
            params.insert("name", *importName);
        else if (path != QLatin1StringView("-") && ipc::isValidProfileName(base))
            params.insert("name", base);
    } else {
        return usageError(QStringLiteral("unknown command or wrong number of arguments"));
    }

    QString error;
    const auto reply = ipc::IpcClient::callBlocking(socketPath, method, params, timeoutMs, &error);
    if (!reply) {
        std::fprintf(stderr, "calnetctl: cannot reach calnetd on %s: %s\n", qPrintable(socketPath),
                     qPrintable(error));
        return ctl::ExitUnavailable;
    }
    if (!reply->ok()) {
        const auto& e = *reply->error;
        const QString code = ipc::toString(e.code);
        if (json) {
            print(QString::fromUtf8(
                QJsonDocument(QJsonObject{{"error", QJsonObject{{"code", code},
                                                                {"message", e.message},
                                                                {"details", e.details}}}})
                    .toJson(QJsonDocument::Indented)));
        } else {
            std::fprintf(stderr, "calnetctl: %s: %s\n", qPrintable(code), qPrintable(e.message));
            for (const QJsonValue& v : e.details.value("errors").toArray())
                std::fprintf(stderr, "  line %d: %s\n", v.toObject().value("line").toInt(),
                             qPrintable(v.toObject().value("reason").toString()));
        }
        return ctl::exitCodeFor(code);
    }
    const QJsonObject& r = reply->result;
    if (json) {
        print(QString::fromUtf8(QJsonDocument(r).toJson(QJsonDocument::Indented)));
        return ctl::ExitOk;
    }
    if (method == QLatin1StringView("status") || method == QLatin1StringView("connect") ||
        method == QLatin1StringView("up") || method == QLatin1StringView("disconnect"))
        print(ctl::formatStatus(r, QDateTime::currentSecsSinceEpoch()));
    else if (method == QLatin1StringView("logout"))
        print(r.value("deleted").toBool()
                  ? QStringLiteral("signed out of %1; the node was deleted on the server\n")
                        .arg(r.value("profile").toString())
              : r.value("deleteError").isString()
                  ? QStringLiteral("signed out of %1; the node could not be deleted on the "
                                   "server: %2\n")
                        .arg(r.value("profile").toString(), r.value("deleteError").toString())
                  : QStringLiteral("signed out of %1\n").arg(r.value("profile").toString()));
    else if (method == QLatin1StringView("peers"))
        print(ctl::formatPeers(r));
    else if (method == QLatin1StringView("netcheck"))
        print(ctl::formatNetcheck(r));
    else if (method == QLatin1StringView("ping")) {
        print(ctl::formatPing(r));
        if (r.value("pongs").toArray().isEmpty())
            return ctl::ExitFailed; // no answer at all, as ping(8) fails
    } else if (method == QLatin1StringView("profiles.list"))
        print(ctl::formatProfiles(r));
    else if (method == QLatin1StringView("profiles.export"))
        print(r.value("config").toString());
    else if (method == QLatin1StringView("profiles.import"))
        print(QStringLiteral("imported %1\n").arg(r.value("name").toString()));
    else if (method == QLatin1StringView("version"))
        print(QStringLiteral("calnetd %1, protocol %2\n")
                  .arg(r.value("daemon").toString())
                  .arg(r.value("protocol").toInt()));
    return ctl::ExitOk;
}
