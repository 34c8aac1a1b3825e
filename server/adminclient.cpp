#include "server/adminclient.h"

#include <cstdio>
#include <functional>

#include <QDateTime>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>
#include <QUrl>

#include "server/serverconfig.h"

namespace calnet::server {

namespace {

void out(const QString& line) {
    std::fputs(qPrintable(line + QLatin1Char('\n')), stdout);
}

int fail(const QString& message) {
    std::fputs(qPrintable(QStringLiteral("calnet-server: ") + message + QLatin1Char('\n')), stderr);
    return 1;
}

// One line of a table: every cell but the last left-aligned to its column's width.
void outRow(const QList<int>& widths, const QStringList& cells) {
    QStringList padded;
    for (qsizetype i = 0; i < cells.size(); ++i) {
        padded.append(i + 1 < cells.size() ? cells[i].leftJustified(widths.value(i)) : cells[i]);
    }
    out(padded.join(QLatin1Char(' ')));
}

QStringList strings(const QJsonValue& array) {
    QStringList list;
    for (const QJsonValue& v : array.toArray()) {
        list.append(v.toString());
    }
    return list;
}

QString yesNo(bool b) {
    return b ? QStringLiteral("yes") : QStringLiteral("no");
}

QString formatTime(qint64 t) {
    return t == 0 ? QStringLiteral("-")
                  : QDateTime::fromSecsSinceEpoch(t).toUTC().toString(Qt::ISODate);
}

struct Options {
    QString server = QStringLiteral("http://127.0.0.1:8080");
    QString token;
    bool json = false;
    bool reusable = false;
    qint64 expires = 0;
    QString user;
    QStringList tags;
    QStringList positional;
};

struct HttpResult {
    int status = 0;
    QJsonObject body;
    QString error;
};

HttpResult request(const Options& o, const QByteArray& verb, const QString& path,
                   const QJsonObject& body = {}) {
    QNetworkAccessManager nam;
    QNetworkRequest req(QUrl(o.server + path));
    req.setRawHeader("Authorization", "Bearer " + o.token.toUtf8());
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    req.setTransferTimeout(15000);
    // Qt follows redirects itself and would resend the Authorization header to wherever a 30x
    // points: the admin token goes to the server named on the command line and nowhere else.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::ManualRedirectPolicy);
    const QByteArray data =
        verb == "POST" ? QJsonDocument(body).toJson(QJsonDocument::Compact) : QByteArray();
    QNetworkReply* reply = nam.sendCustomRequest(req, verb, data);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    HttpResult r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = QJsonDocument::fromJson(reply->readAll()).object();
    if (r.status == 0) {
        r.error = reply->errorString();
    } else if (r.status >= 400) {
        const QJsonObject e = r.body.value(QStringLiteral("error")).toObject();
        r.error = QStringLiteral("%1 (%2): %3")
                      .arg(e.value(QStringLiteral("code")).toString())
                      .arg(r.status)
                      .arg(e.value(QStringLiteral("message")).toString());
    }
    reply->deleteLater();
    return r;
}

int usage() {
    return fail(QStringLiteral(
        "usage: calnet-server authkey create [--reusable] [--expires DURATION] [--tag T]... "
        "[--user U]\n       calnet-server authkey list | authkey revoke ID\n"
        "       calnet-server nodes list | nodes delete ID | nodes expire ID\n"
        "       calnet-server users list\n"
        "  common: --server URL --admin-token-file F (or CALNET_ADMIN_TOKEN) --json"));
}

} // namespace

int runAdminCommand(const QStringList& args) {
    Options o;
    o.token = qEnvironmentVariable("CALNET_ADMIN_TOKEN");
    for (int i = 0; i < args.size(); ++i) {
        const QString& a = args[i];
        auto value = [&](QString* v) {
            if (i + 1 >= args.size()) {
                return false;
            }
            *v = args[++i];
            return true;
        };
        QString v;
        if (a == QStringLiteral("--server")) {
            if (!value(&o.server)) {
                return usage();
            }
            while (o.server.endsWith(QLatin1Char('/'))) {
                o.server.chop(1);
            }
        } else if (a == QStringLiteral("--admin-token-file")) {
            QString error;
            if (!value(&v)) {
                return usage();
            }
            const std::optional<QString> t = readTokenFile(v, &error);
            if (!t) {
                return fail(error);
            }
            o.token = *t;
        } else if (a == QStringLiteral("--json")) {
            o.json = true;
        } else if (a == QStringLiteral("--reusable")) {
            o.reusable = true;
        } else if (a == QStringLiteral("--expires")) {
            if (!value(&v)) {
                return usage();
            }
            const std::optional<qint64> d = parseDuration(v);
            if (!d) {
                return fail(QStringLiteral("bad duration %1 (examples: 30s, 10m, 24h, 7d)").arg(v));
            }
            o.expires = *d;
        } else if (a == QStringLiteral("--tag")) {
            if (!value(&v)) {
                return usage();
            }
            o.tags.append(v);
        } else if (a == QStringLiteral("--user")) {
            if (!value(&o.user)) {
                return usage();
            }
        } else if (a.startsWith(QStringLiteral("--"))) {
            return fail(QStringLiteral("unknown option %1").arg(a));
        } else {
            o.positional.append(a);
        }
    }
    if (o.token.isEmpty()) {
        return fail(QStringLiteral("no admin token: use --admin-token-file or CALNET_ADMIN_TOKEN"));
    }
    const QString noun = o.positional.value(0);
    const QString verb = o.positional.value(1);
    const QString id = o.positional.value(2);
    const int wanted = (verb == QStringLiteral("revoke") || verb == QStringLiteral("delete") ||
                        verb == QStringLiteral("expire"))
                           ? 3
                           : 2;
    if (o.positional.size() != wanted) {
        return usage();
    }
    auto finish = [&](const HttpResult& r, const std::function<void()>& print) {
        if (!r.error.isEmpty()) {
            return fail(r.error);
        }
        if (o.json) {
            out(QString::fromUtf8(QJsonDocument(r.body).toJson(QJsonDocument::Compact)));
        } else {
            print();
        }
        return 0;
    };

    if (noun == QStringLiteral("authkey") && verb == QStringLiteral("create")) {
        QJsonObject body;
        if (o.reusable) {
            body.insert(QStringLiteral("reusable"), true);
        }
        if (o.expires > 0) {
            body.insert(QStringLiteral("expiresIn"), o.expires);
        }
        if (!o.tags.isEmpty()) {
            body.insert(QStringLiteral("tags"), QJsonArray::fromStringList(o.tags));
        }
        if (!o.user.isEmpty()) {
            body.insert(QStringLiteral("user"), o.user);
        }
        const HttpResult r = request(o, "POST", QStringLiteral("/api/v1/admin/authkeys"), body);
        return finish(r, [&] { out(r.body.value(QStringLiteral("key")).toString()); });
    }
    if (noun == QStringLiteral("authkey") && verb == QStringLiteral("list")) {
        const HttpResult r = request(o, "GET", QStringLiteral("/api/v1/admin/authkeys"));
        return finish(r, [&] {
            const QList<int> widths = {12, 16, 9, 8, 20};
            outRow(widths,
                   {QStringLiteral("ID"), QStringLiteral("USER"), QStringLiteral("STATE"),
                    QStringLiteral("REUSABLE"), QStringLiteral("EXPIRES"), QStringLiteral("TAGS")});
            for (const QJsonValue& v : r.body.value(QStringLiteral("authkeys")).toArray()) {
                const QJsonObject k = v.toObject();
                const QString state =
                    k.value(QStringLiteral("revoked")).toBool()
                        ? QStringLiteral("revoked")
                        : (k.value(QStringLiteral("used")).toBool() ? QStringLiteral("used")
                                                                    : QStringLiteral("unused"));
                outRow(widths, {k.value(QStringLiteral("id")).toString(),
                                k.value(QStringLiteral("user")).toString(), state,
                                yesNo(k.value(QStringLiteral("reusable")).toBool()),
                                formatTime(k.value(QStringLiteral("expiresAt")).toInteger()),
                                strings(k.value(QStringLiteral("tags"))).join(QLatin1Char(','))});
            }
        });
    }
    if (noun == QStringLiteral("authkey") && verb == QStringLiteral("revoke")) {
        const HttpResult r = request(o, "DELETE", QStringLiteral("/api/v1/admin/authkeys/") + id);
        return finish(r, [&] { out(QStringLiteral("revoked %1").arg(id)); });
    }
    if (noun == QStringLiteral("nodes") && verb == QStringLiteral("list")) {
        const HttpResult r = request(o, "GET", QStringLiteral("/api/v1/admin/nodes"));
        return finish(r, [&] {
            const QList<int> widths = {6, 20, 12, 40, 6};
            outRow(widths, {QStringLiteral("ID"), QStringLiteral("HOSTNAME"),
                            QStringLiteral("USER"), QStringLiteral("ADDRESSES"),
                            QStringLiteral("ONLINE"), QStringLiteral("KEY EXPIRY")});
            for (const QJsonValue& v : r.body.value(QStringLiteral("nodes")).toArray()) {
                const QJsonObject n = v.toObject();
                outRow(widths,
                       {QString::number(n.value(QStringLiteral("id")).toInteger()),
                        n.value(QStringLiteral("hostname")).toString(),
                        n.value(QStringLiteral("user")).toString(),
                        strings(n.value(QStringLiteral("addresses"))).join(QLatin1Char(' ')),
                        yesNo(n.value(QStringLiteral("online")).toBool()),
                        formatTime(n.value(QStringLiteral("keyExpiry")).toInteger())});
            }
        });
    }
    if (noun == QStringLiteral("nodes") &&
        (verb == QStringLiteral("delete") || verb == QStringLiteral("expire"))) {
        const bool del = verb == QStringLiteral("delete");
        const HttpResult r =
            del ? request(o, "DELETE", QStringLiteral("/api/v1/admin/nodes/") + id)
                : request(o, "POST", QStringLiteral("/api/v1/admin/nodes/%1/expire").arg(id));
        return finish(r, [&] {
            out(QStringLiteral("%1 node %2")
                    .arg(del ? QStringLiteral("deleted") : QStringLiteral("expired"), id));
        });
    }
    if (noun == QStringLiteral("users") && verb == QStringLiteral("list")) {
        const HttpResult r = request(o, "GET", QStringLiteral("/api/v1/admin/users"));
        return finish(r, [&] {
            const QList<int> widths = {6, 24, 6};
            outRow(widths, {QStringLiteral("ID"), QStringLiteral("NAME"), QStringLiteral("NODES"),
                            QStringLiteral("CREATED")});
            for (const QJsonValue& v : r.body.value(QStringLiteral("users")).toArray()) {
                const QJsonObject u = v.toObject();
                outRow(widths, {QString::number(u.value(QStringLiteral("id")).toInteger()),
                                u.value(QStringLiteral("name")).toString(),
                                QString::number(u.value(QStringLiteral("nodes")).toInteger()),
                                formatTime(u.value(QStringLiteral("createdAt")).toInteger())});
            }
        });
    }
    return usage();
}

} // namespace calnet::server
