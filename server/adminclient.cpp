#include "server/adminclient.h"

#include <cstdio>
#include <functional>

#include <QCommandLineParser>
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
    qint64 maxUses = 0;
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

const char* kAdminUsage =
    "Commands (HTTP clients of a running server's admin API):\n"
    "  authkey create [--reusable [--uses N]] [--expires DURATION] [--tag T]... [--user U]\n"
    "  authkey list | authkey revoke ID\n"
    "  nodes list | nodes delete ID | nodes expire ID\n"
    "  users list | users disable ID | users enable ID\n"
    "The admin token (or, with --oidc-admin-group/--oidc-admins, an admin's ID token) comes\n"
    "from --admin-token-file or $CALNET_ADMIN_TOKEN.";

int usageError(const QString& message) {
    std::fprintf(stderr, "calnet-server: %s\nTry 'calnet-server authkey --help' for more.\n",
                 qPrintable(message));
    return 2;
}

} // namespace

int runAdminCommand(const QStringList& args) {
    QCommandLineParser parser;
    parser.setApplicationDescription(QString::fromLatin1(kAdminUsage));
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption server(
        QStringLiteral("server"),
        QStringLiteral("The server's base URL (default http://127.0.0.1:8080)."),
        QStringLiteral("url"));
    const QCommandLineOption tokenFile(QStringLiteral("admin-token-file"),
                                       QStringLiteral("A file holding the admin token."),
                                       QStringLiteral("file"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("Print the server's JSON reply."));
    const QCommandLineOption reusable(QStringLiteral("reusable"),
                                      QStringLiteral("authkey create: a key for many nodes."));
    const QCommandLineOption uses(
        QStringLiteral("uses"),
        QStringLiteral("authkey create --reusable: at most N registrations (1-1000000)."),
        QStringLiteral("n"));
    const QCommandLineOption expires(
        QStringLiteral("expires"),
        QStringLiteral("authkey create: lifetime (30s, 10m, 24h, 7d; default 24h)."),
        QStringLiteral("duration"));
    const QCommandLineOption tag(QStringLiteral("tag"),
                                 QStringLiteral("authkey create: a tag for the nodes (repeat)."),
                                 QStringLiteral("tag"));
    const QCommandLineOption user(QStringLiteral("user"),
                                  QStringLiteral("authkey create: the user the nodes belong to."),
                                  QStringLiteral("name"));
    parser.addOptions({help, server, tokenFile, json, reusable, uses, expires, tag, user});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("See Commands."),
                                 QStringLiteral("NOUN VERB [ID]"));
    if (!parser.parse(QStringList{QStringLiteral("calnet-server")} + args))
        return usageError(parser.errorText());
    if (parser.isSet(help)) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return 0;
    }
    for (const auto* opt : {&server, &tokenFile, &uses, &expires, &user})
        if (parser.values(*opt).size() > 1)
            return usageError(
                QStringLiteral("--%1 given more than once").arg(opt->names().constFirst()));
    Options o;
    o.token = qEnvironmentVariable("CALNET_ADMIN_TOKEN");
    if (parser.isSet(server)) {
        o.server = parser.value(server);
        while (o.server.endsWith(QLatin1Char('/')))
            o.server.chop(1);
        const QUrl url(o.server);
        if (!url.isValid() || url.host().isEmpty() ||
            (url.scheme() != QStringLiteral("http") && url.scheme() != QStringLiteral("https")))
            return usageError(QStringLiteral("--server: %1 is not an http(s) URL").arg(o.server));
    }
    if (parser.isSet(tokenFile)) {
        QString error;
        const std::optional<QString> t = readTokenFile(parser.value(tokenFile), &error);
        if (!t)
            return fail(error);
        o.token = *t;
    }
    o.json = parser.isSet(json);
    o.reusable = parser.isSet(reusable);
    if (parser.isSet(expires)) {
        const std::optional<qint64> d = parseDuration(parser.value(expires));
        if (!d)
            return usageError(QStringLiteral("--expires: bad duration %1 (examples: 30s, "
                                             "10m, 24h, 7d)")
                                  .arg(parser.value(expires)));
        o.expires = *d;
    }
    if (parser.isSet(uses)) {
        bool ok = false;
        const QString text = parser.value(uses);
        o.maxUses = text.toLongLong(&ok);
        if (!ok || o.maxUses < 1 || o.maxUses > 1'000'000 || text.startsWith(QLatin1Char('+')))
            return usageError(
                QStringLiteral("--uses: %1 is not a number from 1 to 1000000").arg(text));
        if (!o.reusable)
            return usageError(QStringLiteral("--uses goes with --reusable (a one-time "
                                             "key has one use)"));
    }
    o.tags = parser.values(tag);
    o.user = parser.value(user);
    o.positional = parser.positionalArguments();
    const bool creating = o.positional.value(0) == QStringLiteral("authkey") &&
                          o.positional.value(1) == QStringLiteral("create");
    if (!creating && (o.reusable || parser.isSet(uses) || parser.isSet(expires) ||
                      parser.isSet(tag) || parser.isSet(user)))
        return usageError(QStringLiteral("--reusable, --uses, --expires, --tag and --user "
                                         "go with authkey create"));
    if (o.token.isEmpty()) {
        return fail(QStringLiteral("no admin token: use --admin-token-file or CALNET_ADMIN_TOKEN"));
    }
    const QString noun = o.positional.value(0);
    const QString verb = o.positional.value(1);
    const QString id = o.positional.value(2);
    const int wanted = (verb == QStringLiteral("revoke") || verb == QStringLiteral("delete") ||
                        verb == QStringLiteral("expire") || verb == QStringLiteral("disable") ||
                        verb == QStringLiteral("enable"))
                           ? 3
                           : 2;
    if (o.positional.size() != wanted) {
        return usageError(QStringLiteral("unknown command or wrong number of arguments"));
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
        if (o.maxUses > 0) {
            body.insert(QStringLiteral("maxUses"), o.maxUses);
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
            const QList<int> widths = {6, 28, 6, 9, 20};
            outRow(widths, {QStringLiteral("ID"), QStringLiteral("NAME"), QStringLiteral("NODES"),
                            QStringLiteral("DISABLED"), QStringLiteral("CREATED"),
                            QStringLiteral("SIGN-IN")});
            for (const QJsonValue& v : r.body.value(QStringLiteral("users")).toArray()) {
                const QJsonObject u = v.toObject();
                const QString issuer = u.value(QStringLiteral("issuer")).toString();
                outRow(widths,
                       {QString::number(u.value(QStringLiteral("id")).toInteger()),
                        u.value(QStringLiteral("name")).toString(),
                        QString::number(u.value(QStringLiteral("nodes")).toInteger()),
                        yesNo(u.value(QStringLiteral("disabled")).toBool()),
                        formatTime(u.value(QStringLiteral("createdAt")).toInteger()),
                        issuer.isEmpty()
                            ? QStringLiteral("pre-auth key")
                            : QStringLiteral("%1 %2 <%3>")
                                  .arg(issuer, u.value(QStringLiteral("subject")).toString(),
                                       u.value(QStringLiteral("email")).toString())});
            }
        });
    }
    if (noun == QStringLiteral("users") &&
        (verb == QStringLiteral("disable") || verb == QStringLiteral("enable"))) {
        const HttpResult r =
            request(o, "POST", QStringLiteral("/api/v1/admin/users/%1/%2").arg(id, verb));
        return finish(r, [&] { out(QStringLiteral("%1d user %2").arg(verb, id)); });
    }
    return usageError(QStringLiteral("unknown command"));
}

} // namespace calnet::server
