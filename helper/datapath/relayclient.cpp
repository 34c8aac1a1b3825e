// RelayClient: the relay protocol of relayclient.h (the WebSocket upgrade, the challenge and
// hello, frames, pings) over the OS's RelayStream.
#include "helper/datapath/relayclient.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include <QByteArray>
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>

#include <sodium.h>

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
    const QByteArray digest = QCryptographicHash::hash(
        QByteArrayView(in.data(), qsizetype(in.size())), QCryptographicHash::Sha1);
    return base64(
        {reinterpret_cast<const std::uint8_t*>(digest.constData()), std::size_t(digest.size())});
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
      nodePublic_(crypto::publicKeyOf(nodeKey)), callbacks_(std::move(callbacks)) {
    // For the object's whole life: sendTo() may wake the thread from another thread at any
    // moment, even while stop() runs.
    std::string error;
    stream_ = RelayStream::create(error);
    if (!stream_)
        setError(error);
}

RelayClient::~RelayClient() {
    stop();
}

void RelayClient::start() {
    if (running_ || !stream_)
        return;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void RelayClient::stop() {
    if (!running_.exchange(false))
        return;
    stream_->wake();
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
    if (wake)
        stream_->wake();
    return true;
}

bool RelayClient::writeAll(std::span<const std::uint8_t> bytes, int timeoutMs) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!bytes.empty() && running_) {
        const std::ptrdiff_t n = stream_->send(bytes.data(), bytes.size());
        if (n > 0) {
            bytes = bytes.subspan(std::size_t(n));
            continue;
        }
        if (n == RelayStream::kFailed)
            return false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0 || stream_->wait(true, int(std::min<long long>(left, 200))).hangup)
            return false;
    }
    return bytes.empty();
}

bool RelayClient::readable(int timeoutMs) {
    const auto ready = stream_->wait(false, timeoutMs);
    return ready.readable || ready.hangup;
}

bool RelayClient::handshake(std::vector<std::uint8_t>& rbuf, std::string& error) {
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
    if (!writeAll({reinterpret_cast<const std::uint8_t*>(request.data()), request.size()},
                  kHandshakeTimeoutMs)) {
        error = "sending the upgrade request failed";
        return false;
    }
    // The response head.
    rbuf.clear();
    std::size_t headEnd = std::string::npos;
    std::uint8_t chunk[4096];
    while (headEnd == std::string::npos) {
        if (rbuf.size() > 16384 || !readable(kHandshakeTimeoutMs)) {
            error = "no upgrade response";
            return false;
        }
        const std::ptrdiff_t n = stream_->receive(chunk, sizeof chunk);
        if (n == 0 || n == RelayStream::kFailed) {
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
            if (!readable(1000))
                continue;
            const std::ptrdiff_t n = stream_->receive(chunk, sizeof chunk);
            if (n == 0 || n == RelayStream::kFailed) {
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
        if (!writeAll(frame, kHandshakeTimeoutMs)) {
            error = "sending hello failed";
            return false;
        }
        helloSent = true;
    }
    error = "the relay did not answer in time";
    return false;
}

void RelayClient::serve(std::vector<std::uint8_t>& rbuf) {
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
        // Write what is waiting until it is all out or the socket would block, then wait: a wait
        // for writability may follow only a send that would have blocked (Windows signals
        // writability only after one, and the POSIX poll does not mind).
        while (written < wbuf.size()) {
            const std::ptrdiff_t n = stream_->send(wbuf.data() + written, wbuf.size() - written);
            if (n == RelayStream::kFailed) {
                setError(stream_->error());
                return;
            }
            if (n <= 0)
                break;
            written += std::size_t(n);
        }
        const auto ready = stream_->wait(written < wbuf.size(), 1000);
        if (ready.hangup) {
            setError("connection lost");
            return;
        }
        if (!ready.readable) {
            if (std::chrono::steady_clock::now() - lastHeard >
                std::chrono::milliseconds(kIdleTimeoutMs)) {
                setError("the relay went silent");
                return;
            }
            continue;
        }
        const std::ptrdiff_t n = stream_->receive(rbuf.data() + used, rbuf.size() - used);
        if (n == 0) {
            setError("the relay closed the connection");
            return;
        }
        if (n == RelayStream::kWouldBlock)
            continue;
        if (n < 0) {
            setError(stream_->error());
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
        if (!control.empty() && written == wbuf.size())
            stream_->wake(); // write the pongs without waiting for a wait() timeout
    }
}

void RelayClient::run() {
    Backoff backoff;
    std::vector<std::uint8_t> rbuf;
    while (running_) {
        std::string error;
        if (stream_->open(target_.host, target_.port, target_.tls, running_, error) &&
            handshake(rbuf, error)) {
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
            serve(rbuf);
            connected_ = false;
            if (callbacks_.state)
                callbacks_.state(false);
        } else if (running_) {
            setError(error);
        }
        stream_->close();
        rbuf.clear();
        // Wait, interruptibly.
        const auto until = std::chrono::steady_clock::now() + backoff.next();
        while (running_ && std::chrono::steady_clock::now() < until)
            stream_->wait(false, 100);
    }
}

} // namespace calnet::helper
