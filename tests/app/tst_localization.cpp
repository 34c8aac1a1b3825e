// The shipped German and French catalogues (embedded under :/i18n) applied to the real widgets:
// the main window against a fake helper, the tray menu and the settings dialog are built once
// in English and once in the language, and every text a user sees there must be translated,
// unless it is a name or a word the language shares with English (the allow-list). Key texts are
// compared with their expected translation, mnemonics must stay unique within each menu and
// dialog, and the state texts and plural forms (French counts 0 as singular) come out right.
#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSet>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>

#include <functional>

#include "app/calnet/appsettings.h"
#include "app/calnet/mainwindow.h"
#include "app/calnet/peerbrowser.h"
#include "app/calnet/peermodel.h"
#include "app/calnet/session.h"
#include "app/calnet/settingsdialog.h"
#include "app/calnet/translation.h"
#include "app/calnet/trayicon.h"
#include "app/calnet/traystate.h"
#include "fakehelper.h"

using namespace calnet::app;
using calnet::test::FakeHelper;
namespace ipc = calnet::ipc;

namespace {

constexpr int kWaitMs = 5000;
const QString kKey = QStringLiteral("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");

// What the fixtures put on screen as data: the same in every language.
const QSet<QString> kData{kKey,
                          QStringLiteral("10.0.0.1/32"),
                          QStringLiteral("10.0.0.2/32"),
                          QStringLiteral("192.0.2.1:51820"),
                          QStringLiteral("home"),
                          QStringLiteral("office")};

// Texts a translation may leave as in English: product and protocol names, and words the
// language uses as they are.
QSet<QString> sameAsEnglish(const QString& language) {
    QSet<QString> same{QStringLiteral("Calnet"), QStringLiteral("WireGuard")};
    if (language == QLatin1StringView("de"))
        same += {QStringLiteral("Name"), QStringLiteral("Name:"), QStringLiteral("Keepalive"),
                 QStringLiteral("Keepalive:"), QStringLiteral("Peers")};
    if (language == QLatin1StringView("fr"))
        same += {QStringLiteral("Keepalive"), QStringLiteral("direct")};
    return same;
}

// The texts each language must show, by a name used in the checks below.
QHash<QString, QString> expected(const QString& language) {
    if (language == QLatin1StringView("de"))
        return {
            {"connect", "&Verbinden"},
            {"disconnect", "&Trennen"},
            {"peerWindowTitle", "Peer-Übersicht"},
            {"fileMenu", "&Datei"},
            {"trayConnect", "Mit home &verbinden"},
            {"trayQuit", "&Beenden"},
            {"trayMorePeers", "Alle 9 Peers anzeigen…"},
            {"settingsTitle", "Calnet-Einstellungen"},
            {"notifications", "&Benachrichtigungen anzeigen"},
            {"startAtLogin", "Calnet beim &Anmelden starten"},
            {"language", "&Sprache:"},
            {"systemDefault", "Systemvorgabe"},
            {"Unavailable", "Calnet-Dienst läuft nicht"},
            {"Disconnected", "Getrennt"},
            {"Connecting", "Verbindung wird hergestellt…"},
            {"Connected", "Verbunden"},
            {"Degraded", "Verbunden, einige Peers antworten nicht"},
            {"Error", "Verbindung fehlgeschlagen"},
            {"peers0", "0 Peers"},
            {"peers1", "1 Peer"},
            {"peers5", "5 Peers"},
            {"healthy", "aktiv"},
            {"stale", "veraltet"},
            {"dead", "nicht erreichbar"},
            {"never", "nie"},
            {"bytes", "512 B"},
            {"endpointHeader", "Endpunkt"},
        };
    return {
        {"connect", "Se &connecter"},
        {"disconnect", "Se &déconnecter"},
        {"peerWindowTitle", "Liste des pairs"},
        {"fileMenu", "&Fichier"},
        {"trayConnect", "Se &connecter à home"},
        {"trayQuit", "&Quitter"},
        {"trayMorePeers", "Afficher les 9 pairs…"},
        {"settingsTitle", "Paramètres de Calnet"},
        {"notifications", "Afficher les &notifications"},
        {"startAtLogin", "&Démarrer Calnet à l’ouverture de session"},
        {"language", "&Langue\u00a0:"},
        {"systemDefault", "Langue du système"},
        {"Unavailable", "Le service Calnet ne fonctionne pas"},
        {"Disconnected", "Déconnecté"},
        {"Connecting", "Connexion en cours…"},
        {"Connected", "Connecté"},
        {"Degraded", "Connecté, certains pairs ne répondent pas"},
        {"Error", "Échec de la connexion"},
        {"peers0", "0 pair"},
        {"peers1", "1 pair"},
        {"peers5", "5 pairs"},
        {"healthy", "actif"},
        {"stale", "périmé"},
        {"dead", "injoignable"},
        {"never", "jamais"},
        {"bytes", "512 o"},
        {"endpointHeader", "Point de terminaison"},
    };
}

void install(const QString& language) {
    QVERIFY2(installTranslations(QCoreApplication::instance(), language), qPrintable(language));
    if (language != QLatin1StringView("en"))
        QCOMPARE(currentLanguage(), language);
}

// The entries of a menu, its submenus' included; section titles count, plain separators not.
QStringList menuTexts(const QList<QAction*>& actions) {
    QStringList out;
    for (QAction* a : actions) {
        if (!a->isVisible())
            continue;
        if (!a->text().isEmpty())
            out << a->text();
        if (a->menu())
            out << menuTexts(a->menu()->actions());
    }
    return out;
}

// Every text a user can see in `root` and its menu bar.
QStringList visibleTexts(QWidget* root) {
    QStringList out{root->windowTitle()};
    for (QAbstractButton* b : root->findChildren<QAbstractButton*>())
        if (b->isVisibleTo(root) && !b->text().isEmpty())
            out << b->text();
    for (QLabel* l : root->findChildren<QLabel*>())
        if (l->isVisibleTo(root) && !l->text().isEmpty())
            out << l->text();
    for (QLineEdit* e : root->findChildren<QLineEdit*>())
        if (e->isVisibleTo(root) && !e->placeholderText().isEmpty())
            out << e->placeholderText();
    for (QTableView* t : root->findChildren<QTableView*>())
        if (t->isVisibleTo(root) && t->model())
            for (int c = 0; c < t->model()->columnCount(); ++c)
                out << t->model()->headerData(c, Qt::Horizontal).toString();
    if (auto* window = qobject_cast<QMainWindow*>(root))
        out << menuTexts(window->menuBar()->actions());
    return out;
}

// The texts of `localized` that are still the English ones, names and data aside.
QStringList untranslated(const QStringList& localized, const QStringList& english,
                         const QString& language) {
    const QSet<QString> englishSet(english.begin(), english.end());
    const QSet<QString> allowed = sameAsEnglish(language) + kData;
    QStringList out;
    for (const QString& text : localized)
        if (englishSet.contains(text) && !allowed.contains(text))
            out << text;
    out.removeDuplicates();
    return out;
}

// The mnemonic letter of a text ("Se &connecter" -> 'c'), null when it has none.
QChar mnemonicOf(const QString& text) {
    for (qsizetype i = 0; i + 1 < text.size(); ++i) {
        if (text.at(i) != QLatin1Char('&'))
            continue;
        if (text.at(i + 1) == QLatin1Char('&')) {
            ++i;
            continue;
        }
        return text.at(i + 1).toLower();
    }
    return {};
}

// Texts in one scope (a menu, a dialog) whose mnemonics collide: "x: first / second".
QStringList mnemonicClashes(const QStringList& texts) {
    QHash<QChar, QString> seen;
    QStringList clashes;
    for (const QString& text : texts) {
        const QChar m = mnemonicOf(text);
        if (m.isNull())
            continue;
        if (seen.contains(m))
            clashes << QStringLiteral("%1: %2 / %3").arg(m, seen.value(m), text);
        seen.insert(m, text);
    }
    return clashes;
}

QStringList topLevelMenuTexts(const QList<QAction*>& actions) {
    QStringList out;
    for (QAction* a : actions)
        if (a->isVisible() && !a->isSeparator())
            out << a->text();
    return out;
}

// The main window's own mnemonic scope: its menu bar titles and header buttons and labels.
QStringList windowScope(MainWindow* window) {
    QStringList out = topLevelMenuTexts(window->menuBar()->actions());
    for (QAbstractButton* b : window->findChildren<QAbstractButton*>())
        if (b->isVisibleTo(window))
            out << b->text();
    for (QLabel* l : window->findChildren<QLabel*>())
        if (l->isVisibleTo(window) && l->buddy())
            out << l->text();
    return out;
}

QString joined(const QStringList& list) {
    return list.join(QStringLiteral(" | "));
}

} // namespace

class tst_Localization : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanup();
    void catalogueIsInstalled_data() { languages(); }
    void catalogueIsInstalled();
    void trayStateTexts_data() { languages(); }
    void trayStateTexts();
    void pluralForms_data() { languages(); }
    void pluralForms();
    void peerTexts_data() { languages(); }
    void peerTexts();
    void mainWindow_data() { languages(); }
    void mainWindow();
    void trayMenu_data() { languages(); }
    void trayMenu();
    void settingsDialog_data() { languages(); }
    void settingsDialog();

private:
    static void languages();

    struct WindowTexts {
        QStringList texts;
        QString connectedButton;
        QString disconnectedButton;
        QString peerWindowTitle;
        QString mainWindowTitle;
        QString fileMenu;
    };
    WindowTexts mainWindowIn(const QString& language);

    struct TrayTexts {
        QStringList texts;
        QString connect;
        QString quit;
        QString morePeers;
        QString tooltip;
    };
    TrayTexts trayMenuIn(const QString& language);

    struct DialogTexts {
        QStringList texts;
        QString title;
        QString notifications;
        QString startAtLogin;
        QString language;
        QString systemDefault;
    };
    DialogTexts settingsDialogIn(const QString& language);

    QTemporaryDir config_;
};

void tst_Localization::initTestCase() {
    QVERIFY(config_.isValid());
    // The settings dialog reads the autostart entry; keep it away from the real one.
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(config_.path()));
}

void tst_Localization::cleanup() {
    installTranslations(QCoreApplication::instance(), QStringLiteral("en"));
}

void tst_Localization::languages() {
    QTest::addColumn<QString>("language");
    QTest::newRow("de") << QStringLiteral("de");
    QTest::newRow("fr") << QStringLiteral("fr");
}

void tst_Localization::catalogueIsInstalled() {
    QFETCH(QString, language);
    install(language);
    QCOMPARE(chosenTranslation(), QStringLiteral(":/i18n/calnet_%1.qm").arg(language));
    const QList<QTranslator*> translators = installedTranslators();
    QVERIFY(!translators.isEmpty());
    QVERIFY(!translators.first()->isEmpty());
    QCOMPARE(availableLanguages().value(0).second, expected(language).value("systemDefault"));
}

void tst_Localization::trayStateTexts() {
    QFETCH(QString, language);
    const struct {
        TrayState state;
        const char* name;
    } states[] = {
        {TrayState::Unavailable, "Unavailable"}, {TrayState::Disconnected, "Disconnected"},
        {TrayState::Connecting, "Connecting"},   {TrayState::Connected, "Connected"},
        {TrayState::Degraded, "Degraded"},       {TrayState::Error, "Error"}};
    QHash<QString, QString> english;
    for (const auto& s : states)
        english.insert(QString::fromLatin1(s.name), trayStateText(s.state));
    install(language);
    const QHash<QString, QString> want = expected(language);
    for (const auto& s : states) {
        const QString name = QString::fromLatin1(s.name);
        QCOMPARE(trayStateText(s.state), want.value(name));
        QVERIFY2(trayStateText(s.state) != english.value(name), s.name);
    }
}

void tst_Localization::pluralForms() {
    QFETCH(QString, language);
    install(language);
    const QHash<QString, QString> want = expected(language);
    // The tooltip's last line is the peer count.
    for (int n : {0, 1, 5}) {
        TooltipInputs in;
        in.state = TrayState::Connected;
        in.peers = n;
        const QString last = trayTooltip(in).split(QLatin1Char('\n')).last();
        QCOMPARE(last, want.value(QStringLiteral("peers%1").arg(n)));
    }
}

// The peer model's texts: health words, sizes and column titles.
void tst_Localization::peerTexts() {
    QFETCH(QString, language);
    install(language);
    const QHash<QString, QString> want = expected(language);
    QCOMPARE(healthText(ipc::Health::Healthy), want.value("healthy"));
    QCOMPARE(healthText(ipc::Health::Stale), want.value("stale"));
    QCOMPARE(healthText(ipc::Health::Dead), want.value("dead"));
    QCOMPARE(healthText(ipc::Health::Never), want.value("never"));
    QCOMPARE(formatBytes(512), want.value("bytes"));
    PeerModel model;
    QCOMPARE(model.headerData(PeerModel::Endpoint, Qt::Horizontal).toString(),
             want.value("endpointHeader"));
}

tst_Localization::WindowTexts tst_Localization::mainWindowIn(const QString& language) {
    WindowTexts out;
    install(language);
    FakeHelper helper;
    helper.profiles = {FakeHelper::profile("home"), FakeHelper::profile("office")};
    const qint64 recent = QDateTime::currentSecsSinceEpoch() - 3;
    helper.peers = {FakeHelper::peer(kKey, "10.0.0.1/32", recent, 1536, 700),
                    FakeHelper::peer("K2", "10.0.0.3/32", std::nullopt)};
    helper.setState(QStringLiteral("connected"), QStringLiteral("home"));
    // QTest's macros return on failure, so they run in lambdas here; the caller checks
    // QTest::currentTestFailed().
    [&] { QVERIFY(helper.start()); }();
    if (QTest::currentTestFailed())
        return out;
    HelperSession session;
    session.start(helper.path());
    {
        MainWindow main(&session, MainWindow::Mode::Main);
        out.mainWindowTitle = main.windowTitle();
    }
    MainWindow window(&session, MainWindow::Mode::PeerBrowser);
    window.show();
    [&] {
        QTRY_COMPARE_WITH_TIMEOUT(window.stateLabel()->text(), trayStateText(TrayState::Connected),
                                  kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(window.browser()->table()->model()->rowCount(), 2, kWaitMs);
        QVERIFY(window.browser()->selectPeer(kKey));
        QTRY_VERIFY_WITH_TIMEOUT(window.connectButton()->isEnabled(), kWaitMs);
    }();
    out.connectedButton = window.connectButton()->text();
    out.peerWindowTitle = window.windowTitle();
    out.fileMenu = window.menuBar()->actions().value(0)->text();
    out.texts << visibleTexts(&window);

    [&] {
        const QStringList clashes = mnemonicClashes(windowScope(&window));
        QVERIFY2(clashes.isEmpty(), qPrintable(joined(clashes)));
        for (QAction* menu : window.menuBar()->actions()) {
            const QStringList inMenu = mnemonicClashes(topLevelMenuTexts(menu->menu()->actions()));
            QVERIFY2(inMenu.isEmpty(), qPrintable(joined(inMenu)));
        }
    }();

    QTest::mouseClick(window.connectButton(), Qt::LeftButton);
    [&] {
        QTRY_COMPARE_WITH_TIMEOUT(window.stateLabel()->text(),
                                  trayStateText(TrayState::Disconnected), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(window.connectButton()->isEnabled(), kWaitMs);
    }();
    out.disconnectedButton = window.connectButton()->text();
    out.texts << visibleTexts(&window);
    const QStringList clashes = mnemonicClashes(windowScope(&window));
    [&] { QVERIFY2(clashes.isEmpty(), qPrintable(joined(clashes))); }();
    return out;
}

void tst_Localization::mainWindow() {
    QFETCH(QString, language);
    const WindowTexts english = mainWindowIn(QStringLiteral("en"));
    if (QTest::currentTestFailed())
        return;
    const WindowTexts local = mainWindowIn(language);
    if (QTest::currentTestFailed())
        return;
    const QHash<QString, QString> want = expected(language);

    QCOMPARE(english.connectedButton, QStringLiteral("&Disconnect"));
    QCOMPARE(english.disconnectedButton, QStringLiteral("&Connect"));
    QCOMPARE(local.connectedButton, want.value("disconnect"));
    QCOMPARE(local.disconnectedButton, want.value("connect"));
    QCOMPARE(local.peerWindowTitle, want.value("peerWindowTitle"));
    QCOMPARE(local.mainWindowTitle, QStringLiteral("Calnet"));
    QCOMPARE(local.fileMenu, want.value("fileMenu"));
    QVERIFY(local.texts.size() >= 20); // header, menus, peer browser and its detail pane
    QCOMPARE(local.texts.size(), english.texts.size());
    const QStringList left = untranslated(local.texts, english.texts, language);
    QVERIFY2(left.isEmpty(), qPrintable(QStringLiteral("still English: ") + joined(left)));
}

tst_Localization::TrayTexts tst_Localization::trayMenuIn(const QString& language) {
    TrayTexts out;
    install(language);
    FakeHelper helper;
    helper.profiles = {FakeHelper::profile("home"), FakeHelper::profile("office")};
    const qint64 recent = QDateTime::currentSecsSinceEpoch() - 3;
    // One more peer than the menu lists; the one never seen sorts first, so it is listed.
    for (int i = 1; i <= TrayController::kMaxMenuPeers; ++i)
        helper.peers.append(FakeHelper::peer(QStringLiteral("peer%1key").arg(i),
                                             QStringLiteral("10.0.1.%1/32").arg(i), recent));
    helper.peers.append(FakeHelper::peer("Asilentkey", "10.0.1.99/32", std::nullopt));
    helper.setState(QStringLiteral("connected"), QStringLiteral("home"));
    [&] { QVERIFY(helper.start()); }();
    if (QTest::currentTestFailed())
        return out;
    HelperSession session;
    session.start(helper.path());
    TrayController tray(&session);
    [&] {
        QTRY_COMPARE_WITH_TIMEOUT(session.trayState(), TrayState::Connected, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(session.peerModel()->rowCount(),
                                  TrayController::kMaxMenuPeers + 1, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(session.profileModel()->rowCount(), 2, kWaitMs);
    }();
    tray.rebuildMenu();
    QAction* more = tray.action(QStringLiteral("morePeers"));
    QAction* quit = tray.action(QStringLiteral("quit"));
    [&] {
        QVERIFY(more);
        QVERIFY(quit);
        QVERIFY(tray.action(QStringLiteral("disconnect")));
    }();
    if (QTest::currentTestFailed())
        return out;
    out.morePeers = more->text();
    out.quit = quit->text();
    out.tooltip = tray.trayIcon()->toolTip();
    out.texts << menuTexts(tray.menu()->actions());
    const QStringList clashes = mnemonicClashes(topLevelMenuTexts(tray.menu()->actions()));
    [&] { QVERIFY2(clashes.isEmpty(), qPrintable(joined(clashes))); }();

    session.disconnectTunnel();
    [&] { QTRY_COMPARE_WITH_TIMEOUT(session.trayState(), TrayState::Disconnected, kWaitMs); }();
    tray.rebuildMenu();
    if (QAction* connect = tray.action(QStringLiteral("connect")))
        out.connect = connect->text();
    out.texts << menuTexts(tray.menu()->actions());
    const QStringList disconnectedClashes =
        mnemonicClashes(topLevelMenuTexts(tray.menu()->actions()));
    [&] { QVERIFY2(disconnectedClashes.isEmpty(), qPrintable(joined(disconnectedClashes))); }();
    return out;
}

void tst_Localization::trayMenu() {
    QFETCH(QString, language);
    const TrayTexts english = trayMenuIn(QStringLiteral("en"));
    if (QTest::currentTestFailed())
        return;
    const TrayTexts local = trayMenuIn(language);
    if (QTest::currentTestFailed())
        return;
    const QHash<QString, QString> want = expected(language);

    QCOMPARE(english.connect, QStringLiteral("&Connect to home"));
    QCOMPARE(local.connect, want.value("trayConnect"));
    QCOMPARE(local.quit, want.value("trayQuit"));
    QCOMPARE(local.morePeers, want.value("trayMorePeers"));
    QVERIFY2(local.tooltip != english.tooltip, qPrintable(local.tooltip));
    QVERIFY2(local.tooltip.contains(want.value("Connected")), qPrintable(local.tooltip));
    QVERIFY(local.texts.size() >= 20); // both states: state line, actions, profiles, peers
    QCOMPARE(local.texts.size(), english.texts.size());
    const QStringList left = untranslated(local.texts, english.texts, language);
    QVERIFY2(left.isEmpty(), qPrintable(QStringLiteral("still English: ") + joined(left)));
}

tst_Localization::DialogTexts tst_Localization::settingsDialogIn(const QString& language) {
    DialogTexts out;
    install(language);
    QTemporaryDir dir;
    AppSettings settings(dir.filePath(QStringLiteral("calnet.ini")));
    SettingsDialog dialog(&settings);
    dialog.show();
    out.title = dialog.windowTitle();
    out.notifications = dialog.notificationsCheckBox()->text();
    out.startAtLogin = dialog.startAtLoginCheckBox()->text();
    for (QLabel* label : dialog.findChildren<QLabel*>())
        if (label->buddy() == dialog.languageComboBox())
            out.language = label->text();
    out.systemDefault = dialog.languageComboBox()->itemText(0);
    out.texts = visibleTexts(&dialog);
    QStringList scope;
    for (QAbstractButton* b : dialog.findChildren<QAbstractButton*>())
        scope << b->text();
    scope << out.language;
    const QStringList clashes = mnemonicClashes(scope);
    [&] { QVERIFY2(clashes.isEmpty(), qPrintable(joined(clashes))); }();
    return out;
}

void tst_Localization::settingsDialog() {
    QFETCH(QString, language);
    const DialogTexts english = settingsDialogIn(QStringLiteral("en"));
    if (QTest::currentTestFailed())
        return;
    const DialogTexts local = settingsDialogIn(language);
    if (QTest::currentTestFailed())
        return;
    const QHash<QString, QString> want = expected(language);

    QCOMPARE(english.notifications, QStringLiteral("Show &notifications"));
    QCOMPARE(local.title, want.value("settingsTitle"));
    QCOMPARE(local.notifications, want.value("notifications"));
    QCOMPARE(local.startAtLogin, want.value("startAtLogin"));
    QCOMPARE(local.language, want.value("language"));
    QCOMPARE(local.systemDefault, want.value("systemDefault"));
    QVERIFY(local.texts.size() >= 5); // title, two checkboxes, label and note, Close
    QCOMPARE(local.texts.size(), english.texts.size());
    // The Close button is Qt's; its text is translated only where Qt's catalogue is installed.
    QStringList left = untranslated(local.texts, english.texts, language);
    if (installedTranslators().size() < 2)
        left.removeAll(QDialogButtonBox(QDialogButtonBox::Close).buttons().value(0)->text());
    QVERIFY2(left.isEmpty(), qPrintable(QStringLiteral("still English: ") + joined(left)));
}

QTEST_MAIN(tst_Localization)
#include "tst_localization.moc"
