// FakeControlServer: a stand-in for calnet-server in helper tests, on 127.0.0.1 and a port of
// the kernel's choosing. It speaks just enough of docs/protocol.md "Control plane": POST
// /api/v1/register (answered by a test-supplied function) and the /api/v1/map WebSocket (every
// text message a client sends is recorded; the test pushes map/delta messages and closes
// streams with the codes it wants). One QTcpServer takes both: a request for /api/v1/map is
// handed to a QWebSocketServer untouched (peek, never read).
#pragma once

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "mapnode.h"

namespace calnet::test {

class FakeControlServer {
public:
    // (HTTP status, JSON body) for a register request body.
    using RegisterHandler = std::function<std::pair<int, QJsonObject>(const QJsonObject&)>;

    FakeControlServer() : ws_(QStringLiteral("fake-calnet"), QWebSocketServer::NonSecureMode) {
        QObject::connect(&tcp_, &QTcpServer::newConnection, &tcp_, [this] { accept(); });
        QObject::connect(&ws_, &QWebSocketServer::newConnection, &ws_, [this] { acceptWs(); });
    }
    ~FakeControlServer() {
        for (auto& s : streams_)
            if (s)
                s->abort();
    }

    bool listen(quint16 port = 0) {
        if (!tcp_.listen(QHostAddress::LocalHost, port))
            return false;
        port_ = tcp_.serverPort();
        return true;
    }
    // Stops accepting (the port refuses connections) and drops every open stream.
    void stopListening() {
        tcp_.close();
        abortStreams();
    }
    [[nodiscard]] quint16 port() const { return port_; }
    [[nodiscard]] QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(port_); }

    RegisterHandler onRegister;
    std::vector<QJsonObject> registerRequests;
    std::vector<QJsonObject> received; // every message from any stream, in order
    int streamsOpened = 0;

    // The messages of one type, in order.
    [[nodiscard]] std::vector<QJsonObject> receivedOfType(const QString& type) const {
        std::vector<QJsonObject> out;
        for (const auto& m : received)
            if (m.value(QStringLiteral("type")).toString() == type)
                out.push_back(m);
        return out;
    }
    [[nodiscard]] int openStreams() const {
        int n = 0;
        for (const auto& s : streams_)
            n += s && s->state() == QAbstractSocket::ConnectedState;
        return n;
    }

    void send(const QJsonObject& message) {
        const QString text =
            QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact));
        for (auto& s : streams_)
            if (s && s->state() == QAbstractSocket::ConnectedState)
                s->sendTextMessage(text);
    }
    void closeStreams(QWebSocketProtocol::CloseCode code, const QString& reason = {}) {
        for (auto& s : streams_)
            if (s)
                s->close(code, reason);
    }
    void abortStreams() {
        for (auto& s : streams_)
            if (s)
                s->abort();
    }

private:
    void accept() {
        while (QTcpSocket* socket = tcp_.nextPendingConnection()) {
            socket->setParent(&tcp_);
            QObject::connect(socket, &QTcpSocket::readyRead, socket,
                             [this, socket] { route(socket); });
            QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        }
    }

    void route(QTcpSocket* socket) {
        const QByteArray head = socket->peek(65536);
        const qsizetype end = head.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        if (head.startsWith("GET /api/v1/map")) {
            socket->disconnect(&tcp_);
            QObject::disconnect(socket, &QTcpSocket::readyRead, nullptr, nullptr);
            socket->setParent(nullptr);
            ws_.handleConnection(socket);
            return;
        }
        qsizetype length = 0;
        for (const QByteArray& line : head.left(end).split('\n'))
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        if (head.size() < end + 4 + length)
            return;
        const QByteArray all = socket->readAll();
        const QJsonObject body = QJsonDocument::fromJson(all.mid(end + 4, length)).object();
        int status = 404;
        QJsonObject reply{{"error", QJsonObject{{"code", "not_found"}, {"message", "no route"}}}};
        if (all.startsWith("POST /api/v1/register")) {
            registerRequests.push_back(body);
            if (onRegister)
                std::tie(status, reply) = onRegister(body);
        }
        const QByteArray json = QJsonDocument(reply).toJson(QJsonDocument::Compact);
        socket->write("HTTP/1.1 " + QByteArray::number(status) +
                      (status == 200 ? " OK" : " Error") +
                      "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                      "Content-Length: " +
                      QByteArray::number(json.size()) + "\r\n\r\n" + json);
        socket->disconnectFromHost();
    }

    void acceptWs() {
        while (QWebSocket* s = ws_.nextPendingConnection()) {
            ++streamsOpened;
            streams_.emplace_back(s);
            QObject::connect(s, &QWebSocket::textMessageReceived, s, [this](const QString& text) {
                received.push_back(QJsonDocument::fromJson(text.toUtf8()).object());
            });
            QObject::connect(s, &QWebSocket::disconnected, s, &QObject::deleteLater);
        }
    }

    QTcpServer tcp_;
    QWebSocketServer ws_;
    quint16 port_ = 0;
    std::vector<QPointer<QWebSocket>> streams_;
};

} // namespace calnet::test
