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
//
// SIGTERM, SIGINT and SIGHUP stop it cleanly: socket and interface are removed before exit.
// SIGUSR1 prints the data path's drop counters (by reason) to stderr; they are printed at exit
// too.
// It also exits when the interface is deleted underneath it, as wireguard-go does.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QSocketNotifier>

#include <sys/signalfd.h>

#include "core/wireguard/timing.h"
#include "helper/crypto/aeadselect.h"
#include "helper/datapath/tunnel.h"
#include "helper/service/service.h"
#include "helper/service/shutdownguard.h"
#include "helper/uapi/uapiserver.h"

namespace {

constexpr const char* kVersion = CALNET_VERSION;
// How long an orderly shutdown may take before ShutdownGuard ends the process. The service
// restores routes and DNS (D-Bus calls with their own timeouts), so it gets longer.
constexpr std::chrono::seconds kInterfaceShutdownLimit{10};
constexpr std::chrono::seconds kServiceShutdownLimit{30};

void usage(FILE* out) {
    std::fprintf(out, "Usage: calnetd [-f|--foreground] INTERFACE-NAME\n"
                      "       calnetd --version\n"
                      "\n"
                      "Creates a userspace WireGuard interface and serves its configuration on\n"
                      "/var/run/wireguard/INTERFACE-NAME.sock for wg(8) and wg-quick(8).\n"
                      "Stays in the foreground with -f or WG_PROCESS_FOREGROUND=1.\n");
}

// Forks; the parent waits for the child's readiness byte and exits with its status, so the
// caller (wg-quick) sees the interface exist by the time we return, as with wireguard-go.
int daemonise(int& readyFd) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) < 0)
        return -1;
    const pid_t pid = ::fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        ::close(pipeFds[1]);
        char status = 1;
        if (::read(pipeFds[0], &status, 1) != 1)
            status = 1;
        std::_Exit(status);
    }
    ::close(pipeFds[0]);
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        ::dup2(null, STDIN_FILENO);
        if (!std::getenv("LOG_LEVEL")) {
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);
        }
        ::close(null);
    }
    readyFd = pipeFds[1];
    return 0;
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

void reportReady(int& readyFd, char status) {
    if (readyFd >= 0) {
        [[maybe_unused]] auto w = ::write(readyFd, &status, 1);
        ::close(readyFd);
        readyFd = -1;
    }
}

// The service: a Qt event loop for IPC; SIGTERM/SIGINT/SIGHUP arrive through a signalfd so
// shutdown (restoring routes, rules and DNS) runs on the same thread as everything else.
int runService(int argc, char** argv) {
    calnet::helper::Service::Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](const char* what) -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "calnetd: %s needs a value\n", what);
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--service") {
        } else if (arg == "--socket") {
            options.socketPath = QString::fromLocal8Bit(value("--socket"));
        } else if (arg == "--state-dir") {
            options.stateDir = QString::fromLocal8Bit(value("--state-dir"));
        } else if (arg == "--interface") {
            options.interfaceName = QString::fromLocal8Bit(value("--interface"));
        } else if (arg == "--operator-uid") {
            options.operatorUid = uid_t(std::strtoul(value("--operator-uid"), nullptr, 10));
        } else {
            usage(stderr);
            return 2;
        }
    }
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    const int sigfd = ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);

    int qtArgc = 1;
    QCoreApplication app(qtArgc, argv);
    QSocketNotifier notifier(sigfd, QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &app, [&] {
        signalfd_siginfo info{};
        [[maybe_unused]] auto n = ::read(sigfd, &info, sizeof info);
        app.quit();
    });
    calnet::helper::Service service(options);
    QString error;
    if (!service.start(&error)) {
        std::fprintf(stderr, "calnetd: %s\n", qPrintable(error));
        return 1;
    }
    std::fprintf(stderr, "calnetd: service listening on %s\n", qPrintable(options.socketPath));
    const int rc = app.exec();
    calnet::helper::ShutdownGuard guard(kServiceShutdownLimit, "service shutdown");
    service.shutdown();
    std::fprintf(stderr, "calnetd: service stopped\n");
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]) == "--service")
            return runService(argc, argv);

    bool foreground = false;
    std::string ifname;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-f" || arg == "--foreground") {
            foreground = true;
        } else if (arg == "--version" || arg == "-v") {
            std::printf("calnetd %s (userspace WireGuard, UAPI compatible with wireguard-go)\n",
                        kVersion);
            return 0;
        } else if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        } else if (!arg.empty() && arg[0] == '-') {
            usage(stderr);
            return 2;
        } else if (ifname.empty()) {
            ifname = arg;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (ifname.empty()) {
        usage(stderr);
        return 2;
    }
    if (const char* env = std::getenv("WG_PROCESS_FOREGROUND"); env && std::string(env) == "1")
        foreground = true;

    int readyFd = -1;
    if (!foreground && daemonise(readyFd) < 0) {
        std::fprintf(stderr, "calnetd: fork: %s\n", std::strerror(errno));
        return 1;
    }

    // Signals are taken synchronously by this thread only; block them before any thread starts.
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    sigaddset(&handled, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &handled, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    calnet::helper::Tunnel tunnel;
    calnet::helper::UapiServer uapi(tunnel);
    std::string error;
    if (!uapi.listen(calnet::helper::UapiServer::socketPathFor(ifname), error) ||
        !tunnel.start(ifname, {}, error)) {
        std::fprintf(stderr, "calnetd: %s\n", error.c_str());
        uapi.stop();
        reportReady(readyFd, 1);
        return 1;
    }
    // Test-only: the soak test runs the protocol's timers faster (keys renewed every few hundred
    // milliseconds). Honoured only by a plain interface daemon, never by the service.
    if (const char* scale = std::getenv("CALNET_TEST_TIME_SCALE")) {
        char* end = nullptr;
        const double factor = std::strtod(scale, &end);
        if (end == scale || *end != '\0' || !(factor > 0.0 && factor <= 1.0)) {
            std::fprintf(stderr, "calnetd: CALNET_TEST_TIME_SCALE must be in (0, 1]\n");
            uapi.stop();
            tunnel.stop();
            reportReady(readyFd, 1);
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
    reportReady(readyFd, 0);

    int exitCode = 0;
    for (;;) {
        timespec timeout{1, 0};
        const int sig = sigtimedwait(&handled, nullptr, &timeout);
        if (sig == SIGUSR1) {
            reportDrops(tunnel, ifname);
            continue;
        }
        if (sig > 0)
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
