#include "app/calnetctl/login.h"

#include <QDateTime>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>

#include <cstdio>

#include "app/calnetctl/format.h"
#include "app/signin/signinflow.h"
#include "helper/ipc/client.h"

namespace calnet::ctl {

namespace {

constexpr int kUpTimeoutMs = 60'000;
constexpr int kServerInfoTimeoutMs = 20'000;
constexpr int kLoginTimeoutMs = 16 * 60 * 1000; // the longest a device code lives, and then some

void out(const QString& text) {
    std::fputs(text.toLocal8Bit().constData(), stdout);
    std::fflush(stdout);
}

int failWith(const QString& message, int code = ExitFailed) {
    std::fprintf(stderr, "calnetctl: %s\n", qPrintable(message));
    return code;
}

// One helper call; prints its error and returns the exit code, or nullopt and the result.
std::optional<QJsonObject> call(const QString& socketPath, const QString& method,
                                const QJsonObject& params, int timeoutMs, int* exitCode) {
    QString error;
    const auto reply = ipc::IpcClient::callBlocking(socketPath, method, params, timeoutMs, &error);
    if (!reply) {
        *exitCode =
            failWith(QStringLiteral("cannot reach calnetd on %1: %2").arg(socketPath, error),
                     ExitUnavailable);
        return std::nullopt;
    }
    if (!reply->ok()) {
        const QString code = ipc::toString(reply->error->code);
        *exitCode =
            failWith(QStringLiteral("%1: %2").arg(code, reply->error->message), exitCodeFor(code));
        return std::nullopt;
    }
    return reply->result;
}

} // namespace

int runLogin(const LoginOptions& o) {
    int exitCode = ExitOk;
    const auto info = call(o.socketPath, QStringLiteral("server.info"), {{"server", o.server}},
                           kServerInfoTimeoutMs, &exitCode);
    if (!info)
        return exitCode;
    const std::optional<signin::OidcSettings> settings =
        signin::OidcSettings::fromServerInfo(*info);
    if (!settings)
        return failWith(QStringLiteral("%1 does not offer sign-in with an identity provider; join "
                                       "it with: calnetctl up --server %1 --auth-key KEY")
                            .arg(info->value("server").toString(o.server)));

    QEventLoop loop;
    std::optional<signin::SignInResult> result;
    QString failure;
    auto finish = [&](const signin::SignInResult& r) {
        result = r;
        loop.quit();
    };
    auto fail = [&](const QString& message) {
        failure = message;
        loop.quit();
    };
    signin::BrowserSignIn browser(*settings);
    QObject::connect(&browser, &signin::BrowserSignIn::browserUrlReady, [&](const QUrl& url) {
        out(QStringLiteral("To sign in, open this link in a browser on this machine:\n\n  %1\n\n"
                           "Waiting for the browser (5 minutes)...\n")
                .arg(url.toString(QUrl::FullyEncoded)));
    });
    QObject::connect(&browser, &signin::BrowserSignIn::finished, finish);
    QObject::connect(&browser, &signin::BrowserSignIn::failed, fail);
    signin::DeviceSignIn device(*settings);
    QObject::connect(
        &device, &signin::DeviceSignIn::userCodeReady,
        [&](const QUrl& uri, const QString& code, const QUrl& complete) {
            QString text = QStringLiteral("To sign in, open %1\nand enter the code: "
                                          "%2\n")
                               .arg(uri.toString(QUrl::FullyEncoded), code);
            if (!complete.isEmpty())
                text += QStringLiteral("(or open %1)\n").arg(complete.toString(QUrl::FullyEncoded));
            out(text + QStringLiteral("Waiting for the sign-in...\n"));
        });
    QObject::connect(&device, &signin::DeviceSignIn::unsupported, [&] { browser.start(false); });
    QObject::connect(&device, &signin::DeviceSignIn::finished, finish);
    QObject::connect(&device, &signin::DeviceSignIn::failed, fail);
    QTimer::singleShot(kLoginTimeoutMs, &loop, [&] {
        fail(QStringLiteral("the sign-in took too long; run calnetctl login again"));
    });
    if (o.browser)
        browser.start(false);
    else
        device.start();
    loop.exec();
    browser.cancel();
    device.cancel();
    if (!result)
        return failWith(failure);

    QJsonObject params{{"server", o.server}, {"idToken", result->idToken}};
    if (!result->nonce.isEmpty())
        params.insert("nonce", result->nonce);
    if (o.hostname)
        params.insert("hostname", *o.hostname);
    if (o.name)
        params.insert("name", *o.name);
    const auto status = call(o.socketPath, QStringLiteral("up"), params, kUpTimeoutMs, &exitCode);
    if (!status)
        return exitCode;
    if (o.json) {
        out(QString::fromUtf8(QJsonDocument(*status).toJson(QJsonDocument::Indented)));
        return ExitOk;
    }
    out(QStringLiteral("Signed in as %1.\n").arg(result->account) +
        formatStatus(*status, QDateTime::currentSecsSinceEpoch()));
    return ExitOk;
}

} // namespace calnet::ctl
