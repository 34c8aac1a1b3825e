#include "helper/platform/process.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace calnet::helper::process {

namespace {

int gReadyFd = -1; // the write end of the pipe the daemonised parent waits on

sigset_t requestSignals(bool report = true) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (report)
        sigaddset(&set, SIGUSR1);
    return set;
}

} // namespace

bool daemonise(std::string& error) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) < 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        return false;
    }
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
    gReadyFd = pipeFds[1];
    return true;
}

void reportReady(bool ok) {
    if (gReadyFd >= 0) {
        const char status = ok ? 0 : 1;
        [[maybe_unused]] auto w = ::write(gReadyFd, &status, 1);
        ::close(gReadyFd);
        gReadyFd = -1;
    }
}

void holdRequests(Held held) {
    const sigset_t set = requestSignals(held == Held::StopAndReport);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

Request waitForRequest(std::chrono::milliseconds timeout) {
    const sigset_t set = requestSignals();
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    timespec ts{time_t(s.count()),
                long(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout - s).count())};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGUSR1)
        return Request::Report;
    return sig > 0 ? Request::Stop : Request::None;
}

bool quitOnStopRequest(QCoreApplication& app, std::string& error) {
    const sigset_t stop = requestSignals(false);
    const int fd = ::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) {
        error = std::string("signalfd: ") + std::strerror(errno);
        return false;
    }
    // Owned by the application: lives as long as its event loop.
    auto* notifier = new QSocketNotifier(fd, QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, [fd, &app] {
        signalfd_siginfo info{};
        [[maybe_unused]] auto n = ::read(fd, &info, sizeof info);
        app.quit();
    });
    return true;
}

void serviceFinished(int) {}

} // namespace calnet::helper::process
