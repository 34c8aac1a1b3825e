// The "Sign in to a Calnet network" dialog: the server URL (remembered), then either the
// browser sign-in at the network's identity provider or an auth key. While the browser is out,
// it shows "Waiting for the browser…" with Cancel and Copy link (for a browser on another
// machine or profile). Errors are shown as whole sentences on the first page.
#pragma once

#include <QDialog>
#include <QPointer>

class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;

namespace calnet::signin {
class BrowserSignIn;
}

namespace calnet::app {

class Account;
class AppSettings;

class SignInDialog : public QDialog {
    Q_OBJECT
public:
    SignInDialog(Account* account, AppSettings* settings, QWidget* parent = nullptr);
    ~SignInDialog() override;

    // For tests and screenshots.
    [[nodiscard]] QLineEdit* serverEdit() const { return server_; }
    [[nodiscard]] QLineEdit* authKeyEdit() const { return authKey_; }
    [[nodiscard]] QPushButton* signInButton() const { return signIn_; }
    [[nodiscard]] QPushButton* joinButton() const { return join_; }
    [[nodiscard]] QPushButton* authKeyButton() const { return showAuthKey_; }
    [[nodiscard]] QPushButton* copyLinkButton() const { return copyLink_; }
    [[nodiscard]] QPushButton* cancelButton() const { return cancel_; }
    [[nodiscard]] QString errorText() const;
    [[nodiscard]] bool isWaiting() const;
    [[nodiscard]] QUrl browserUrl() const;
    // How the browser is opened ($BROWSER, else QDesktopServices); tests replace it.
    void setBrowserOpener(std::function<bool(const QUrl&)> opener) { opener_ = std::move(opener); }
    static bool openInBrowser(const QUrl& url);

signals:
    void signedIn(const QString& account);

private:
    void startSignIn();
    void startJoin();
    void showError(const QString& message);
    void showForm();
    void setBusy(bool busy);
    QString normalisedServer();

    Account* account_;
    AppSettings* settings_;
    QStackedWidget* pages_;
    QLineEdit* server_;
    QLineEdit* authKey_;
    QLabel* error_;
    QLabel* waiting_;
    QLabel* link_;
    QPushButton* signIn_;
    QPushButton* showAuthKey_;
    QPushButton* join_;
    QPushButton* copyLink_;
    QPushButton* cancel_;
    QPointer<signin::BrowserSignIn> flow_;
    std::function<bool(const QUrl&)> opener_ = &SignInDialog::openInBrowser;
};

} // namespace calnet::app
