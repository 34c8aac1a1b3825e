#include "server/serverconfig.h"

#include <algorithm>

#include <QFile>
#include <QHostAddress>
#include <QUrl>

namespace calnet::server {

std::optional<qint64> parseDuration(const QString& text) {
    if (text.size() < 2 || text.size() > 12) {
        return std::nullopt;
    }
    const QChar unit = text.back();
    qint64 scale = 0;
    switch (unit.toLatin1()) {
    case 's':
        scale = 1;
        break;
    case 'm':
        scale = 60;
        break;
    case 'h':
        scale = 3600;
        break;
    case 'd':
        scale = 86400;
        break;
    default:
        return std::nullopt;
    }
    const QStringView digits = QStringView(text).chopped(1);
    for (QChar c : digits) {
        if (!c.isDigit() || c.unicode() > 127) {
            return std::nullopt;
        }
    }
    bool ok = false;
    const qint64 n = digits.toLongLong(&ok);
    if (!ok || n <= 0 || n > 100LL * 365 * 86400 / scale) {
        return std::nullopt;
    }
    return n * scale;
}

bool parseHostPort(const QString& text, QString* host, quint16* port) {
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0) {
        return false;
    }
    QString h = text.left(colon);
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']'))) {
        h = h.mid(1, h.size() - 2);
    }
    QHostAddress address;
    if (h != QStringLiteral("localhost") && !address.setAddress(h)) {
        return false;
    }
    bool ok = false;
    const uint p = text.mid(colon + 1).toUInt(&ok);
    if (!ok || p > 65535) {
        return false;
    }
    *host = h;
    *port = quint16(p);
    return true;
}

bool isValidAdminToken(const QString& token) {
    if (token.size() < 16 || token.size() > 256) {
        return false;
    }
    for (QChar c : token) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e) {
            return false;
        }
    }
    return true;
}

namespace {

// A specific IP address literal, or a DNS name: labels of 1-63 ASCII letters, digits and '-'
// (not at either end), joined by dots.
bool isHostName(const QString& host) {
    if (const QHostAddress a(host); !a.isNull()) {
        // A unicast address another machine can send to: not unspecified (also as ::ffff:0.0.0.0),
        // broadcast, multicast or with a scope.
        bool mapped = false;
        const quint32 v4 = a.toIPv4Address(&mapped);
        return !(mapped && v4 == 0) && a != QHostAddress::AnyIPv6 && a != QHostAddress::Broadcast &&
               !a.isMulticast() && a.scopeId().isEmpty();
    }
    if (host.isEmpty() || host.size() > 253)
        return false;
    for (const QString& label : host.split(QLatin1Char('.'))) {
        if (label.isEmpty() || label.size() > 63 || label.front() == QLatin1Char('-') ||
            label.back() == QLatin1Char('-'))
            return false;
        for (const QChar c : label)
            if (!(c.isLetterOrNumber() && c.unicode() < 128) && c != QLatin1Char('-'))
                return false;
    }
    return true;
}

} // namespace

std::optional<wire::RelayRegion> parseRelayOption(const QString& text, QString* error) {
    const qsizetype eq = text.indexOf(QLatin1Char('='));
    const QString name = text.left(eq);
    if (eq <= 0 || !wire::isValidRelayName(name)) {
        *error =
            QStringLiteral("bad --relay %1: want NAME=URL, NAME of a-z, 0-9 and '-'").arg(text);
        return std::nullopt;
    }
    QStringList parts = text.mid(eq + 1).split(QLatin1Char(','));
    const QUrl url(parts.takeFirst(), QUrl::StrictMode);
    const QString scheme = url.scheme();
    if (!url.isValid() || !isHostName(url.host()) || url.port() == 0 || !url.userInfo().isEmpty() ||
        url.hasQuery() || url.hasFragment() ||
        !(scheme == QLatin1String("https") || scheme == QLatin1String("http") ||
          scheme == QLatin1String("wss") || scheme == QLatin1String("ws"))) {
        *error = QStringLiteral("bad --relay %1: the URL must be https://HOST[:PORT] (or http, "
                                "wss, ws)")
                     .arg(text);
        return std::nullopt;
    }
    // The path goes into the relay's request line: plain characters only.
    const QString path = url.path(QUrl::FullyEncoded);
    const bool plainPath = std::all_of(path.begin(), path.end(), [](QChar c) {
        return (c.isLetterOrNumber() && c.unicode() < 128) || c == QLatin1Char('/') ||
               c == QLatin1Char('-') || c == QLatin1Char('.') || c == QLatin1Char('_') ||
               c == QLatin1Char('~');
    });
    if (!plainPath) {
        *error = QStringLiteral("bad --relay %1: the URL's path may hold only letters, digits and "
                                "/-._~")
                     .arg(text);
        return std::nullopt;
    }
    wire::RelayRegion r;
    r.name = name;
    r.url = url.toString();
    r.stunHost = url.host();
    r.stunPort = 3478;
    r.stunAltPort = 3479;
    if (parts.size() > 1) {
        *error = QStringLiteral("bad --relay %1: at most one ,stun=… after the URL").arg(text);
        return std::nullopt;
    }
    for (const QString& part : parts) {
        if (part == QStringLiteral("stun=off")) {
            r.stunHost.clear();
            r.stunPort = r.stunAltPort = 0;
            continue;
        }
        const qsizetype colon = part.lastIndexOf(QLatin1Char(':'));
        bool ok = false;
        const QString portText = colon > 0 ? part.mid(colon + 1) : QString();
        const bool digits = !portText.isEmpty() && std::all_of(portText.begin(), portText.end(),
                                                               [](QChar c) { return c.isDigit(); });
        const uint port = digits ? portText.toUInt(&ok) : 0;
        QString host = part.mid(5, colon - 5);
        if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
            host = host.mid(1, host.size() - 2);
        else if (host.contains(QLatin1Char(':')))
            host.clear(); // an IPv6 address needs its brackets before :PORT
        if (!part.startsWith(QStringLiteral("stun=")) || !ok || port == 0 || port > 65534 ||
            !isHostName(host)) {
            *error = QStringLiteral("bad --relay %1: after the URL only ,stun=HOST:PORT or "
                                    ",stun=off")
                         .arg(text);
            return std::nullopt;
        }
        r.stunHost = host;
        r.stunPort = int(port);
        r.stunAltPort = int(port + 1);
    }
    return r;
}

QString relayEndpointKey(const QString& url) {
    const QUrl u(url);
    const bool tls = u.scheme() == QLatin1String("https") || u.scheme() == QLatin1String("wss");
    QString path = u.path();
    while (path.contains(QStringLiteral("//")))
        path.replace(QStringLiteral("//"), QStringLiteral("/"));
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    QHostAddress address(u.host());
    const QString host = address.isNull() ? u.host().toLower() : address.toString();
    return QStringLiteral("%1 %2 %3 %4")
        .arg(tls ? QStringLiteral("tls") : QStringLiteral("plain"), host)
        .arg(u.port(tls ? 443 : 80))
        .arg(path);
}

std::optional<QString> readTokenFile(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    const QByteArray data = f.read(4096);
    const qsizetype nl = data.indexOf('\n');
    return QString::fromUtf8(nl >= 0 ? data.left(nl) : data).trimmed();
}

} // namespace calnet::server
