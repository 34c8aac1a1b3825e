// The app's window. Two uses of one class:
//   Mode::Main         — no tray host (stock GNOME, or --no-tray): the app's only UI, with the
//                        same state, actions and peers the tray offers; closing it quits.
//   Mode::PeerBrowser  — opened from the tray's "Peer browser…"; closing only hides it.
// Both show the state header (icon, state, profile, this device's address, Connect/Disconnect)
// above the peer browser, and both accept dropped .conf files (the owner installs the filter).
#pragma once

#include <QDeadlineTimer>
#include <QMainWindow>

#include "app/calnet/traystate.h"

class QComboBox;
class QLabel;
class QPushButton;
class QTimer;
class QToolButton;

namespace calnet::app {

class HelperSession;
class PeerBrowser;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    enum class Mode { Main, PeerBrowser };

    MainWindow(HelperSession* session, Mode mode, QWidget* parent = nullptr);

    [[nodiscard]] Mode mode() const { return mode_; }
    [[nodiscard]] PeerBrowser* browser() const { return browser_; }
    [[nodiscard]] QPushButton* connectButton() const { return connectButton_; }
    // Shown while connected and another profile is chosen in the box: moves the tunnel there.
    [[nodiscard]] QPushButton* switchButton() const { return switchButton_; }
    [[nodiscard]] QComboBox* profileBox() const { return profileBox_; }
    [[nodiscard]] QLabel* stateLabel() const { return stateText_; }
    [[nodiscard]] QLabel* detailLabel() const { return detailText_; }
    [[nodiscard]] QLabel* bannerLabel() const { return banner_; }

    void setSelectedProfile(const QString& name);
    [[nodiscard]] QString selectedProfile() const;

signals:
    void importRequested();
    void signInRequested();
    void signOutRequested();
    void settingsRequested();
    void aboutRequested();
    void quitRequested();
    void profileSelected(const QString& name);
    void closed();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void refresh();
    void updateBanner();
    void onConnectClicked();

    HelperSession* session_;
    Mode mode_;
    QLabel* stateIcon_ = nullptr;
    QLabel* stateText_ = nullptr;
    QLabel* detailText_ = nullptr;
    QLabel* banner_ = nullptr;
    QToolButton* copyAddress_ = nullptr;
    QComboBox* profileBox_ = nullptr;
    QPushButton* connectButton_ = nullptr;
    QPushButton* switchButton_ = nullptr;
    PeerBrowser* browser_ = nullptr;
    QString selectedProfile_;
    QString lastUpProfile_;       // the profile of the last connected/connecting state seen
    QDeadlineTimer retryAt_;      // the session's next reconnect attempt
    QTimer* countdown_ = nullptr; // ticks the banner's "Retrying in N s" once a second
};

} // namespace calnet::app
