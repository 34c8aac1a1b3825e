#include "app/signin/loopbackreceiver.h"

#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

namespace calnet::signin {

namespace {

constexpr qsizetype kMaxHead = 16 * 1024; // a request line with a code and state, and headers
constexpr int kConnectionTimeoutMs = 10'000;

QString escapeHtml(const QString& text) {
    return text.toHtmlEscaped();
}

// The human words for an OAuth error code the provider sent back (RFC 6749 §4.1.2.1).
QString describeError(const QString& code, const QString& description) {
    QString text;
    if (code == QLatin1String("access_denied"))
        text = QObject::tr("The sign-in was cancelled at the identity provider.");
    else if (code == QLatin1String("login_required") || code == QLatin1String("consent_required"))
        text = QObject::tr("The identity provider wants you to sign in again.");
    else
        text = QObject::tr("The identity provider refused the sign-in (%1).").arg(code);
    if (!description.isEmpty())
        text += QLatin1Char(' ') + description;
    return text;
}

} // namespace

LoopbackReceiver::LoopbackReceiver(QObject* parent) : QObject(parent) {
    connect(&server_, &QTcpServer::newConnection, this, &LoopbackReceiver::onConnection);
}

LoopbackReceiver::~LoopbackReceiver() {
    close();
}

bool LoopbackReceiver::listen(const QString& state, QString* error) {
    state_ = state;
    done_ = false;
    if (!server_.listen(QHostAddress::LocalHost, 0)) {
        *error = tr("Cannot listen on 127.0.0.1 for the browser: %1").arg(server_.errorString());
        return false;
    }
    return true;
}

quint16 LoopbackReceiver::port() const {
    return server_.serverPort();
}

QString LoopbackReceiver::redirectUri() const {
    return QStringLiteral("http://127.0.0.1:%1/callback").arg(port());
}

void LoopbackReceiver::close() {
    server_.close();
    const auto sockets = pending_.keys();
    pending_.clear();
    for (QTcpSocket* s : sockets) {
        s->disconnect(this);
        s->abort();
        s->deleteLater();
    }
}

void LoopbackReceiver::onConnection() {
    while (QTcpSocket* socket = server_.nextPendingConnection()) {
        if (done_) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        pending_.insert(socket, {});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadable(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            pending_.remove(socket);
            socket->deleteLater();
        });
        // A connection that never finishes its request is dropped.
        QTimer::singleShot(kConnectionTimeoutMs, socket, [this, socket] {
            if (pending_.contains(socket)) {
                pending_.remove(socket);
                socket->abort();
                socket->deleteLater();
            }
        });
    }
}

void LoopbackReceiver::onReadable(QTcpSocket* socket) {
    auto it = pending_.find(socket);
    if (it == pending_.end())
        return;
    it.value() += socket->readAll();
    const qsizetype end = it.value().indexOf("\r\n\r\n");
    if (end < 0) {
        if (it.value().size() > kMaxHead)
            answer(socket, 431, tr("Request too large"), tr("This request is too large."));
        return;
    }
    const QByteArray head = it.value().left(end);
    handle(socket, head);
}

void LoopbackReceiver::handle(QTcpSocket* socket, const QByteArray& head) {
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> request = lines.value(0).trimmed().split(' ');
    QByteArray host;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        if (line.toLower().startsWith("host:"))
            host = line.mid(5).trimmed();
    }
    const QString title = tr("Calnet sign-in");
    if (request.size() != 3 || request[0] != "GET" || !request[2].startsWith("HTTP/1.")) {
        answer(socket, 400, title, tr("This is not a sign-in request."));
        return;
    }
    // The browser names the address it was sent to: anything else is not our redirect (a page
    // elsewhere reaching this port by another name, or a request meant for another port).
    if (host != "127.0.0.1:" + QByteArray::number(port())) {
        answer(socket, 400, title, tr("This request was not sent to the sign-in address."));
        return;
    }
    const QUrl target(QString::fromLatin1(request[1]), QUrl::StrictMode);
    if (!target.isValid() || target.path() != QLatin1String("/callback")) {
        answer(socket, 404, title, tr("Nothing here."));
        return;
    }
    const QUrlQuery query(target);
    const QString state = query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded);
    if (state.isEmpty() || state != state_) {
        answer(socket, 400, title,
               tr("This sign-in link is not the one Calnet is waiting for. Start the sign-in "
                  "again from Calnet."));
        return;
    }
    const QString error = query.queryItemValue(QStringLiteral("error"), QUrl::FullyDecoded);
    const QString code = query.queryItemValue(QStringLiteral("code"), QUrl::FullyDecoded);
    done_ = true;
    if (!error.isEmpty() || code.isEmpty()) {
        const QString message =
            error.isEmpty()
                ? tr("The identity provider sent the browser back without a sign-in code.")
                : describeError(error, query.queryItemValue(QStringLiteral("error_description"),
                                                            QUrl::FullyDecoded));
        answer(socket, 400, tr("Sign-in failed"), message);
        server_.close();
        emit failed(message);
        return;
    }
    answer(socket, 200, tr("Signed in"),
           tr("Calnet has your sign-in. You can close this tab and go back to Calnet."));
    server_.close();
    emit codeReceived(code);
}

void LoopbackReceiver::answer(QTcpSocket* socket, int status, const QString& title,
                              const QString& text) {
    pending_.remove(socket);
    const QByteArray body =
        QStringLiteral("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%1</title>"
                       "</head><body style=\"font-family:sans-serif;margin:3em\"><h1>%1</h1>"
                       "<p>%2</p></body></html>")
            .arg(escapeHtml(title), escapeHtml(text))
            .toUtf8();
    const QByteArray reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                  "\r\nContent-Type: text/html; charset=utf-8"
                  "\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'"
                  "\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer"
                  "\r\nConnection: close\r\nContent-Length: " +
                  QByteArray::number(body.size()) + "\r\n\r\n" + body);
    socket->disconnectFromHost();
}

} // namespace calnet::signin
