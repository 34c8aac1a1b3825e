#include "server/platform/process.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>

#include <malloc.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace calnet::server::process {

namespace {

int gSignalFds[2] = {-1, -1};

void onSignal(int) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(gSignalFds[0], &byte, 1);
}

} // namespace

void raiseOpenFileLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

std::optional<quint64> openFileLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return std::nullopt;
    return quint64(rl.rlim_cur);
}

// Through a socketpair: nothing else is safe in a signal handler.
bool quitOnStopSignals() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gSignalFds) != 0)
        return false;
    auto* notifier = new QSocketNotifier(gSignalFds[1], QSocketNotifier::Read, qApp);
    QObject::connect(notifier, &QSocketNotifier::activated, qApp, [] {
        char byte = 0;
        [[maybe_unused]] const ssize_t n = ::read(gSignalFds[1], &byte, 1);
        QCoreApplication::quit();
    });
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}

void releaseFreedMemory() {
    ::malloc_trim(0);
}

void shutdownWrite(qintptr socketDescriptor) {
    ::shutdown(int(socketDescriptor), SHUT_WR);
}

} // namespace calnet::server::process
