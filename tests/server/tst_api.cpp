// The HTTP API of an in-process Server on 127.0.0.1 port 0, on SQLite and PostgreSQL:
// /api/v1/info, /api/v1/register (every validation case answers its 4xx and changes nothing),
// the admin API (token required, constant-time compared), /metrics.
#include <QTest>

#include "dbrows.h"
#include "servertest.h"

using namespace calnet::server;
using namespace servertest;

class TestApi : public QObject {
    Q_OBJECT
private slots:
    void info_data() { DbRows::addRows(); }
    void info();
    void registerReply_data() { DbRows::addRows(); }
    void registerReply();
    void validationChangesNothing_data() { DbRows::addRows(); }
    void validationChangesNothing();
    void adminRequiresToken_data() { DbRows::addRows(); }
    void adminRequiresToken();
    void adminAuthKeys_data() { DbRows::addRows(); }
    void adminAuthKeys();
    void adminNodesAndUsers_data() { DbRows::addRows(); }
    void adminNodesAndUsers();
    void metrics_data() { DbRows::addRows(); }
    void metrics();

private:
    std::unique_ptr<Server> startServer(const QString& spec) {
        auto server = std::make_unique<Server>(testConfig(spec));
        QString error;
        if (!server->start(&error)) {
            qWarning("server start failed: %s", qPrintable(error));
            return nullptr;
        }
        return server;
    }

    // Every table's row count plus the used/revoked flags of every key.
    static QString fingerprint(Server& server) {
        QStringList parts;
        for (const char* table : {"nodes", "users", "authkeys", "changes"}) {
            qint64 n = -1;
            server.storage()->countRows(QString::fromLatin1(table), &n);
            parts.append(QString::number(n));
        }
        QList<AuthKeyRecord> keys;
        server.storage()->keys().authKeys(&keys);
        for (const AuthKeyRecord& k : keys) {
            parts.append(QStringLiteral("%1:%2:%3").arg(k.id).arg(k.used).arg(k.revoked));
        }
        QList<NodeRecord> nodes;
        server.storage()->nodes().all(&nodes);
        for (const NodeRecord& n : nodes) {
            parts.append(QStringLiteral("%1:%2:%3").arg(n.id).arg(n.nodeKey, n.hostname));
        }
        return parts.join(u' ');
    }

    DbRows m_rows;
};

void TestApi::info() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const Response r = httpCall(server->port(), "GET", QStringLiteral("/api/v1/info"));
    QCOMPARE(r.status, 200);
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("version")).toString(), QStringLiteral("0.1.0"));
    QCOMPARE(o.value(QStringLiteral("prefixes")).toArray(),
             (QJsonArray{QStringLiteral("100.70.0.0/24"), QStringLiteral("fd70:6361:6c6e::/64")}));
    // In process without STUN: the server's own relay only.
    const QJsonArray expectedRelays{QJsonObject{{QStringLiteral("name"), QStringLiteral("default")}}};
    QCOMPARE(o.value(QStringLiteral("relays")).toArray(), expectedRelays);
    QCOMPARE(httpCall(server->port(), "GET", QStringLiteral("/api/v1/relay")).status, 400);
    QCOMPARE(o.value(QStringLiteral("auth")).toArray(), QJsonArray{QStringLiteral("authkey")});
    QCOMPARE(httpCall(server->port(), "POST", QStringLiteral("/api/v1/info")).status, 405);
    QCOMPARE(httpCall(server->port(), "GET", QStringLiteral("/api/v1/map")).status, 400);
    QCOMPARE(httpCall(server->port(), "GET", QStringLiteral("/api/v1/nope")).errorCode(),
             QStringLiteral("not_found"));
}

void TestApi::registerReply() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, false);
    QVERIFY(key.startsWith(QStringLiteral("calnet-auth-")));
    const QString nodeKey = randomKey();
    QJsonObject body = registerBody(nodeKey, QStringLiteral("Laptop-1"), key);
    const Response r = registerNode(port, body);
    QCOMPARE(r.status, 200);
    const QJsonObject o = r.json();
    QCOMPARE(o.value(QStringLiteral("nodeId")).toInteger(), 1);
    QCOMPARE(o.value(QStringLiteral("user")).toString(), QStringLiteral("default"));
    QCOMPARE(o.value(QStringLiteral("network")).toString(), QStringLiteral("default"));
    QCOMPARE(
        o.value(QStringLiteral("addresses")).toArray(),
        (QJsonArray{QStringLiteral("100.70.0.1/32"), QStringLiteral("fd70:6361:6c6e::1/128")}));
    QCOMPARE(o.value(QStringLiteral("prefixes")).toArray().size(), 2);
    QVERIFY(o.value(QStringLiteral("credential"))
                .toString()
                .startsWith(QStringLiteral("calnet-node-1-")));
    const qint64 expiry = o.value(QStringLiteral("keyExpiry")).toInteger();
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QVERIFY(qAbs(expiry - (now + 180 * 86400)) < 10);
    QCOMPARE(o.keys().size(), 7);
    // The hostname is stored lowercased.
    QCOMPARE(admin(port, "GET", QStringLiteral("nodes"))
                 .json()
                 .value(QStringLiteral("nodes"))
                 .toArray()[0]
                 .toObject()
                 .value(QStringLiteral("hostname"))
                 .toString(),
             QStringLiteral("laptop-1"));
    // The one-time key is spent: forbidden.
    const Response again = registerNode(port, registerBody(randomKey(), QStringLiteral("b"), key));
    QCOMPARE(again.status, 403);
    QCOMPARE(again.errorCode(), QStringLiteral("forbidden"));
    // A credential refreshes the node without any pre-auth key.
    body.remove(QStringLiteral("authKey"));
    body.insert(QStringLiteral("credential"), o.value(QStringLiteral("credential")));
    const Response refresh = registerNode(port, body);
    QCOMPARE(refresh.status, 200);
    QCOMPARE(refresh.json().value(QStringLiteral("nodeId")).toInteger(), 1);
}

void TestApi::validationChangesNothing() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, false);
    const Registered existing = registerNew(port, createKey(port, false), QStringLiteral("a"));
    QVERIFY(existing.id > 0);

    const QString nk = randomKey();
    auto body = [&](const QString& field, const QJsonValue& value) {
        QJsonObject o = registerBody(nk, QStringLiteral("host"), key);
        if (value.isUndefined()) {
            o.remove(field);
        } else {
            o.insert(field, value);
        }
        return QJsonDocument(o).toJson();
    };
    QByteArray shortKey(31, 'k');
    struct Case {
        const char* name;
        QByteArray body;
        int status;
        const char* code;
    };
    const QList<Case> cases = {
        {"malformed JSON", QByteArrayLiteral("{\"nodeKey\": "), 400, "bad_request"},
        {"not an object", QByteArrayLiteral("[1,2]"), 400, "bad_request"},
        {"empty body", QByteArray(), 400, "bad_request"},
        {"unknown field", body(QStringLiteral("hostnme"), QStringLiteral("x")), 400, "bad_request"},
        {"hostname wrong type", body(QStringLiteral("hostname"), 7), 400, "bad_request"},
        {"nodeKey wrong type", body(QStringLiteral("nodeKey"), true), 400, "bad_request"},
        {"missing nodeKey", body(QStringLiteral("nodeKey"), QJsonValue::Undefined), 400,
         "bad_request"},
        {"missing discoKey", body(QStringLiteral("discoKey"), QJsonValue::Undefined), 400,
         "bad_request"},
        {"nodeKey not base64", body(QStringLiteral("nodeKey"), QString(43, u'!') + u'='), 400,
         "bad_request"},
        {"nodeKey 31 bytes",
         body(QStringLiteral("nodeKey"), QString::fromLatin1(shortKey.toBase64())), 400,
         "bad_request"},
        {"nodeKey 33 bytes",
         body(QStringLiteral("nodeKey"), QString::fromLatin1(QByteArray(33, 'k').toBase64())), 400,
         "bad_request"},
        {"discoKey not canonical",
         body(QStringLiteral("discoKey"), randomKey().left(42) + QStringLiteral("B=")), 400,
         "bad_request"},
        {"hostname with space", body(QStringLiteral("hostname"), QStringLiteral("my host")), 400,
         "bad_request"},
        {"hostname empty", body(QStringLiteral("hostname"), QString()), 400, "bad_request"},
        {"hostname 64 chars", body(QStringLiteral("hostname"), QString(64, u'a')), 400,
         "bad_request"},
        {"hostname unicode", body(QStringLiteral("hostname"), QStringLiteral("h\u00e9")), 400,
         "bad_request"},
        {"os too long", body(QStringLiteral("os"), QString(33, u'x')), 400, "bad_request"},
        {"os control char", body(QStringLiteral("os"), QStringLiteral("li\nux")), 400,
         "bad_request"},
        {"idToken", body(QStringLiteral("idToken"), QStringLiteral("eyJ...")), 400, "bad_request"},
        {"no authKey or credential", body(QStringLiteral("authKey"), QJsonValue::Undefined), 400,
         "bad_request"},
        {"body over 64 KiB", QByteArray(64 * 1024 + 1, ' '), 413, "too_large"},
        {"body over 64 KiB of valid JSON", body(QStringLiteral("os"), QString(70000, u'x')), 413,
         "too_large"},
        {"unknown pre-auth key",
         body(QStringLiteral("authKey"),
              QStringLiteral("calnet-auth-0123456789ab-") + QString(43, u'A')),
         401, "unauthorized"},
        {"malformed pre-auth key", body(QStringLiteral("authKey"), QStringLiteral("hello")), 401,
         "unauthorized"},
        {"wrong secret", body(QStringLiteral("authKey"), key.left(key.size() - 1) + u'Z'), 401,
         "unauthorized"},
        {"bad credential only",
         QJsonDocument(
             QJsonObject{{QStringLiteral("nodeKey"), existing.nodeKey},
                         {QStringLiteral("discoKey"), randomKey()},
                         {QStringLiteral("hostname"), QStringLiteral("a")},
                         {QStringLiteral("credential"),
                          existing.credential.left(existing.credential.size() - 1) + u'x'}})
             .toJson(),
         401, "unauthorized"},
    };
    const QString before = fingerprint(*server);
    for (const Case& c : cases) {
        const Response r = httpCall(port, "POST", QStringLiteral("/api/v1/register"), c.body);
        QVERIFY2(r.status == c.status, qPrintable(QStringLiteral("%1: got %2 %3")
                                                      .arg(QLatin1String(c.name))
                                                      .arg(r.status)
                                                      .arg(QString::fromUtf8(r.body))));
        QVERIFY2(r.errorCode() == QLatin1String(c.code), c.name);
        QVERIFY2(!r.json()
                      .value(QStringLiteral("error"))
                      .toObject()
                      .value(QStringLiteral("message"))
                      .toString()
                      .isEmpty(),
                 c.name);
        QVERIFY2(fingerprint(*server) == before, c.name);
    }
    // The key still works after all that.
    QCOMPARE(registerNode(port, registerBody(nk, QStringLiteral("host"), key)).status, 200);
    QVERIFY(fingerprint(*server) != before);
    QCOMPARE(httpCall(port, "GET", QStringLiteral("/api/v1/register")).status, 405);
}

void TestApi::adminRequiresToken() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString before = fingerprint(*server);
    const QList<QPair<QByteArray, QString>> endpoints = {
        {"GET", QStringLiteral("nodes")},
        {"DELETE", QStringLiteral("nodes/1")},
        {"POST", QStringLiteral("nodes/1/expire")},
        {"GET", QStringLiteral("users")},
        {"GET", QStringLiteral("authkeys")},
        {"POST", QStringLiteral("authkeys")},
        {"DELETE", QStringLiteral("authkeys/0123456789ab")},
        {"GET", QStringLiteral("nothing")},
    };
    const QStringList wrongTokens = {QString(), QStringLiteral("nope"),
                                     kAdminToken.left(kAdminToken.size() - 1),
                                     kAdminToken + QStringLiteral("x")};
    for (const auto& [verb, path] : endpoints) {
        for (const QString& token : wrongTokens) {
            const Response r = httpCall(port, verb, QStringLiteral("/api/v1/admin/") + path,
                                        QByteArrayLiteral("{}"), token);
            QVERIFY2(r.status == 401, qPrintable(path));
            QCOMPARE(r.errorCode(), QStringLiteral("unauthorized"));
        }
    }
    // Not Bearer: refused as well.
    QNetworkAccessManager nam;
    QNetworkRequest req(QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/admin/nodes").arg(port)));
    req.setRawHeader("Authorization", "Basic " + kAdminToken.toUtf8());
    QNetworkReply* reply = nam.get(req);
    QSignalSpy done(reply, &QNetworkReply::finished);
    QVERIFY(done.wait(5000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 401);
    delete reply;
    QCOMPARE(fingerprint(*server), before);

    QCOMPARE(admin(port, "GET", QStringLiteral("nodes")).status, 200);
    QCOMPARE(admin(port, "PUT", QStringLiteral("nodes")).status, 405);
    QCOMPARE(admin(port, "GET", QStringLiteral("nodes/1")).status, 405);
    QCOMPARE(admin(port, "DELETE", QStringLiteral("nodes/1")).status, 404);
    QCOMPARE(admin(port, "DELETE", QStringLiteral("nodes/abc")).status, 404);
    QCOMPARE(admin(port, "POST", QStringLiteral("nodes/1/expire")).status, 404);
    QCOMPARE(admin(port, "GET", QStringLiteral("nothing")).status, 404);

    // Without a configured token the admin API is closed to everyone.
    ServerConfig closed = testConfig(spec);
    closed.adminToken.clear();
    Server second(closed);
    QString error;
    QVERIFY2(second.start(&error), qPrintable(error));
    QCOMPARE(httpCall(second.port(), "GET", QStringLiteral("/api/v1/admin/nodes"), {}, kAdminToken)
                 .status,
             401);
}

void TestApi::adminAuthKeys() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const Response created =
        admin(port, "POST", QStringLiteral("authkeys"),
              QJsonObject{{QStringLiteral("reusable"), true},
                          {QStringLiteral("expiresIn"), 600},
                          {QStringLiteral("user"), QStringLiteral("alice")},
                          {QStringLiteral("tags"), QJsonArray{QStringLiteral("tag:server")}}});
    QCOMPARE(created.status, 200);
    const QJsonObject k = created.json();
    const QString id = k.value(QStringLiteral("id")).toString();
    const QString key = k.value(QStringLiteral("key")).toString();
    QCOMPARE(id.size(), 12);
    QCOMPARE(key.size(), 12 + 12 + 1 + 43);
    QVERIFY(key.startsWith(QStringLiteral("calnet-auth-") + id + u'-'));
    QCOMPARE(k.value(QStringLiteral("user")).toString(), QStringLiteral("alice"));
    QCOMPARE(k.value(QStringLiteral("reusable")).toBool(), true);
    QCOMPARE(k.value(QStringLiteral("expiresAt")).toInteger() -
                 k.value(QStringLiteral("createdAt")).toInteger(),
             600);
    QCOMPARE(k.value(QStringLiteral("tags")).toArray(), QJsonArray{QStringLiteral("tag:server")});

    const Response list = admin(port, "GET", QStringLiteral("authkeys"));
    QCOMPARE(list.status, 200);
    QVERIFY(!list.body.contains(key.toUtf8()));
    QVERIFY(!list.body.contains(key.mid(25).toUtf8()));
    const QJsonObject listed =
        list.json().value(QStringLiteral("authkeys")).toArray()[0].toObject();
    QCOMPARE(listed.value(QStringLiteral("id")).toString(), id);
    QVERIFY(!listed.contains(QStringLiteral("key")));
    QCOMPARE(listed.value(QStringLiteral("used")).toBool(), false);

    const Registered node = registerNew(port, key, QStringLiteral("srv"));
    QVERIFY(node.id > 0);
    QCOMPARE(admin(port, "GET", QStringLiteral("authkeys"))
                 .json()
                 .value(QStringLiteral("authkeys"))
                 .toArray()[0]
                 .toObject()
                 .value(QStringLiteral("used"))
                 .toBool(),
             true);

    const Response revoked = admin(port, "DELETE", QStringLiteral("authkeys/") + id);
    QCOMPARE(revoked.status, 200);
    QCOMPARE(revoked.json().value(QStringLiteral("revoked")).toString(), id);
    const Response refused =
        registerNode(port, registerBody(randomKey(), QStringLiteral("x"), key));
    QCOMPARE(refused.status, 403);
    QCOMPARE(admin(port, "DELETE", QStringLiteral("authkeys/ffffffffffff")).status, 404);
    QCOMPARE(admin(port, "DELETE", QStringLiteral("authkeys/xyz")).status, 404);

    const QString before = fingerprint(*server);
    const QList<QJsonObject> bad = {
        {{QStringLiteral("reusable"), QStringLiteral("yes")}},
        {{QStringLiteral("expiresIn"), QStringLiteral("24h")}},
        {{QStringLiteral("expiresIn"), 0}},
        {{QStringLiteral("expiresIn"), 1.5}},
        {{QStringLiteral("user"), QStringLiteral("bad user")}},
        {{QStringLiteral("tags"), QStringLiteral("tag:x")}},
        {{QStringLiteral("tags"), QJsonArray{3}}},
        {{QStringLiteral("owner"), QStringLiteral("bob")}},
    };
    for (const QJsonObject& b : bad) {
        const Response r = admin(port, "POST", QStringLiteral("authkeys"), b);
        QVERIFY2(r.status == 400, QJsonDocument(b).toJson().constData());
        QCOMPARE(r.errorCode(), QStringLiteral("bad_request"));
    }
    QCOMPARE(httpCall(port, "POST", QStringLiteral("/api/v1/admin/authkeys"),
                      QByteArray(70 * 1024, ' '), kAdminToken)
                 .status,
             413);
    QCOMPARE(fingerprint(*server), before);
}

void TestApi::adminNodesAndUsers() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, true);
    const Registered a = registerNew(port, key, QStringLiteral("a"));
    const Registered b = registerNew(port, key, QStringLiteral("b"));
    QJsonArray nodes =
        admin(port, "GET", QStringLiteral("nodes")).json().value(QStringLiteral("nodes")).toArray();
    QCOMPARE(ids(nodes), (QList<qint64>{a.id, b.id}));
    const QJsonObject na = findNode(nodes, a.id);
    for (const char* field : {"id", "nodeKey", "discoKey", "hostname", "os", "user", "addresses",
                              "endpoints", "online", "lastSeen", "keyExpiry", "createdAt"}) {
        QVERIFY2(na.contains(QLatin1String(field)), field);
    }
    QCOMPARE(na.value(QStringLiteral("nodeKey")).toString(), a.nodeKey);

    const Response expired = admin(port, "POST", QStringLiteral("nodes/%1/expire").arg(b.id));
    QCOMPARE(expired.status, 200);
    QCOMPARE(expired.json().value(QStringLiteral("expired")).toInteger(), b.id);
    nodes =
        admin(port, "GET", QStringLiteral("nodes")).json().value(QStringLiteral("nodes")).toArray();
    QVERIFY(findNode(nodes, b.id).value(QStringLiteral("keyExpiry")).toInteger() <=
            QDateTime::currentSecsSinceEpoch());

    const Response deleted = admin(port, "DELETE", QStringLiteral("nodes/%1").arg(a.id));
    QCOMPARE(deleted.status, 200);
    QCOMPARE(deleted.json().value(QStringLiteral("deleted")).toInteger(), a.id);
    QCOMPARE(admin(port, "DELETE", QStringLiteral("nodes/%1").arg(a.id)).status, 404);
    nodes =
        admin(port, "GET", QStringLiteral("nodes")).json().value(QStringLiteral("nodes")).toArray();
    QCOMPARE(ids(nodes), QList<qint64>{b.id});

    const QJsonArray users =
        admin(port, "GET", QStringLiteral("users")).json().value(QStringLiteral("users")).toArray();
    QCOMPARE(users.size(), 1);
    QCOMPARE(users[0].toObject().value(QStringLiteral("name")).toString(),
             QStringLiteral("default"));
    QCOMPARE(users[0].toObject().value(QStringLiteral("nodes")).toInteger(), 1);
    QVERIFY(users[0].toObject().contains(QStringLiteral("createdAt")));
    QVERIFY(users[0].toObject().contains(QStringLiteral("id")));
}

void TestApi::metrics() {
    CALNET_FRESH_DB(m_rows, spec);
    auto server = startServer(spec);
    QVERIFY(server);
    const quint16 port = server->port();
    const QString key = createKey(port, false);
    registerNew(port, key, QStringLiteral("a"));
    registerNew(port, key, QStringLiteral("b")); // forbidden: one-time key
    const Response r = httpCall(port, "GET", QStringLiteral("/metrics"));
    QCOMPARE(r.status, 200);
    const QString text = QString::fromUtf8(r.body);
    for (const char* series :
         {"calnet_nodes_online 0", "calnet_nodes_total 1",
          "calnet_registrations_total{result=\"ok\"} 1",
          "calnet_registrations_total{result=\"forbidden\"} 1", "calnet_map_pushes_total 0",
          "calnet_http_requests_total{status=\"200\"} 2",
          "calnet_http_requests_total{status=\"403\"} 1", "calnet_websocket_clients 0",
          "# TYPE calnet_registrations_total counter"}) {
        QVERIFY2(text.contains(QLatin1String(series)), series);
    }
}

QTEST_GUILESS_MAIN(TestApi)
#include "tst_api.moc"
