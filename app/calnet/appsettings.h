// The app's preferences. Everything but start-at-login lives in a QSettings file
// (~/.config/Calnet/calnet.conf by default; tests pass their own path). Start-at-login is the
// autostart desktop entry itself (autostart.h), read afresh on every call, so it cannot drift
// from what the session manager will do.
//
// Every setter writes through at once (sync), so a crash or a logout right after a change does
// not lose it, and emits its own changed signal plus settingsChanged() only when the value
// actually changed.
#pragma once

#include <QObject>
#include <QString>

class QSettings;

namespace calnet::app {

class AppSettings : public QObject {
    Q_OBJECT
    Q_PROPERTY(bool notificationsEnabled READ notificationsEnabled WRITE setNotificationsEnabled
                   NOTIFY notificationsEnabledChanged)
    Q_PROPERTY(bool startAtLogin READ startAtLogin WRITE setStartAtLogin NOTIFY startAtLoginChanged)
    Q_PROPERTY(QString language READ language WRITE setLanguage NOTIFY languageChanged)
    Q_PROPERTY(QString lastProfile READ lastProfile WRITE setLastProfile NOTIFY lastProfileChanged)

public:
    // The user's settings: QSettings("Calnet", "calnet") in the native format.
    explicit AppSettings(QObject* parent = nullptr);
    // An INI file at `filePath` (tests); an empty path means the user's settings.
    explicit AppSettings(const QString& filePath, QObject* parent = nullptr);
    ~AppSettings() override;

    // Desktop notifications on connect, disconnect and failure. Default on.
    [[nodiscard]] bool notificationsEnabled() const;
    void setNotificationsEnabled(bool on);

    // Whether the autostart entry is in place (autostart::isEnabled()).
    [[nodiscard]] bool startAtLogin() const;
    // Writes or removes the autostart entry. On failure returns false with a translated
    // reason in `error`; nothing is emitted then.
    bool setStartAtLogin(bool on, QString* error = nullptr);

    // "" follows the system; otherwise "en", "de" or "fr". Takes effect at the next start.
    [[nodiscard]] QString language() const;
    void setLanguage(const QString& language);

    // The profile last connected from the app, offered first next time.
    [[nodiscard]] QString lastProfile() const;
    void setLastProfile(const QString& profile);
    // The Calnet server URL last typed into the sign-in dialog.
    [[nodiscard]] QString lastServer() const;
    void setLastServer(const QString& server);

    // The backing file, for diagnostics.
    [[nodiscard]] QString fileName() const;

signals:
    void notificationsEnabledChanged(bool on);
    void startAtLoginChanged(bool on);
    void languageChanged(const QString& language);
    void lastProfileChanged(const QString& profile);
    // After any of the above.
    void settingsChanged();

private:
    void store(const QString& key, const QVariant& value);

    QSettings* settings_ = nullptr;
};

} // namespace calnet::app
