#include "server/http/httplistener.h"

#include <QCryptographicHash>
#include <QLoggingCategory>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

#include "server/http/websocket.h"
#include "server/platform/process.h"

Q_LOGGING_CATEGORY(lcHttp, "calnet.server.http")

namespace calnet::server::http {

namespace {

constexpr int kBacklog = 1024;
constexpr int kMaxAcceptBackoffMs = 1600;
constexpr int kReservedDescriptors = 64; // database, logs, the listener itself
constexpr qint64 kReadChunk = 16 * 1024;
constexpr int kLingerMs = 2000;
constexpr qint64 kLingerBytes = 1024 * 1024;
const QByteArray kWebSocketGuid = QByteArrayLiteral("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");

QByteArray statusLine(int status) {
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
}

QByteArray serialize(const Response& r, bool close) {
    QByteArray out = statusLine(r.status);
    out += "Content-Type: " + r.contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(r.body.size()) + "\r\n";
    for (const auto& [name, value] : r.headers)
        out += name + ": " + value + "\r\n";
    if (close)
        out += "Connection: close\r\n";
    out += "\r\n";
    out += r.body;
    return out;
}

// An answer the listener gives by itself, in the API's error format (docs/protocol.md).
Response plainError(int status, const char* reason) {
    const char* code = "bad_request";
    switch (status) {
    case 408:
        code = "timeout";
        break;
    case 413:
    case 414:
    case 431:
        code = "too_large";
        break;
    case 501:
        code = "not_implemented";
        break;
    default:
        break;
    }
    Response r;
    r.status = status;
    r.body = QByteArray("{\"error\":{\"code\":\"") + code + "\",\"message\":\"" + reason + "\"}}\n";
    return r;
}

} // namespace

const char* reasonPhrase(int status) {
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

// ---- ConnectionSlot -----------------------------------------------------------------------------

ConnectionSlot::ConnectionSlot(HttpListener* listener, QByteArray source)
    : listener_(listener), source_(std::move(source)) {}

ConnectionSlot::~ConnectionSlot() {
    if (listener_)
        listener_->release(source_);
}

// ---- HttpConnection: one socket from accept to close or upgrade -------------------------------

class HttpConnection : public QObject {
public:
    HttpConnection(HttpListener* listener, QTcpSocket* socket, std::unique_ptr<ConnectionSlot> slot)
        : listener_(listener), socket_(socket), slot_(std::move(slot)),
          parser_(HttpParser::Limits{listener->limits().maxBody}) {
        socket_->setParent(this);
        // What Qt reads ahead from the kernel for us: the head limit; the rest waits there.
        socket_->setReadBufferSize(kReadChunk);
        peer_ = socket_->peerAddress();
        connect(socket_, &QTcpSocket::readyRead, this, &HttpConnection::onReadable);
        connect(socket_, &QTcpSocket::bytesWritten, this, &HttpConnection::onWritten);
        connect(socket_, &QTcpSocket::disconnected, this, &HttpConnection::gone);
        connect(socket_, &QTcpSocket::errorOccurred, this, [this] {
            if (socket_->state() != QAbstractSocket::ConnectedState)
                gone();
        });
        timer_.setSingleShot(true);
        connect(&timer_, &QTimer::timeout, this, &HttpConnection::onTimeout);
        timer_.start(listener_->limits().headTimeoutMs);
    }

private:
    enum class Wait { Head, Body, Idle, Draining };

    const ListenerLimits& limits() const { return listener_->limits(); }

    void gone() {
        if (dead_)
            return;
        dead_ = true;
        timer_.stop();
        deleteLater();
    }

    // After the last answer: a client may still be sending (a body we refused to read). Closing
    // with unread input makes the kernel send a reset, which can destroy the answer before the
    // client reads it; so, once the answer is out, only our sending half is shut and input is
    // read and dropped (at most kLingerBytes, for at most kLingerMs) before the socket closes
    // (the "lingering close" of RFC 9112 §9.6). TLS cannot half-close: it just closes.
    void closeAfterWrite() {
        closing_ = true;
        timer_.start(kLingerMs);
        if (socket_->bytesToWrite() == 0)
            lingerOrClose();
    }

    void lingerOrClose() {
        if (lingering_ || dead_)
            return;
        lingering_ = true;
        if (qobject_cast<QSslSocket*>(socket_) || socket_->socketDescriptor() < 0) {
            socket_->disconnectFromHost();
            if (socket_->state() == QAbstractSocket::UnconnectedState)
                gone();
            return;
        }
        process::shutdownWrite(socket_->socketDescriptor());
        drainInput();
    }

    void drainInput() {
        while (socket_->bytesAvailable() > 0 && lingered_ < kLingerBytes)
            lingered_ += socket_->read(kReadChunk).size();
        if (lingered_ >= kLingerBytes) {
            socket_->abort();
            gone();
        }
    }

    void send(const Response& r, bool close) {
        socket_->write(serialize(r, close));
        if (close)
            closeAfterWrite();
    }

    void onTimeout() {
        if (dead_)
            return;
        if (closing_) { // the linger (or an unread last answer) is over
            socket_->abort();
            gone();
            return;
        }
        if (wait_ == Wait::Idle || !parser_.started()) {
            // Nothing of a request on its way: just go.
            ++listener_->stats_.timeouts;
            socket_->abort();
            gone();
            return;
        }
        ++listener_->stats_.timeouts;
        send(plainError(408, "request not received in time"), true);
    }

    void onWritten() {
        if (closing_) {
            if (socket_->bytesToWrite() == 0)
                lingerOrClose();
            return;
        }
        if (paused_ && socket_->bytesToWrite() < limits().maxPendingOutput / 2) {
            paused_ = false;
            process();
        }
    }

    void onReadable() {
        if (dead_)
            return;
        if (closing_) {
            if (lingering_)
                drainInput();
            return;
        }
        while (socket_->bytesAvailable() > 0 && !closing_ && !paused_) {
            const QByteArray bytes = socket_->read(kReadChunk);
            if (bytes.isEmpty())
                break;
            const bool wasStarted = parser_.started();
            parser_.feed(bytes);
            if (wait_ == Wait::Idle && !wasStarted && parser_.started()) {
                wait_ = Wait::Head; // a new request began: its head gets the head timeout
                timer_.start(limits().headTimeoutMs);
            }
            process();
        }
    }

    void process() {
        while (!dead_ && !closing_ && !paused_) {
            switch (parser_.state()) {
            case HttpParser::State::NeedMore:
                return;
            case HttpParser::State::Error:
                ++listener_->stats_.badRequests;
                send(plainError(parser_.status(), parser_.reason()), true);
                return;
            case HttpParser::State::HeadReady:
                onHead();
                break;
            case HttpParser::State::Complete: {
                const Request request = parser_.takeRequest();
                const bool keep = request.keepAlive();
                const Response r = listener_->handler_->onRequest(request, peer_);
                send(r, !keep);
                if (!keep)
                    return;
                wait_ = Wait::Idle;
                timer_.start(limits().idleTimeoutMs);
                if (socket_->bytesToWrite() > limits().maxPendingOutput)
                    paused_ = true; // pipelined requests wait until the answers drain
                const bool more =
                    parser_.reset() != HttpParser::State::NeedMore || parser_.started();
                if (more && wait_ == Wait::Idle) {
                    wait_ = Wait::Head;
                    timer_.start(limits().headTimeoutMs);
                }
                break;
            }
            }
        }
    }

    void onHead() {
        const Request& head = parser_.request();
        Response answer;
        const Handler::Decision d = listener_->handler_->onHead(head, peer_, &answer);
        if (d == Handler::Decision::Answer) {
            // The body (if any) stays unread: the connection cannot be reused after it.
            const bool hasBody = head.chunked || head.contentLength > 0;
            send(answer, hasBody || !head.keepAlive());
            if (closing_)
                return;
            wait_ = Wait::Idle;
            timer_.start(limits().idleTimeoutMs);
            parser_.takeRequest();
            parser_.acceptBody(); // no body: completes at once
            parser_.reset();
            return;
        }
        if (d == Handler::Decision::WebSocket) {
            upgrade(head);
            return;
        }
        wait_ = Wait::Body;
        timer_.start(limits().bodyTimeoutMs);
        parser_.acceptBody();
    }

    // RFC 6455 §4.2.1 and §4.2.2.
    void upgrade(const Request& head) {
        const QByteArray key = head.header("sec-websocket-key");
        const bool valid =
            head.method == "GET" && head.version == 11 &&
            head.headerHasToken("upgrade", "websocket") &&
            head.headerHasToken("connection", "upgrade") && !head.chunked &&
            head.contentLength == 0 &&
            QByteArray::fromBase64(key, QByteArray::AbortOnBase64DecodingErrors).size() == 16;
        if (!valid) {
            ++listener_->stats_.badRequests;
            send(plainError(400, "not a valid WebSocket handshake"), true);
            return;
        }
        if (head.header("sec-websocket-version") != "13") {
            Response r = plainError(426, "WebSocket version 13 required");
            r.headers.emplace_back("Sec-WebSocket-Version", "13");
            send(r, true);
            return;
        }
        const QByteArray accept =
            QCryptographicHash::hash(key + kWebSocketGuid, QCryptographicHash::Sha1).toBase64();
        socket_->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                       accept + "\r\n\r\n");
        // Bytes the client already sent after its handshake belong to the WebSocket.
        QByteArray leftover = parser_.unparsed();
        timer_.stop();
        dead_ = true;
        socket_->disconnect(this);
        auto ws = std::make_unique<WebSocket>(socket_, head.path, std::move(leftover),
                                              limits().maxWebSocketMessage, std::move(slot_));
        const QHostAddress peer = peer_;
        HttpListener* listener = listener_;
        deleteLater();
        listener->handler_->onWebSocket(std::move(ws), peer);
    }

    HttpListener* listener_;
    QTcpSocket* socket_;
    std::unique_ptr<ConnectionSlot> slot_;
    HttpParser parser_;
    QHostAddress peer_;
    QTimer timer_;
    Wait wait_ = Wait::Head;
    bool closing_ = false;
    bool lingering_ = false;
    qint64 lingered_ = 0;
    bool paused_ = false;
    bool dead_ = false;
};

// ---- HttpListener
// ---------------------------------------------------------------------------------

class HttpListener::Server : public QTcpServer {
public:
    explicit Server(HttpListener* owner) : QTcpServer(owner), owner_(owner) {}

protected:
    void incomingConnection(qintptr descriptor) override { owner_->onConnection(descriptor); }

private:
    HttpListener* owner_;
};

HttpListener::HttpListener(Handler* handler, ListenerLimits limits, QObject* parent)
    : QObject(parent), handler_(handler), limits_(limits) {
    resumeTimer_.setSingleShot(true);
    connect(&resumeTimer_, &QTimer::timeout, this, [this] {
        if (server_)
            server_->resumeAccepting();
    });
    connect(&trimTimer_, &QTimer::timeout, this, &HttpListener::trimMemory);
    trimTimer_.start(2000);
}

HttpListener::~HttpListener() {
    close();
}

void HttpListener::setTls(const QSslCertificate& certificate, const QSslKey& key) {
    certificate_ = certificate;
    key_ = key;
    tls_ = true;
}

QByteArray HttpListener::sourceKey(const QHostAddress& address) {
    bool v4 = false;
    const quint32 a4 = address.toIPv4Address(&v4);
    if (v4)
        return QByteArray::number(a4);
    const Q_IPV6ADDR a6 = address.toIPv6Address();
    return QByteArray(reinterpret_cast<const char*>(a6.c), 8); // the /64
}

bool HttpListener::listen(const QHostAddress& address, quint16 port, QString* error) {
    // Keep the connection cap inside the open-file limit (raised to the hard limit in main).
    if (const auto limit = process::openFileLimit()) {
        const auto room = qint64(*limit) - kReservedDescriptors;
        if (room < limits_.maxConnections) {
            limits_.maxConnections = int(std::max<qint64>(16, room));
            qCInfo(lcHttp, "at most %d connections (open-file limit %llu)", limits_.maxConnections,
                   static_cast<unsigned long long>(*limit));
        }
    }
    server_ = new Server(this);
    server_->setListenBacklogSize(kBacklog);
    connect(server_, &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError e) {
        // QTcpServer has paused itself (EMFILE, ENFILE, ENOBUFS ...). Back off, then resume.
        ++stats_.acceptErrors;
        qCWarning(lcHttp, "accept failed (%d); retrying in %d ms", int(e), acceptBackoffMs_);
        server_->pauseAccepting();
        resumeTimer_.start(acceptBackoffMs_);
        acceptBackoffMs_ = std::min(acceptBackoffMs_ * 2, kMaxAcceptBackoffMs);
    });
    if (!server_->listen(address, port)) {
        *error = server_->errorString();
        delete server_;
        server_ = nullptr;
        return false;
    }
    return true;
}

quint16 HttpListener::port() const {
    return server_ ? server_->serverPort() : 0;
}

void HttpListener::close() {
    if (server_)
        server_->close();
}

void HttpListener::onConnection(qintptr descriptor) {
    acceptBackoffMs_ = 100;
    QTcpSocket* socket = tls_ ? new QSslSocket : new QTcpSocket;
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    const QByteArray source = sourceKey(socket->peerAddress());
    if (total_ >= limits_.maxConnections) {
        ++stats_.refusedTotalCap;
        socket->abort();
        delete socket;
        return;
    }
    int& mine = perSource_[source];
    if (mine >= limits_.maxConnectionsPerSource) {
        ++stats_.refusedSourceCap;
        socket->abort();
        delete socket;
        return;
    }
    ++mine;
    ++total_;
    peak_ = std::max(peak_, total_);
    ++stats_.accepted;
    auto slot = std::make_unique<ConnectionSlot>(this, source);
    if (tls_) {
        auto* ssl = static_cast<QSslSocket*>(socket);
        ssl->setLocalCertificate(certificate_);
        ssl->setPrivateKey(key_);
        ssl->setPeerVerifyMode(QSslSocket::VerifyNone);
        ssl->startServerEncryption();
    }
    new HttpConnection(this, socket, std::move(slot));
}

void HttpListener::release(const QByteArray& source) {
    --total_;
    auto it = perSource_.find(source);
    if (it != perSource_.end() && --it.value() <= 0)
        perSource_.erase(it);
}

void HttpListener::trimMemory() {
    // After a flood of connections, give the heap they used back to the system (glibc keeps
    // freed memory otherwise, and RSS would stay at the flood's peak).
    if (peak_ > 64 && total_ < peak_ / 2) {
        process::releaseFreedMemory();
        peak_ = total_;
    }
}

} // namespace calnet::server::http
