#include "app/calnetctl/format.h"

#include <QDateTime>

#include <QJsonArray>
#include <QStringList>

namespace calnet::ctl {

namespace {
QString joined(const QJsonValue& v) {
    QStringList parts;
    for (const QJsonValue& item : v.toArray())
        parts << item.toString();
    return parts.isEmpty() ? QStringLiteral("(none)") : parts.join(QStringLiteral(", "));
}
QString plural(qint64 n, const char* unit) {
    return QStringLiteral("%1 %2%3").arg(n).arg(QLatin1StringView(unit)).arg(n == 1 ? "" : "s");
}
} // namespace

QString formatBytes(qint64 bytes) {
    static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024)
        return QStringLiteral("%1 B").arg(bytes);
    double value = double(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit < 3) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 2).arg(QLatin1StringView(units[unit]));
}

QString formatAge(qint64 seconds) {
    if (seconds <= 0)
        return QStringLiteral("Now");
    QStringList parts;
    const qint64 days = seconds / 86400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60,
                 secs = seconds % 60;
    if (days)
        parts << plural(days, "day");
    if (hours)
        parts << plural(hours, "hour");
    if (minutes)
        parts << plural(minutes, "minute");
    if (secs)
        parts << plural(secs, "second");
    return parts.join(QStringLiteral(", "));
}

QString formatTimeLeft(qint64 expiry, qint64 now) {
    const qint64 left = expiry - now;
    if (left <= 0)
        return QStringLiteral("expired");
    if (left >= 86400)
        return QStringLiteral("%1d %2h").arg(left / 86400).arg(left % 86400 / 3600);
    if (left >= 3600)
        return QStringLiteral("%1h %2m").arg(left / 3600).arg(left % 3600 / 60);
    return QStringLiteral("%1m %2s").arg(left / 60).arg(left % 60);
}

QString formatStatus(const QJsonObject& s, qint64 now) {
    QString out = QStringLiteral("state: %1\n").arg(s.value("state").toString());
    if (!s.value("profile").isNull())
        out += QStringLiteral("profile: %1\n").arg(s.value("profile").toString());
    if (!s.value("interface").isNull())
        out += QStringLiteral("interface: %1\n").arg(s.value("interface").toString());
    if (!s.value("addresses").toArray().isEmpty())
        out += QStringLiteral("addresses: %1\n").arg(joined(s.value("addresses")));
    if (s.value("kind").toString() == QLatin1StringView("mesh")) {
        out += QStringLiteral("server: %1\n").arg(s.value("server").toString());
        out += QStringLiteral("node: %1 (id %2)\n")
                   .arg(s.value("hostname").toString())
                   .arg(qint64(s.value("nodeId").toDouble()));
        if (!s.value("user").toString().isEmpty())
            out += QStringLiteral("user: %1\n").arg(s.value("user").toString());
        if (const qint64 expiry = s.value("keyExpiry").toInteger(0); expiry > 0)
            out += QStringLiteral("key expiry: %1 (%2)\n")
                       .arg(QDateTime::fromSecsSinceEpoch(expiry, Qt::UTC)
                                .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'")),
                            formatTimeLeft(expiry, now));
        if (s.value("signInRequired").toBool())
            out += QStringLiteral("sign-in required: the node key has expired; run calnetctl "
                                  "login --server %1\n")
                       .arg(s.value("server").toString());
        out += QStringLiteral("control: %1\n").arg(s.value("control").toString());
        if (s.value("controlError").isString())
            out += QStringLiteral("control error: %1\n").arg(s.value("controlError").toString());
    }
    if (!s.value("error").isNull())
        out += QStringLiteral("error: %1\n").arg(s.value("error").toString());
    for (const QJsonValue& w : s.value("warnings").toArray())
        out += QStringLiteral("warning: %1\n").arg(w.toString());
    return out;
}

// "direct (203.0.113.12:41641, 1.3 ms)", "relayed via default (4.1 ms): trying direct…",
// "no path: the relay is not reachable".
QString formatPath(const QJsonObject& peer) {
    const QString path = peer.value("path").toString();
    const QString where = peer.value("pathEndpoint").toString();
    const QString reason = peer.value("pathReason").toString();
    QStringList detail;
    if (!where.isEmpty() && path == QLatin1StringView("direct"))
        detail << where;
    if (peer.value("latencyMs").isDouble())
        detail << QStringLiteral("%1 ms").arg(peer.value("latencyMs").toDouble(), 0, 'f', 1);
    QString out;
    if (path == QLatin1StringView("relayed"))
        out = where.isEmpty() ? QStringLiteral("relayed")
                              : QStringLiteral("relayed via %1").arg(where);
    else if (path == QLatin1StringView("none"))
        out = QStringLiteral("no path");
    else
        out = path;
    if (!detail.isEmpty())
        out += QStringLiteral(" (%1)").arg(detail.join(QStringLiteral(", ")));
    if (!reason.isEmpty())
        out += QStringLiteral(": %1").arg(reason);
    return out;
}

QString formatNetcheck(const QJsonObject& n) {
    auto yesNo = [&](const char* key) {
        const QJsonValue v = n.value(QLatin1StringView(key));
        return v.isBool() ? (v.toBool() ? QStringLiteral("yes") : QStringLiteral("no"))
                          : QStringLiteral("unknown");
    };
    QString out;
    out += QStringLiteral("UDP: %1\n")
               .arg(n.value("stun").toBool() ? yesNo("udp")
                                             : QStringLiteral("unknown (no STUN server)"));
    out += QStringLiteral("public address: %1\n")
               .arg(n.value("publicAddress").isString() ? n.value("publicAddress").toString()
                                                        : QStringLiteral("unknown"));
    out += QStringLiteral("mapping varies by destination (symmetric NAT): %1\n")
               .arg(yesNo("mappingVariesByDestination"));
    out += QStringLiteral("local endpoints: %1\n").arg(joined(n.value("localEndpoints")));
    for (const QJsonValue& v : n.value("relays").toArray()) {
        const QJsonObject r = v.toObject();
        // Regions other than home are connected only while packets go through them.
        QString state = r.value("connected").toBool() ? QStringLiteral("connected")
                        : r.value("error").isString()
                            ? QStringLiteral("not connected: %1").arg(r.value("error").toString())
                        : r.value("home").toBool() ? QStringLiteral("connecting")
                                                   : QStringLiteral("not in use");
        if (r.value("latencyMs").isDouble())
            state += QStringLiteral(", %1 ms").arg(r.value("latencyMs").toDouble(), 0, 'f', 1);
        if (r.value("stunLatencyMs").isDouble())
            state +=
                QStringLiteral(" (STUN %1 ms)").arg(r.value("stunLatencyMs").toDouble(), 0, 'f', 1);
        out += QStringLiteral("relay %1: %2\n").arg(r.value("name").toString(), state);
    }
    if (n.value("homeRelay").isString())
        out += QStringLiteral("home relay: %1\n").arg(n.value("homeRelay").toString());
    return out;
}

QString formatPing(const QJsonObject& p) {
    QString out;
    const QString peer = p.value("peer").toString();
    for (const QJsonValue& v : p.value("pongs").toArray()) {
        const QJsonObject pong = v.toObject();
        const QString via = pong.value("direct").toBool() ? pong.value("via").toString()
                                                          : QStringLiteral("the relay");
        out += QStringLiteral("pong from %1 via %2 in %3 ms\n")
                   .arg(peer, via)
                   .arg(pong.value("latencyMs").toDouble(), 0, 'f', 1);
    }
    const int rounds = p.value("rounds").toInt();
    if (p.value("direct").toBool())
        out += QStringLiteral("direct after %1\n").arg(plural(rounds, "round"));
    else if (p.value("pongs").toArray().isEmpty())
        out += QStringLiteral("no pong from %1 in %2\n").arg(peer, plural(rounds, "round"));
    else
        out += QStringLiteral("still relayed after %1\n").arg(plural(rounds, "round"));
    return out;
}

QString formatPeers(const QJsonObject& p) {
    QString out;
    for (const QJsonValue& v : p.value("peers").toArray()) {
        const QJsonObject peer = v.toObject();
        if (!out.isEmpty())
            out += QLatin1Char('\n');
        out += QStringLiteral("peer: %1\n").arg(peer.value("publicKey").toString());
        if (peer.contains("hostname")) {
            // A peer of a Calnet network: who it is and whether the server sees it online.
            out += QStringLiteral("  hostname: %1 (node %2, %3)\n")
                       .arg(peer.value("hostname").toString())
                       .arg(qint64(peer.value("nodeId").toDouble()))
                       .arg(peer.value("os").toString());
            out += QStringLiteral("  address: %1\n").arg(joined(peer.value("addresses")));
            out += QStringLiteral("  online: %1\n")
                       .arg(peer.value("online").toBool() ? QStringLiteral("yes")
                                                          : QStringLiteral("no"));
        } else if (!peer.value("name").isNull()) {
            out += QStringLiteral("  name: %1\n").arg(peer.value("name").toString());
        }
        if (!peer.value("endpoint").isNull())
            out += QStringLiteral("  endpoint: %1\n").arg(peer.value("endpoint").toString());
        out += QStringLiteral("  allowed ips: %1\n").arg(joined(peer.value("allowedIps")));
        const QString health = peer.value("health").toString();
        if (peer.value("handshakeAgeSeconds").isNull())
            out += QStringLiteral("  latest handshake: (none) (%1)\n").arg(health);
        else
            out +=
                QStringLiteral("  latest handshake: %1 ago (%2)\n")
                    .arg(formatAge(qint64(peer.value("handshakeAgeSeconds").toDouble())), health);
        out += QStringLiteral("  transfer: %1 received, %2 sent\n")
                   .arg(formatBytes(qint64(peer.value("rxBytes").toDouble())),
                        formatBytes(qint64(peer.value("txBytes").toDouble())));
        const int keepalive = peer.value("persistentKeepalive").toInt();
        if (keepalive > 0)
            out += QStringLiteral("  persistent keepalive: every %1\n")
                       .arg(plural(keepalive, "second"));
        out += QStringLiteral("  path: %1\n").arg(formatPath(peer));
    }
    return out.isEmpty() ? QStringLiteral("no peers (not connected)\n") : out;
}

QString formatProfiles(const QJsonObject& p) {
    QString out;
    for (const QJsonValue& v : p.value("profiles").toArray()) {
        const QJsonObject profile = v.toObject();
        if (profile.value("kind").toString() == QLatin1StringView("mesh")) {
            out += QStringLiteral("%1%2  %3  network %4\n")
                       .arg(profile.value("connected").toBool() ? QStringLiteral("* ")
                                                                : QStringLiteral("  "),
                            profile.value("name").toString(), joined(profile.value("addresses")),
                            profile.value("server").toString());
            continue;
        }
        out += QStringLiteral("%1%2  %3  peers %4  endpoints %5%6\n")
                   .arg(profile.value("connected").toBool() ? QStringLiteral("* ")
                                                            : QStringLiteral("  "),
                        profile.value("name").toString(), joined(profile.value("addresses")))
                   .arg(profile.value("peers").toInt())
                   .arg(joined(profile.value("endpoints")), profile.value("fullTunnel").toBool()
                                                                ? QStringLiteral("  full tunnel")
                                                                : QString());
    }
    return out.isEmpty() ? QStringLiteral("no profiles\n") : out;
}

int exitCodeFor(const QString& code) {
    if (code == QLatin1StringView("permission_denied"))
        return ExitDenied;
    if (code == QLatin1StringView("not_found"))
        return ExitNotFound;
    if (code == QLatin1StringView("invalid_params") || code == QLatin1StringView("bad_request"))
        return ExitInvalid;
    if (code == QLatin1StringView("conflict"))
        return ExitConflict;
    if (code == QLatin1StringView("disconnected") || code == QLatin1StringView("timeout"))
        return ExitUnavailable;
    return ExitFailed;
}

} // namespace calnet::ctl
