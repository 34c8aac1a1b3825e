#include "app/calnet/mainwindow.h"

#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QIcon>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "app/calnet/peerbrowser.h"
#include "app/calnet/session.h"
#include "app/calnet/trayicon.h"

namespace calnet::app {

MainWindow::MainWindow(HelperSession* session, Mode mode, QWidget* parent)
    : QMainWindow(parent), session_(session), mode_(mode) {
    // The platform appends the application display name: "Peers — Calnet".
    setWindowTitle(mode == Mode::Main ? tr("Calnet") : tr("Peers"));
    setWindowIcon(QIcon(QStringLiteral(":/calnet/icons/calnet.svg")));
    setObjectName(mode == Mode::Main ? QStringLiteral("mainWindow")
                                     : QStringLiteral("peerBrowserWindow"));

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);

    banner_ = new QLabel(central);
    banner_->setObjectName(QStringLiteral("banner"));
    banner_->setWordWrap(true);
    banner_->setAutoFillBackground(true);
    banner_->setMargin(6);
    banner_->setAccessibleName(tr("Service status"));
    layout->addWidget(banner_);

    auto* header = new QHBoxLayout;
    stateIcon_ = new QLabel(central);
    stateIcon_->setFixedSize(40, 40);
    stateIcon_->setAccessibleName(tr("Connection state icon"));
    header->addWidget(stateIcon_);
    auto* texts = new QVBoxLayout;
    stateText_ = new QLabel(central);
    QFont bold = stateText_->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.2);
    stateText_->setFont(bold);
    stateText_->setAccessibleName(tr("Connection state"));
    detailText_ = new QLabel(central);
    detailText_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    detailText_->setWordWrap(true);
    detailText_->setAccessibleName(tr("Connection details"));
    texts->addWidget(stateText_);
    texts->addWidget(detailText_);
    header->addLayout(texts, 1);

    copyAddress_ = new QToolButton(central);
    copyAddress_->setText(tr("Copy &address"));
    copyAddress_->setAccessibleName(tr("Copy this device's tunnel address"));
    connect(copyAddress_, &QToolButton::clicked, this, [this] {
        if (!session_->status().addresses.isEmpty())
            QGuiApplication::clipboard()->setText(
                addressWithoutHostPrefix(session_->status().addresses.front()));
        statusBar()->showMessage(tr("Address copied"), 3000);
    });
    header->addWidget(copyAddress_);

    auto* profileLabel = new QLabel(tr("&Profile:"), central);
    profileBox_ = new QComboBox(central);
    profileBox_->setModel(session_->profileModel());
    profileBox_->setAccessibleName(tr("Profile"));
    profileBox_->setMinimumContentsLength(12);
    profileLabel->setBuddy(profileBox_);
    // Choosing only selects: arrow keys and the mouse wheel also "activate" a combo box, and
    // they must not move a live tunnel. Connect, or Switch while connected, acts on the choice.
    connect(profileBox_, &QComboBox::activated, this, [this](int row) {
        const QString name = profileBox_->itemText(row);
        selectedProfile_ = name;
        emit profileSelected(name);
        refresh();
    });
    header->addWidget(profileLabel);
    header->addWidget(profileBox_);

    connectButton_ = new QPushButton(central);
    connectButton_->setAccessibleName(tr("Connect or disconnect"));
    connectButton_->setMinimumWidth(120);
    connect(connectButton_, &QPushButton::clicked, this, &MainWindow::onConnectClicked);
    switchButton_ = new QPushButton(central);
    switchButton_->setAccessibleName(tr("Move the tunnel to the chosen profile"));
    connect(switchButton_, &QPushButton::clicked, this,
            [this] { session_->connectProfile(selectedProfile_); });
    header->addWidget(switchButton_);
    header->addWidget(connectButton_);
    layout->addLayout(header);

    browser_ = new PeerBrowser(session_->peerModel(), central);
    layout->addWidget(browser_, 1);
    setCentralWidget(central);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Si&gn in to a Calnet network…"), this, &MainWindow::signInRequested)
        ->setObjectName(QStringLiteral("signIn"));
    QAction* signOut = file->addAction(tr("Sign &out…"), this, &MainWindow::signOutRequested);
    signOut->setObjectName(QStringLiteral("signOut"));
    auto signedIn = [this, signOut] {
        signOut->setEnabled(session_->status().mesh && !session_->status().user.isEmpty());
    };
    signedIn();
    connect(session_, &HelperSession::statusChanged, signOut, signedIn);
    QAction* import = file->addAction(tr("&Import tunnel…"), this, &MainWindow::importRequested);
    import->setShortcut(QKeySequence::Open);
    file->addAction(tr("&Settings…"), this, &MainWindow::settingsRequested)
        ->setShortcut(QKeySequence::Preferences);
    file->addSeparator();
    if (mode == Mode::PeerBrowser)
        file->addAction(tr("&Close window"), this, &QWidget::close)
            ->setShortcut(QKeySequence::Close);
    file->addAction(tr("&Quit Calnet"), this, &MainWindow::quitRequested)
        ->setShortcut(QKeySequence::Quit);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Calnet"), this, &MainWindow::aboutRequested);

    connect(session_, &HelperSession::statusChanged, this, &MainWindow::refresh);
    connect(session_, &HelperSession::trayStateChanged, this, &MainWindow::refresh);
    connect(session_, &HelperSession::availabilityChanged, this, &MainWindow::refresh);
    connect(session_, &HelperSession::profilesChanged, this, &MainWindow::refresh);
    connect(session_, &HelperSession::busyChanged, this, &MainWindow::refresh);
    connect(session_, &HelperSession::peersKnownChanged, this, &MainWindow::refresh);
    countdown_ = new QTimer(this);
    countdown_->setInterval(1000);
    connect(countdown_, &QTimer::timeout, this, &MainWindow::updateBanner);
    connect(session_, &HelperSession::reconnecting, this, [this](int delayMs) {
        retryAt_ = QDeadlineTimer(delayMs);
        countdown_->start();
        refresh();
    });
    connect(session_, &HelperSession::actionFailed, this,
            [this](const QString& action, const QString& message) {
                statusBar()->showMessage(tr("%1: %2").arg(action, message), 10000);
            });
    resize(900, 560);
    refresh();
}

void MainWindow::setSelectedProfile(const QString& name) {
    selectedProfile_ = name;
    refresh();
}

QString MainWindow::selectedProfile() const {
    return selectedProfile_;
}

void MainWindow::onConnectClicked() {
    if (session_->status().isUp())
        session_->disconnectTunnel();
    else
        session_->connectProfile(profileToConnect(*session_, selectedProfile_));
}

void MainWindow::updateBanner() {
    const bool available = session_->isAvailable();
    banner_->setVisible(!available);
    const qint64 retryMs = retryAt_.isForever() ? 0 : retryAt_.remainingTime();
    // The countdown ticks only while there is something to count down.
    if (available || retryMs == 0)
        countdown_->stop();
    if (available)
        return;
    QPalette p = banner_->palette();
    p.setColor(QPalette::Window, QColor(0xfd, 0xec, 0xc8));
    p.setColor(QPalette::WindowText, QColor(0x5a, 0x3b, 0x00));
    banner_->setPalette(p);
    banner_->setText(
        retryMs > 0 ? tr("The Calnet service (calnetd) is not reachable at %1. Retrying in "
                         "%n second(s)…",
                         nullptr, int((retryMs + 999) / 1000))
                          .arg(session_->socketPath())
                    : tr("Connecting to the Calnet service at %1…").arg(session_->socketPath()));
}

void MainWindow::refresh() {
    const HelperStatus& status = session_->status();
    const TrayState state = session_->trayState();
    const bool available = session_->isAvailable();
    const bool up = status.isUp();
    // A tunnel brought up elsewhere (tray, calnetctl) becomes the choice here.
    if (up && status.profile != lastUpProfile_ && !status.profile.isEmpty())
        selectedProfile_ = status.profile;
    lastUpProfile_ = up ? status.profile : QString();
    stateIcon_->setPixmap(QIcon(trayIconPath(state)).pixmap(40, 40));
    stateText_->setText(trayStateText(state));

    QStringList details;
    if (!status.profile.isEmpty() && status.state != QLatin1StringView("disconnected"))
        details << tr("Profile %1").arg(status.profile);
    if (status.mesh && !status.user.isEmpty())
        details << tr("Signed in as %1").arg(status.user);
    if (status.signInRequired)
        details << tr("Sign in again to stay connected");
    if (!status.addresses.isEmpty())
        details << tr("This device: %1").arg(status.addresses.join(QStringLiteral(", ")));
    const QString error = session_->tooltipInputs().error;
    if (state == TrayState::Error && !error.isEmpty())
        details << error;
    if (state == TrayState::Degraded)
        details << tr("%n peer(s) not responding", nullptr,
                      session_->peerModel()->unhealthyCount());
    detailText_->setText(details.join(QStringLiteral(" · ")));
    copyAddress_->setVisible(!status.addresses.isEmpty());

    updateBanner();

    // The box shows the user's choice while it exists, else the profile Connect would use.
    const ProfileModel* profiles = session_->profileModel();
    const QString target = profileToConnect(*session_, selectedProfile_);
    const QString chosen = profiles->rowOf(selectedProfile_) >= 0 ? selectedProfile_ : target;
    const int row = profiles->rowOf(chosen);
    if (row >= 0 && profileBox_->currentIndex() != row)
        profileBox_->setCurrentIndex(row);
    profileBox_->setEnabled(available && profiles->rowCount() > 0);

    const bool idle =
        available && !session_->isBusy() && status.state != QLatin1StringView("disconnecting");
    connectButton_->setText(up ? tr("&Disconnect") : tr("&Connect"));
    connectButton_->setEnabled(idle && (up || !target.isEmpty()));
    const bool offerSwitch = up && !chosen.isEmpty() && chosen != status.profile;
    switchButton_->setText(tr("S&witch to %1").arg(chosen));
    switchButton_->setVisible(offerSwitch);
    switchButton_->setEnabled(idle && offerSwitch);
    if (!available)
        browser_->setEmptyText(tr("The Calnet service is not running."));
    else if (!up)
        browser_->setEmptyText(session_->profileModel()->rowCount() == 0
                                   ? tr("Not on a network yet. Sign in to your organisation's "
                                        "Calnet network (File → Sign in to a Calnet network…), "
                                        "or import a .conf file (File → Import tunnel…) or drop "
                                        "it here.")
                                   : tr("Not connected."));
    else if (!session_->peersKnown())
        browser_->setEmptyText(tr("Loading peers…"));
    else
        browser_->setEmptyText(tr("No peers in this profile."));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    emit closed();
    QMainWindow::closeEvent(event);
}

} // namespace calnet::app
