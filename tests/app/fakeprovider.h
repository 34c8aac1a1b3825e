// A small OpenID provider for the app's sign-in tests, on 127.0.0.1: discovery, a token endpoint
// for codes (the PKCE verifier checked against the challenge the test saw), refresh tokens and
// device codes (scripted answers). ID tokens are JWT-shaped but unsigned: the client only reads
// them; the server's tests verify real ones.
#pragma once

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>

#include <deque>

#include "app/signin/oauth.h"
#include "app/signin/signinflow.h"

namespace calnet::test {

using namespace calnet::signin;

inline QByteArray b64(const QByteArray& raw) {
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// An unsigned JWT-shaped token: the client only reads it; the server verifies real ones.
inline QString fakeJwt(const QJsonObject& claims) {
    return QString::fromLatin1(b64(R"({"alg":"RS256","kid":"k"})") + '.' +
                               b64(QJsonDocument(claims).toJson(QJsonDocument::Compact)) + ".c2ln");
}

struct RawResponse {
    int status = 0;
    QByteArray body;
};

// One raw HTTP request to 127.0.0.1:port with the Host header given; waits at most 5 s.
inline RawResponse rawGet(quint16 port, const QByteArray& target, const QByteArray& host) {
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, port);
    if (!s.waitForConnected(5000))
        return {};
    s.write("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    QByteArray all;
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 5000 && s.state() == QAbstractSocket::ConnectedState) {
        QCoreApplication::processEvents();
        if (s.waitForReadyRead(50))
            all += s.readAll();
    }
    all += s.readAll();
    RawResponse r;
    r.status = all.mid(9, 3).toInt();
    r.body = all.mid(all.indexOf("\r\n\r\n") + 4);
    return r;
}

// A provider on 127.0.0.1: discovery, an authorize endpoint the "browser" follows by hand, a
// token endpoint for codes (PKCE checked), refresh tokens and device codes (scripted answers).
class FakeProvider : public QObject {
public:
    FakeProvider() {
        server_.listen(QHostAddress::LocalHost, 0);
        connect(&server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* s = server_.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] { serve(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1").arg(server_.serverPort()); }
    OidcSettings settings() const { return {url(), QStringLiteral("calnet-desktop"), {}}; }

    bool device = true;
    std::deque<QByteArray> devicePolls; // OAuth error codes to answer before the tokens
    // A confidential client: the token endpoint wants this secret, by HTTP Basic, or in the
    // form when postOnly (then discovery lists only client_secret_post).
    QString secret;
    bool postOnly = false;
    int polls = 0;
    QString challenge; // from the authorization request the test followed
    QString nonce;
    QString lastVerifier;
    QUrlQuery lastTokenForm;

private:
    void serve(QTcpSocket* s) {
        buffer_ += s->readAll();
        const qsizetype end = buffer_.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = buffer_.left(end);
        const qsizetype length = head.toLower().indexOf("content-length:") >= 0
                                     ? head.mid(head.toLower().indexOf("content-length:") + 15)
                                           .split('\r')
                                           .value(0)
                                           .trimmed()
                                           .toLongLong()
                                     : 0;
        if (buffer_.size() < end + 4 + length)
            return;
        const QByteArray body = buffer_.mid(end + 4, length);
        buffer_.clear();
        const QByteArray path = head.split(' ').value(1).split('?').value(0);
        int status = 200;
        QJsonObject reply;
        if (path == "/.well-known/openid-configuration") {
            reply = {{"issuer", url()},
                     {"authorization_endpoint", url() + "/auth"},
                     {"token_endpoint", url() + "/token"},
                     {"code_challenge_methods_supported", QJsonArray{"S256"}}};
            if (device)
                reply.insert("device_authorization_endpoint", url() + "/device");
            if (postOnly)
                reply.insert("token_endpoint_auth_methods_supported",
                             QJsonArray{"client_secret_post", "private_key_jwt"});
        } else if (path == "/device") {
            reply = {{"device_code", "dev-123"},
                     {"user_code", "WDJB-MJHT"},
                     {"verification_uri", url() + "/activate"},
                     {"expires_in", 600},
                     {"interval", 1}};
        } else if (path == "/token") {
            const QUrlQuery form(QString::fromUtf8(body));
            lastTokenForm = form;
            const QString grant = form.queryItemValue("grant_type", QUrl::FullyDecoded);
            QByteArray authorization;
            for (const QByteArray& line : head.split('\n'))
                if (line.toLower().startsWith("authorization:"))
                    authorization = line.mid(14).trimmed();
            const QByteArray basic = "Basic " + (QUrl::toPercentEncoding("calnet-desktop") + ':' +
                                                 QUrl::toPercentEncoding(secret))
                                                    .toBase64();
            const bool authenticated =
                secret.isEmpty() ? form.queryItemValue("client_id") == "calnet-desktop" &&
                                       authorization.isEmpty()
                : postOnly ? form.queryItemValue("client_secret", QUrl::FullyDecoded) == secret &&
                                 authorization.isEmpty()
                           : authorization == basic && !form.hasQueryItem("client_secret");
            if (!authenticated) {
                status = 401;
                reply = {{"error", "invalid_client"}};
            } else if (grant == "authorization_code") {
                lastVerifier = form.queryItemValue("code_verifier", QUrl::FullyDecoded);
                if (form.queryItemValue("code") != "code-42" ||
                    Pkce::challengeFor(lastVerifier) != challenge) {
                    status = 400;
                    reply = {{"error", "invalid_grant"}, {"error_description", "PKCE mismatch"}};
                } else {
                    reply = tokens(nonce);
                }
            } else if (grant == "urn:ietf:params:oauth:grant-type:device_code") {
                ++polls;
                if (!devicePolls.empty()) {
                    status = 400;
                    reply = {{"error", QString::fromLatin1(devicePolls.front())}};
                    devicePolls.pop_front();
                } else {
                    reply = tokens({});
                }
            } else if (grant == "refresh_token") {
                if (form.queryItemValue("refresh_token") == "refresh-1") {
                    reply = tokens({});
                } else {
                    status = 400;
                    reply = {{"error", "invalid_grant"}};
                }
            }
        } else {
            status = 404;
        }
        const QByteArray out = QJsonDocument(reply).toJson(QJsonDocument::Compact);
        s->write("HTTP/1.1 " + QByteArray::number(status) +
                 " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                 QByteArray::number(out.size()) + "\r\n\r\n" + out);
        s->disconnectFromHost();
    }
    QJsonObject tokens(const QString& withNonce) const {
        QJsonObject claims{{"iss", url()}, {"sub", "ada"}, {"email", "ada@example.com"}};
        if (!withNonce.isEmpty())
            claims.insert("nonce", withNonce);
        return {{"id_token", fakeJwt(claims)},
                {"access_token", "at"},
                {"refresh_token", "refresh-1"},
                {"expires_in", 300},
                {"token_type", "Bearer"}};
    }
    QTcpServer server_;
    QByteArray buffer_;
};

} // namespace calnet::test
