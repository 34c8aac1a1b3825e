// AppSettings: defaults, persistence through an INI file, change signals, and start-at-login
// backed by the autostart entry under a private XDG_CONFIG_HOME.
#include <QDir>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "app/calnet/appsettings.h"
#include "app/platform/autostart.h"

using calnet::app::AppSettings;

class tst_AppSettings : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void defaults();
    void roundTrip();
    void defaultFileIsNativeUnderXdgConfig();
    void signalsOnlyOnChange();
    void signalsPerProperty();
    void languageIsTrimmed();
    void startAtLoginFollowsEntry();
    void startAtLoginFailureEmitsNothing();

private:
    QString iniPath() const { return dir_->filePath(QStringLiteral("calnet.ini")); }

    std::unique_ptr<QTemporaryDir> config_;
    std::unique_ptr<QTemporaryDir> dir_;
};

void tst_AppSettings::initTestCase() {
    // Before the first QSettings: it reads XDG_CONFIG_HOME once. Keeps the user's files safe.
    config_ = std::make_unique<QTemporaryDir>();
    QVERIFY(config_->isValid());
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(config_->path()));
}

void tst_AppSettings::init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    QFile::remove(calnet::app::autostart::entryPath());
}

void tst_AppSettings::defaults() {
    AppSettings settings(iniPath());
    QCOMPARE(settings.notificationsEnabled(), true);
    QCOMPARE(settings.language(), QString());
    QCOMPARE(settings.lastProfile(), QString());
    QCOMPARE(settings.startAtLogin(), false);
    QCOMPARE(settings.fileName(), iniPath());
    // Reading defaults writes nothing.
    QVERIFY(!QFile::exists(iniPath()));
}

void tst_AppSettings::roundTrip() {
    {
        AppSettings settings(iniPath());
        settings.setNotificationsEnabled(false);
        settings.setLanguage(QStringLiteral("fr"));
        settings.setLastProfile(QStringLiteral("büro vpn"));
        // Written through at once, before the object goes away.
        QVERIFY(QFile::exists(iniPath()));
        QSettings raw(iniPath(), QSettings::IniFormat);
        QCOMPARE(raw.value(QStringLiteral("notifications/enabled")).toBool(), false);
        QCOMPARE(raw.value(QStringLiteral("interface/language")).toString(), QStringLiteral("fr"));
    }
    AppSettings reopened(iniPath());
    QCOMPARE(reopened.notificationsEnabled(), false);
    QCOMPARE(reopened.language(), QStringLiteral("fr"));
    QCOMPARE(reopened.lastProfile(), QStringLiteral("büro vpn"));

    reopened.setNotificationsEnabled(true);
    reopened.setLanguage(QString());
    AppSettings again(iniPath());
    QCOMPARE(again.notificationsEnabled(), true);
    QCOMPARE(again.language(), QString());
}

void tst_AppSettings::defaultFileIsNativeUnderXdgConfig() {
    AppSettings settings;
    QCOMPARE(settings.fileName(), config_->filePath(QStringLiteral("Calnet/calnet.conf")));
    settings.setLastProfile(QStringLiteral("home"));
    QVERIFY(QFile::exists(settings.fileName()));
    settings.setLastProfile(QString());
}

void tst_AppSettings::signalsOnlyOnChange() {
    AppSettings settings(iniPath());
    QSignalSpy any(&settings, &AppSettings::settingsChanged);
    QSignalSpy notifications(&settings, &AppSettings::notificationsEnabledChanged);

    settings.setNotificationsEnabled(true); // already the default
    settings.setLanguage(QString());
    settings.setLastProfile(QString());
    QCOMPARE(any.count(), 0);
    QCOMPARE(notifications.count(), 0);

    settings.setNotificationsEnabled(false);
    QCOMPARE(notifications.count(), 1);
    QCOMPARE(notifications.at(0).at(0).toBool(), false);
    QCOMPARE(any.count(), 1);
    settings.setNotificationsEnabled(false);
    QCOMPARE(notifications.count(), 1);
    QCOMPARE(any.count(), 1);
}

void tst_AppSettings::signalsPerProperty() {
    AppSettings settings(iniPath());
    QSignalSpy any(&settings, &AppSettings::settingsChanged);
    QSignalSpy language(&settings, &AppSettings::languageChanged);
    QSignalSpy profile(&settings, &AppSettings::lastProfileChanged);
    QSignalSpy notifications(&settings, &AppSettings::notificationsEnabledChanged);

    settings.setLanguage(QStringLiteral("de"));
    QCOMPARE(language.count(), 1);
    QCOMPARE(language.at(0).at(0).toString(), QStringLiteral("de"));
    QCOMPARE(profile.count(), 0);
    QCOMPARE(notifications.count(), 0);

    settings.setLastProfile(QStringLiteral("office"));
    QCOMPARE(profile.count(), 1);
    QCOMPARE(profile.at(0).at(0).toString(), QStringLiteral("office"));
    QCOMPARE(language.count(), 1);
    QCOMPARE(any.count(), 2);

    // The property system sees the same values and notifications.
    QCOMPARE(settings.property("language").toString(), QStringLiteral("de"));
    QVERIFY(settings.setProperty("notificationsEnabled", false));
    QCOMPARE(notifications.count(), 1);
    QCOMPARE(settings.notificationsEnabled(), false);
    QCOMPARE(any.count(), 3);
}

void tst_AppSettings::languageIsTrimmed() {
    AppSettings settings(iniPath());
    settings.setLanguage(QStringLiteral(" de "));
    QCOMPARE(settings.language(), QStringLiteral("de"));
}

void tst_AppSettings::startAtLoginFollowsEntry() {
    AppSettings settings(iniPath());
    QSignalSpy spy(&settings, &AppSettings::startAtLoginChanged);
    QSignalSpy any(&settings, &AppSettings::settingsChanged);
    QCOMPARE(settings.startAtLogin(), false);

    QString error;
    QVERIFY(settings.setStartAtLogin(true, &error));
    QVERIFY(error.isEmpty());
    QVERIFY(QFile::exists(calnet::app::autostart::entryPath()));
    QCOMPARE(settings.startAtLogin(), true);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toBool(), true);
    QCOMPARE(any.count(), 1);

    QVERIFY(settings.setStartAtLogin(true));
    QCOMPARE(spy.count(), 1);

    // The entry is the truth: removing it by hand shows up at once.
    QVERIFY(QFile::remove(calnet::app::autostart::entryPath()));
    QCOMPARE(settings.startAtLogin(), false);

    QVERIFY(settings.setStartAtLogin(true));
    QVERIFY(settings.setStartAtLogin(false));
    QVERIFY(!QFile::exists(calnet::app::autostart::entryPath()));
    QCOMPARE(settings.startAtLogin(), false);
    QCOMPARE(spy.count(), 3);
    QCOMPARE(spy.at(2).at(0).toBool(), false);
    // Nothing about autostart lands in the settings file.
    QSettings raw(iniPath(), QSettings::IniFormat);
    QVERIFY(raw.allKeys().isEmpty());
}

void tst_AppSettings::startAtLoginFailureEmitsNothing() {
    // A regular file where the autostart directory should be.
    const QString autostartDir = config_->filePath(QStringLiteral("autostart"));
    QVERIFY(QDir(autostartDir).removeRecursively());
    QFile blocker(autostartDir);
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    const auto cleanup = qScopeGuard([&] { QFile::remove(autostartDir); });

    AppSettings settings(iniPath());
    QSignalSpy spy(&settings, &AppSettings::settingsChanged);
    QString error;
    QVERIFY(!settings.setStartAtLogin(true, &error));
    QVERIFY2(error.contains(autostartDir), qPrintable(error));
    QCOMPARE(settings.startAtLogin(), false);
    QCOMPARE(spy.count(), 0);
}

QTEST_GUILESS_MAIN(tst_AppSettings)
#include "tst_appsettings.moc"
