#include "server/stunserver.h"

#include <array>
#include <span>

#include <QTimer>

#include "core/net/stun.h"
#include "server/http/httplistener.h"

namespace calnet::server {

namespace {

constexpr int kSlice = 256;        // datagrams per turn of the event loop
constexpr double kPerMinute = 600; // 10 a second per source ...
constexpr int kBurst = 20;         // ... and 20 at once

// The source as STUN reports it: an IPv4-mapped IPv6 source (a dual-stack socket) is IPv4.
net::SocketAddress toSocketAddress(const QHostAddress& address, quint16 port) {
    net::SocketAddress out;
    out.port = port;
    bool v4 = false;
    const quint32 a4 = address.toIPv4Address(&v4);
    if (v4) {
        const std::array<std::uint8_t, 4> b = {std::uint8_t(a4 >> 24), std::uint8_t(a4 >> 16),
                                               std::uint8_t(a4 >> 8), std::uint8_t(a4)};
        out.address = net::IpAddress::v4(b);
    } else {
        const Q_IPV6ADDR a6 = address.toIPv6Address();
        std::array<std::uint8_t, 16> b{};
        for (int i = 0; i < 16; ++i)
            b[std::size_t(i)] = a6.c[i];
        out.address = net::IpAddress::v6(b);
    }
    return out;
}

} // namespace

StunServer::StunServer(QObject* parent)
    : QObject(parent),
      limiter_(QStringLiteral("STUN requests over the limit"), kPerMinute, kBurst) {
    connect(&socket_, &QUdpSocket::readyRead, this, [this] { readPending(socket_, scheduled_); });
    connect(&alt_, &QUdpSocket::readyRead, this, [this] { readPending(alt_, altScheduled_); });
}

bool StunServer::listen(const QHostAddress& address, quint16 port, QString* error) {
    if (!socket_.bind(address, port)) {
        *error = socket_.errorString();
        return false;
    }
    // PORT+1 when the port is fixed (so firewalls and other servers' --relay options can name
    // it), else any; a busy PORT+1 falls back to any (advertised as bound).
    if (!(port != 0 && port < 65535 && alt_.bind(address, quint16(port + 1))) &&
        !alt_.bind(address, 0))
        qWarning("calnet-server: no alternate STUN port (%s): nodes cannot tell a symmetric NAT",
                 qPrintable(alt_.errorString()));
    return true;
}

void StunServer::readPending(QUdpSocket& socket, bool& scheduled) {
    scheduled = false;
    std::array<std::uint8_t, stun::kMaxMessageSize + 1> buffer{};
    for (int n = 0; n < kSlice && socket.hasPendingDatagrams(); ++n) {
        QHostAddress from;
        quint16 fromPort = 0;
        const qint64 size = socket.readDatagram(reinterpret_cast<char*>(buffer.data()),
                                                qint64(buffer.size()), &from, &fromPort);
        if (size < 0)
            return; // readyRead comes again when there is something to read
        const std::span<const std::uint8_t> datagram(buffer.data(), std::size_t(size));
        const auto request = std::size_t(size) <= stun::kMaxMessageSize
                                 ? stun::parseBindingRequest(datagram)
                                 : std::nullopt;
        if (!request) {
            ++stats_.malformed;
            continue;
        }
        if (fromPort == 0) { // nothing can be sent back to port 0
            ++stats_.malformed;
            continue;
        }
        if (!limiter_.admit(http::HttpListener::sourceKey(from), from)) {
            ++stats_.rateLimited;
            continue;
        }
        const std::vector<std::uint8_t> answer = stun::encodeBindingSuccess(
            request->id, toSocketAddress(from, fromPort), std::size_t(size));
        if (answer.empty()) {
            ++stats_.tooShort;
            continue;
        }
        if (socket.writeDatagram(reinterpret_cast<const char*>(answer.data()),
                                 qint64(answer.size()), from, fromPort) == qint64(answer.size()))
            ++stats_.answered;
    }
    // More waiting: come back after the other events of this turn.
    if (socket.hasPendingDatagrams() && !scheduled) {
        scheduled = true;
        QTimer::singleShot(0, this,
                           [this, &socket, &scheduled] { readPending(socket, scheduled); });
    }
}

} // namespace calnet::server
