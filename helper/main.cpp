// calnetd: the Calnet helper.
//
//   calnetd --service [--socket PATH] [--state-dir DIR] [--interface NAME] [--operator-uid UID]
//                                        the Calnet helper service: tunnel profiles, routes and
//                                        DNS, and the local IPC socket (docs/ipc.md); stays in
//                                        the foreground (systemd runs it).
//   calnetd [-f|--foreground] IFNAME     a drop-in for `wireguard-go IFNAME`: creates the TUN
//                                        interface, serves the UAPI on
//                                        /var/run/wireguard/IFNAME.sock, and daemonises unless
//                                        in the foreground (or WG_PROCESS_FOREGROUND=1).
//   calnetd --rollback [--socket PATH] [--state-dir DIR]
//                                        undoes what a service no longer running left behind
//                                        (its journal); refused while a service answers.
//   calnetd --install-service            Windows: registers and starts the Calnet service (the
//   calnetd --uninstall-service          installers run these); stops and deletes it.
//
// On Windows the service runs under the SCM, the IPC is the named pipe \\.\pipe\calnetd, the
// state is in %ProgramData%\Calnet, the UAPI is a named pipe and the interface mode stays in the
// console (docs/platforms.md).
//
// The command line goes through QCommandLineParser (parseCommandLine): an option of the other
// mode, a second interface name or a malformed value is an error with exit status 2.
//
// SIGTERM, SIGINT and SIGHUP stop it cleanly: socket and interface are removed before exit.
// SIGUSR1 prints the data path's drop counters (by reason) to stderr; they are printed at exit
// too.
// It also exits when the interface is deleted underneath it, as wireguard-go does.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <QCommandLineParser>
#include <QCoreApplication>

#include <optional>
#include <variant>

#include "core/wireguard/timing.h"
#include "helper/crypto/aeadselect.h"
#include "helper/datapath/tunnel.h"
#include "helper/platform/platform.h"
#include "helper/platform/platformoptions.h"
#include "helper/platform/process.h"
#include "helper/platform/statefile.h"
#include "helper/service/ipcserver.h"
#include "helper/service/service.h"
#include "helper/service/shutdownguard.h"
#include "helper/uapi/uapiserver.h"

namespace {

constexpr const char* kVersion = CALNET_VERSION;
#ifdef CALNET_TEST_HOOKS
constexpr bool kTestHooks = true;
#else
constexpr bool kTestHooks = false;
#endif

QString ipcDefaultSocket() {
    return QString(calnet::ipc::kDefaultSocketPath);
}
// How long an orderly shutdown may take before ShutdownGuard ends the process. The service
// restores routes and DNS (D-Bus calls with their own timeouts), so it gets longer.
constexpr std::chrono::seconds kInterfaceShutdownLimit{10};
constexpr std::chrono::seconds kServiceShutdownLimit{30};

// What the command line asks for.
struct InterfaceMode {
    std::string ifname;
    bool foreground = false;
};
struct ServiceMode {
    calnet::helper::Service::Options options;
};
struct Exit {
    int code = 0; // --help / --version printed (0), or a usage error already reported (2)
};
// A command of the OS's own (Windows: register or remove the service).
struct PlatformCommand {
    std::function<int()> run;
};
// Undo what a service that is no longer running left behind (its journal), then exit.
struct RollbackMode {
    QString socketPath = QString(calnet::ipc::kDefaultSocketPath);
    QString stateDir = calnet::helper::statefile::defaultStateDirectory();
};
using Mode = std::variant<InterfaceMode, ServiceMode, RollbackMode, PlatformCommand, Exit>;

Mode usageError(const QString& message) {
    std::fprintf(stderr, "calnetd: %s\nTry 'calnetd --help' for more.\n", qPrintable(message));
    return Exit{2};
}

// A Linux interface name: 1-15 bytes, no '/', ':' or whitespace.
bool isValidIfname(const QString& name) {
    const QByteArray bytes = name.toLocal8Bit();
    if (bytes.isEmpty() || bytes.size() > 15 || bytes == "." || bytes == "..")
        return false;
    for (const char c : bytes)
        if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return false;
    return true;
}

Mode parseCommandLine(const QStringList& arguments) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The Calnet helper.\n\n"
                       "calnetd --service [options]: the Calnet helper service (profiles, routes, "
                       "DNS, the local IPC socket); stays in the foreground.\n"
                       "calnetd [-f] INTERFACE-NAME: a drop-in for wireguard-go: creates a "
                       "userspace WireGuard interface and serves its configuration on "
                       "%1 for wg(8) and wg-quick(8); stays in the foreground with -f or "
                       "WG_PROCESS_FOREGROUND=1.")
            .arg(QString::fromStdString(
                calnet::helper::UapiServer::socketPathFor("INTERFACE-NAME"))));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version({QStringLiteral("v"), QStringLiteral("version")},
                                     QStringLiteral("Show the version."));
    const QCommandLineOption service(QStringLiteral("service"),
                                     QStringLiteral("Run the helper service."));
    const QCommandLineOption foreground({QStringLiteral("f"), QStringLiteral("foreground")},
                                        QStringLiteral("Interface mode: do not daemonise."));
    const QCommandLineOption socket(
        QStringLiteral("socket"),
        QStringLiteral("Service: the IPC socket (default %1).").arg(ipcDefaultSocket()),
        QStringLiteral("path"));
    const QCommandLineOption stateDir(
        QStringLiteral("state-dir"),
        QStringLiteral("Service: profiles, journals and state (default %1).")
            .arg(calnet::helper::statefile::defaultStateDirectory()),
        QStringLiteral("dir"));
    const QCommandLineOption interfaceName(
        QStringLiteral("interface"),
        QStringLiteral("Service: the tunnel interface's name (default calnet0)."),
        QStringLiteral("name"));
    const QCommandLineOption rollback(
        QStringLiteral("rollback"),
        QStringLiteral("Undo the routes, rules, nftables tables and DNS settings that a service no "
                       "longer running left behind (its journal in --state-dir), then exit; "
                       "refused while a service answers on --socket. calnetd.service runs it "
                       "after every stop, a crash included."));
    parser.addOptions(
        {help, version, service, foreground, socket, stateDir, interfaceName, rollback});
    const calnet::helper::PlatformOptions platformOptions(parser);
    std::vector<const QCommandLineOption*> serviceOnly = {&socket, &stateDir, &interfaceName};
    for (const auto* o : platformOptions.serviceOnly())
        serviceOnly.push_back(o);
    parser.addPositionalArgument(QStringLiteral("interface-name"),
                                 QStringLiteral("Interface mode: the interface to create."));
    if (!parser.parse(arguments))
        return usageError(parser.errorText());
    if (parser.isSet(help)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return Exit{0};
    }
    if (parser.isSet(version)) {
        std::printf("calnetd %s (userspace WireGuard, UAPI compatible with wireguard-go)%s\n",
                    kVersion, kTestHooks ? " [test hooks compiled in]" : "");
        return Exit{0};
    }
    const QStringList positional = parser.positionalArguments();
    if (auto command = platformOptions.command(parser.isSet(service) || parser.isSet(foreground) ||
                                               !positional.isEmpty())) {
        if (!command->usageError.isEmpty())
            return usageError(command->usageError);
        return PlatformCommand{std::move(command->run)};
    }
    if (parser.isSet(rollback)) {
        if (parser.isSet(service) || parser.isSet(foreground) || parser.isSet(interfaceName) ||
            !positional.isEmpty())
            return usageError(QStringLiteral("--rollback takes only --socket and --state-dir"));
        RollbackMode mode;
        if (parser.isSet(socket))
            mode.socketPath = parser.value(socket);
        if (parser.isSet(stateDir))
            mode.stateDir = parser.value(stateDir);
        if (mode.socketPath.isEmpty() || mode.stateDir.isEmpty())
            return usageError(QStringLiteral("--rollback: empty --socket or --state-dir"));
        return mode;
    }
    if (parser.isSet(service)) {
        if (parser.isSet(foreground) || !positional.isEmpty())
            return usageError(QStringLiteral("--service takes no interface name and no "
                                             "-f (it stays in the foreground)"));
        ServiceMode mode;
        auto& o = mode.options;
        if (parser.isSet(socket)) {
            o.socketPath = parser.value(socket);
            if (o.socketPath.isEmpty())
                return usageError(QStringLiteral("--socket: empty path"));
        }
        if (parser.isSet(stateDir)) {
            o.stateDir = parser.value(stateDir);
            if (o.stateDir.isEmpty())
                return usageError(QStringLiteral("--state-dir: empty path"));
        }
        if (parser.isSet(interfaceName)) {
            o.interfaceName = parser.value(interfaceName);
            if (!isValidIfname(o.interfaceName))
                return usageError(QStringLiteral("--interface: %1 is not an interface "
                                                 "name (1-15 bytes, no / : or spaces)")
                                      .arg(o.interfaceName));
        }
        if (const QString why = platformOptions.applyTo(o); !why.isEmpty())
            return usageError(why);
        return mode;
    }
    for (const auto* o : serviceOnly)
        if (parser.isSet(*o))
            return usageError(QStringLiteral("--%1 needs --service").arg(o->names().constFirst()));
    if (positional.size() != 1)
        return usageError(
            positional.isEmpty()
                ? QStringLiteral("an interface name is needed")
                : QStringLiteral("one interface name, not %1").arg(positional.size()));
    if (!isValidIfname(positional.front()))
        return usageError(QStringLiteral("%1 is not an interface name (1-15 bytes, no / "
                                         ": or spaces)")
                              .arg(positional.front()));
    return InterfaceMode{positional.front().toStdString(), parser.isSet(foreground)};
}

// One line per non-zero drop counter: what the data path refused and why (never per packet).
void reportDrops(calnet::helper::Tunnel& tunnel, const std::string& ifname) {
    auto& stats = tunnel.stats();
    for (std::size_t i = 1; i < calnet::wireguard::kDropReasonCount; ++i) {
        const auto n = stats.drops[i].load(std::memory_order_relaxed);
        if (n != 0)
            std::fprintf(stderr, "calnetd: %s: dropped %llu (%s)\n", ifname.c_str(),
                         static_cast<unsigned long long>(n),
                         calnet::wireguard::toString(calnet::wireguard::DropReason(i)));
    }
    if (const auto n = stats.handshakeQueueFull.load(); n != 0)
        std::fprintf(stderr, "calnetd: %s: dropped %llu (handshake_queue_full)\n", ifname.c_str(),
                     static_cast<unsigned long long>(n));
}

// The service: a Qt event loop for IPC; a stop request (SIGTERM/SIGINT/SIGHUP) quits the loop
// so shutdown (restoring routes, rules and DNS) runs on the same thread as everything else.
int runService(calnet::helper::Service::Options options, char* argv0) {
    namespace process = calnet::helper::process;
    process::holdRequests(process::Held::StopOnly);
    int qtArgc = 1;
    char* qtArgv[] = {argv0, nullptr};
    QCoreApplication app(qtArgc, qtArgv);
    if (std::string why; !process::quitOnStopRequest(app, why)) {
        std::fprintf(stderr, "calnetd: %s\n", why.c_str());
        return 1;
    }
    calnet::helper::Service service(options);
    QString error;
    if (!service.start(&error)) {
        std::fprintf(stderr, "calnetd: %s\n", qPrintable(error));
        process::serviceFinished(1);
        return 1;
    }
    std::fprintf(stderr, "calnetd: service listening on %s\n", qPrintable(options.socketPath));
    const int rc = app.exec();
    {
        calnet::helper::ShutdownGuard guard(kServiceShutdownLimit, "service shutdown");
        service.shutdown();
    }
    std::fprintf(stderr, "calnetd: service stopped\n");
    process::serviceFinished(rc);
    return rc;
}

// --rollback: what the service's journal still lists is undone, unless a service is running
// (it undoes its own changes when it stops, and its journal is in use).
int runRollback(const RollbackMode& mode, char* argv0) {
    int qtArgc = 1;
    char* qtArgv[] = {argv0, nullptr};
    QCoreApplication app(qtArgc, qtArgv);
    if (calnet::helper::IpcServer::isServed(mode.socketPath)) {
        std::fprintf(stderr,
                     "calnetd: a service answers on %s; it undoes its own changes when it "
                     "stops: nothing done\n",
                     qPrintable(mode.socketPath));
        return 1;
    }
    const auto result =
        calnet::helper::Platform::system().rollbackLeftovers(mode.stateDir.toStdString());
    if (result.undone == 0 && result.ok())
        return 0;
    std::fprintf(stderr, "calnetd: rollback: %d change(s) undone%s%s\n", int(result.undone),
                 result.ok() ? "" : "; ", result.ok() ? "" : result.summary.c_str());
    return result.ok() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
    Mode mode;
    {
        // For parsing only: the interface mode forks and never uses Qt afterwards.
        int qtArgc = 1;
        QCoreApplication parsing(qtArgc, argv);
        QStringList arguments;
        for (int i = 0; i < argc; ++i)
            arguments << QString::fromLocal8Bit(argv[i]);
        mode = parseCommandLine(arguments);
    }
    if (const auto* done = std::get_if<Exit>(&mode))
        return done->code;
    if (auto* service = std::get_if<ServiceMode>(&mode))
        return runService(std::move(service->options), argv[0]);
    if (const auto* undo = std::get_if<RollbackMode>(&mode))
        return runRollback(*undo, argv[0]);
    if (const auto* command = std::get_if<PlatformCommand>(&mode))
        return command->run();
    const auto& iface = std::get<InterfaceMode>(mode);
    const std::string ifname = iface.ifname;
    bool foreground = iface.foreground;
    if (const char* env = std::getenv("WG_PROCESS_FOREGROUND"); env && std::string(env) == "1")
        foreground = true;

    namespace process = calnet::helper::process;
    if (std::string why; !foreground && !process::daemonise(why)) {
        std::fprintf(stderr, "calnetd: %s\n", why.c_str());
        return 1;
    }
    // Requests are taken synchronously by this thread only: held before any thread starts.
    process::holdRequests(process::Held::StopAndReport);

    calnet::helper::Tunnel tunnel;
    calnet::helper::UapiServer uapi(tunnel);
    std::string error;
    if (!uapi.listen(calnet::helper::UapiServer::socketPathFor(ifname), error) ||
        !tunnel.start(ifname, {}, error)) {
        std::fprintf(stderr, "calnetd: %s\n", error.c_str());
        uapi.stop();
        process::reportReady(false);
        return 1;
    }
    // Test-only: the soak test runs the protocol's timers faster (keys renewed every few hundred
    // milliseconds). Honoured only by a plain interface daemon, never by the service, and only
    // by calnetd-testhooks (helper/CMakeLists.txt), never by the calnetd that packages ship.
    const char* scale = kTestHooks ? std::getenv("CALNET_TEST_TIME_SCALE") : nullptr;
    if (!kTestHooks && std::getenv("CALNET_TEST_TIME_SCALE"))
        std::fprintf(stderr, "calnetd: CALNET_TEST_TIME_SCALE ignored: not a test build\n");
    if (scale) {
        char* end = nullptr;
        const double factor = std::strtod(scale, &end);
        if (end == scale || *end != '\0' || !(factor > 0.0 && factor <= 1.0)) {
            std::fprintf(stderr, "calnetd: CALNET_TEST_TIME_SCALE must be in (0, 1]\n");
            uapi.stop();
            tunnel.stop();
            process::reportReady(false);
            return 2;
        }
        const auto timing = calnet::wireguard::Timing::scaled(factor);
        tunnel.withDevice([&](calnet::wireguard::Device& device, calnet::wireguard::Now,
                              calnet::wireguard::Actions&) { device.setTiming(timing); });
        std::fprintf(stderr,
                     "calnetd: TEST ONLY: protocol timers scaled by %g (rekey after %lld ms)\n",
                     factor,
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                timing.rekeyAfterTime)
                                                .count()));
    }
    uapi.start();
    std::fprintf(stderr, "calnetd: %s\n", calnet::helper::ensureTransportAeadSelected().c_str());
    std::fprintf(stderr, "calnetd: interface %s up, UAPI on %s\n", ifname.c_str(),
                 calnet::helper::UapiServer::socketPathFor(ifname).c_str());
    process::reportReady(true);

    int exitCode = 0;
    for (;;) {
        const auto request = process::waitForRequest(std::chrono::seconds(1));
        if (request == process::Request::Report) {
            reportDrops(tunnel, ifname);
            continue;
        }
        if (request == process::Request::Stop)
            break;
        if (tunnel.failed()) {
            std::fprintf(stderr, "calnetd: interface %s is gone, exiting\n", ifname.c_str());
            exitCode = 1;
            break;
        }
    }
    calnet::helper::ShutdownGuard guard(kInterfaceShutdownLimit, "shutdown of " + ifname);
    uapi.stop();
    reportDrops(tunnel, ifname);
    tunnel.stop();
    std::fprintf(stderr, "calnetd: %s shut down\n", ifname.c_str());
    return exitCode;
}
