#include "app/calnet/trayicon.h"

#include <QAction>
#include <QActionGroup>
#include <QClipboard>
#include <QGuiApplication>
#include <QIcon>
#include <QMenu>
#include <QPainter>
#include <QPixmap>
#include <QSystemTrayIcon>

#include <algorithm>
#include <numeric>

#include "app/calnet/session.h"

namespace calnet::app {

namespace {

QIcon dotIcon(const QColor& color) {
    QPixmap pixmap(16, 16);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QPen(QColor(0, 0, 0, 110), 1));
    painter.setBrush(color);
    painter.drawEllipse(QRectF(3.5, 3.5, 9, 9));
    return QIcon(pixmap);
}

} // namespace

QString addressWithoutHostPrefix(const QString& address) {
    if (address.endsWith(QLatin1StringView("/32")) && !address.contains(QLatin1Char(':')))
        return address.chopped(3);
    if (address.endsWith(QLatin1StringView("/128")) && address.contains(QLatin1Char(':')))
        return address.chopped(4);
    return address;
}

QString profileToConnect(const HelperSession& session, const QString& preferred) {
    if (session.status().isUp() && !session.status().profile.isEmpty())
        return session.status().profile;
    const auto& profiles = session.profileModel()->profiles();
    if (profiles.isEmpty())
        return {};
    for (const ProfileInfo& p : profiles)
        if (p.name == preferred)
            return preferred;
    return profiles.front().name;
}

TrayController::TrayController(HelperSession* session, QObject* parent)
    : QObject(parent), session_(session), tray_(new QSystemTrayIcon(this)), menu_(new QMenu) {
    menu_->setAccessibleName(tr("Calnet menu"));
    tray_->setContextMenu(menu_);
    connect(menu_, &QMenu::aboutToShow, this, &TrayController::rebuildMenu);
    // Left click opens the same menu: on most Linux panels there is no other way to reach it
    // with one click, and it is what the state-at-a-glance user expects.
    connect(tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
        if (r == QSystemTrayIcon::Trigger) {
            // Next to the icon when the tray tells where it is; QMenu keeps it on screen.
            const QRect icon = tray_->geometry();
            menu_->popup(icon.isValid() ? icon.bottomLeft() : QCursor::pos());
        } else if (r == QSystemTrayIcon::DoubleClick)
            emit peerBrowserRequested();
    });
    const auto refresh = [this] {
        updateIcon();
        refreshOpenMenu();
    };
    connect(session_, &HelperSession::trayStateChanged, this, refresh);
    connect(session_, &HelperSession::statusChanged, this, refresh);
    connect(session_, &HelperSession::profilesChanged, this, refresh);
    connect(session_, &HelperSession::availabilityChanged, this, refresh);
    connect(session_, &HelperSession::busyChanged, this, refresh);
    connect(session_->peerModel(), &QAbstractItemModel::dataChanged, this,
            &TrayController::refreshOpenMenu);
    connect(session_->peerModel(), &QAbstractItemModel::modelReset, this,
            &TrayController::refreshOpenMenu);
    updateIcon();
    rebuildMenu();
}

TrayController::~TrayController() {
    delete menu_;
}

void TrayController::show() {
    tray_->show();
}

void TrayController::setSelectedProfile(const QString& name) {
    if (name == selectedProfile_)
        return;
    selectedProfile_ = name;
    refreshOpenMenu();
}

QString TrayController::selectedProfile() const {
    return selectedProfile_;
}

void TrayController::updateIcon() {
    const TrayState state = session_->trayState();
    tray_->setIcon(QIcon(trayIconPath(state)));
    tray_->setToolTip(trayTooltip(session_->tooltipInputs()));
}

void TrayController::copyToClipboard(const QString& text) {
    QGuiApplication::clipboard()->setText(text);
    emit copied(text);
}

QAction* TrayController::addNamed(QMenu* menu, const QString& id, const QString& text) {
    QAction* a = menu->addAction(text);
    a->setObjectName(id);
    return a;
}

QAction* TrayController::action(const QString& id) const {
    for (QAction* a : menu_->findChildren<QAction*>())
        if (a->objectName() == id)
            return a;
    return nullptr;
}

namespace {

// Entry ids in menu order, submenus inlined: two menus with the same list have the same shape.
QStringList entryIds(const QMenu* menu) {
    QStringList ids;
    for (const QAction* a : menu->actions()) {
        ids << (a->isSeparator() ? QStringLiteral("|") + a->text() : a->objectName());
        if (const QMenu* sub = a->menu())
            ids << entryIds(sub);
    }
    return ids;
}

} // namespace

void TrayController::rebuildMenu() {
    // Actions are children of the menu (QMenu::addAction parents them), so clear() frees them.
    menu_->clear();
    // Submenus go at once so action() never finds a stale entry; nothing of theirs is on the
    // call stack here (rebuilds run from aboutToShow or from session signals).
    qDeleteAll(menu_->findChildren<QMenu*>(Qt::FindDirectChildrenOnly));
    populate(menu_);
}

void TrayController::refreshOpenMenu() {
    if (!menu_->isVisible())
        return; // aboutToShow rebuilds it
    QMenu fresh;
    populate(&fresh);
    if (entryIds(&fresh) != entryIds(menu_)) {
        rebuildMenu();
        return;
    }
    for (QAction* now : fresh.findChildren<QAction*>()) {
        if (now->objectName().isEmpty())
            continue;
        QAction* shown = action(now->objectName());
        if (shown == nullptr)
            continue;
        if (shown->text() != now->text())
            shown->setText(now->text());
        if (shown->toolTip() != now->toolTip())
            shown->setToolTip(now->toolTip());
        if (shown->data() != now->data())
            shown->setData(now->data());
        shown->setEnabled(now->isEnabled());
        shown->setChecked(now->isChecked());
        if (now->objectName().startsWith(QLatin1StringView("peer:")) ||
            now->objectName() == QLatin1StringView("state"))
            shown->setIcon(now->icon());
    }
}

void TrayController::populate(QMenu* menu) {

    const HelperStatus& status = session_->status();
    const TrayState state = session_->trayState();
    const bool available = session_->isAvailable();

    QString stateLine = trayStateText(state);
    if ((state == TrayState::Connected || state == TrayState::Degraded) &&
        !status.profile.isEmpty())
        stateLine = tr("%1 — %2").arg(stateLine, status.profile);
    QAction* stateAction = addNamed(menu, QStringLiteral("state"), stateLine);
    stateAction->setIcon(QIcon(trayIconPath(state)));
    stateAction->setEnabled(false);
    if (state == TrayState::Error && !session_->tooltipInputs().error.isEmpty()) {
        QAction* err =
            addNamed(menu, QStringLiteral("error"), session_->tooltipInputs().error.left(120));
        err->setEnabled(false);
    }

    const QString target = profileToConnect(*session_, selectedProfile_);
    const bool up = status.isUp();
    if (up) {
        QAction* a = addNamed(menu, QStringLiteral("disconnect"), tr("&Disconnect"));
        a->setEnabled(available && !session_->isBusy());
        connect(a, &QAction::triggered, session_, &HelperSession::disconnectTunnel);
    } else {
        QAction* a = addNamed(menu, QStringLiteral("connect"),
                              target.isEmpty() ? tr("&Connect") : tr("&Connect to %1").arg(target));
        a->setEnabled(available && !session_->isBusy() && !target.isEmpty() &&
                      status.state != QLatin1StringView("disconnecting"));
        connect(a, &QAction::triggered, this, [this] {
            session_->connectProfile(profileToConnect(*session_, selectedProfile_));
        });
    }

    const auto& profiles = session_->profileModel()->profiles();
    if (profiles.size() > 1) {
        QMenu* sub = menu->addMenu(tr("&Profile"));
        sub->menuAction()->setObjectName(QStringLiteral("profiles"));
        auto* group = new QActionGroup(sub);
        for (const ProfileInfo& p : profiles) {
            QAction* a = addNamed(sub, QStringLiteral("profile:") + p.name, p.name);
            // The actions live in the submenu; findChildren on menu still reaches them.
            a->setCheckable(true);
            a->setChecked(p.name == target);
            a->setActionGroup(group);
            a->setEnabled(available && !session_->isBusy());
            connect(a, &QAction::triggered, this, [this, name = p.name] {
                selectedProfile_ = name;
                emit profileSelected(name);
                // Switching while up moves the tunnel; otherwise it only picks what Connect uses.
                if (session_->status().isUp() && session_->status().profile != name)
                    session_->connectProfile(name);
            });
        }
    } else if (profiles.isEmpty() && available) {
        QAction* a = addNamed(menu, QStringLiteral("noProfiles"),
                              tr("Not on a network yet — sign in or import a tunnel"));
        a->setEnabled(false);
    }

    if (up && !status.addresses.isEmpty()) {
        const QString address = addressWithoutHostPrefix(status.addresses.front());
        QAction* a = addNamed(menu, QStringLiteral("address"), tr("This device: %1").arg(address));
        a->setToolTip(tr("Click to copy"));
        a->setData(address);
        connect(a, &QAction::triggered, this, [this, a] { copyToClipboard(a->data().toString()); });
    }

    const PeerModel* peers = session_->peerModel();
    if (up && peers->rowCount() > 0) {
        menu->addSection(tr("Peers"));
        // Unhealthy peers first (they are why someone opens the menu), then by name.
        QList<int> rows(peers->rowCount());
        std::iota(rows.begin(), rows.end(), 0);
        std::stable_sort(rows.begin(), rows.end(), [peers](int a, int b) {
            const auto rank = [](ipc::Health h) {
                return h == ipc::Health::Dead ? 0 : h == ipc::Health::Stale ? 1 : 2;
            };
            const int ra = rank(peers->health(peers->peer(a)));
            const int rb = rank(peers->health(peers->peer(b)));
            if (ra != rb)
                return ra < rb;
            return peers->peer(a).displayName().compare(peers->peer(b).displayName(),
                                                        Qt::CaseInsensitive) < 0;
        });
        for (int i = 0; i < std::min<int>(kMaxMenuPeers, int(rows.size())); ++i) {
            const PeerInfo& p = peers->peer(rows[i]);
            const ipc::Health health = peers->health(p);
            const QString address =
                p.allowedIps.isEmpty() ? QString() : addressWithoutHostPrefix(p.allowedIps.front());
            const auto age = peers->handshakeAge(p);
            const QString when = age ? tr("%1 ago").arg(formatAge(*age)) : healthText(health);
            QString text = p.displayName();
            if (!address.isEmpty())
                text += QStringLiteral("   ") + address;
            text += QStringLiteral("   ") + when;
            QAction* a = addNamed(menu, QStringLiteral("peer:") + p.publicKey, text);
            a->setIcon(dotIcon(healthColor(health)));
            a->setToolTip(address.isEmpty()
                              ? healthText(health)
                              : tr("%1 — click to copy %2").arg(healthText(health), address));
            a->setEnabled(!address.isEmpty());
            a->setData(address);
            connect(a, &QAction::triggered, this,
                    [this, a] { copyToClipboard(a->data().toString()); });
        }
        if (peers->rowCount() > kMaxMenuPeers) {
            QAction* more = addNamed(menu, QStringLiteral("morePeers"),
                                     tr("Show all %n peer(s)…", nullptr, peers->rowCount()));
            connect(more, &QAction::triggered, this, &TrayController::peerBrowserRequested);
        }
    }

    menu->addSeparator();
    connect(addNamed(menu, QStringLiteral("peerBrowser"), tr("Peer &browser…")),
            &QAction::triggered, this, &TrayController::peerBrowserRequested);
    const HelperStatus& account = session_->status();
    if (account.mesh && !account.user.isEmpty()) {
        QAction* who = addNamed(menu, QStringLiteral("account"),
                                account.signInRequired
                                    ? tr("%1 — sign in again to stay connected").arg(account.user)
                                    : tr("Signed in as %1").arg(account.user));
        who->setEnabled(account.signInRequired);
        who->setToolTip(account.server);
        connect(who, &QAction::triggered, this, &TrayController::signInRequested);
        QAction* out = addNamed(menu, QStringLiteral("signOut"), tr("Sign &out…"));
        out->setEnabled(available);
        connect(out, &QAction::triggered, this, &TrayController::signOutRequested);
    }
    QAction* signIn = addNamed(menu, QStringLiteral("signIn"), tr("Sign in to a Calnet &network…"));
    signIn->setEnabled(available);
    connect(signIn, &QAction::triggered, this, &TrayController::signInRequested);
    QAction* import = addNamed(menu, QStringLiteral("import"), tr("&Import tunnel…"));
    import->setEnabled(available);
    connect(import, &QAction::triggered, this, &TrayController::importRequested);
    connect(addNamed(menu, QStringLiteral("settings"), tr("&Settings…")), &QAction::triggered, this,
            &TrayController::settingsRequested);
    connect(addNamed(menu, QStringLiteral("about"), tr("&About Calnet")), &QAction::triggered, this,
            &TrayController::aboutRequested);
    menu->addSeparator();
    connect(addNamed(menu, QStringLiteral("quit"), tr("&Quit")), &QAction::triggered, this,
            &TrayController::quitRequested);
}

} // namespace calnet::app
