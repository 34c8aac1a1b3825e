// calnet-server with --tls-cert/--tls-key: the API over https and the map stream over wss,
// with a certificate made here by openssl; a client that does not trust it, and a plain-HTTP
// client, get nothing.
#include <QEventLoop>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QWebSocket>

#include "server/server.h"
#include "servertest.h"

using namespace calnet::server;
using namespace servertest;

namespace {

struct Reply {
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    int status = 0;
    QByteArray body;
};

Reply fetch(const QUrl& url, const std::optional<QSslConfiguration>& tls,
            const QByteArray& verb = "GET", const QByteArray& body = {}) {
    QNetworkAccessManager nam;
    QNetworkRequest req(url);
    req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    req.setTransferTimeout(10000);
    if (tls)
        req.setSslConfiguration(*tls);
    QNetworkReply* reply = nam.sendCustomRequest(req, verb, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Reply r{reply->error(), reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
            reply->readAll()};
    delete reply;
    return r;
}

} // namespace

class TestTls : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_cert = m_dir.filePath(QStringLiteral("cert.pem"));
        m_key = m_dir.filePath(QStringLiteral("key.pem"));
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                       QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                       QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                       QStringLiteral("-keyout"), m_key, QStringLiteral("-out"), m_cert,
                       QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"),
                       QStringLiteral("/CN=127.0.0.1"), QStringLiteral("-addext"),
                       QStringLiteral("subjectAltName=IP:127.0.0.1")});
        QVERIFY2(openssl.waitForFinished(30000) && openssl.exitCode() == 0,
                 qPrintable(QStringLiteral("openssl (apt-get install openssl): ") +
                            QString::fromLocal8Bit(openssl.readAllStandardError())));

        ServerConfig config =
            testConfig(QStringLiteral("sqlite:") + m_dir.filePath(QStringLiteral("db")));
        config.tlsCertFile = m_cert;
        config.tlsKeyFile = m_key;
        m_server = std::make_unique<Server>(config);
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));

        QFile pem(m_cert);
        QVERIFY(pem.open(QIODevice::ReadOnly));
        const auto certs = QSslCertificate::fromData(pem.readAll(), QSsl::Pem);
        QCOMPARE(certs.size(), 1);
        m_trusting = QSslConfiguration::defaultConfiguration();
        m_trusting.setCaCertificates(certs);
    }

    void apiOverHttps() {
        const Reply r =
            fetch(url(QStringLiteral("https"), QStringLiteral("/api/v1/info")), m_trusting);
        QCOMPARE(r.error, QNetworkReply::NoError);
        QCOMPARE(r.status, 200);
        QVERIFY(QJsonDocument::fromJson(r.body).object().contains(QStringLiteral("prefixes")));
    }

    void untrustedCertificateIsRefused() {
        const Reply r = fetch(url(QStringLiteral("https"), QStringLiteral("/api/v1/info")),
                              QSslConfiguration::defaultConfiguration());
        QCOMPARE(r.error, QNetworkReply::SslHandshakeFailedError);
        QCOMPARE(r.status, 0);
    }

    void plainHttpGetsNoAnswer() {
        const Reply r =
            fetch(url(QStringLiteral("http"), QStringLiteral("/api/v1/info")), std::nullopt);
        QVERIFY(r.error != QNetworkReply::NoError);
        QVERIFY(r.status != 200);
    }

    void registerAndMapStreamOverTls() {
        const Reply key =
            fetch(url(QStringLiteral("https"), QStringLiteral("/api/v1/admin/authkeys")),
                  m_trusting, "POST", QByteArray("{}"));
        // No bearer token on this request: the admin API refuses over TLS as over HTTP.
        QCOMPARE(key.status, 401);

        QNetworkAccessManager nam;
        QNetworkRequest req(url(QStringLiteral("https"), QStringLiteral("/api/v1/admin/authkeys")));
        req.setSslConfiguration(m_trusting);
        req.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        req.setRawHeader("Authorization", "Bearer " + kAdminToken.toUtf8());
        QNetworkReply* reply = nam.post(req, QByteArray("{}"));
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        const QString authKey = QJsonDocument::fromJson(reply->readAll())
                                    .object()
                                    .value(QStringLiteral("key"))
                                    .toString();
        delete reply;
        QVERIFY(authKey.startsWith(QStringLiteral("calnet-auth-")));

        const Reply registered = fetch(
            url(QStringLiteral("https"), QStringLiteral("/api/v1/register")), m_trusting, "POST",
            QJsonDocument(registerBody(randomKey(), QStringLiteral("tls-node"), authKey)).toJson());
        QCOMPARE(registered.status, 200);
        const QJsonObject node = QJsonDocument::fromJson(registered.body).object();

        QWebSocket socket;
        socket.setSslConfiguration(m_trusting);
        QJsonObject map;
        QObject::connect(&socket, &QWebSocket::connected, &socket, [&] {
            socket.sendTextMessage(QString::fromUtf8(
                QJsonDocument(QJsonObject{{"type", "hello"},
                                          {"nodeId", node.value(QStringLiteral("nodeId"))},
                                          {"credential", node.value(QStringLiteral("credential"))}})
                    .toJson(QJsonDocument::Compact)));
        });
        QObject::connect(
            &socket, &QWebSocket::textMessageReceived, &socket,
            [&](const QString& text) { map = QJsonDocument::fromJson(text.toUtf8()).object(); });
        socket.open(url(QStringLiteral("wss"), QStringLiteral("/api/v1/map")));
        QTRY_VERIFY_WITH_TIMEOUT(!map.isEmpty(), 10000);
        QCOMPARE(map.value(QStringLiteral("type")).toString(), QStringLiteral("map"));
        QCOMPARE(map.value(QStringLiteral("self")).toObject().value(QStringLiteral("hostname")),
                 QJsonValue(QStringLiteral("tls-node")));
        socket.close();
    }

    void cleanupTestCase() { m_server.reset(); }

private:
    QUrl url(const QString& scheme, const QString& path) const {
        return QUrl(
            QStringLiteral("%1://127.0.0.1:%2%3").arg(scheme).arg(m_server->port()).arg(path));
    }

    QTemporaryDir m_dir;
    QString m_cert;
    QString m_key;
    std::unique_ptr<Server> m_server;
    QSslConfiguration m_trusting;
};

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
