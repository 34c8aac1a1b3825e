// RelayStream on POSIX: a non-blocking BSD socket, an eventfd as the wake-up and OpenSSL for
// wss:// relays (the system's CA store, host name or IP address checked against the
// certificate).
#include "helper/datapath/relaystream.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/net/ipaddress.h"

namespace calnet::helper {

namespace {

constexpr int kConnectTimeoutMs = 5'000;
constexpr int kTlsHandshakeTimeoutMs = 10'000;

class PosixRelayStream final : public RelayStream {
public:
    explicit PosixRelayStream(int wakeFd) : wakeFd_(wakeFd) {}
    ~PosixRelayStream() override {
        close();
        ::close(wakeFd_);
        if (tlsContext_)
            SSL_CTX_free(tlsContext_);
    }
    PosixRelayStream(const PosixRelayStream&) = delete;
    PosixRelayStream& operator=(const PosixRelayStream&) = delete;

    void close() override {
        if (tls_) {
            SSL_free(tls_);
            tls_ = nullptr;
        }
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = -1;
    }

    std::ptrdiff_t send(const std::uint8_t* data, std::size_t length) override {
        if (!tls_) {
            const ssize_t n = ::send(fd_, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);
            return n >= 0 ? n : failure("send");
        }
        ERR_clear_error();
        const int n = SSL_write(tls_, data, int(std::min<std::size_t>(length, 1 << 30)));
        if (n > 0)
            return n;
        const int e = SSL_get_error(tls_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return kWouldBlock;
        error_ = "TLS: the connection failed while sending";
        return kFailed;
    }

    std::ptrdiff_t receive(std::uint8_t* data, std::size_t length) override {
        if (!tls_) {
            const ssize_t n = ::recv(fd_, data, length, MSG_DONTWAIT);
            return n >= 0 ? n : failure("recv");
        }
        ERR_clear_error();
        const int n = SSL_read(tls_, data, int(std::min<std::size_t>(length, 1 << 30)));
        if (n > 0)
            return n;
        const int e = SSL_get_error(tls_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return kWouldBlock;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
            return 0;
        error_ = "TLS: the connection failed while receiving";
        return kFailed;
    }

    Ready wait(bool wantWrite, int timeoutMs) override {
        Ready ready;
        // TLS may already hold decrypted bytes that the socket will not signal again.
        const bool buffered = tls_ && SSL_pending(tls_) > 0;
        pollfd fds[2] = {{fd_, short(POLLIN | (wantWrite ? POLLOUT : 0)), 0}, {wakeFd_, POLLIN, 0}};
        const int r = ::poll(fds, fd_ >= 0 ? 2 : 1, buffered ? 0 : timeoutMs);
        if (r < 0 && errno != EINTR) {
            ready.hangup = true;
            return ready;
        }
        if (fd_ < 0) // only the wake-up was polled, in fds[0]
            std::swap(fds[0], fds[1]);
        if (fds[1].revents & POLLIN) {
            std::uint64_t v;
            [[maybe_unused]] auto n = ::read(wakeFd_, &v, sizeof v);
            ready.woken = true;
        }
        ready.readable = buffered || (fds[0].revents & POLLIN);
        ready.writable = fds[0].revents & POLLOUT;
        ready.hangup = fd_ >= 0 && (fds[0].revents & (POLLERR | POLLHUP));
        return ready;
    }

    void wake() override {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(wakeFd_, &one, sizeof one);
    }

    [[nodiscard]] std::string error() const override { return error_; }

private:
    std::ptrdiff_t failure(const char* call) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return kWouldBlock;
        error_ = std::string(call) + ": " + std::strerror(errno);
        return kFailed;
    }

    // Waits for the socket alone (connect, TLS handshake), in short slices so `running`
    // turning false is noticed.
    bool waitFor(int fd, short events, int timeoutMs, const std::atomic<bool>& running) {
        pollfd p{fd, events, 0};
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
        while (running) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
            if (left <= 0)
                return false;
            const int r = ::poll(&p, 1, int(std::min<long long>(left, 200)));
            if (r < 0 && errno != EINTR)
                return false;
            if (r > 0)
                return (p.revents & (events | POLLERR | POLLHUP)) != 0;
        }
        return false;
    }

    bool connectTcp(const std::string& host, std::uint16_t port, const std::atomic<bool>& running,
                    std::string& error) override {
        fd_ = connectSocket(host, port, running, error);
        return fd_ >= 0;
    }

    int connectSocket(const std::string& host, std::uint16_t port, const std::atomic<bool>& running,
                      std::string& error) {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_family = AF_UNSPEC;
        addrinfo* res = nullptr;
        const std::string service = std::to_string(port);
        if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
            error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
            return -1;
        }
        int fd = -1;
        for (addrinfo* ai = res; ai && running; ai = ai->ai_next) {
            fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          ai->ai_protocol);
            if (fd < 0)
                continue;
            if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
                (errno == EINPROGRESS && waitFor(fd, POLLOUT, kConnectTimeoutMs, running))) {
                int soError = 0;
                socklen_t len = sizeof soError;
                ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len);
                if (soError == 0)
                    break;
                error = std::string("connect: ") + std::strerror(soError);
            } else {
                error = std::string("connect: ") + (errno ? std::strerror(errno) : "timed out");
            }
            ::close(fd);
            fd = -1;
        }
        ::freeaddrinfo(res);
        if (fd >= 0) {
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            const int buf = 1 << 20;
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        }
        return fd;
    }

    bool startTls(const std::string& host, const std::atomic<bool>& running,
                  std::string& error) override {
        if (!tlsContext_) {
            tlsContext_ = SSL_CTX_new(TLS_client_method());
            if (!tlsContext_) {
                error = "TLS: no context";
                return false;
            }
            SSL_CTX_set_min_proto_version(tlsContext_, TLS1_2_VERSION);
            SSL_CTX_set_verify(tlsContext_, SSL_VERIFY_PEER, nullptr);
            SSL_CTX_set_default_verify_paths(tlsContext_);
        }
        tls_ = SSL_new(tlsContext_);
        if (!tls_ || SSL_set_fd(tls_, fd_) != 1) {
            error = "TLS: cannot set up the connection";
            return false;
        }
        SSL_set_mode(tls_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        X509_VERIFY_PARAM* param = SSL_get0_param(tls_);
        if (net::IpAddress::parse(host)) {
            X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        } else {
            SSL_set_tlsext_host_name(tls_, host.c_str());
            X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
        }
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(kTlsHandshakeTimeoutMs);
        while (running && std::chrono::steady_clock::now() < deadline) {
            ERR_clear_error();
            const int r = SSL_connect(tls_);
            if (r == 1)
                return true;
            const int e = SSL_get_error(tls_, r);
            if (e == SSL_ERROR_WANT_READ) {
                waitFor(fd_, POLLIN, 1000, running);
                continue;
            }
            if (e == SSL_ERROR_WANT_WRITE) {
                waitFor(fd_, POLLOUT, 1000, running);
                continue;
            }
            const long verify = SSL_get_verify_result(tls_);
            char buf[256] = {};
            ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
            error = verify != X509_V_OK
                        ? std::string("TLS: ") + X509_verify_cert_error_string(verify)
                        : std::string("TLS handshake failed: ") + buf;
            return false;
        }
        error = "TLS handshake timed out";
        return false;
    }

    // Open for the object's whole life: wake() may write to it from another thread at any
    // moment.
    const int wakeFd_;
    int fd_ = -1;
    SSL_CTX* tlsContext_ = nullptr; // made at the first wss:// connection
    SSL* tls_ = nullptr;
    std::string error_;
};

} // namespace

std::unique_ptr<RelayStream> RelayStream::create(std::string& error) {
    const int wakeFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd < 0) {
        error = std::string("eventfd: ") + std::strerror(errno);
        return nullptr;
    }
    return std::make_unique<PosixRelayStream>(wakeFd);
}

} // namespace calnet::helper
