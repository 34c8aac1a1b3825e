#include "app/calnet/application.h"

#include <QApplication>
#include <QCheckBox>
#include <QMessageBox>
#include <QPushButton>
#include <QSystemTrayIcon>
#include <QTimer>

#include "app/calnet/account.h"
#include "app/calnet/appsettings.h"
#include "app/calnet/importer.h"
#include "app/calnet/mainwindow.h"
#include "app/calnet/secretstore.h"
#include "app/calnet/session.h"
#include "app/calnet/settingsdialog.h"
#include "app/calnet/signindialog.h"
#include "app/calnet/trayicon.h"
#include "app/platform/notifier.h"

namespace calnet::app {

Application::Application(const Options& options, AppSettings* settings, QObject* parent)
    : QObject(parent), options_(options), settings_(settings), session_(new HelperSession(this)),
      notifier_(new Notifier(settings, this)) {
    importer_ = new Importer(session_, nullptr);
    importer_->setParent(this);
    dropFilter_ = new DropImportFilter(importer_, this);

    connect(session_, &HelperSession::tunnelConnected, this, [this](const QString& profile) {
        notify(int(Notifier::Kind::Connected), tr("Calnet connected"),
               tr("Connected to %1.").arg(profile));
    });
    connect(session_, &HelperSession::tunnelDisconnected, this, [this](const QString& profile) {
        notify(int(Notifier::Kind::Disconnected), tr("Calnet disconnected"),
               tr("Disconnected from %1.").arg(profile));
    });
    connect(session_, &HelperSession::tunnelFailed, this,
            [this](const QString& profile, const QString& message) {
                notify(int(Notifier::Kind::Failed), tr("Calnet connection failed"),
                       profile.isEmpty() ? message : tr("%1: %2").arg(profile, message));
            });
    connect(session_, &HelperSession::actionFailed, this,
            [this](const QString& action, const QString& message) {
                notify(int(Notifier::Kind::Failed), action, message);
            });
    // An imported profile becomes the one Connect uses.
    connect(importer_, &Importer::imported, this, &Application::rememberProfile);
    account_ = new Account(session_,
                           options.secrets ? options.secrets : new KeychainSecretStore(this), this);
    connect(account_, &Account::accountNeedsSignIn, this,
            [this](const QString& server, const QString& why) {
                notify(int(Notifier::Kind::Failed), tr("Sign in again to stay connected"),
                       tr("Your sign-in to %1 could not be renewed: %2").arg(server, why));
            });
}

Application::~Application() {
    delete window_;
    delete settingsDialog_;
}

MainWindow* Application::window() const {
    return window_;
}

void Application::start() {
    session_->start(options_.socketPath);
    if (!options_.noTray && QSystemTrayIcon::isSystemTrayAvailable()) {
        createTray();
        if (options_.showWindow)
            showWindow();
        return;
    }
    // No tray host (stock GNOME, or --no-tray): the main window is the app. Quitting happens
    // when it closes. A tray host that appears later (an extension enabled, a panel restarted)
    // gets the icon too.
    qApp->setQuitOnLastWindowClosed(true);
    // Started at login it comes up minimised: visible in the task bar, not in the way.
    if (options_.autostart && !options_.showWindow)
        ensureWindow()->showMinimized();
    else
        showWindow();
    if (!options_.noTray) {
        trayWatch_ = new QTimer(this);
        trayWatch_->setInterval(3000);
        connect(trayWatch_, &QTimer::timeout, this, [this] {
            if (!QSystemTrayIcon::isSystemTrayAvailable())
                return;
            trayWatch_->stop();
            createTray();
        });
        trayWatch_->start();
    }
}

void Application::createTray() {
    tray_ = new TrayController(session_, this);
    tray_->setSelectedProfile(settings_->lastProfile());
    connect(tray_, &TrayController::peerBrowserRequested, this, &Application::showWindow);
    connect(tray_, &TrayController::importRequested, this, &Application::openImport);
    connect(tray_, &TrayController::signInRequested, this, &Application::openSignIn);
    connect(tray_, &TrayController::signOutRequested, this, &Application::signOut);
    connect(tray_, &TrayController::settingsRequested, this, &Application::openSettings);
    connect(tray_, &TrayController::aboutRequested, this, &Application::showAbout);
    connect(tray_, &TrayController::quitRequested, qApp, &QCoreApplication::quit);
    connect(tray_, &TrayController::profileSelected, this, &Application::rememberProfile);
    notifier_->setTray(tray_->trayIcon());
    tray_->show();
    if (!window_ || window_->mode() == MainWindow::Mode::PeerBrowser)
        qApp->setQuitOnLastWindowClosed(false);
}

MainWindow* Application::ensureWindow() {
    if (window_)
        return window_;
    const auto mode = tray_ ? MainWindow::Mode::PeerBrowser : MainWindow::Mode::Main;
    window_ = new MainWindow(session_, mode);
    window_->setSelectedProfile(settings_->lastProfile());
    window_->setAcceptDrops(true);
    window_->installEventFilter(dropFilter_);
    connect(window_, &MainWindow::importRequested, this, &Application::openImport);
    connect(window_, &MainWindow::signInRequested, this, &Application::openSignIn);
    connect(window_, &MainWindow::signOutRequested, this, &Application::signOut);
    connect(window_, &MainWindow::settingsRequested, this, &Application::openSettings);
    connect(window_, &MainWindow::aboutRequested, this, &Application::showAbout);
    connect(window_, &MainWindow::quitRequested, qApp, &QCoreApplication::quit);
    connect(window_, &MainWindow::profileSelected, this, &Application::rememberProfile);
    return window_;
}

void Application::showWindow() {
    MainWindow* w = ensureWindow();
    w->show();
    w->raise();
    w->activateWindow();
}

void Application::openImport() {
    importer_->setDialogParent(window_ && window_->isVisible() ? window_.data() : nullptr);
    importer_->chooseFiles();
}

SignInDialog* Application::signInDialog() const {
    return signInDialog_;
}

void Application::openSignIn() {
    if (!signInDialog_) {
        signInDialog_ = new SignInDialog(
            account_, settings_, window_ && window_->isVisible() ? window_.data() : nullptr);
        signInDialog_->setAttribute(Qt::WA_DeleteOnClose);
    }
    signInDialog_->show();
    signInDialog_->raise();
    signInDialog_->activateWindow();
}

void Application::signOut() {
    if (!account_->signedIn())
        return;
    auto* box = new QMessageBox(QMessageBox::Question, tr("Sign out of Calnet?"),
                                tr("Sign out of %1 as %2? The tunnel goes down and this device "
                                   "forgets its place in the network.")
                                    .arg(account_->server(), account_->accountName()),
                                QMessageBox::Cancel,
                                window_ && window_->isVisible() ? window_.data() : nullptr);
    QPushButton* out = box->addButton(tr("Sign out"), QMessageBox::AcceptRole);
    auto* remove = new QCheckBox(tr("Also remove this device from the network"), box);
    box->setCheckBox(remove);
    box->setDefaultButton(out);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, out, remove](QAbstractButton* b) {
        if (b != out)
            return;
        account_->signOut(remove->isChecked(), [this](const QString& error) {
            if (!error.isEmpty())
                notify(int(Notifier::Kind::Failed), tr("Sign-out incomplete"), error);
        });
    });
    box->open();
}

void Application::openSettings() {
    if (!settingsDialog_) {
        settingsDialog_ = new SettingsDialog(settings_, nullptr);
        settingsDialog_->setAttribute(Qt::WA_DeleteOnClose);
    }
    settingsDialog_->show();
    settingsDialog_->raise();
    settingsDialog_->activateWindow();
}

void Application::showAbout() {
    auto* box = new QMessageBox(
        QMessageBox::NoIcon, tr("About Calnet"),
        tr("<h3>Calnet %1</h3><p>A self-hostable mesh VPN built on "
           "WireGuard.</p><p>Service socket: %2</p>")
            .arg(QCoreApplication::applicationVersion(), session_->socketPath().toHtmlEscaped()),
        QMessageBox::Close);
    box->setIconPixmap(QIcon(QStringLiteral(":/calnet/icons/calnet.svg")).pixmap(64, 64));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void Application::handleSecondLaunch(const QStringList& arguments) {
    Q_UNUSED(arguments);
    showWindow();
}

void Application::notify(int kind, const QString& title, const QString& body) {
    emit notificationRequested(kind, title, body);
    notifier_->notify(Notifier::Kind(kind), title, body);
}

void Application::rememberProfile(const QString& name) {
    settings_->setLastProfile(name);
    if (tray_)
        tray_->setSelectedProfile(name);
    if (window_)
        window_->setSelectedProfile(name);
}

} // namespace calnet::app
