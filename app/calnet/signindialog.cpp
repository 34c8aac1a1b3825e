#include "app/calnet/signindialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "app/calnet/account.h"
#include "app/calnet/appsettings.h"
#include "app/signin/signinflow.h"
#include "helper/ipc/protocol.h"

namespace calnet::app {

SignInDialog::SignInDialog(Account* account, AppSettings* settings, QWidget* parent)
    : QDialog(parent), account_(account), settings_(settings) {
    setWindowTitle(tr("Sign in to a Calnet network"));
    setMinimumWidth(460);
    auto* layout = new QVBoxLayout(this);
    layout->setSizeConstraint(QLayout::SetMinimumSize); // long translations grow the dialog
    pages_ = new QStackedWidget(this);
    layout->addWidget(pages_);

    // Page 0: the server, and how to join.
    auto* form = new QWidget(pages_);
    auto* formLayout = new QVBoxLayout(form);
    auto* intro = new QLabel(tr("Enter the address of your organisation's Calnet server. You "
                                "sign in with your company account in your browser."),
                             form);
    intro->setWordWrap(true);
    formLayout->addWidget(intro);
    auto* fields = new QFormLayout;
    server_ = new QLineEdit(settings_->lastServer(), form);
    server_->setPlaceholderText(QStringLiteral("https://calnet.example.com"));
    server_->setAccessibleName(tr("Server address"));
    fields->addRow(tr("&Server:"), server_);
    authKey_ = new QLineEdit(form);
    authKey_->setEchoMode(QLineEdit::Password);
    authKey_->setAccessibleName(tr("Auth key"));
    authKey_->setPlaceholderText(QStringLiteral("calnet-auth-…"));
    fields->addRow(tr("&Auth key:"), authKey_);
    formLayout->addLayout(fields);
    fields->setRowVisible(authKey_, false);
    error_ = new QLabel(form);
    error_->setWordWrap(true);
    error_->setStyleSheet(QStringLiteral("color: palette(highlight)"));
    error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    error_->hide();
    formLayout->addWidget(error_);
    auto* buttons = new QDialogButtonBox(form);
    signIn_ = buttons->addButton(tr("Sign &in"), QDialogButtonBox::AcceptRole);
    signIn_->setDefault(true);
    showAuthKey_ = buttons->addButton(tr("Join with an auth &key…"), QDialogButtonBox::ActionRole);
    join_ = buttons->addButton(tr("&Join"), QDialogButtonBox::ActionRole);
    join_->hide();
    buttons->addButton(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(signIn_, &QPushButton::clicked, this, &SignInDialog::startSignIn);
    connect(showAuthKey_, &QPushButton::clicked, this, [this, fields] {
        fields->setRowVisible(authKey_, true);
        showAuthKey_->hide();
        join_->show();
        join_->setDefault(true);
        authKey_->setFocus();
    });
    connect(join_, &QPushButton::clicked, this, &SignInDialog::startJoin);
    formLayout->addStretch();
    formLayout->addWidget(buttons);
    pages_->addWidget(form);

    // Page 1: waiting for the browser.
    auto* wait = new QWidget(pages_);
    auto* waitLayout = new QVBoxLayout(wait);
    waiting_ = new QLabel(tr("Waiting for the browser…"), wait);
    QFont big = waiting_->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    waiting_->setFont(big);
    waitLayout->addWidget(waiting_);
    auto* hint = new QLabel(tr("Sign in on the page that opened in your browser. If no page "
                               "opened, copy the link and open it in a browser."),
                            wait);
    hint->setWordWrap(true);
    waitLayout->addWidget(hint);
    link_ = new QLabel(wait);
    link_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    link_->setStyleSheet(QStringLiteral("color: palette(mid)"));
    waitLayout->addWidget(link_);
    waitLayout->addStretch();
    auto* waitButtons = new QDialogButtonBox(wait);
    copyLink_ = waitButtons->addButton(tr("&Copy link"), QDialogButtonBox::ActionRole);
    cancel_ = waitButtons->addButton(QDialogButtonBox::Cancel);
    connect(copyLink_, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(browserUrl().toString(QUrl::FullyEncoded));
        copyLink_->setText(tr("Copied"));
    });
    connect(cancel_, &QPushButton::clicked, this, [this] {
        if (flow_) {
            flow_->cancel();
            flow_->deleteLater();
        }
        showForm();
    });
    waitLayout->addWidget(waitButtons);
    pages_->addWidget(wait);
}

SignInDialog::~SignInDialog() {
    if (flow_)
        flow_->cancel();
}

bool SignInDialog::openInBrowser(const QUrl& url) {
    // $BROWSER first (the convention of xdg-utils and Python's webbrowser): a command, the URL
    // its last argument.
    const QString browser = qEnvironmentVariable("BROWSER");
    if (!browser.isEmpty()) {
        QStringList command = QProcess::splitCommand(browser.section(QLatin1Char(':'), 0, 0));
        if (!command.isEmpty()) {
            const QString program = command.takeFirst();
            return QProcess::startDetached(program, command << url.toString(QUrl::FullyEncoded));
        }
    }
    return QDesktopServices::openUrl(url);
}

QString SignInDialog::errorText() const {
    return error_->isHidden() ? QString() : error_->text();
}

bool SignInDialog::isWaiting() const {
    return pages_->currentIndex() == 1;
}

QUrl SignInDialog::browserUrl() const {
    return flow_ ? flow_->url() : QUrl();
}

QString SignInDialog::normalisedServer() {
    QString text = server_->text().trimmed();
    if (!text.isEmpty() && !text.contains(QStringLiteral("://")))
        text.prepend(QStringLiteral("https://"));
    const std::optional<QString> url = ipc::normaliseServerUrl(text);
    if (!url) {
        showError(text.isEmpty() ? tr("Enter the address of the Calnet server.")
                                 : tr("%1 is not a server address. It looks like "
                                      "https://calnet.example.com.")
                                       .arg(server_->text().trimmed()));
        return {};
    }
    settings_->setLastServer(*url);
    return *url;
}

void SignInDialog::showError(const QString& message) {
    showForm();
    error_->setText(message);
    error_->show();
}

void SignInDialog::showForm() {
    pages_->setCurrentIndex(0);
    setBusy(false);
}

void SignInDialog::setBusy(bool busy) {
    signIn_->setEnabled(!busy);
    join_->setEnabled(!busy);
    server_->setEnabled(!busy);
    authKey_->setEnabled(!busy);
}

void SignInDialog::startSignIn() {
    error_->hide();
    const QString server = normalisedServer();
    if (server.isEmpty())
        return;
    setBusy(true);
    account_->serverInfo(server, [this, server](const std::optional<signin::OidcSettings>& oidc,
                                                const QString& error) {
        if (!oidc) {
            showError(error);
            return;
        }
        if (flow_)
            flow_->deleteLater();
        flow_ = new signin::BrowserSignIn(*oidc, this);
        connect(flow_, &signin::BrowserSignIn::browserUrlReady, this, [this](const QUrl& url) {
            // One line, the middle elided: the whole link goes to the clipboard (Copy link).
            const QString text = url.toString(QUrl::FullyEncoded);
            link_->setText(link_->fontMetrics().elidedText(text, Qt::ElideMiddle, 420));
            link_->setToolTip(text);
            copyLink_->setText(tr("&Copy link"));
            pages_->setCurrentIndex(1);
            if (!opener_(url)) {
                link_->setWordWrap(true);
                link_->setText(tr("No browser could be opened. Copy the link and open it in "
                                  "a browser:") +
                               QLatin1Char('\n') + link_->text());
            }
        });
        connect(flow_, &signin::BrowserSignIn::failed, this, &SignInDialog::showError);
        connect(flow_, &signin::BrowserSignIn::finished, this,
                [this, server](const signin::SignInResult& result) {
                    waiting_->setText(tr("Joining the network…"));
                    account_->completeSignIn(server, result,
                                             [this, account = result.account](const QString& e) {
                                                 if (!e.isEmpty()) {
                                                     showError(e);
                                                     return;
                                                 }
                                                 emit signedIn(account);
                                                 accept();
                                             });
                });
        flow_->start(true);
    });
}

void SignInDialog::startJoin() {
    error_->hide();
    const QString server = normalisedServer();
    if (server.isEmpty())
        return;
    const QString key = authKey_->text().trimmed();
    if (key.isEmpty()) {
        showError(tr("Enter the auth key your administrator gave you."));
        return;
    }
    setBusy(true);
    account_->joinWithAuthKey(server, key, [this](const QString& e) {
        if (!e.isEmpty()) {
            showError(e);
            return;
        }
        emit signedIn({});
        accept();
    });
}

} // namespace calnet::app
