// RelayClient on a BSD socket (Linux; macOS swaps the eventfd for a pipe): name resolution,
// the non-blocking TCP connect, poll(2) and the wake-up around the relay protocol of
// relayclient.h. A Windows port splits the socket calls from the protocol (docs/platforms.md).
#include "helper/datapath/relayclient.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sodium.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/disco/message.h"
#include "core/util/backoff.h"
#include "helper/datapath/tunnel.h"
#include "helper/wire/relayframe.h"

namespace calnet::helper {

namespace {

constexpr std::size_t kMaxPending = 4 * 1024 * 1024;
constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::size_t kMaxFrame = 65536 + 64;
constexpr int kHandshakeTimeoutMs = 10'000;
constexpr int kIdleTimeoutMs = 45'000;
constexpr std::uint8_t kFrameSend = wire::kRelaySend;
constexpr std::uint8_t kFrameReceive = wire::kRelayReceive;
constexpr std::uint8_t kFrameNotHere = wire::kRelayNotHere;
constexpr std::uint8_t kOpText = 0x1;
constexpr std::uint8_t kOpBinary = 0x2;
constexpr std::uint8_t kOpClose = 0x8;
constexpr std::uint8_t kOpPing = 0x9;
constexpr std::uint8_t kOpPong = 0xA;
constexpr char kWsGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string base64(std::span<const std::uint8_t> bytes) {
    std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::vector<std::uint8_t> unbase64(const QString& text, std::size_t expected) {
    const QByteArray t = text.toLatin1();
    std::vector<std::uint8_t> out(expected + 3);
    std::size_t len = 0;
    if (sodium_base642bin(out.data(), out.size(), t.constData(), std::size_t(t.size()), nullptr,
                          &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != expected)
        return {};
    out.resize(len);
    return out;
}

std::string acceptFor(const std::string& key) {
    const std::string in = key + kWsGuid;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(in.data(), in.size(), digest, &len, EVP_sha1(), nullptr);
    return base64({digest, len});
}

// Parses one complete frame at the start of `buf`: its header length and payload length, or
// nullopt when more bytes are needed. -1 in headerLength means a protocol error.
struct FrameHeader {
    bool fin = false;
    std::uint8_t opcode = 0;
    std::size_t headerLength = 0;
    std::uint64_t payloadLength = 0;
};

std::optional<FrameHeader> parseHeader(std::span<const std::uint8_t> buf, bool& bad) {
    bad = false;
    if (buf.size() < 2)
        return std::nullopt;
    FrameHeader h;
    h.fin = buf[0] & 0x80;
    h.opcode = buf[0] & 0x0f;
    if (buf[0] & 0x70 || buf[1] & 0x80) { // no extensions; a server never masks
        bad = true;
        return std::nullopt;
    }
    std::uint64_t len = buf[1] & 0x7f;
    std::size_t off = 2;
    if (len == 126) {
        if (buf.size() < 4)
            return std::nullopt;
        len = (std::uint64_t(buf[2]) << 8) | buf[3];
        off = 4;
    } else if (len == 127) {
        if (buf.size() < 10)
            return std::nullopt;
        len = 0;
        for (int i = 0; i < 8; ++i)
            len = (len << 8) | buf[2 + std::size_t(i)];
        off = 10;
    }
    if (len > kMaxFrame) {
        bad = true;
        return std::nullopt;
    }
    h.headerLength = off;
    h.payloadLength = len;
    return h;
}

void maskInto(std::uint8_t* dst, const std::uint8_t* src, std::size_t n,
              const std::array<std::uint8_t, 4>& key, std::size_t phase) {
    for (std::size_t i = 0; i < n; ++i)
        dst[i] = src[i] ^ key[(phase + i) & 3];
}

} // namespace

RelayClient::RelayClient(Tunnel& tunnel, Target target, const crypto::PrivateKey& nodeKey,
                         Callbacks callbacks)
    : tunnel_(tunnel), target_(std::move(target)), nodeKey_(nodeKey),
      nodePublic_(crypto::publicKeyOf(nodeKey)), callbacks_(std::move(callbacks)),
      // Open for the object's whole life: sendTo() may write to it from another thread at any
      // moment, even while stop() runs.
      wakeFd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (target_.tls) {
        tlsContext_ = SSL_CTX_new(TLS_client_method());
        if (tlsContext_) {
            SSL_CTX_set_min_proto_version(tlsContext_, TLS1_2_VERSION);
            SSL_CTX_set_verify(tlsContext_, SSL_VERIFY_PEER, nullptr);
            SSL_CTX_set_default_verify_paths(tlsContext_);
        }
    }
}

RelayClient::~RelayClient() {
    stop();
    if (wakeFd_ >= 0)
        ::close(wakeFd_);
    if (tlsContext_)
        SSL_CTX_free(tlsContext_);
}

bool RelayClient::startTls(int fd, std::string& error) {
    if (!tlsContext_) {
        error = "TLS: no context";
        return false;
    }
    tls_ = SSL_new(tlsContext_);
    if (!tls_ || SSL_set_fd(tls_, fd) != 1) {
        error = "TLS: cannot set up the connection";
        return false;
    }
    SSL_set_mode(tls_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    X509_VERIFY_PARAM* param = SSL_get0_param(tls_);
    if (net::IpAddress::parse(target_.host)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, target_.host.c_str());
    } else {
        SSL_set_tlsext_host_name(tls_, target_.host.c_str());
        X509_VERIFY_PARAM_set1_host(param, target_.host.c_str(), 0);
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kHandshakeTimeoutMs);
    while (running_ && std::chrono::steady_clock::now() < deadline) {
        ERR_clear_error();
        const int r = SSL_connect(tls_);
        if (r == 1)
            return true;
        const int e = SSL_get_error(tls_, r);
        if (e == SSL_ERROR_WANT_READ) {
            waitFor(fd, POLLIN, 1000);
            continue;
        }
        if (e == SSL_ERROR_WANT_WRITE) {
            waitFor(fd, POLLOUT, 1000);
            continue;
        }
        const long verify = SSL_get_verify_result(tls_);
        char buf[256] = {};
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        error = verify != X509_V_OK ? std::string("TLS: ") + X509_verify_cert_error_string(verify)
                                    : std::string("TLS handshake failed: ") + buf;
        return false;
    }
    error = "TLS handshake timed out";
    return false;
}

std::ptrdiff_t RelayClient::ioSend(int fd, const std::uint8_t* data, std::size_t length) {
    if (!tls_)
        return ::send(fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);
    ERR_clear_error();
    const int n = SSL_write(tls_, data, int(std::min<std::size_t>(length, 1 << 30)));
    if (n > 0)
        return n;
    const int e = SSL_get_error(tls_, n);
    errno = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? EAGAIN : EPIPE;
    return -1;
}

std::ptrdiff_t RelayClient::ioRecv(int fd, std::uint8_t* data, std::size_t length) {
    if (!tls_)
        return ::recv(fd, data, length, MSG_DONTWAIT);
    ERR_clear_error();
    const int n = SSL_read(tls_, data, int(std::min<std::size_t>(length, 1 << 30)));
    if (n > 0)
        return n;
    const int e = SSL_get_error(tls_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        return 0;
    errno = ECONNRESET;
    return -1;
}

bool RelayClient::readable(int fd, int timeoutMs) {
    return (tls_ && SSL_pending(tls_) > 0) || waitFor(fd, POLLIN, timeoutMs);
}

void RelayClient::start() {
    if (running_ || wakeFd_ < 0)
        return;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void RelayClient::stop() {
    if (!running_.exchange(false))
        return;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wakeFd_, &one, sizeof one);
    if (thread_.joinable())
        thread_.join();
}

std::string RelayClient::lastError() const {
    std::lock_guard lock(errorMutex_);
    return lastError_;
}

void RelayClient::setError(std::string error) {
    std::lock_guard lock(errorMutex_);
    lastError_ = std::move(error);
}

void RelayClient::appendFrame(std::vector<std::uint8_t>& out, std::uint8_t opcode,
                              std::span<const std::uint8_t> head,
                              std::span<const std::uint8_t> body) {
    const std::size_t len = head.size() + body.size();
    out.push_back(std::uint8_t(0x80 | opcode));
    if (len < 126) {
        out.push_back(std::uint8_t(0x80 | len));
    } else if (len <= 0xffff) {
        out.push_back(0x80 | 126);
        out.push_back(std::uint8_t(len >> 8));
        out.push_back(std::uint8_t(len));
    } else {
        out.push_back(0x80 | 127);
        for (int i = 7; i >= 0; --i)
            out.push_back(std::uint8_t(std::uint64_t(len) >> (8 * i)));
    }
    std::array<std::uint8_t, 4> key;
    randombytes_buf(key.data(), key.size());
    out.insert(out.end(), key.begin(), key.end());
    const std::size_t at = out.size();
    out.resize(at + len);
    maskInto(out.data() + at, head.data(), head.size(), key, 0);
    maskInto(out.data() + at + head.size(), body.data(), body.size(), key, head.size());
}

bool RelayClient::sendTo(const crypto::PublicKey& node, std::span<const std::uint8_t> packet) {
    if (!connected_ || packet.size() > kMaxFrame - 64) {
        stats_.dropped.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    std::array<std::uint8_t, 33> head;
    head[0] = kFrameSend;
    std::copy(node.begin(), node.end(), head.begin() + 1);
    bool wake;
    {
        std::lock_guard lock(sendMutex_);
        if (pending_.size() + packet.size() + 33 + 14 > kMaxPending) {
            stats_.dropped.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        wake = pending_.empty();
        appendFrame(pending_, kOpBinary, head, packet);
    }
    stats_.sentPackets.fetch_add(1, std::memory_order_relaxed);
    stats_.sentBytes.fetch_add(packet.size(), std::memory_order_relaxed);
    if (wake) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto r = ::write(wakeFd_, &one, sizeof one);
    }
    return true;
}

bool RelayClient::waitFor(int fd, short events, int timeoutMs) {
    pollfd fds[2] = {{fd, events, 0}, {wakeFd_, POLLIN, 0}};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (running_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0)
            return false;
        const int r = ::poll(fds, 1, int(std::min<long long>(left, 200)));
        if (r < 0 && errno != EINTR)
            return false;
        if (r > 0)
            return (fds[0].revents & (events | POLLERR | POLLHUP)) != 0;
    }
    return false;
}

int RelayClient::connectTcp(std::string& error) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(target_.port);
    if (const int rc = ::getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        error = "cannot resolve " + target_.host + ": " + ::gai_strerror(rc);
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = res; ai && running_; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                      ai->ai_protocol);
        if (fd < 0)
            continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && waitFor(fd, POLLOUT, 5000))) {
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

bool RelayClient::writeAll(int fd, std::span<const std::uint8_t> bytes, int timeoutMs) {
    while (!bytes.empty()) {
        const ssize_t n = ioSend(fd, bytes.data(), bytes.size());
        if (n > 0) {
            bytes = bytes.subspan(std::size_t(n));
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return false;
        if (!waitFor(fd, POLLOUT, timeoutMs))
            return false;
    }
    return true;
}

bool RelayClient::handshake(int fd, std::vector<std::uint8_t>& rbuf, std::string& error) {
    std::array<std::uint8_t, 16> nonceKey;
    randombytes_buf(nonceKey.data(), nonceKey.size());
    const std::string key = base64(nonceKey);
    const std::string hostHeader = target_.host.find(':') != std::string::npos
                                       ? "[" + target_.host + "]:" + std::to_string(target_.port)
                                       : target_.host + ":" + std::to_string(target_.port);
    const std::string request = "GET " + target_.path + " HTTP/1.1\r\nHost: " + hostHeader +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: " +
                                key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (!writeAll(fd, {reinterpret_cast<const std::uint8_t*>(request.data()), request.size()},
                  kHandshakeTimeoutMs)) {
        error = "sending the upgrade request failed";
        return false;
    }
    // The response head.
    rbuf.clear();
    std::size_t headEnd = std::string::npos;
    std::uint8_t chunk[4096];
    while (headEnd == std::string::npos) {
        if (rbuf.size() > 16384 || !readable(fd, kHandshakeTimeoutMs)) {
            error = "no upgrade response";
            return false;
        }
        const ssize_t n = ioRecv(fd, chunk, sizeof chunk);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            error = "the relay closed the connection during the upgrade";
            return false;
        }
        if (n > 0)
            rbuf.insert(rbuf.end(), chunk, chunk + n);
        const std::string_view text(reinterpret_cast<const char*>(rbuf.data()), rbuf.size());
        headEnd = text.find("\r\n\r\n");
    }
    std::string head(reinterpret_cast<const char*>(rbuf.data()), headEnd);
    rbuf.erase(rbuf.begin(), rbuf.begin() + long(headEnd + 4));
    if (head.rfind("HTTP/1.1 101", 0) != 0) {
        error = "the relay refused the upgrade: " + head.substr(0, head.find("\r\n"));
        return false;
    }
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    const std::string want = "sec-websocket-accept: " + acceptFor(key);
    std::string wantLower = want;
    std::transform(wantLower.begin(), wantLower.end(), wantLower.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (lower.find(wantLower) == std::string::npos) {
        error = "wrong Sec-WebSocket-Accept from the relay";
        return false;
    }

    // Text messages until "ready": the challenge first.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kHandshakeTimeoutMs);
    bool helloSent = false;
    while (std::chrono::steady_clock::now() < deadline && running_) {
        bool bad = false;
        const auto h = parseHeader(rbuf, bad);
        if (bad) {
            error = "bad frame from the relay";
            return false;
        }
        if (!h || rbuf.size() < h->headerLength + h->payloadLength) {
            if (!readable(fd, 1000))
                continue;
            const ssize_t n = ioRecv(fd, chunk, sizeof chunk);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                error = "the relay closed the connection during the handshake";
                return false;
            }
            if (n > 0)
                rbuf.insert(rbuf.end(), chunk, chunk + n);
            continue;
        }
        const auto payload = std::span(rbuf).subspan(h->headerLength, h->payloadLength);
        const QByteArray text(reinterpret_cast<const char*>(payload.data()),
                              qsizetype(payload.size()));
        const std::uint8_t opcode = h->opcode;
        rbuf.erase(rbuf.begin(), rbuf.begin() + long(h->headerLength + h->payloadLength));
        if (opcode == kOpClose) {
            const int code =
                text.size() >= 2 ? (std::uint8_t(text[0]) << 8) | std::uint8_t(text[1]) : 1005;
            error = "the relay closed the connection (" + std::to_string(code) +
                    (text.size() > 2 ? ": " + text.mid(2).toStdString() : std::string()) + ")";
            return false;
        }
        if (opcode != kOpText || !h->fin)
            continue;
        const QJsonObject o = QJsonDocument::fromJson(text).object();
        const QString type = o.value(QLatin1String("type")).toString();
        if (type == QLatin1String("ready") && helloSent)
            return true;
        if (type != QLatin1String("challenge") || helloSent)
            continue;
        const auto serverKey = unbase64(o.value(QLatin1String("serverKey")).toString(), 32);
        const auto challenge = unbase64(o.value(QLatin1String("challenge")).toString(), 32);
        if (serverKey.empty() || challenge.empty()) {
            error = "malformed challenge from the relay";
            return false;
        }
        std::array<std::uint8_t, crypto_box_NONCEBYTES> nonce;
        randombytes_buf(nonce.data(), nonce.size());
        std::array<std::uint8_t, 32 + crypto_box_MACBYTES> box;
        if (crypto_box_easy(box.data(), challenge.data(), challenge.size(), nonce.data(),
                            serverKey.data(), nodeKey_.data()) != 0) {
            error = "cannot answer the relay's challenge";
            return false;
        }
        const QJsonObject hello{
            {QLatin1String("type"), QLatin1String("hello")},
            {QLatin1String("nodeKey"), QString::fromStdString(base64(nodePublic_))},
            {QLatin1String("nonce"), QString::fromStdString(base64(nonce))},
            {QLatin1String("box"), QString::fromStdString(base64(box))}};
        const QByteArray json = QJsonDocument(hello).toJson(QJsonDocument::Compact);
        std::vector<std::uint8_t> frame;
        appendFrame(
            frame, kOpText, {},
            {reinterpret_cast<const std::uint8_t*>(json.constData()), std::size_t(json.size())});
        if (!writeAll(fd, frame, kHandshakeTimeoutMs)) {
            error = "sending hello failed";
            return false;
        }
        helloSent = true;
    }
    error = "the relay did not answer in time";
    return false;
}

void RelayClient::serve(int fd, std::vector<std::uint8_t>& rbuf) {
    auto context = tunnel_.makeInboundContext();
    std::vector<Tunnel::Relayed> batch;
    batch.reserve(512);
    std::vector<std::uint8_t> wbuf; // being written
    std::size_t written = 0;
    std::vector<std::uint8_t> control; // pongs and the close frame
    auto lastHeard = std::chrono::steady_clock::now();
    // Our own pings measure the relay's latency: the payload is the send time.
    auto nextPing = lastHeard;
    auto pingBytes = [](std::chrono::steady_clock::time_point t) {
        const std::int64_t ns = t.time_since_epoch().count();
        std::array<std::uint8_t, 8> b;
        for (int i = 0; i < 8; ++i)
            b[std::size_t(i)] = std::uint8_t(std::uint64_t(ns) >> (8 * i));
        return b;
    };
    // rbuf[0, used) holds received bytes not yet parsed (at most one partial frame, which is
    // smaller than kReadChunk): a read always has kReadChunk of room.
    std::size_t used = rbuf.size();
    rbuf.resize(std::max(rbuf.size() + kReadChunk, 2 * kReadChunk));

    while (running_) {
        if (written == wbuf.size()) {
            wbuf.clear();
            written = 0;
            if (!control.empty())
                wbuf.swap(control);
            std::lock_guard lock(sendMutex_);
            if (wbuf.empty())
                wbuf.swap(pending_);
        }
        if (const auto now = std::chrono::steady_clock::now(); now >= nextPing) {
            nextPing = now + std::chrono::seconds(5);
            appendFrame(control, kOpPing, {}, pingBytes(now));
            if (written == wbuf.size())
                continue; // picked up at the top of the loop
        }
        pollfd fds[2] = {{fd, short(POLLIN | (written < wbuf.size() ? POLLOUT : 0)), 0},
                         {wakeFd_, POLLIN, 0}};
        // TLS may already hold decrypted bytes that the socket will not signal again.
        const bool buffered = tls_ && SSL_pending(tls_) > 0;
        const int r = ::poll(fds, 2, buffered ? 0 : 1000);
        if (r < 0 && errno != EINTR)
            return;
        if (fds[1].revents & POLLIN) {
            std::uint64_t v;
            [[maybe_unused]] auto n = ::read(wakeFd_, &v, sizeof v);
        }
        if (fds[0].revents & (POLLERR | POLLHUP)) {
            setError("connection lost");
            return;
        }
        if (written < wbuf.size() && (fds[0].revents & POLLOUT)) {
            const ssize_t n = ioSend(fd, wbuf.data() + written, wbuf.size() - written);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                setError(std::string("send: ") + std::strerror(errno));
                return;
            }
            if (n > 0)
                written += std::size_t(n);
        }
        if (!buffered && !(fds[0].revents & POLLIN)) {
            if (std::chrono::steady_clock::now() - lastHeard >
                std::chrono::milliseconds(kIdleTimeoutMs)) {
                setError("the relay went silent");
                return;
            }
            continue;
        }
        const ssize_t n = ioRecv(fd, rbuf.data() + used, rbuf.size() - used);
        if (n == 0) {
            setError("the relay closed the connection");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            setError(std::string("recv: ") + std::strerror(errno));
            return;
        }
        lastHeard = std::chrono::steady_clock::now();
        used += std::size_t(n);

        // Every whole frame in the buffer.
        std::size_t off = 0;
        batch.clear();
        while (true) {
            bool bad = false;
            const auto h = parseHeader(std::span(rbuf.data() + off, used - off), bad);
            if (bad || (h && !h->fin)) {
                setError("bad frame from the relay");
                return;
            }
            if (!h || used - off < h->headerLength + h->payloadLength)
                break;
            std::uint8_t* payload = rbuf.data() + off + h->headerLength;
            const std::size_t len = std::size_t(h->payloadLength);
            off += h->headerLength + len;
            if ((h->opcode & 0x8) && len > 125) { // RFC 6455 §5.5: control frames are small
                setError("oversized control frame from the relay");
                return;
            }
            if (h->opcode == kOpPing) {
                // Answer the latest ping only: a relay that pings without reading cannot make
                // the answers pile up.
                control.clear();
                appendFrame(control, kOpPong, {}, {payload, len});
            } else if (h->opcode == kOpPong && len == 8) {
                std::uint64_t ns = 0;
                for (int i = 7; i >= 0; --i)
                    ns = (ns << 8) | payload[i];
                const auto sent = std::chrono::steady_clock::time_point(
                    std::chrono::steady_clock::duration(std::int64_t(ns)));
                const auto rtt = std::chrono::steady_clock::now() - sent;
                if (rtt >= std::chrono::steady_clock::duration(0) && rtt < std::chrono::seconds(60))
                    latencyUs_ = std::chrono::duration_cast<std::chrono::microseconds>(rtt).count();
            } else if (h->opcode == kOpClose) {
                const int code = len >= 2 ? (payload[0] << 8) | payload[1] : 1005;
                setError("the relay closed the connection (" + std::to_string(code) + ")");
                return;
            } else if (h->opcode == kOpBinary && len >= 33) {
                crypto::PublicKey from;
                std::copy_n(payload + 1, 32, from.begin());
                const auto packet = std::span(payload + 33, len - 33);
                if (payload[0] == kFrameReceive) {
                    stats_.receivedPackets.fetch_add(1, std::memory_order_relaxed);
                    stats_.receivedBytes.fetch_add(packet.size(), std::memory_order_relaxed);
                    if (disco::looksLikeDisco(packet)) {
                        if (callbacks_.disco)
                            callbacks_.disco(from, packet);
                    } else {
                        batch.push_back({packet.data(), packet.size(), from, {}});
                    }
                } else if (payload[0] == kFrameNotHere && len == 33 && callbacks_.notHere) {
                    callbacks_.notHere(from);
                }
            }
        }
        if (!batch.empty())
            tunnel_.deliverRelayed(*context, batch);
        std::memmove(rbuf.data(), rbuf.data() + off, used - off);
        used -= off;
        if (!control.empty() && written == wbuf.size()) {
            const std::uint64_t one = 1; // write the pongs without waiting for a poll timeout
            [[maybe_unused]] auto w = ::write(wakeFd_, &one, sizeof one);
        }
    }
}

void RelayClient::run() {
    Backoff backoff;
    std::vector<std::uint8_t> rbuf;
    while (running_) {
        std::string error;
        const int fd = connectTcp(error);
        const bool tlsOk = fd >= 0 && (!target_.tls || startTls(fd, error));
        if (tlsOk && handshake(fd, rbuf, error)) {
            {
                std::lock_guard lock(sendMutex_);
                pending_.clear();
            }
            setError({});
            stats_.connects.fetch_add(1, std::memory_order_relaxed);
            connected_ = true;
            if (callbacks_.state)
                callbacks_.state(true);
            backoff.reset();
            serve(fd, rbuf);
            connected_ = false;
            if (callbacks_.state)
                callbacks_.state(false);
        } else if (running_) {
            setError(error);
        }
        if (tls_) {
            SSL_free(tls_);
            tls_ = nullptr;
        }
        if (fd >= 0)
            ::close(fd);
        rbuf.clear();
        // Wait, interruptibly.
        const auto until = std::chrono::steady_clock::now() + backoff.next();
        while (running_ && std::chrono::steady_clock::now() < until) {
            pollfd p{wakeFd_, POLLIN, 0};
            if (::poll(&p, 1, 100) > 0) {
                std::uint64_t v;
                [[maybe_unused]] auto n = ::read(wakeFd_, &v, sizeof v);
            }
        }
    }
}

} // namespace calnet::helper
