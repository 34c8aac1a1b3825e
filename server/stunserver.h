// StunServer: answers STUN Binding requests on UDP with the address and port each came from
// (docs/protocol.md "STUN"), so that a node learns the mapping its NAT gave its WireGuard socket.
//
//   datagram -> more than kMaxMessageSize bytes: dropped (malformed)
//            -> not a well-formed Binding request (core/net/stun.h): dropped (malformed)
//            -> source over its budget (SourceLimiter: 20 at once, 10 a second per IPv4
//               address or IPv6 /64): dropped (rate_limited), logged once a minute per source
//            -> an answer no larger than the request, else none (too_short): no amplification
//
// Runs on the server's event loop thread; a burst is read in slices of 256 datagrams so the HTTP
// side keeps its turn.
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QUdpSocket>

#include "server/sourcelimiter.h"

namespace calnet::server {

class StunServer : public QObject {
    Q_OBJECT
public:
    struct Stats {
        qint64 answered = 0;
        qint64 malformed = 0;
        qint64 rateLimited = 0;
        qint64 tooShort = 0; // well-formed, but any answer would have been larger
    };

    explicit StunServer(QObject* parent = nullptr);

    // Binds `port` and, on the same address, an alternate port (RFC 5780's idea): port + 1 when
    // `port` is not 0 and that is free, else one chosen by the system. A node that asks both and
    // is told two different ports sits behind a NAT whose mapping depends on the destination
    // (symmetric). Only the first bind can fail listen().
    bool listen(const QHostAddress& address, quint16 port, QString* error);
    [[nodiscard]] quint16 port() const { return socket_.localPort(); }
    // 0 when the alternate port could not be bound.
    [[nodiscard]] quint16 altPort() const { return alt_.localPort(); }
    [[nodiscard]] const Stats& stats() const noexcept { return stats_; }

private:
    void readPending(QUdpSocket& socket, bool& scheduled);

    QUdpSocket socket_;
    QUdpSocket alt_;
    bool altScheduled_ = false;
    SourceLimiter limiter_;
    Stats stats_;
    bool scheduled_ = false;
};

} // namespace calnet::server
