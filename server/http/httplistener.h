// HttpListener: calnet-server's internet-facing HTTP/1.1 and WebSocket front end. It owns every
// socket and enforces every limit before memory or work is spent on a request (docs/
// ATTACK_SURFACE.md); the application (Server) sees only whole, well-formed requests.
//
//   accept ─ over the total or per-source connection cap? close at once (counted)
//          ─ TLS? handshake (within the head timeout)
//   request head (≤ 16 KiB, within 10 s of the first byte, or of accept) ── HttpParser
//     └─ Handler::onHead: answer now (401/404/405/429 ... without reading a body byte),
//        read the body (≤ 64 KiB, chunked counted as it arrives, within 10 s), or upgrade
//   Handler::onRequest -> response; keep-alive (idle 30 s) or close
//   WebSocket upgrade: handshake checked (RFC 6455 §4.2.1), 101, the socket moves to a
//     WebSocket that the Handler owns from then on (it still counts against the caps)
//
// When accept() fails (the open-file limit), accepting pauses for 100 ms to 1.6 s instead of
// spinning; the caps keep the process well below that limit in the first place. Memory that
// a flood of connections took is handed back to the system once they are gone.
//
// Not thread-safe: everything runs on the event loop of the thread that owns it.
#pragma once

#include <functional>
#include <memory>

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>
#include <QSslKey>
#include <QTcpServer>
#include <QTimer>

#include "server/http/httpparser.h"

namespace calnet::server::http {

class WebSocket;
class HttpListener;

struct Response {
    int status = 200;
    QByteArray contentType = QByteArrayLiteral("application/json");
    QByteArray body;
    std::vector<std::pair<QByteArray, QByteArray>> headers; // extra fields, e.g. Retry-After
};

// The standard reason phrase of a status code.
const char* reasonPhrase(int status);

// What the listener asks of the application.
class Handler {
public:
    enum class Decision { ReadBody, Answer, WebSocket };
    virtual ~Handler() = default;
    // A request head arrived. Fill `answer` and return Answer to reply without reading the
    // body; ReadBody to have it read; WebSocket to accept an upgrade to this path.
    virtual Decision onHead(const Request& head, const QHostAddress& peer, Response* answer) = 0;
    virtual Response onRequest(const Request& request, const QHostAddress& peer) = 0;
    virtual void onWebSocket(std::unique_ptr<WebSocket> socket, const QHostAddress& peer) = 0;
};

struct ListenerLimits {
    int maxConnections = 4096;         // lowered at start to fit the open-file limit
    int maxConnectionsPerSource = 256; // IPv4 address or IPv6 /64
    int headTimeoutMs = 10'000;        // a request head (or the TLS handshake) from its start
    int bodyTimeoutMs = 10'000;        // a body from the end of its head
    int idleTimeoutMs = 30'000;        // a kept-alive connection between requests
    std::size_t maxBody = 64 * 1024;
    std::size_t maxWebSocketMessage = 64 * 1024;
    qint64 maxPendingOutput = 256 * 1024; // responses queued for a client that does not read
};

struct ListenerStats {
    qint64 accepted = 0;
    qint64 refusedTotalCap = 0;
    qint64 refusedSourceCap = 0;
    qint64 timeouts = 0;
    qint64 badRequests = 0; // parser errors (4xx/5xx answered by the listener itself)
    qint64 acceptErrors = 0;
};

// Holds one connection's place under the caps; the count drops when it is destroyed.
class ConnectionSlot {
public:
    ConnectionSlot(HttpListener* listener, QByteArray source);
    ~ConnectionSlot();
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

private:
    QPointer<HttpListener> listener_;
    QByteArray source_;
};

class HttpListener : public QObject {
    Q_OBJECT
public:
    HttpListener(Handler* handler, ListenerLimits limits, QObject* parent = nullptr);
    ~HttpListener() override;

    // TLS for every connection (https, wss); call before listen().
    void setTls(const QSslCertificate& certificate, const QSslKey& key);
    // Listens (backlog 1,024: a restarted server's nodes all reconnect at once); false on error.
    bool listen(const QHostAddress& address, quint16 port, QString* error);
    [[nodiscard]] quint16 port() const;
    void close();

    [[nodiscard]] int connections() const noexcept { return total_; }
    [[nodiscard]] const ListenerStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const ListenerLimits& limits() const noexcept { return limits_; }
    // The key connections are counted under: an IPv4 address, or the /64 of an IPv6 one.
    static QByteArray sourceKey(const QHostAddress& address);

private:
    friend class ConnectionSlot;
    friend class HttpConnection;
    class Server;

    void onConnection(qintptr descriptor);
    void release(const QByteArray& source);
    void trimMemory();

    Handler* handler_;
    ListenerLimits limits_;
    ListenerStats stats_;
    Server* server_ = nullptr;
    QSslCertificate certificate_;
    QSslKey key_;
    bool tls_ = false;
    int total_ = 0;
    int peak_ = 0;
    QHash<QByteArray, int> perSource_;
    QTimer resumeTimer_;
    int acceptBackoffMs_ = 100;
    QTimer trimTimer_;
};

} // namespace calnet::server::http
