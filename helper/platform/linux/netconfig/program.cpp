#include "helper/platform/linux/netconfig/program.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace calnet::helper::netconfig {

namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

void closeFd(int& fd) {
    if (fd >= 0) {
        ::close(fd);
        fd = -1;
    }
}

} // namespace

std::string ProgramResult::describe() const {
    if (spawnError != 0)
        return std::strerror(spawnError);
    std::string text = timedOut         ? std::string("killed after the time limit")
                       : exitStatus < 0 ? std::string("terminated by a signal")
                                        : "exit status " + std::to_string(exitStatus);
    std::string trimmed = output;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
        trimmed.pop_back();
    if (!trimmed.empty())
        text += ": " + trimmed;
    return text;
}

std::string findProgram(const std::string& program) {
    if (program.empty())
        return {};
    if (program.find('/') != std::string::npos)
        return ::access(program.c_str(), X_OK) == 0 ? program : std::string();
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos)
            end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        start = end + 1;
        if (dir.empty())
            dir = ".";
        const std::string candidate = dir + "/" + program;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

ProgramResult runProgram(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input, int timeoutMs) {
    ProgramResult result;
    if (input.size() > kMaxProgramInput) {
        result.spawnError = E2BIG;
        return result;
    }
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0) {
        result.spawnError = errno;
        closeFd(in[0]);
        closeFd(in[1]);
        return result;
    }
    // All of stdin goes into the pipe before the child exists: nothing can block, and a child
    // that never reads cannot make us take SIGPIPE.
    std::size_t written = 0;
    while (written < input.size()) {
        const ssize_t n = ::write(in[1], input.data() + written, input.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            result.spawnError = n < 0 ? errno : EIO;
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    closeFd(in[1]);
    if (result.spawnError != 0) {
        closeFd(in[0]);
        closeFd(out[0]);
        closeFd(out[1]);
        return result;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // The stop signals stay blocked in the child: calnetd bounds it with its own time limit
    // (SIGKILL), and a stop meant for calnetd must not kill the nft or resolvconf its undo runs
    // (systemctl kill, a terminal's Ctrl+C to the process group).
    sigset_t stopSignals, all;
    sigemptyset(&stopSignals);
    for (const int signal : {SIGTERM, SIGINT, SIGHUP, SIGQUIT})
        sigaddset(&stopSignals, signal);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &stopSignals);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    pid_t pid = -1;
    const int rc =
        program.find('/') != std::string::npos
            ? ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), environ)
            : ::posix_spawnp(&pid, program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    closeFd(in[0]);
    closeFd(out[1]);
    if (rc != 0) {
        result.spawnError = rc;
        closeFd(out[0]);
        return result;
    }

    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    // Collect output until EOF (every copy of the write end is closed, normally at exit).
    while (out[0] >= 0) {
        pollfd p{out[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, remainingMs(deadline));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            result.timedOut = true;
            break;
        }
        char buffer[1024];
        const ssize_t n = ::read(out[0], buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        const std::size_t room =
            kMaxProgramOutput - std::min(kMaxProgramOutput, result.output.size());
        result.output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
    }
    closeFd(out[0]);

    int status = 0;
    const auto reap = [&] {
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    };
    if (result.timedOut) {
        ::kill(pid, SIGKILL);
        reap();
        return result;
    }
    // Output is closed: normally because the program exited. Wait for it, within the limit.
    for (;;) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0) {
            if (errno == EINTR)
                continue;
            status = -1; // reaped by someone else: no status to report
            break;
        }
        if (remainingMs(deadline) == 0) {
            result.timedOut = true;
            ::kill(pid, SIGKILL);
            reap();
            return result;
        }
        ::usleep(2000);
    }
    if (result.timedOut)
        return result;
    if (status != -1 && WIFEXITED(status))
        result.exitStatus = WEXITSTATUS(status);
    return result;
}

} // namespace calnet::helper::netconfig
