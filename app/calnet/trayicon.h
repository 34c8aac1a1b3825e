// The tray icon and its menu. Everything shown comes from HelperSession; every action goes
// through it. The menu's dynamic parts (state line, profiles, address, peers) are rebuilt when
// it is about to show and whenever the session changes while it is open.
//
//   ● Connected — home                 (state line, disabled)
//   Disconnect                         (or Connect / Connecting… / Reconnect)
//   Profile ▸  ◉ home ○ office         (switching while connected reconnects)
//   This device: 10.0.0.2              (click copies)
//   ── Peers ──
//   ● gateway   10.0.0.1   12 s ago    (click copies the address; at most kMaxMenuPeers)
//   Show all 40 peers…
//   Peer browser… / Import tunnel… / Settings… / About Calnet / Quit
#pragma once

#include <QObject>
#include <QPointer>

#include "app/calnet/traystate.h"

class QAction;
class QActionGroup;
class QMenu;
class QSystemTrayIcon;

namespace calnet::app {

class HelperSession;

class TrayController : public QObject {
    Q_OBJECT

public:
    static constexpr int kMaxMenuPeers = 8;

    explicit TrayController(HelperSession* session, QObject* parent = nullptr);
    ~TrayController() override;

    void show();
    [[nodiscard]] QSystemTrayIcon* trayIcon() const { return tray_; }
    [[nodiscard]] QMenu* menu() const { return menu_; }

    // The profile Connect uses; the owner restores and persists it.
    void setSelectedProfile(const QString& name);
    [[nodiscard]] QString selectedProfile() const;

    // Rebuilds the menu now (also done on aboutToShow); public for tests and screenshots.
    void rebuildMenu();
    // While the menu is open: updates its entries in place (texts, icons, enabled state), so
    // the once-a-second handshake ages do not close it or move the highlight. Only a change in
    // which entries exist (connect <-> disconnect, a peer joining) rebuilds it.
    void refreshOpenMenu();

    // Named actions, for tests: "state", "connect", "disconnect", "address", "peerBrowser",
    // "import", "settings", "about", "quit"; peers are "peer:<publicKey>", profiles
    // "profile:<name>", the overflow entry "morePeers".
    [[nodiscard]] QAction* action(const QString& id) const;

signals:
    void peerBrowserRequested();
    void importRequested();
    void signInRequested();
    void signOutRequested();
    void settingsRequested();
    void aboutRequested();
    void quitRequested();
    void profileSelected(const QString& name);
    // Text put on the clipboard by a menu entry (for a short confirmation).
    void copied(const QString& text);

private:
    void updateIcon();
    void copyToClipboard(const QString& text);
    QAction* addNamed(QMenu* menu, const QString& id, const QString& text);
    void populate(QMenu* menu);

    HelperSession* session_;
    QSystemTrayIcon* tray_ = nullptr;
    QMenu* menu_ = nullptr;
    QString selectedProfile_;
};

// The profile a Connect click should use: the connected one, else `preferred` if it exists,
// else the only or first profile; empty when there are none.
[[nodiscard]] QString profileToConnect(const HelperSession& session, const QString& preferred);

// "10.0.0.2/32" -> "10.0.0.2"; other prefixes stay as they are.
[[nodiscard]] QString addressWithoutHostPrefix(const QString& address);

} // namespace calnet::app
