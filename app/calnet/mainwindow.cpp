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
#include <QToolButton>
#include <QVBoxLayout>

#include "app/calnet/peerbrowser.h"
#include "app/calnet/session.h"
#include "app/calnet/trayicon.h"

namespace calnet::app {

MainWindow::MainWindow(HelperSession* session, Mode mode, QWidget* parent)
    : QMainWindow(parent), session_(session), mode_(mode) {
    setWindowTitle(mode == Mode::Main ? tr("Calnet") : tr("Calnet — Peers"));
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
    connect(profileBox_, &QComboBox::activated, this, [this](int row) {
        const QString name = profileBox_->itemText(row);
        selectedProfile_ = name;
        emit profileSelected(name);
        if (session_->status().state == QLatin1StringView("connected") &&
            session_->status().profile != name)
            session_->connectProfile(name);
        refresh();
    });
    header->addWidget(profileLabel);
    header->addWidget(profileBox_);

    connectButton_ = new QPushButton(central);
    connectButton_->setAccessibleName(tr("Connect or disconnect"));
    connectButton_->setMinimumWidth(120);
    connect(connectButton_, &QPushButton::clicked, this, &MainWindow::onConnectClicked);
    header->addWidget(connectButton_);
    layout->addLayout(header);

    browser_ = new PeerBrowser(session_->peerModel(), central);
    layout->addWidget(browser_, 1);
    setCentralWidget(central);

    QMenu* file = menuBar()->addMenu(tr("&File"));
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
    connect(session_, &HelperSession::reconnecting, this, [this](int delayMs) {
        retryDelayMs_ = delayMs;
        refresh();
    });
    connect(session_, &HelperSession::actionFailed, this,
            [this](const QString& action, const QString& message) {
                statusBar()->showMessage(tr("%1 failed: %2").arg(action, message), 10000);
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
    const QString state = session_->status().state;
    if (state == QLatin1StringView("connected") || state == QLatin1StringView("connecting"))
        session_->disconnectTunnel();
    else
        session_->connectProfile(profileToConnect(*session_, selectedProfile_));
}

void MainWindow::refresh() {
    const HelperStatus& status = session_->status();
    const TrayState state = session_->trayState();
    const bool available = session_->isAvailable();
    stateIcon_->setPixmap(QIcon(trayIconPath(state)).pixmap(40, 40));
    stateText_->setText(trayStateText(state));

    QStringList details;
    if (!status.profile.isEmpty() && status.state != QLatin1StringView("disconnected"))
        details << tr("Profile %1").arg(status.profile);
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

    banner_->setVisible(!available);
    if (!available) {
        QPalette p = banner_->palette();
        p.setColor(QPalette::Window, QColor(0xfd, 0xec, 0xc8));
        p.setColor(QPalette::WindowText, QColor(0x5a, 0x3b, 0x00));
        banner_->setPalette(p);
        banner_->setText(
            retryDelayMs_ > 0
                ? tr("The Calnet service (calnetd) is not reachable at %1. Retrying in %2 s…")
                      .arg(session_->socketPath())
                      .arg((retryDelayMs_ + 999) / 1000)
                : tr("Connecting to the Calnet service at %1…").arg(session_->socketPath()));
    }

    // Keep the box on the connected profile, else on the one Connect will use.
    const QString target = profileToConnect(*session_, selectedProfile_);
    const int row = session_->profileModel()->rowOf(target);
    if (row >= 0 && profileBox_->currentIndex() != row)
        profileBox_->setCurrentIndex(row);
    profileBox_->setEnabled(available && session_->profileModel()->rowCount() > 0);

    const bool up = status.state == QLatin1StringView("connected") ||
                    status.state == QLatin1StringView("connecting");
    connectButton_->setText(up ? tr("&Disconnect") : tr("&Connect"));
    connectButton_->setEnabled(available && !session_->isBusy() && (up || !target.isEmpty()) &&
                               status.state != QLatin1StringView("disconnecting"));
    if (!available)
        browser_->setEmptyText(tr("The Calnet service is not running."));
    else if (!up)
        browser_->setEmptyText(session_->profileModel()->rowCount() == 0
                                   ? tr("No tunnels yet. Import a .conf file (File → Import "
                                        "tunnel…) or drop it here.")
                                   : tr("Not connected."));
    else
        browser_->setEmptyText(tr("No peers in this profile."));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    emit closed();
    QMainWindow::closeEvent(event);
}

} // namespace calnet::app
