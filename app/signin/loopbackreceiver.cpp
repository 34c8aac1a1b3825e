#include "app/signin/loopbackreceiver.h"

#include <algorithm>

#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QUrlQuery>

namespace calnet::signin {

namespace {

constexpr qsizetype kMaxHead = 16 * 1024; // a request line with a code and state, and headers
constexpr int kConnectionTimeoutMs = 10'000;

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
        *error = tr("Cannot listen on 127.0.0.1 for the browser: %1.").arg(server_.errorString());
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
    const Callback c = parseCallback(head, port(), state_);
    const QString title = tr("Calnet sign-in");
    switch (c.kind) {
    case Callback::Kind::BadRequest:
        answer(socket, 400, title, tr("This is not a sign-in request."));
        return;
    case Callback::Kind::WrongHost:
        answer(socket, 400, title, tr("This request was not sent to the sign-in address."));
        return;
    case Callback::Kind::NotFound:
        answer(socket, 404, title, tr("Nothing here."));
        return;
    case Callback::Kind::WrongState:
        answer(socket, 400, title,
               tr("This sign-in link is not the one Calnet is waiting for. Start the sign-in "
                  "again from Calnet."));
        return;
    case Callback::Kind::ProviderError:
    case Callback::Kind::NoCode: {
        done_ = true;
        const QString message =
            c.kind == Callback::Kind::NoCode
                ? tr("The identity provider sent the browser back without a sign-in code.")
                : describeError(c.error, c.errorDescription);
        answer(socket, 400, tr("Sign-in failed"), message);
        server_.close();
        emit failed(message);
        return;
    }
    case Callback::Kind::Code:
        done_ = true;
        answer(socket, 200, tr("Signed in"),
               tr("Calnet has your sign-in. You can close this tab and go back to Calnet."));
        server_.close();
        emit codeReceived(c.code);
        return;
    }
}

Callback parseCallback(const QByteArray& head, quint16 port, const QString& state) {
    Callback c;
    const QList<QByteArray> lines = head.split('\n');
    QByteArray requestLine = lines.value(0);
    if (requestLine.endsWith('\r')) {
        requestLine.chop(1);
    }
    // "GET <target> HTTP/1.x", exactly: the target in visible ASCII (RFC 9112 §3).
    const QList<QByteArray> request = requestLine.split(' ');
    const auto visible = [](const QByteArray& b) {
        return !b.isEmpty() && std::all_of(b.begin(), b.end(), [](char ch) {
            return static_cast<unsigned char>(ch) > 0x20 && static_cast<unsigned char>(ch) < 0x7f;
        });
    };
    if (request.size() != 3 || request[0] != "GET" || !visible(request[1]) ||
        (request[2] != "HTTP/1.1" && request[2] != "HTTP/1.0")) {
        return c; // BadRequest
    }
    // The browser names the address it was sent to: anything else is not our redirect (a page
    // elsewhere reaching this port by another name, or a request meant for another port). Two
    // Host headers are refused (RFC 9112 §3.2), so no reading of them can disagree.
    QByteArray host;
    int hosts = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        if (line.toLower().startsWith("host:")) {
            host = line.mid(5).trimmed();
            ++hosts;
        }
    }
    if (hosts != 1 || host != "127.0.0.1:" + QByteArray::number(port)) {
        c.kind = Callback::Kind::WrongHost;
        return c;
    }
    // Origin form only ("/callback?…"): an absolute-form target could name another host.
    const QUrl target(QString::fromLatin1(request[1]), QUrl::StrictMode);
    if (!(request[1] == "/callback" || request[1].startsWith("/callback?")) || !target.isValid()) {
        c.kind = Callback::Kind::NotFound;
        return c;
    }
    const QUrlQuery query(target);
    // A parameter given twice is not ours: which one counts would be a guess.
    for (const char* key : {"state", "code", "error"}) {
        if (query.allQueryItemValues(QLatin1String(key)).size() > 1) {
            c.kind = Callback::Kind::WrongState;
            return c;
        }
    }
    const QString got = query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded);
    if (got.isEmpty() || got != state) {
        c.kind = Callback::Kind::WrongState;
        return c;
    }
    c.error = query.queryItemValue(QStringLiteral("error"), QUrl::FullyDecoded);
    c.errorDescription =
        query.queryItemValue(QStringLiteral("error_description"), QUrl::FullyDecoded);
    c.code = query.queryItemValue(QStringLiteral("code"), QUrl::FullyDecoded);
    c.kind = !c.error.isEmpty() ? Callback::Kind::ProviderError
             : c.code.isEmpty() ? Callback::Kind::NoCode
                                : Callback::Kind::Code;
    return c;
}

void LoopbackReceiver::answer(QTcpSocket* socket, int status, const QString& title,
                              const QString& text) {
    pending_.remove(socket);
    const QByteArray body =
        QStringLiteral("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%1</title>"
                       "</head><body style=\"font-family:sans-serif;margin:3em\"><h1>%1</h1>"
                       "<p>%2</p></body></html>")
            .arg(title.toHtmlEscaped(), text.toHtmlEscaped())
            .toUtf8();
    const QByteArray reason = status == 200   ? "OK"
                              : status == 404 ? "Not Found"
                              : status == 431 ? "Request Header Fields Too Large"
                                              : "Bad Request";
    socket->write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
                  "\r\nContent-Type: text/html; charset=utf-8"
                  "\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'"
                  "\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer"
                  "\r\nConnection: close\r\nContent-Length: " +
                  QByteArray::number(body.size()) + "\r\n\r\n" + body);
    socket->disconnectFromHost();
}

} // namespace calnet::signin
