// SettingsDialog: each control changes AppSettings at once (start at login through the
// autostart entry under a private XDG_CONFIG_HOME), failures show inline, and every control is
// named for assistive technology and reachable with Tab and its mnemonic.
#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "app/calnet/appsettings.h"
#include "app/calnet/settingsdialog.h"
#include "app/platform/autostart.h"

using calnet::app::AppSettings;
using calnet::app::SettingsDialog;
namespace autostart = calnet::app::autostart;

namespace {

// The label whose buddy is `w`, if any.
QLabel* buddyLabelOf(QWidget* dialog, QWidget* w) {
    for (QLabel* label : dialog->findChildren<QLabel*>())
        if (label->buddy() == w)
            return label;
    return nullptr;
}

QList<QWidget*> interactiveControls(QWidget* dialog) {
    QList<QWidget*> controls;
    for (QAbstractButton* b : dialog->findChildren<QAbstractButton*>())
        controls << b;
    for (QComboBox* c : dialog->findChildren<QComboBox*>())
        controls << c;
    return controls;
}

} // namespace

class tst_SettingsDialog : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void showsCurrentSettings();
    void notificationsCheckBox();
    void startAtLoginWritesAndRemovesEntry();
    void startAtLoginReflectsEntry();
    void startAtLoginFailureIsInline();
    void languagePersists();
    void unknownLanguageShowsSystemDefault();
    void followsExternalChanges();
    void everyControlIsNamed();
    void tabReachesEverything();
    void mnemonics();
    void closeButtonCloses();

private:
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<AppSettings> settings_;
};

void tst_SettingsDialog::init() {
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(dir_->filePath(QStringLiteral("config"))));
    settings_ = std::make_unique<AppSettings>(dir_->filePath(QStringLiteral("calnet.ini")));
}

void tst_SettingsDialog::cleanup() {
    settings_.reset();
    dir_.reset();
}

void tst_SettingsDialog::showsCurrentSettings() {
    settings_->setNotificationsEnabled(false);
    settings_->setLanguage(QStringLiteral("fr"));
    SettingsDialog dialog(settings_.get());
    QCOMPARE(dialog.notificationsCheckBox()->isChecked(), false);
    QCOMPARE(dialog.startAtLoginCheckBox()->isChecked(), false);
    QCOMPARE(dialog.languageComboBox()->currentData().toString(), QStringLiteral("fr"));
    QCOMPARE(dialog.languageComboBox()->currentText(), QStringLiteral("Français"));
    QCOMPARE(dialog.languageComboBox()->count(), 4);
    QVERIFY(dialog.startAtLoginErrorLabel()->isHidden());
}

void tst_SettingsDialog::notificationsCheckBox() {
    SettingsDialog dialog(settings_.get());
    QSignalSpy spy(settings_.get(), &AppSettings::notificationsEnabledChanged);
    QCheckBox* box = dialog.notificationsCheckBox();
    QVERIFY(box->isChecked());
    QTest::mouseClick(box, Qt::LeftButton);
    QCOMPARE(settings_->notificationsEnabled(), false);
    QCOMPARE(spy.count(), 1);
    // Persisted, not just held in memory.
    QCOMPARE(AppSettings(settings_->fileName()).notificationsEnabled(), false);
    QTest::mouseClick(box, Qt::LeftButton);
    QCOMPARE(settings_->notificationsEnabled(), true);
    QCOMPARE(spy.count(), 2);
}

void tst_SettingsDialog::startAtLoginWritesAndRemovesEntry() {
    SettingsDialog dialog(settings_.get());
    QCheckBox* box = dialog.startAtLoginCheckBox();
    QVERIFY(!box->isChecked());
    QTest::mouseClick(box, Qt::LeftButton);
    QVERIFY(QFile::exists(autostart::entryPath()));
    QVERIFY(autostart::isEnabled());
    QVERIFY(box->isChecked());
    QVERIFY(dialog.startAtLoginErrorLabel()->isHidden());
    QTest::mouseClick(box, Qt::LeftButton);
    QVERIFY(!QFile::exists(autostart::entryPath()));
    QVERIFY(!box->isChecked());
}

void tst_SettingsDialog::startAtLoginReflectsEntry() {
    QVERIFY(autostart::setEnabled(true));
    {
        SettingsDialog dialog(settings_.get());
        QVERIFY(dialog.startAtLoginCheckBox()->isChecked());
    }
    // Switched off by hand the way GNOME does it.
    QFile f(autostart::entryPath());
    QVERIFY(f.open(QIODevice::Append));
    f.write("Hidden=true\n");
    f.close();
    SettingsDialog dialog(settings_.get());
    QVERIFY(!dialog.startAtLoginCheckBox()->isChecked());
    // Re-read when shown again.
    QVERIFY(autostart::setEnabled(true));
    dialog.show();
    QVERIFY(dialog.startAtLoginCheckBox()->isChecked());
}

void tst_SettingsDialog::startAtLoginFailureIsInline() {
    // A file where the autostart directory should be.
    QVERIFY(QDir().mkpath(dir_->filePath(QStringLiteral("config"))));
    const QString blocker = dir_->filePath(QStringLiteral("config/autostart"));
    QFile f(blocker);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();

    SettingsDialog dialog(settings_.get());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QCheckBox* box = dialog.startAtLoginCheckBox();
    QTest::mouseClick(box, Qt::LeftButton);
    QVERIFY(!box->isChecked()); // snapped back to the truth
    QLabel* error = dialog.startAtLoginErrorLabel();
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains(blocker), qPrintable(error->text()));
    QVERIFY(!error->accessibleName().isEmpty());
    QCOMPARE(box->accessibleDescription(), error->text());
    // Inline, not a message box.
    QCOMPARE(QApplication::activeModalWidget(), nullptr);
    QVERIFY(dialog.findChildren<QMessageBox*>().isEmpty());
    for (QWidget* w : QApplication::topLevelWidgets())
        QVERIFY(!qobject_cast<QMessageBox*>(w));

    // Once the cause is gone, a retry succeeds and the message goes away.
    QVERIFY(QFile::remove(blocker));
    QTest::mouseClick(box, Qt::LeftButton);
    QVERIFY(box->isChecked());
    QVERIFY(autostart::isEnabled());
    QVERIFY(!error->isVisible());
    QVERIFY(box->accessibleDescription().isEmpty());
}

void tst_SettingsDialog::languagePersists() {
    {
        SettingsDialog dialog(settings_.get());
        QComboBox* combo = dialog.languageComboBox();
        QCOMPARE(combo->currentData().toString(), QString());
        QSignalSpy spy(settings_.get(), &AppSettings::languageChanged);
        combo->setCurrentIndex(combo->findData(QStringLiteral("de")));
        QCOMPARE(settings_->language(), QStringLiteral("de"));
        QCOMPARE(spy.count(), 1);
        // With the keyboard: one down from Deutsch is Français.
        combo->setFocus();
        QTest::keyClick(combo, Qt::Key_Down);
        QCOMPARE(settings_->language(), QStringLiteral("fr"));
    }
    AppSettings reopened(settings_->fileName());
    QCOMPARE(reopened.language(), QStringLiteral("fr"));
    SettingsDialog dialog(&reopened);
    QCOMPARE(dialog.languageComboBox()->currentText(), QStringLiteral("Français"));
    // Back to following the system.
    dialog.languageComboBox()->setCurrentIndex(0);
    QCOMPARE(reopened.language(), QString());
    // The note tells when the choice applies.
    bool noted = false;
    for (QLabel* label : dialog.findChildren<QLabel*>())
        noted = noted || label->text().contains(QLatin1StringView("next started"));
    QVERIFY(noted);
}

void tst_SettingsDialog::unknownLanguageShowsSystemDefault() {
    settings_->setLanguage(QStringLiteral("xx"));
    SettingsDialog dialog(settings_.get());
    QCOMPARE(dialog.languageComboBox()->currentIndex(), 0);
    // Showing it did not rewrite the setting.
    QCOMPARE(settings_->language(), QStringLiteral("xx"));
}

void tst_SettingsDialog::followsExternalChanges() {
    SettingsDialog dialog(settings_.get());
    settings_->setNotificationsEnabled(false);
    QVERIFY(!dialog.notificationsCheckBox()->isChecked());
    settings_->setLanguage(QStringLiteral("de"));
    QCOMPARE(dialog.languageComboBox()->currentData().toString(), QStringLiteral("de"));
    QVERIFY(settings_->setStartAtLogin(true));
    QVERIFY(dialog.startAtLoginCheckBox()->isChecked());
    // Updating the widgets did not echo back into the settings.
    QCOMPARE(settings_->notificationsEnabled(), false);
}

void tst_SettingsDialog::everyControlIsNamed() {
    SettingsDialog dialog(settings_.get());
    const QList<QWidget*> controls = interactiveControls(&dialog);
    QVERIFY(controls.size() >= 4); // two checkboxes, the combo, Close
    for (QWidget* w : controls) {
        const QLabel* buddy = buddyLabelOf(&dialog, w);
        QVERIFY2(!w->accessibleName().isEmpty() || (buddy && !buddy->text().isEmpty()),
                 w->metaObject()->className());
    }
    QVERIFY(!dialog.windowTitle().isEmpty());
    QCOMPARE(buddyLabelOf(&dialog, dialog.languageComboBox()) != nullptr, true);
}

void tst_SettingsDialog::tabReachesEverything() {
    SettingsDialog dialog(settings_.get());
    dialog.show();
    QApplication::setActiveWindow(&dialog);
    QVERIFY(QTest::qWaitForWindowActive(&dialog));

    const QList<QWidget*> controls = interactiveControls(&dialog);
    dialog.notificationsCheckBox()->setFocus(Qt::TabFocusReason);
    QTRY_COMPARE_WITH_TIMEOUT(QApplication::focusWidget(),
                              static_cast<QWidget*>(dialog.notificationsCheckBox()), 2000);
    QList<QWidget*> visited;
    for (int i = 0; i < 2 * controls.size(); ++i) {
        QWidget* focus = QApplication::focusWidget();
        QVERIFY(focus);
        if (visited.contains(focus))
            break;
        visited << focus;
        QTest::keyClick(focus, Qt::Key_Tab);
    }
    for (QWidget* w : controls)
        QVERIFY2(visited.contains(w), qPrintable(w->accessibleName()));
    // In reading order.
    QCOMPARE(visited.value(0), static_cast<QWidget*>(dialog.notificationsCheckBox()));
    QCOMPARE(visited.value(1), static_cast<QWidget*>(dialog.startAtLoginCheckBox()));
    QCOMPARE(visited.value(2), static_cast<QWidget*>(dialog.languageComboBox()));
}

void tst_SettingsDialog::mnemonics() {
    SettingsDialog dialog(settings_.get());
    dialog.show();
    QApplication::setActiveWindow(&dialog);
    QVERIFY(QTest::qWaitForWindowActive(&dialog));

    // Every checkbox and the language label carry a distinct mnemonic.
    QSet<QChar> keys;
    auto mnemonicOf = [](const QString& text) {
        const qsizetype amp = text.indexOf(u'&');
        return amp >= 0 && amp + 1 < text.size() ? text.at(amp + 1).toLower() : QChar();
    };
    for (QCheckBox* box : dialog.findChildren<QCheckBox*>()) {
        const QChar key = mnemonicOf(box->text());
        QVERIFY2(!key.isNull(), qPrintable(box->text()));
        QVERIFY(!keys.contains(key));
        keys.insert(key);
    }
    QLabel* languageLabel = buddyLabelOf(&dialog, dialog.languageComboBox());
    QVERIFY(languageLabel);
    const QChar languageKey = mnemonicOf(languageLabel->text());
    QVERIFY(!languageKey.isNull());
    QVERIFY(!keys.contains(languageKey));

    // Alt+<key> of the notifications box toggles it; the label's focuses the combo.
    const QChar notifyKey = mnemonicOf(dialog.notificationsCheckBox()->text());
    QTest::keyClick(&dialog, notifyKey.toLatin1(), Qt::AltModifier);
    // Buttons answer a mnemonic with an animated click.
    QTRY_COMPARE_WITH_TIMEOUT(settings_->notificationsEnabled(), false, 2000);
    QTest::keyClick(&dialog, languageKey.toLatin1(), Qt::AltModifier);
    QTRY_COMPARE_WITH_TIMEOUT(QApplication::focusWidget(),
                              static_cast<QWidget*>(dialog.languageComboBox()), 2000);
}

void tst_SettingsDialog::closeButtonCloses() {
    SettingsDialog dialog(settings_.get());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto* box = dialog.findChild<QDialogButtonBox*>();
    QVERIFY(box);
    QPushButton* close = box->button(QDialogButtonBox::Close);
    QVERIFY(close);
    QCOMPARE(box->buttons().size(), 1); // nothing to confirm or cancel
    QTest::mouseClick(close, Qt::LeftButton);
    QVERIFY(!dialog.isVisible());
}

QTEST_MAIN(tst_SettingsDialog)
#include "tst_settingsdialog.moc"
