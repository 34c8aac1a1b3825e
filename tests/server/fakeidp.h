// A small OpenID provider for the server tests: its discovery document and JWKS served on
// 127.0.0.1 (HTTP), the keys and the issuer it names set by the test, requests counted.
#pragma once

#include <QHash>
#include <QJsonArray>
#include <QTcpServer>
#include <QTcpSocket>

#include "jwttest.h"

namespace jwttest {

// Serves /.well-known/openid-configuration and /jwks on 127.0.0.1, counting requests.
class FakeIdp {
public:
    FakeIdp() {
        server_.listen(QHostAddress::LocalHost, 0);
        QObject::connect(&server_, &QTcpServer::newConnection, [this] {
            while (QTcpSocket* s = server_.nextPendingConnection()) {
                QObject::connect(s, &QTcpSocket::readyRead, s, [this, s] { serve(s); });
                QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(server_.serverPort()); }
    QString issuerClaim; // what discovery says the issuer is ("" = url())
    QJsonArray keys;
    int discoveries = 0;
    int jwksFetches = 0;
    bool down = false;

private:
    void serve(QTcpSocket* s) {
        buffer_[s] += s->readAll();
        if (!buffer_[s].contains("\r\n\r\n"))
            return;
        const QByteArray path = buffer_[s].split(' ').value(1);
        buffer_.remove(s);
        QByteArray body;
        int status = 200;
        if (down) {
            status = 503;
        } else if (path == "/.well-known/openid-configuration") {
            ++discoveries;
            body = compact({{"issuer", issuerClaim.isEmpty() ? url() : issuerClaim},
                            {"authorization_endpoint", url() + "/auth"},
                            {"token_endpoint", url() + "/token"},
                            {"device_authorization_endpoint", url() + "/device"},
                            {"jwks_uri", url() + "/jwks"}});
        } else if (path == "/jwks") {
            ++jwksFetches;
            body = compact({{"keys", keys}});
        } else {
            status = 404;
        }
        s->write("HTTP/1.1 " + QByteArray::number(status) +
                 " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                 QByteArray::number(body.size()) + "\r\n\r\n" + body);
        s->disconnectFromHost();
    }
    QTcpServer server_;
    QHash<QTcpSocket*, QByteArray> buffer_;
};

} // namespace jwttest
