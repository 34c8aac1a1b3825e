// UapiServer on a Unix socket (POSIX), as wireguard-go serves wg(8); Windows serves the same
// protocol on a named pipe (docs/platforms.md).
#include "helper/uapi/uapiserver.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace calnet::helper {

namespace {
constexpr const char* kSocketDirectory = "/var/run/wireguard";
constexpr std::size_t kMaxRequest = 16 << 20; // a set with thousands of peers still fits
constexpr int kClientTimeoutSeconds = 5;

bool fillAddress(const std::string& path, sockaddr_un& addr) {
    if (path.size() >= sizeof addr.sun_path)
        return false;
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return true;
}

// Answers one client's requests until it closes, errs or times out.
void serveClient(UapiHandler& handler, int client) {
    // A connection may carry several requests; each ends with an empty line.
    std::string buffer;
    char chunk[4096];
    for (;;) {
        std::size_t end;
        while ((end = buffer.find("\n\n")) == std::string::npos) {
            // A get request is the single line "get=1" followed by the blank line.
            const ssize_t n = ::recv(client, chunk, sizeof chunk, 0);
            if (n <= 0 || buffer.size() + std::size_t(n) > kMaxRequest)
                return;
            buffer.append(chunk, std::size_t(n));
        }
        const std::string response = handler.handle(std::string_view(buffer).substr(0, end + 2));
        if (!handler.lastError().empty())
            std::fprintf(stderr, "calnetd: UAPI: %s\n", handler.lastError().c_str());
        buffer.erase(0, end + 2);
        std::size_t off = 0;
        while (off < response.size()) {
            const ssize_t n =
                ::send(client, response.data() + off, response.size() - off, MSG_NOSIGNAL);
            if (n <= 0)
                return;
            off += std::size_t(n);
        }
    }
}

} // namespace

struct UapiServer::Endpoint {
    int fd = -1;
    int stopFd = -1; // an eventfd: written by stop(), wakes run()'s poll
};

UapiServer::UapiServer(DeviceHost& host)
    : handler_(host), endpoint_(std::make_unique<Endpoint>()) {}

std::string UapiServer::socketPathFor(const std::string& interfaceName) {
    return std::string(kSocketDirectory) + "/" + interfaceName + ".sock";
}

UapiServer::~UapiServer() {
    stop();
}

bool UapiServer::listen(const std::string& path, std::string& error) {
    sockaddr_un addr;
    if (!fillAddress(path, addr)) {
        error = "socket path too long: " + path;
        return false;
    }
    const auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
        ::mkdir(path.substr(0, slash).c_str(), 0755);

    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return false;
    }
    // Only root may configure the interface: create the socket 0600.
    const mode_t old = ::umask(0077);
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc < 0 && errno == EADDRINUSE) {
        // A socket file exists. If something answers on it, another instance owns the
        // interface; otherwise it is a leftover from a crash and can go.
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(probe);
        if (live) {
            ::umask(old);
            ::close(fd);
            error = "UAPI socket in use: " + path;
            return false;
        }
        ::unlink(path.c_str());
        rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    }
    ::umask(old);
    if (rc < 0 || ::listen(fd, 16) < 0) {
        error = "bind " + path + ": " + std::strerror(errno);
        ::close(fd);
        return false;
    }
    endpoint_->fd = fd;
    path_ = path;
    endpoint_->stopFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return true;
}

void UapiServer::start() {
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void UapiServer::stop() {
    if (endpoint_->fd < 0)
        return;
    running_ = false;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto w = ::write(endpoint_->stopFd, &one, sizeof one);
    if (thread_.joinable())
        thread_.join();
    ::close(endpoint_->fd);
    ::close(endpoint_->stopFd);
    endpoint_->fd = endpoint_->stopFd = -1;
    ::unlink(path_.c_str());
}

void UapiServer::run() {
    while (running_) {
        pollfd fds[2] = {{endpoint_->fd, POLLIN, 0}, {endpoint_->stopFd, POLLIN, 0}};
        if (::poll(fds, 2, 1000) <= 0 || (fds[1].revents & POLLIN))
            continue;
        const int client = ::accept4(endpoint_->fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        timeval tv{kClientTimeoutSeconds, 0};
        ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        serveClient(handler_, client);
        ::close(client);
    }
}

} // namespace calnet::helper
