// Tests for the IPC schema: request validation as a table of raw JSON, method roles, builders,
// reply/event parsing, parameter parsers, profile names and the handshake health boundaries.
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "helper/ipc/protocol.h"

using namespace calnet::ipc;

Q_DECLARE_METATYPE(ErrorCode)
Q_DECLARE_METATYPE(Role)
Q_DECLARE_METATYPE(Health)
Q_DECLARE_METATYPE(std::optional<qint64>)

// QCOMPARE cannot take these enums: ADL finds calnet::ipc::toString, which returns a
// QLatin1StringView where QTest wants a char*. The tests compare their names instead.

namespace {

QJsonObject json(const char* text) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(text), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        qFatal("test JSON does not parse: %s", text);
    }
    return doc.object();
}

QString s(const char* text) {
    return QString::fromUtf8(text);
}

constexpr int kOk = -1; // "no error" in the code column

} // namespace

class TestIpcProtocol : public QObject {
    Q_OBJECT

private slots:
    void parseRequest_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("code"); // ErrorCode, or kOk
        QTest::addColumn<std::optional<qint64>>("id");

        const auto ok = int(kOk);
        const auto bad = int(ErrorCode::BadRequest);
        const auto version = int(ErrorCode::UnsupportedVersion);
        const auto unknown = int(ErrorCode::UnknownMethod);
        const std::optional<qint64> none;
        const std::optional<qint64> seven = 7;

        QTest::newRow("minimal") << QByteArray(R"({"v":1,"id":7,"method":"status"})") << ok
                                 << seven;
        QTest::newRow("params") << QByteArray(
                                       R"({"v":1,"id":7,"method":"connect","params":{"name":"a"}})")
                                << ok << seven;
        QTest::newRow("v as 1.0") << QByteArray(R"({"v":1.0,"id":7,"method":"status"})") << ok
                                  << seven;
        QTest::newRow("id 2^53") << QByteArray(R"({"v":1,"id":9007199254740992,"method":"status"})")
                                 << ok << std::optional<qint64>(qint64(1) << 53);
        QTest::newRow("id 1e3") << QByteArray(R"({"v":1,"id":1e3,"method":"status"})") << ok
                                << std::optional<qint64>(1000);
        QTest::newRow("extra key ignored")
            << QByteArray(R"({"v":1,"id":7,"method":"status","x":0})") << ok << seven;

        QTest::newRow("v missing") << QByteArray(R"({"id":7,"method":"status"})") << bad << none;
        QTest::newRow("v string") << QByteArray(R"({"v":"1","id":7,"method":"status"})") << bad
                                  << none;
        QTest::newRow("v bool") << QByteArray(R"({"v":true,"id":7,"method":"status"})") << bad
                                << none;
        QTest::newRow("v float") << QByteArray(R"({"v":1.5,"id":7,"method":"status"})") << bad
                                 << none;
        QTest::newRow("v null") << QByteArray(R"({"v":null,"id":7,"method":"status"})") << bad
                                << none;
        QTest::newRow("v 2") << QByteArray(R"({"v":2,"id":7,"method":"status"})") << version
                             << seven;
        QTest::newRow("v 0") << QByteArray(R"({"v":0,"id":7,"method":"status"})") << version
                             << seven;
        QTest::newRow("v -1") << QByteArray(R"({"v":-1,"id":7,"method":"status"})") << version
                              << seven;
        QTest::newRow("v 2, bad id")
            << QByteArray(R"({"v":2,"id":"7","method":"status"})") << bad << none;

        QTest::newRow("id missing") << QByteArray(R"({"v":1,"method":"status"})") << bad << none;
        QTest::newRow("id string")
            << QByteArray(R"({"v":1,"id":"7","method":"status"})") << bad << none;
        QTest::newRow("id null") << QByteArray(R"({"v":1,"id":null,"method":"status"})") << bad
                                 << none;
        QTest::newRow("id bool") << QByteArray(R"({"v":1,"id":true,"method":"status"})") << bad
                                 << none;
        QTest::newRow("id object")
            << QByteArray(R"({"v":1,"id":{},"method":"status"})") << bad << none;
        QTest::newRow("id 0") << QByteArray(R"({"v":1,"id":0,"method":"status"})") << bad << none;
        QTest::newRow("id negative")
            << QByteArray(R"({"v":1,"id":-7,"method":"status"})") << bad << none;
        QTest::newRow("id float") << QByteArray(R"({"v":1,"id":7.5,"method":"status"})") << bad
                                  << none;
        QTest::newRow("id 2^53+1")
            << QByteArray(R"({"v":1,"id":9007199254740993,"method":"status"})") << bad << none;
        QTest::newRow("id 2^63") << QByteArray(
                                        R"({"v":1,"id":9223372036854775808,"method":"status"})")
                                 << bad << none;
        QTest::newRow("id 1e300") << QByteArray(R"({"v":1,"id":1e300,"method":"status"})") << bad
                                  << none;

        QTest::newRow("method missing") << QByteArray(R"({"v":1,"id":7})") << bad << seven;
        QTest::newRow("method number")
            << QByteArray(R"({"v":1,"id":7,"method":1})") << bad << seven;
        QTest::newRow("method array")
            << QByteArray(R"({"v":1,"id":7,"method":["status"]})") << bad << seven;
        QTest::newRow("method empty")
            << QByteArray(R"({"v":1,"id":7,"method":""})") << unknown << seven;
        QTest::newRow("method unknown")
            << QByteArray(R"({"v":1,"id":7,"method":"run"})") << unknown << seven;
        QTest::newRow("method case")
            << QByteArray(R"({"v":1,"id":7,"method":"Status"})") << unknown << seven;

        QTest::newRow("params array")
            << QByteArray(R"({"v":1,"id":7,"method":"status","params":[]})") << bad << seven;
        QTest::newRow("params null")
            << QByteArray(R"({"v":1,"id":7,"method":"status","params":null})") << bad << seven;
        QTest::newRow("params string")
            << QByteArray(R"({"v":1,"id":7,"method":"status","params":"x"})") << bad << seven;
        QTest::newRow("bad params before unknown method")
            << QByteArray(R"({"v":1,"id":7,"method":"run","params":1})") << bad << seven;
    }
    void parseRequest() {
        QFETCH(QByteArray, text);
        QFETCH(int, code);
        QFETCH(std::optional<qint64>, id);
        const auto parsed = Request::parse(json(text.constData()));
        if (code == kOk) {
            const auto* request = std::get_if<Request>(&parsed);
            if (!request) {
                QFAIL(qPrintable(std::get<RequestError>(parsed).message));
            }
            QCOMPARE(request->v, kProtocolVersion);
            QCOMPARE(std::optional(request->id), id);
            QVERIFY(request->info);
            QCOMPARE(request->method, QString(request->info->name));
            return;
        }
        const auto* error = std::get_if<RequestError>(&parsed);
        QVERIFY(error);
        QCOMPARE(int(error->code), code);
        QCOMPARE(error->id, id);
        QVERIFY(!error->message.isEmpty());
        // The reply echoes the id when there was one and null otherwise.
        const QJsonObject reply = error->toReply();
        QCOMPARE(reply.value(u"id"_qs).isNull(), !id.has_value());
        QCOMPARE(reply.value(u"error"_qs)[u"code"_qs].toString(), QString(toString(error->code)));
    }

    void paramsDefaultToEmpty() {
        const auto parsed = Request::parse(json(R"({"v":1,"id":1,"method":"peers"})"));
        QVERIFY(std::get<Request>(parsed).params.isEmpty());
        const auto withParams =
            Request::parse(json(R"({"v":1,"id":1,"method":"connect","params":{"name":"x"}})"));
        QCOMPARE(std::get<Request>(withParams).params, json(R"({"name":"x"})"));
    }

    void unknownMethodMessageIsBounded() {
        const QString longName(10000, u'm');
        const auto parsed =
            Request::parse(QJsonObject{{u"v"_qs, 1}, {u"id"_qs, 1}, {u"method"_qs, longName}});
        QVERIFY(std::get<RequestError>(parsed).message.size() < 200);
    }

    void methodRoles_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<Role>("role");
        QTest::newRow("version") << s("version") << Role::Reader;
        QTest::newRow("status") << s("status") << Role::Reader;
        QTest::newRow("profiles.list") << s("profiles.list") << Role::Reader;
        QTest::newRow("profiles.import") << s("profiles.import") << Role::Admin;
        QTest::newRow("profiles.rename") << s("profiles.rename") << Role::Admin;
        QTest::newRow("profiles.remove") << s("profiles.remove") << Role::Admin;
        QTest::newRow("profiles.export") << s("profiles.export") << Role::Admin;
        QTest::newRow("connect") << s("connect") << Role::Admin;
        QTest::newRow("disconnect") << s("disconnect") << Role::Admin;
        QTest::newRow("peers") << s("peers") << Role::Reader;
        QTest::newRow("subscribe") << s("subscribe") << Role::Reader;
        QTest::newRow("up") << s("up") << Role::Admin;
        QTest::newRow("netcheck") << s("netcheck") << Role::Reader;
        QTest::newRow("ping") << s("ping") << Role::Admin; // it sends packets
        // calnetd fetches a URL for it, and it forgets a network: not for every local user.
        QTest::newRow("server.info") << s("server.info") << Role::Admin;
        QTest::newRow("logout") << s("logout") << Role::Admin;
    }
    void methodRoles() {
        QFETCH(QString, method);
        QFETCH(Role, role);
        const MethodInfo* info = findMethod(method);
        QVERIFY(info);
        QCOMPARE(toString(info->role), toString(role));
        QCOMPARE(QString(info->name), method);
    }

    void upWithAnIdToken() {
        const QJsonObject base{{"server", "https://calnet.example/"}};
        QJsonObject p = base;
        p["idToken"] = "eyJh.eyJz.c2ln-_";
        p["nonce"] = "n-1";
        auto ok = parseUpParams(p);
        QVERIFY(std::holds_alternative<UpParams>(ok));
        QCOMPARE(std::get<UpParams>(ok).idToken.value_or(""), QStringLiteral("eyJh.eyJz.c2ln-_"));
        QCOMPARE(std::get<UpParams>(ok).nonce.value_or(""), QStringLiteral("n-1"));
        QCOMPARE(std::get<UpParams>(ok).server, QStringLiteral("https://calnet.example"));
        auto refusedFor = [](const QJsonObject& params) {
            auto r = parseUpParams(params);
            const auto* e = std::get_if<ParamsError>(&r);
            return e ? e->details.value("param").toString() : QString();
        };
        QJsonObject both = p;
        both["authKey"] = "calnet-auth-x";
        QCOMPARE(refusedFor(both), QStringLiteral("idToken"));
        QJsonObject notJwt = base;
        notJwt["idToken"] = "a.b";
        QCOMPARE(refusedFor(notJwt), QStringLiteral("idToken"));
        notJwt["idToken"] = "a.b.c d";
        QCOMPARE(refusedFor(notJwt), QStringLiteral("idToken"));
        QJsonObject nonceAlone = base;
        nonceAlone["nonce"] = "n";
        QCOMPARE(refusedFor(nonceAlone), QStringLiteral("nonce"));
        QJsonObject huge = base;
        huge["idToken"] = QString(kMaxIdTokenLength + 1, QLatin1Char('a'));
        QCOMPARE(refusedFor(huge), QStringLiteral("idToken"));
    }

    void serverInfoAndLogoutParams() {
        auto info = parseServerInfoParams({{"server", "http://127.0.0.1:8080"}});
        QVERIFY(std::holds_alternative<ServerInfoParams>(info));
        QVERIFY(
            std::holds_alternative<ParamsError>(parseServerInfoParams({{"server", "ftp://x"}})));
        QVERIFY(std::holds_alternative<ParamsError>(parseServerInfoParams({})));
        auto out = parseLogoutParams({{"name", "calnet-x"}, {"deleteNode", true}});
        QVERIFY(std::holds_alternative<LogoutParams>(out));
        QVERIFY(std::get<LogoutParams>(out).deleteNode);
        QVERIFY(!std::get<LogoutParams>(parseLogoutParams({})).deleteNode);
        QVERIFY(std::holds_alternative<ParamsError>(parseLogoutParams({{"deleteNode", "yes"}})));
        QVERIFY(std::holds_alternative<ParamsError>(parseLogoutParams({{"delete", true}})));
    }

    void methodTableIsComplete() {
        QCOMPARE(methods().size(), std::size_t(16));
        QCOMPARE(findMethod(u"profiles"), nullptr);
        QCOMPARE(findMethod(u"status "), nullptr);
        QCOMPARE(findMethod(u""), nullptr);
        QCOMPARE(toString(Role::Admin), QLatin1StringView("admin"));
        QCOMPARE(toString(Role::Reader), QLatin1StringView("reader"));
    }

    void errorCodeNames_data() {
        QTest::addColumn<ErrorCode>("code");
        QTest::addColumn<QString>("name");
        QTest::newRow("bad_request") << ErrorCode::BadRequest << s("bad_request");
        QTest::newRow("unsupported_version")
            << ErrorCode::UnsupportedVersion << s("unsupported_version");
        QTest::newRow("unknown_method") << ErrorCode::UnknownMethod << s("unknown_method");
        QTest::newRow("invalid_params") << ErrorCode::InvalidParams << s("invalid_params");
        QTest::newRow("permission_denied") << ErrorCode::PermissionDenied << s("permission_denied");
        QTest::newRow("not_found") << ErrorCode::NotFound << s("not_found");
        QTest::newRow("conflict") << ErrorCode::Conflict << s("conflict");
        QTest::newRow("failed") << ErrorCode::Failed << s("failed");
        QTest::newRow("disconnected") << ErrorCode::Disconnected << s("disconnected");
        QTest::newRow("timeout") << ErrorCode::Timeout << s("timeout");
    }
    void errorCodeNames() {
        QFETCH(ErrorCode, code);
        QFETCH(QString, name);
        QCOMPARE(QString(toString(code)), name);
        QVERIFY(errorCodeFromString(name) == code);
    }

    void builders() {
        QCOMPARE(makeRequest(3, u"status"),
                 json(R"({"v":1,"id":3,"method":"status","params":{}})"));
        QCOMPARE(makeResult(3, json(R"({"a":1})")), json(R"({"v":1,"id":3,"result":{"a":1}})"));
        QCOMPARE(makeError(3, ErrorCode::NotFound, u"no"_qs),
                 json(R"({"v":1,"id":3,"error":{"code":"not_found","message":"no"}})"));
        QCOMPARE(
            makeError(std::nullopt, ErrorCode::BadRequest, u"x"_qs, json(R"({"k":2})")),
            json(
                R"({"v":1,"id":null,"error":{"code":"bad_request","message":"x","details":{"k":2}}})"));
        QCOMPARE(makeEvent(u"state", json(R"({"state":"connected"})")),
                 json(R"({"v":1,"event":"state","data":{"state":"connected"}})"));
        // Large ids stay exact integers on the wire.
        const QByteArray wire =
            QJsonDocument(makeResult(kMaxRequestId)).toJson(QJsonDocument::Compact);
        QVERIFY(wire.contains("9007199254740992"));
    }

    void parseIncoming_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("kind"); // reply, error, event, bad
        QTest::newRow("result") << QByteArray(R"({"v":1,"id":4,"result":{"a":1}})") << s("reply");
        QTest::newRow("error")
            << QByteArray(R"({"v":1,"id":4,"error":{"code":"conflict","message":"busy"}})")
            << s("error");
        QTest::newRow("error details")
            << QByteArray(
                   R"({"v":1,"id":4,"error":{"code":"invalid_params","message":"m","details":{"errors":[]}}})")
            << s("error");
        QTest::newRow("null id error")
            << QByteArray(R"({"v":1,"id":null,"error":{"code":"bad_request","message":"m"}})")
            << s("error");
        QTest::newRow("event") << QByteArray(R"({"v":1,"event":"peers","data":{"peers":[]}})")
                               << s("event");
        QTest::newRow("no v") << QByteArray(R"({"id":4,"result":{}})") << s("bad");
        QTest::newRow("v 2") << QByteArray(R"({"v":2,"id":4,"result":{}})") << s("bad");
        QTest::newRow("both")
            << QByteArray(R"({"v":1,"id":4,"result":{},"error":{"code":"x","message":"y"}})")
            << s("bad");
        QTest::newRow("neither") << QByteArray(R"({"v":1,"id":4})") << s("bad");
        QTest::newRow("result array") << QByteArray(R"({"v":1,"id":4,"result":[]})") << s("bad");
        QTest::newRow("result null id")
            << QByteArray(R"({"v":1,"id":null,"result":{}})") << s("bad");
        QTest::newRow("id string") << QByteArray(R"({"v":1,"id":"4","result":{}})") << s("bad");
        QTest::newRow("error no message")
            << QByteArray(R"({"v":1,"id":4,"error":{"code":"failed"}})") << s("bad");
        QTest::newRow("error details array")
            << QByteArray(R"({"v":1,"id":4,"error":{"code":"failed","message":"m","details":[]}})")
            << s("bad");
        QTest::newRow("error string") << QByteArray(R"({"v":1,"id":4,"error":"oops"})") << s("bad");
        QTest::newRow("event no data") << QByteArray(R"({"v":1,"event":"state"})") << s("bad");
        QTest::newRow("event name number")
            << QByteArray(R"({"v":1,"event":3,"data":{}})") << s("bad");
    }
    void parseIncoming() {
        QFETCH(QByteArray, text);
        QFETCH(QString, kind);
        const auto incoming = calnet::ipc::parseIncoming(json(text.constData()));
        if (kind == u"bad") {
            QVERIFY(std::holds_alternative<QString>(incoming));
        } else if (kind == u"event") {
            QCOMPARE(std::get<Event>(incoming).name, s("peers"));
        } else {
            const auto* reply = std::get_if<Reply>(&incoming);
            QVERIFY(reply);
            QCOMPARE(reply->ok(), kind == u"reply");
        }
    }

    void unknownErrorCodeReadsAsFailed() {
        const auto incoming = calnet::ipc::parseIncoming(
            json(R"({"v":1,"id":9,"error":{"code":"rate_limited","message":"slow down"}})"));
        const Reply& reply = std::get<Reply>(incoming);
        QCOMPARE(reply.id, 9);
        QCOMPARE(toString(reply.error->code), toString(ErrorCode::Failed));
        QCOMPARE(reply.error->message, s("slow down"));
    }

    void profileNames_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("simple") << s("vps") << true;
        QTest::newRow("one char") << s("a") << true;
        QTest::newRow("all classes") << s("Az09_.-") << true;
        QTest::newRow("dash first") << s("-x") << true;
        QTest::newRow("dot inside") << s("home.lan") << true;
        QTest::newRow("32 chars") << QString(32, u'n') << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("33 chars") << QString(33, u'n') << false;
        QTest::newRow("dot first") << s(".hidden") << false;
        QTest::newRow("dot dot") << s("..") << false;
        QTest::newRow("slash") << s("a/b") << false;
        QTest::newRow("backslash") << s("a\\b") << false;
        QTest::newRow("space") << s("a b") << false;
        QTest::newRow("non-ascii") << s("caf\xc3\xa9") << false;
        QTest::newRow("nul") << QString(u"a\0b"_qs) << false;
        QTest::newRow("newline") << s("a\n") << false;
    }
    void profileNames() {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QCOMPARE(isValidProfileName(name), valid);
    }

    void importParams() {
        auto ok = parseImportParams(json(R"({"config":"[Interface]\n","name":"vps"})"));
        QCOMPARE(std::get<ImportParams>(ok).name, std::optional(s("vps")));
        auto noName = parseImportParams(json(R"({"config":"x"})"));
        QCOMPARE(std::get<ImportParams>(noName).name, std::nullopt);

        const auto failsOn = [](const QJsonObject& params, const char* key) {
            const auto result = parseImportParams(params);
            const auto* error = std::get_if<ParamsError>(&result);
            return error && error->details.value(u"param"_qs).toString() == s(key) &&
                   error->toReply(5).value(u"error"_qs)[u"code"_qs] == u"invalid_params"_qs;
        };
        QVERIFY(failsOn(json(R"({})"), "config"));
        QVERIFY(failsOn(json(R"({"config":7})"), "config"));
        QVERIFY(failsOn(json(R"({"config":"x","name":"../etc"})"), "name"));
        QVERIFY(failsOn(json(R"({"config":"x","name":5})"), "name"));
        QVERIFY(failsOn(json(R"({"config":"x","nmae":"typo"})"), "nmae"));

        // 256 KiB of UTF-8 exactly passes; one more byte, or fewer characters that need
        // more bytes, does not.
        const QString atLimit(kMaxConfigBytes, u'a');
        QVERIFY(std::holds_alternative<ImportParams>(
            parseImportParams(QJsonObject{{u"config"_qs, atLimit}})));
        QVERIFY(failsOn(QJsonObject{{u"config"_qs, atLimit + u'a'}}, "config"));
        QVERIFY(failsOn(QJsonObject{{u"config"_qs, QString(kMaxConfigBytes / 2, u'\x00e9')}},
                        "config") == false);
        QVERIFY(failsOn(QJsonObject{{u"config"_qs, QString(kMaxConfigBytes / 2 + 1, u'\x00e9')}},
                        "config"));
        QVERIFY(failsOn(QJsonObject{{u"config"_qs, QString(kMaxConfigBytes / 3 + 1, u'\x4e16')}},
                        "config"));
    }

    void otherParams() {
        QCOMPARE(std::get<RenameParams>(parseRenameParams(json(R"({"name":"a","newName":"b"})")))
                     .newName,
                 s("b"));
        QVERIFY(std::holds_alternative<ParamsError>(parseRenameParams(json(R"({"name":"a"})"))));
        QVERIFY(std::holds_alternative<ParamsError>(
            parseRenameParams(json(R"({"name":"a","newName":".b"})"))));
        QCOMPARE(std::get<NameParams>(parseNameParams(json(R"({"name":"a"})"))).name, s("a"));
        QVERIFY(std::holds_alternative<ParamsError>(parseNameParams(json(R"({})"))));
        QVERIFY(std::holds_alternative<ParamsError>(parseNameParams(json(R"({"name":null})"))));
        QCOMPARE(std::get<ConnectParams>(parseConnectParams(json(R"({})"))).name, std::nullopt);
        QCOMPARE(std::get<ConnectParams>(parseConnectParams(json(R"({"name":"x"})"))).name,
                 std::optional(s("x")));
        QVERIFY(std::holds_alternative<ParamsError>(parseConnectParams(json(R"({"name":""})"))));
        QCOMPARE(parseNoParams(json(R"({})")).has_value(), false);
        QCOMPARE(parseNoParams(json(R"({"verbose":true})")).has_value(), true);
    }

    void subscribeParams_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<bool>("state");
        QTest::addColumn<bool>("peers");
        QTest::newRow("absent: both") << QByteArray("{}") << true << true << true;
        QTest::newRow("state") << QByteArray(R"({"events":["state"]})") << true << true << false;
        QTest::newRow("both") << QByteArray(R"({"events":["peers","state"]})") << true << true
                              << true;
        QTest::newRow("none") << QByteArray(R"({"events":[]})") << true << false << false;
        QTest::newRow("unknown event")
            << QByteArray(R"({"events":["logs"]})") << false << false << false;
        QTest::newRow("not array")
            << QByteArray(R"({"events":"state"})") << false << false << false;
        QTest::newRow("number inside")
            << QByteArray(R"({"events":[1]})") << false << false << false;
        QTest::newRow("unknown key")
            << QByteArray(R"({"event":["state"]})") << false << false << false;
    }
    void subscribeParams() {
        QFETCH(QByteArray, text);
        QFETCH(bool, valid);
        QFETCH(bool, state);
        QFETCH(bool, peers);
        const auto result = parseSubscribeParams(json(text.constData()));
        QCOMPARE(std::holds_alternative<SubscribeParams>(result), valid);
        if (valid) {
            QCOMPARE(std::get<SubscribeParams>(result).state, state);
            QCOMPARE(std::get<SubscribeParams>(result).peers, peers);
        }
    }

    void health_data() {
        QTest::addColumn<std::optional<qint64>>("age");
        QTest::addColumn<Health>("health");
        QTest::newRow("none") << std::optional<qint64>() << Health::Never;
        QTest::newRow("future") << std::optional<qint64>(-5) << Health::Healthy;
        QTest::newRow("0") << std::optional<qint64>(0) << Health::Healthy;
        QTest::newRow("179") << std::optional<qint64>(179) << Health::Healthy;
        QTest::newRow("180") << std::optional<qint64>(180) << Health::Stale;
        QTest::newRow("600") << std::optional<qint64>(600) << Health::Stale;
        QTest::newRow("601") << std::optional<qint64>(601) << Health::Dead;
        QTest::newRow("years") << std::optional<qint64>(qint64(1) << 40) << Health::Dead;
    }
    void health() {
        QFETCH(std::optional<qint64>, age);
        QFETCH(Health, health);
        QCOMPARE(toString(healthFor(age)), toString(health));
        QVERIFY(healthFromString(QString(toString(health))) == health);
    }

    void healthNames() {
        QCOMPARE(toString(Health::Healthy), QLatin1StringView("healthy"));
        QCOMPARE(toString(Health::Stale), QLatin1StringView("stale"));
        QCOMPARE(toString(Health::Dead), QLatin1StringView("dead"));
        QCOMPARE(toString(Health::Never), QLatin1StringView("never"));
        QVERIFY(!healthFromString(u"Healthy"));
    }
};

QTEST_APPLESS_MAIN(TestIpcProtocol)
#include "tst_ipcprotocol.moc"
