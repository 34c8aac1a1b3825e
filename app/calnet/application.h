// Wires the app together: one HelperSession, the tray (when a tray host exists) or the main
// window (when none does), the peer browser, import, settings and notifications.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>

class QTimer;

namespace calnet::app {

class Account;
class AppSettings;
class DropImportFilter;
class HelperSession;
class Importer;
class MainWindow;
class Notifier;
class SecretStore;
class SettingsDialog;
class SignInDialog;
class TrayController;

class Application : public QObject {
    Q_OBJECT

public:
    struct Options {
        QString socketPath;
        bool noTray = false;            // behave as if no tray host existed
        bool showWindow = false;        // open the peer browser (tray) / main window at start
        bool autostart = false;         // started at login: stay quiet
        SecretStore* secrets = nullptr; // where refresh tokens go; default: the keychain
    };

    Application(const Options& options, AppSettings* settings, QObject* parent = nullptr);
    ~Application() override;

    void start();

    [[nodiscard]] HelperSession* session() const { return session_; }
    [[nodiscard]] TrayController* tray() const { return tray_; }
    // The main window (no tray) or the peer browser window (tray), once created.
    [[nodiscard]] MainWindow* window() const;
    [[nodiscard]] Importer* importer() const { return importer_; }
    [[nodiscard]] Notifier* notifier() const { return notifier_; }
    [[nodiscard]] Account* account() const { return account_; }
    [[nodiscard]] SignInDialog* signInDialog() const;
    [[nodiscard]] bool usesTray() const { return tray_ != nullptr; }

signals:
    // Each user-facing transition, as handed to the Notifier (which may still drop it when
    // notifications are switched off).
    void notificationRequested(int kind, const QString& title, const QString& body);

public slots:
    void showWindow();
    void openImport();
    void openSettings();
    void openSignIn();
    // Asks, then signs out (removing the device from the network when the box is ticked).
    void signOut();
    void showAbout();
    // Arguments of a second launch: raise the window (or open the peer browser).
    void handleSecondLaunch(const QStringList& arguments);

private:
    void createTray();
    MainWindow* ensureWindow();
    void rememberProfile(const QString& name);
    void notify(int kind, const QString& title, const QString& body);

    Options options_;
    AppSettings* settings_;
    HelperSession* session_ = nullptr;
    TrayController* tray_ = nullptr;
    QPointer<MainWindow> window_;
    Importer* importer_ = nullptr;
    DropImportFilter* dropFilter_ = nullptr;
    Notifier* notifier_ = nullptr;
    QPointer<SettingsDialog> settingsDialog_;
    QPointer<SignInDialog> signInDialog_;
    Account* account_ = nullptr;
    QTimer* trayWatch_ = nullptr;
};

} // namespace calnet::app
