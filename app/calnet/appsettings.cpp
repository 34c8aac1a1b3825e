#include "app/calnet/appsettings.h"

#include <QSettings>

#include "app/platform/autostart.h"

namespace calnet::app {

namespace {
const QString kNotifications = QStringLiteral("notifications/enabled");
const QString kLanguage = QStringLiteral("interface/language");
const QString kLastProfile = QStringLiteral("session/lastProfile");
const QString kLastServer = QStringLiteral("session/lastServer");
} // namespace

AppSettings::AppSettings(QObject* parent) : AppSettings(QString(), parent) {}

AppSettings::AppSettings(const QString& filePath, QObject* parent)
    : QObject(parent),
      settings_(filePath.isEmpty()
                    ? new QSettings(QStringLiteral("Calnet"), QStringLiteral("calnet"), this)
                    : new QSettings(filePath, QSettings::IniFormat, this)) {}

AppSettings::~AppSettings() = default;

void AppSettings::store(const QString& key, const QVariant& value) {
    settings_->setValue(key, value);
    settings_->sync();
}

bool AppSettings::notificationsEnabled() const {
    return settings_->value(kNotifications, true).toBool();
}

void AppSettings::setNotificationsEnabled(bool on) {
    if (on == notificationsEnabled())
        return;
    store(kNotifications, on);
    emit notificationsEnabledChanged(on);
    emit settingsChanged();
}

bool AppSettings::startAtLogin() const {
    return autostart::isEnabled();
}

bool AppSettings::setStartAtLogin(bool on, QString* error) {
    const bool before = autostart::isEnabled();
    if (!autostart::setEnabled(on, error))
        return false;
    if (before != on) {
        emit startAtLoginChanged(on);
        emit settingsChanged();
    }
    return true;
}

QString AppSettings::language() const {
    return settings_->value(kLanguage, QString()).toString();
}

void AppSettings::setLanguage(const QString& language) {
    const QString value = language.trimmed();
    if (value == this->language())
        return;
    store(kLanguage, value);
    emit languageChanged(value);
    emit settingsChanged();
}

QString AppSettings::lastServer() const {
    return settings_->value(kLastServer, QString()).toString();
}

void AppSettings::setLastServer(const QString& server) {
    if (server != lastServer())
        store(kLastServer, server);
}

QString AppSettings::lastProfile() const {
    return settings_->value(kLastProfile, QString()).toString();
}

void AppSettings::setLastProfile(const QString& profile) {
    if (profile == lastProfile())
        return;
    store(kLastProfile, profile);
    emit lastProfileChanged(profile);
    emit settingsChanged();
}

QString AppSettings::fileName() const {
    return settings_->fileName();
}

} // namespace calnet::app
