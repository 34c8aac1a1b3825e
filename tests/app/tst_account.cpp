// Signing in from the app (Account, SignInDialog) against a fake calnetd and a small provider
// on loopback: the dialog's browser sign-in end to end (the "browser" follows the authorization
// URL's redirect by hand), the ID token and its nonce handed to `up`, the refresh token in the
// (fake) keychain and never in `up`; a server without SSO and a bad address said in sentences;
// joining with an auth key; the silent renewal before the key expires (a refresh, then `up`
// with the fresh ID token), and the notification when it cannot; sign-out (logout, keychain
// entry gone); the tray's and window's sign-in entries.
#include <QAction>
#include <QClipboard>
#include <QDateTime>
#include <QGuiApplication>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

#include "app/calnet/account.h"
#include "app/calnet/appsettings.h"
#include "app/calnet/mainwindow.h"
#include "app/calnet/secretstore.h"
#include "app/calnet/session.h"
#include "app/calnet/signindialog.h"
#include "app/calnet/trayicon.h"
#include "fakehelper.h"
#include "fakeprovider.h"

using namespace calnet;
using namespace calnet::app;
using calnet::test::FakeHelper;
using calnet::test::FakeProvider;

namespace {

const QString kServer = QStringLiteral("https://calnet.example");

} // namespace

class TestAccount : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir;
    std::unique_ptr<FakeProvider> idp;
    std::unique_ptr<FakeHelper> helper;
    std::unique_ptr<HelperSession> session;
    std::unique_ptr<MemorySecretStore> secrets;
    std::unique_ptr<Account> account;
    std::unique_ptr<AppSettings> settings;
    bool sso = true;
    QString issuer; // what server.info names: idp's URL, or one where nobody listens
    QString upError;

    // What the fake helper says after `up`: a mesh profile signed in as ada, key expiring in
    // `keySeconds`.
    void signedInStatus(qint64 keySeconds) {
        helper->status =
            QJsonObject{{"state", "connected"},
                        {"profile", "calnet-calnet.example"},
                        {"interface", "calnet0"},
                        {"addresses", QJsonArray{"100.70.0.1/32"}},
                        {"error", QJsonValue()},
                        {"kind", "mesh"},
                        {"server", kServer},
                        {"user", "ada@example.com"},
                        {"keyExpiry", double(QDateTime::currentSecsSinceEpoch() + keySeconds)},
                        {"signInRequired", false}};
        helper->setState(QStringLiteral("connected"), QStringLiteral("calnet-calnet.example"));
    }

private slots:
    void init() {
        idp = std::make_unique<FakeProvider>();
        issuer = idp->url();
        helper = std::make_unique<FakeHelper>();
        sso = true;
        upError.clear();
        helper->override = [this](const ipc::Request& r) -> std::optional<QJsonObject> {
            if (r.method == ipc::kMethodServerInfo) {
                QJsonObject info{
                    {"server", r.params.value("server")},
                    {"auth", sso ? QJsonArray{"authkey", "oidc"} : QJsonArray{"authkey"}}};
                if (sso)
                    info.insert("oidc",
                                QJsonObject{{"issuer", issuer}, {"clientId", "calnet-desktop"}});
                return ipc::makeResult(r.id, info);
            }
            if (r.method == ipc::kMethodUp) {
                if (!upError.isEmpty())
                    return ipc::makeError(r.id, ipc::ErrorCode::Failed, upError);
                signedInStatus(3600);
                return ipc::makeResult(r.id, helper->status);
            }
            if (r.method == ipc::kMethodLogout)
                return ipc::makeResult(r.id, {{"profile", "calnet-calnet.example"},
                                              {"deleted", r.params.value("deleteNode").toBool()}});
            return std::nullopt;
        };
        QVERIFY(helper->start());
        session = std::make_unique<HelperSession>();
        session->start(helper->path());
        QTRY_VERIFY_WITH_TIMEOUT(session->isAvailable(), 5000);
        secrets = std::make_unique<MemorySecretStore>();
        account = std::make_unique<Account>(session.get(), secrets.get());
        settings = std::make_unique<AppSettings>(dir.filePath("calnet.ini"));
    }
    void cleanup() {
        account.reset();
        session.reset();
        helper.reset();
        idp.reset();
    }

    void renewalTimes() {
        QCOMPARE(Account::renewalTime(1000, 0), qint64(750)); // a quarter before
        QCOMPARE(Account::renewalTime(180 * 86400, 0), qint64(180 * 86400 - 600)); // 10 min
        QCOMPARE(Account::renewalTime(10, 20), qint64(20));                        // expired: now
    }

    void browserSignInThroughTheDialog() {
        SignInDialog dialog(account.get(), settings.get());
        QUrl opened;
        dialog.setBrowserOpener([&](const QUrl& url) {
            opened = url;
            // The browser: the provider signs the person in and redirects with a code.
            const QUrlQuery q(url);
            idp->challenge = q.queryItemValue("code_challenge");
            idp->nonce = q.queryItemValue("nonce");
            const QUrl redirect(q.queryItemValue("redirect_uri", QUrl::FullyDecoded));
            QTimer::singleShot(50, [redirect, state = q.queryItemValue("state")] {
                test::rawGet(quint16(redirect.port()),
                             "/callback?code=code-42&state=" + state.toLatin1(),
                             "127.0.0.1:" + QByteArray::number(redirect.port()));
            });
            return true;
        });
        QSignalSpy signedIn(&dialog, &SignInDialog::signedIn);
        dialog.show();
        dialog.serverEdit()->setText(QStringLiteral("calnet.example"));
        QTest::mouseClick(dialog.signInButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.isWaiting() || !signedIn.isEmpty(), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(signedIn.size(), 1, 10000);
        QCOMPARE(signedIn[0][0].toString(), QStringLiteral("ada@example.com"));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(opened.toString().startsWith(idp->url() + "/auth?"));
        const ipc::Request up = helper->last(ipc::kMethodUp);
        QCOMPARE(up.params.value("server").toString(), kServer); // https:// added
        QVERIFY(!up.params.value("idToken").toString().isEmpty());
        QCOMPARE(up.params.value("nonce").toString(), idp->nonce);
        QVERIFY(!up.params.contains("refreshToken")); // the helper never sees it
        QCOMPARE(secrets->entries.value(Account::keychainKey(kServer)),
                 QStringLiteral("refresh-1"));
        QCOMPARE(settings->lastServer(), kServer);
        QTRY_VERIFY(account->signedIn());
        QCOMPARE(account->accountName(), QStringLiteral("ada@example.com"));
    }

    void sentencesForWhatGoesWrong() {
        SignInDialog dialog(account.get(), settings.get());
        dialog.setBrowserOpener([](const QUrl&) { return true; });
        dialog.show();
        dialog.serverEdit()->setText(QStringLiteral("ftp://nope"));
        QTest::mouseClick(dialog.signInButton(), Qt::LeftButton);
        QVERIFY2(dialog.errorText().contains("is not a server address"),
                 qPrintable(dialog.errorText()));
        sso = false;
        dialog.serverEdit()->setText(kServer);
        QTest::mouseClick(dialog.signInButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.errorText().contains("does not offer sign-in"), 5000);
        QVERIFY(dialog.errorText().contains("auth key"));
        // The provider is down.
        sso = true;
        issuer = QStringLiteral("http://127.0.0.1:1");
        QTest::mouseClick(dialog.signInButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.errorText().contains("Cannot reach the identity provider"),
                                 20000);
        QVERIFY(!dialog.isWaiting());
    }

    void waitingShowsTheLinkAndCancels() {
        SignInDialog dialog(account.get(), settings.get());
        dialog.setBrowserOpener([](const QUrl&) { return true; }); // nobody signs in
        dialog.show();
        dialog.serverEdit()->setText(kServer);
        QTest::mouseClick(dialog.signInButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.isWaiting(), 5000);
        QVERIFY(dialog.browserUrl().toString().startsWith(idp->url()));
        QTest::mouseClick(dialog.copyLinkButton(), Qt::LeftButton);
        QCOMPARE(QGuiApplication::clipboard()->text(),
                 dialog.browserUrl().toString(QUrl::FullyEncoded));
        QTest::mouseClick(dialog.cancelButton(), Qt::LeftButton);
        QVERIFY(!dialog.isWaiting());
        QCOMPARE(helper->count(ipc::kMethodUp), 0);
    }

    void joinWithAnAuthKey() {
        SignInDialog dialog(account.get(), settings.get());
        dialog.show();
        dialog.serverEdit()->setText(kServer);
        QTest::mouseClick(dialog.authKeyButton(), Qt::LeftButton);
        QVERIFY(dialog.joinButton()->isVisible());
        QTest::mouseClick(dialog.joinButton(), Qt::LeftButton);
        QVERIFY(dialog.errorText().contains("auth key"));
        dialog.authKeyEdit()->setText(QStringLiteral("calnet-auth-abc"));
        upError =
            QStringLiteral("registration with https://calnet.example failed: invalid pre-auth key");
        QTest::mouseClick(dialog.joinButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dialog.errorText().contains("invalid pre-auth key"), 5000);
        upError.clear();
        QTest::mouseClick(dialog.joinButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(dialog.result(), int(QDialog::Accepted), 5000);
        QCOMPARE(helper->last(ipc::kMethodUp).params.value("authKey").toString(),
                 QStringLiteral("calnet-auth-abc"));
    }

    void renewsSilentlyBeforeTheKeyExpires() {
        secrets->entries.insert(Account::keychainKey(kServer), QStringLiteral("refresh-1"));
        QSignalSpy renewed(account.get(), &Account::renewed);
        QSignalSpy needsSignIn(account.get(), &Account::accountNeedsSignIn);
        signedInStatus(4); // renewal due in 3 s
        QTRY_VERIFY_WITH_TIMEOUT(account->nextRenewal() > 0, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(renewed.size(), 1, 10000);
        QCOMPARE(needsSignIn.size(), 0);
        const ipc::Request up = helper->last(ipc::kMethodUp);
        QCOMPARE(up.params.value("server").toString(), kServer);
        QVERIFY(!up.params.value("idToken").toString().isEmpty());
        QCOMPARE(idp->lastTokenForm.queryItemValue("grant_type"), QStringLiteral("refresh_token"));
    }

    void saysSoWhenItCannotRenew() {
        secrets->entries.insert(Account::keychainKey(kServer), QStringLiteral("revoked"));
        QSignalSpy needsSignIn(account.get(), &Account::accountNeedsSignIn);
        signedInStatus(3600);
        QTRY_VERIFY(account->signedIn());
        account->renewNow();
        QTRY_COMPARE_WITH_TIMEOUT(needsSignIn.size(), 1, 10000);
        QCOMPARE(needsSignIn[0][0].toString(), kServer);
        QVERIFY2(needsSignIn[0][1].toString().contains("Sign in again"),
                 qPrintable(needsSignIn[0][1].toString()));
        QCOMPARE(helper->count(ipc::kMethodUp), 0);
        // Nothing saved on this device at all.
        Account other(session.get(), secrets.get());
        QSignalSpy otherNeeds(&other, &Account::accountNeedsSignIn);
        secrets->entries.clear();
        other.renewNow();
        QTRY_COMPARE_WITH_TIMEOUT(otherNeeds.size(), 1, 5000);
        QVERIFY(otherNeeds[0][1].toString().contains("no saved sign-in"));
    }

    void signOutForgetsTheKeychainEntry() {
        secrets->entries.insert(Account::keychainKey(kServer), QStringLiteral("refresh-1"));
        signedInStatus(3600);
        QTRY_VERIFY(account->signedIn());
        bool done = false;
        QString error = QStringLiteral("unset");
        account->signOut(true, [&](const QString& e) {
            done = true;
            error = e;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done, 5000);
        QCOMPARE(error, QString());
        QCOMPARE(helper->last(ipc::kMethodLogout).params.value("deleteNode").toBool(), true);
        QCOMPARE(helper->last(ipc::kMethodLogout).params.value("name").toString(),
                 QStringLiteral("calnet-calnet.example"));
        QVERIFY(!secrets->entries.contains(Account::keychainKey(kServer)));
    }

    void trayAndWindowOfferSignIn() {
        TrayController tray(session.get());
        tray.rebuildMenu();
        QVERIFY(tray.action("signIn"));
        QVERIFY(!tray.action("signOut"));
        QSignalSpy wanted(&tray, &TrayController::signInRequested);
        tray.action("signIn")->trigger();
        QCOMPARE(wanted.size(), 1);
        signedInStatus(3600);
        QTRY_VERIFY(account->signedIn());
        tray.rebuildMenu();
        QVERIFY(tray.action("signOut"));
        QCOMPARE(tray.action("account")->text(), QStringLiteral("Signed in as ada@example.com"));
        MainWindow window(session.get(), MainWindow::Mode::Main);
        QAction* signIn = window.menuBar()->findChild<QAction*>("signIn");
        QAction* signOut = window.menuBar()->findChild<QAction*>("signOut");
        QVERIFY(signIn && signOut);
        QTRY_VERIFY(signOut->isEnabled());
        QSignalSpy outWanted(&window, &MainWindow::signOutRequested);
        signOut->trigger();
        QCOMPARE(outWanted.size(), 1);
    }
};

QTEST_MAIN(TestAccount)
#include "tst_account.moc"
