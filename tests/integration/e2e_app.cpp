// End to end: the desktop app against a real calnetd --service and a wireguard-go peer, which
// tests/integration/test_app.sh sets up (tests/app/live_helper.sh) before it starts this
// executable. The app is driven only through its own window, as a user would: the Connect button
// is clicked, and what the window and the session show is compared with what the helper and the
// peer really did. In order: connect and disconnect with the button; the helper stopped and
// started under the idle app; the same with the tunnel up (the helper reconnects it).
//
// Steps the script must perform from outside (checking the interface, stopping and starting the
// helper) are handed off through files in CALNET_E2E_CONTROL: this test writes <step>.request
// and waits, bounded, for <step>.done, whose text is "ok" or the reason the step failed. The app
// keeps running its event loop while it waits.
//
// Environment (set by test_app.sh): CALNET_E2E_SOCKET, CALNET_E2E_PROFILE, CALNET_E2E_PROFILES
// (how many profiles the helper has), CALNET_E2E_PEER_KEY (the wireguard-go peer),
// CALNET_E2E_PEERS (peers in the profile), CALNET_E2E_ADDRESS (the tunnel address),
// CALNET_E2E_CONTROL.
#include <QComboBox>
#include <QDeadlineTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QPushButton>
#include <QSaveFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

#include "app/calnet/application.h"
#include "app/calnet/appsettings.h"
#include "app/calnet/mainwindow.h"
#include "app/calnet/peerbrowser.h"
#include "app/calnet/session.h"

using namespace calnet;
using namespace calnet::app;

namespace {

// Generous next to what the steps take here (a handshake within ~1 s of connecting, a helper
// start within ~0.2 s, the client's reconnect backoff at most 2 s by then), short enough that a
// hang fails well inside the script's own limit.
constexpr int kAvailableMs = 10000;
constexpr int kHandshakeMs = 15000;
constexpr int kStateMs = 10000;
constexpr int kHandOffMs = 20000;

// Bounded waits. QTRY_* would, after a timeout, wait twice as long again to report how late the
// condition became true; a test that is already failing should not take three times its limit.
#define WAIT_VERIFY(cond, ms) QVERIFY2(QTest::qWaitFor([&] { return bool(cond); }, ms), #cond)
#define WAIT_COMPARE(actual, expected, ms)                                                         \
    do {                                                                                           \
        [[maybe_unused]] const bool settled =                                                      \
            QTest::qWaitFor([&] { return (actual) == (expected); }, ms);                           \
        QCOMPARE(actual, expected);                                                                \
    } while (false)

QString env(const char* name) {
    return qEnvironmentVariable(name);
}

} // namespace

class E2eApp : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void connectAndDisconnect();
    void survivesHelperRestart();
    void restartWhileConnected();
    void cleanupTestCase();

private:
    // Writes <step>.request and waits for <step>.done; its text in `answer`.
    bool handOff(const QString& step, QString* answer);
    [[nodiscard]] QModelIndex peerIndex(int column = 0) const;
    // Waits until the wireguard-go peer has a fresh handshake and traffic in the peer model.
    void waitForHandshake();

    QString profile_;
    QString peerKey_;
    QString address_;
    int peers_ = 0;
    int profiles_ = 0;
    QString control_;
    // A hand-off failed: the helper's state is unknown, so later functions fail at once instead
    // of waiting out every timeout.
    bool handOffFailed_ = false;
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<AppSettings> settings_;
    std::unique_ptr<Application> app_;
    MainWindow* window_ = nullptr;
    HelperSession* session_ = nullptr;
};

bool E2eApp::handOff(const QString& step, QString* answer) {
    handOffFailed_ = true; // until the script answers "ok"
    const QString done = control_ + QLatin1Char('/') + step + QStringLiteral(".done");
    QSaveFile request(control_ + QLatin1Char('/') + step + QStringLiteral(".request"));
    if (!request.open(QIODevice::WriteOnly) || !request.commit()) {
        *answer = QStringLiteral("cannot write ") + request.fileName();
        return false;
    }
    const QDeadlineTimer deadline(kHandOffMs);
    while (!QFile::exists(done)) {
        if (deadline.hasExpired()) {
            *answer = QStringLiteral("no %1 within %2 ms").arg(done).arg(kHandOffMs);
            return false;
        }
        QTest::qWait(50);
    }
    QFile f(done);
    if (!f.open(QIODevice::ReadOnly)) {
        *answer = QStringLiteral("cannot read ") + done;
        return false;
    }
    *answer = QString::fromUtf8(f.readAll()).trimmed();
    if (*answer != QLatin1StringView("ok"))
        return false;
    handOffFailed_ = false;
    return true;
}

QModelIndex E2eApp::peerIndex(int column) const {
    const PeerModel* model = session_->peerModel();
    const int row = model->rowOf(peerKey_);
    return row < 0 ? QModelIndex() : model->index(row, column);
}

void E2eApp::waitForHandshake() {
    WAIT_VERIFY(peerIndex().isValid(), kHandshakeMs);
    WAIT_COMPARE(peerIndex().data(PeerModel::HealthRole).toInt(), int(ipc::Health::Healthy),
                 kHandshakeMs);
    QVERIFY(peerIndex().data(PeerModel::HandshakeAgeRole).isValid());
    QVERIFY(peerIndex().data(PeerModel::HandshakeAgeRole).toLongLong() < 60);
    WAIT_VERIFY(session_->peerModel()->peer(peerIndex().row()).rxBytes > 0 &&
                    session_->peerModel()->peer(peerIndex().row()).txBytes > 0,
                kHandshakeMs);
}

void E2eApp::initTestCase() {
    const QString socket = env("CALNET_E2E_SOCKET");
    if (socket.isEmpty())
        QSKIP("run by tests/integration/test_app.sh, which starts the helper");
    profile_ = env("CALNET_E2E_PROFILE");
    peerKey_ = env("CALNET_E2E_PEER_KEY");
    address_ = env("CALNET_E2E_ADDRESS");
    peers_ = env("CALNET_E2E_PEERS").toInt();
    profiles_ = env("CALNET_E2E_PROFILES").toInt();
    control_ = env("CALNET_E2E_CONTROL");
    QVERIFY(!profile_.isEmpty() && !peerKey_.isEmpty() && !address_.isEmpty());
    QVERIFY(peers_ >= 1 && profiles_ >= 1);
    QVERIFY(QFileInfo(control_).isDir());

    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    settings_ = std::make_unique<AppSettings>(dir_->filePath(QStringLiteral("calnet.ini")));
    // The profile the app offers first, as if the user had connected it last time; the helper
    // also has others.
    settings_->setLastProfile(profile_);

    Application::Options options;
    options.socketPath = socket;
    options.noTray = true;
    app_ = std::make_unique<Application>(options, settings_.get());
    app_->start();
    QVERIFY(!app_->usesTray());
    window_ = app_->window();
    QVERIFY(window_);
    QCOMPARE(window_->mode(), MainWindow::Mode::Main);
    QVERIFY(QTest::qWaitForWindowExposed(window_));
    session_ = app_->session();
}

void E2eApp::connectAndDisconnect() {
    QComboBox* box = window_->profileBox();
    QPushButton* button = window_->connectButton();

    WAIT_VERIFY(session_->isAvailable(), kAvailableMs);
    WAIT_COMPARE(box->count(), profiles_, kStateMs);
    QVERIFY(box->findText(profile_) >= 0);
    QCOMPARE(box->currentText(), profile_);
    QVERIFY(box->isEnabled());
    QVERIFY(window_->bannerLabel()->isHidden());
    WAIT_COMPARE(session_->trayState(), TrayState::Disconnected, kStateMs);
    QCOMPARE(window_->stateLabel()->text(), trayStateText(TrayState::Disconnected));
    QCOMPARE(session_->peerModel()->rowCount(), 0);
    QVERIFY(button->isEnabled());
    QCOMPARE(button->text(), QStringLiteral("&Connect"));

    QSignalSpy connected(session_, &HelperSession::tunnelConnected);
    QSignalSpy disconnected(session_, &HelperSession::tunnelDisconnected);
    QSignalSpy failures(session_, &HelperSession::actionFailed);
    QTest::mouseClick(button, Qt::LeftButton);

    // The handshake with wireguard-go, as the peer browser's model has it.
    waitForHandshake();
    if (QTest::currentTestFailed())
        return;
    // The other peers are really there and have never answered.
    const PeerModel* model = session_->peerModel();
    QCOMPARE(model->rowCount(), peers_);
    for (int row = 0; row < model->rowCount(); ++row) {
        if (model->peer(row).publicKey == peerKey_)
            continue;
        QCOMPARE(model->data(model->index(row, 0), PeerModel::HealthRole).toInt(),
                 int(ipc::Health::Never));
        QVERIFY(!model->data(model->index(row, 0), PeerModel::HandshakeAgeRole).isValid());
    }
    // "never" does not degrade the state.
    WAIT_COMPARE(session_->trayState(), TrayState::Connected, kStateMs);

    // What the user sees.
    QCOMPARE(session_->status().profile, profile_);
    QCOMPARE(window_->stateLabel()->text(), trayStateText(TrayState::Connected));
    QVERIFY2(window_->detailLabel()->text().contains(address_),
             qPrintable(window_->detailLabel()->text()));
    QVERIFY2(window_->detailLabel()->text().contains(profile_),
             qPrintable(window_->detailLabel()->text()));
    QCOMPARE(button->text(), QStringLiteral("&Disconnect"));
    WAIT_VERIFY(button->isEnabled(), kStateMs);
    QCOMPARE(box->currentText(), profile_);
    QCOMPARE(window_->browser()->proxy()->rowCount(), peers_);
    QCOMPARE(connected.count(), 1);
    QCOMPARE(connected.at(0).at(0).toString(), profile_);

    // The script looks from outside: interface in the namespace, helper status, the peer's side.
    QString answer;
    QVERIFY2(handOff(QStringLiteral("connected"), &answer), qPrintable(answer));

    QTest::mouseClick(button, Qt::LeftButton);
    WAIT_COMPARE(session_->status().state, QStringLiteral("disconnected"), kStateMs);
    WAIT_COMPARE(session_->peerModel()->rowCount(), 0, kStateMs);
    WAIT_COMPARE(session_->trayState(), TrayState::Disconnected, kStateMs);
    QCOMPARE(window_->stateLabel()->text(), trayStateText(TrayState::Disconnected));
    QVERIFY(!window_->detailLabel()->text().contains(address_));
    WAIT_VERIFY(button->isEnabled(), kStateMs);
    QCOMPARE(button->text(), QStringLiteral("&Connect"));
    QCOMPARE(window_->browser()->proxy()->rowCount(), 0);
    QCOMPARE(disconnected.count(), 1);
    QCOMPARE(disconnected.at(0).at(0).toString(), profile_);
    QCOMPARE(failures.count(), 0);
    QVERIFY(session_->lastError().isEmpty());
}

void E2eApp::survivesHelperRestart() {
    if (handOffFailed_)
        QFAIL("an earlier step of the script failed; the helper's state is unknown");
    WAIT_VERIFY(session_->isAvailable(), kAvailableMs);
    QSignalSpy availability(session_, &HelperSession::availabilityChanged);
    QSignalSpy profilesSpy(session_, &HelperSession::profilesChanged);

    QString answer;
    QVERIFY2(handOff(QStringLiteral("stop-helper"), &answer), qPrintable(answer));
    WAIT_COMPARE(session_->trayState(), TrayState::Unavailable, kStateMs);
    QVERIFY(!session_->isAvailable());
    QCOMPARE(availability.count(), 1);
    QCOMPARE(availability.at(0).at(0).toBool(), false);
    QVERIFY(window_->bannerLabel()->isVisible());
    QVERIFY2(window_->bannerLabel()->text().contains(session_->socketPath()),
             qPrintable(window_->bannerLabel()->text()));
    QCOMPARE(window_->stateLabel()->text(), trayStateText(TrayState::Unavailable));
    QVERIFY(!window_->connectButton()->isEnabled());
    QVERIFY(!window_->profileBox()->isEnabled());
    // The client keeps retrying; the banner says when the next attempt is.
    QSignalSpy retries(session_, &HelperSession::reconnecting);
    QVERIFY(retries.wait(kStateMs));
    QVERIFY(window_->bannerLabel()->isVisible());

    profilesSpy.clear();
    QVERIFY2(handOff(QStringLiteral("start-helper"), &answer), qPrintable(answer));
    // Same app, same window: it finds the helper again and fetches the profiles again.
    WAIT_VERIFY(session_->isAvailable(), kAvailableMs);
    WAIT_VERIFY(profilesSpy.count() >= 1, kStateMs);
    QCOMPARE(availability.count(), 2);
    QCOMPARE(availability.at(1).at(0).toBool(), true);
    WAIT_COMPARE(session_->trayState(), TrayState::Disconnected, kStateMs);
    WAIT_VERIFY(window_->bannerLabel()->isHidden(), kStateMs);
    QCOMPARE(window_->stateLabel()->text(), trayStateText(TrayState::Disconnected));
    QCOMPARE(window_->profileBox()->count(), profiles_);
    QCOMPARE(window_->profileBox()->currentText(), profile_);
    QVERIFY(window_->profileBox()->isEnabled());
    WAIT_VERIFY(window_->connectButton()->isEnabled(), kStateMs);
    QCOMPARE(window_->connectButton()->text(), QStringLiteral("&Connect"));
    QCOMPARE(app_->window(), window_);
}

// The helper stops while a tunnel is up and reconnects it when it starts again (it remembers the
// connected profile): the app shows the outage, then the tunnel and its peers again, without
// claiming a disconnect or a new connection that the user did not make.
void E2eApp::restartWhileConnected() {
    if (handOffFailed_)
        QFAIL("an earlier step of the script failed; the helper's state is unknown");
    WAIT_VERIFY(session_->isAvailable(), kAvailableMs);
    WAIT_VERIFY(window_->connectButton()->isEnabled(), kStateMs);
    QTest::mouseClick(window_->connectButton(), Qt::LeftButton);
    waitForHandshake();
    if (QTest::currentTestFailed())
        return;
    WAIT_COMPARE(session_->trayState(), TrayState::Connected, kStateMs);

    QSignalSpy connected(session_, &HelperSession::tunnelConnected);
    QSignalSpy disconnected(session_, &HelperSession::tunnelDisconnected);
    QSignalSpy failed(session_, &HelperSession::tunnelFailed);
    QString answer;
    QVERIFY2(handOff(QStringLiteral("stop-helper-connected"), &answer), qPrintable(answer));
    WAIT_COMPARE(session_->trayState(), TrayState::Unavailable, kStateMs);
    // What the helper did to the tunnel is unknown while it is away: no peers, no claims.
    QCOMPARE(session_->peerModel()->rowCount(), 0);
    QCOMPARE(window_->browser()->proxy()->rowCount(), 0);
    QVERIFY(window_->bannerLabel()->isVisible());
    QVERIFY(!window_->detailLabel()->text().contains(address_));

    QVERIFY2(handOff(QStringLiteral("start-helper-connected"), &answer), qPrintable(answer));
    WAIT_VERIFY(session_->isAvailable(), kAvailableMs);
    WAIT_COMPARE(session_->status().state, QStringLiteral("connected"), kStateMs);
    waitForHandshake();
    if (QTest::currentTestFailed())
        return;
    WAIT_COMPARE(session_->trayState(), TrayState::Connected, kStateMs);
    QVERIFY(window_->bannerLabel()->isHidden());
    QCOMPARE(window_->stateLabel()->text(), trayStateText(TrayState::Connected));
    QVERIFY(window_->detailLabel()->text().contains(address_));
    QCOMPARE(window_->connectButton()->text(), QStringLiteral("&Disconnect"));
    QCOMPARE(session_->peerModel()->rowCount(), peers_);
    QCOMPARE(connected.count(), 0);
    QCOMPARE(disconnected.count(), 0);
    QCOMPARE(failed.count(), 0);

    // Leave the helper as found.
    WAIT_VERIFY(window_->connectButton()->isEnabled(), kStateMs);
    QTest::mouseClick(window_->connectButton(), Qt::LeftButton);
    WAIT_COMPARE(session_->status().state, QStringLiteral("disconnected"), kStateMs);
    WAIT_COMPARE(session_->peerModel()->rowCount(), 0, kStateMs);
    QCOMPARE(disconnected.count(), 1);
}

void E2eApp::cleanupTestCase() {
    app_.reset();
    settings_.reset();
}

QTEST_MAIN(E2eApp)
#include "e2e_app.moc"
