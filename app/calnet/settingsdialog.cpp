#include "app/calnet/settingsdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include "app/calnet/appsettings.h"
#include "app/calnet/translation.h"

namespace calnet::app {

SettingsDialog::SettingsDialog(AppSettings* settings, QWidget* parent)
    : QDialog(parent), settings_(settings) {
    setWindowTitle(tr("Calnet Settings"));

    notifications_ = new QCheckBox(tr("Show &notifications"), this);
    notifications_->setAccessibleName(tr("Show notifications"));
    notifications_->setAccessibleDescription(
        tr("Tell me when the tunnel connects, disconnects or fails."));

    startAtLogin_ = new QCheckBox(tr("&Start Calnet when I log in"), this);
    startAtLogin_->setAccessibleName(tr("Start Calnet when I log in"));

    startAtLoginError_ = new QLabel(this);
    startAtLoginError_->setAccessibleName(tr("Start at login error"));
    startAtLoginError_->setWordWrap(true);
    startAtLoginError_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    startAtLoginError_->hide();

    auto* languageLabel = new QLabel(tr("&Language:"), this);
    language_ = new QComboBox(this);
    language_->setAccessibleName(tr("Language"));
    languageLabel->setBuddy(language_);
    for (const auto& [code, name] : availableLanguages())
        language_->addItem(name, code);

    auto* languageNote = new QLabel(tr("The language applies when Calnet is next started."), this);
    languageNote->setWordWrap(true);
    language_->setAccessibleDescription(languageNote->text());

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton* close = buttons->button(QDialogButtonBox::Close);
    close->setAccessibleName(tr("Close"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* form = new QFormLayout;
    form->addRow(languageLabel, language_);
    form->addRow(static_cast<QWidget*>(nullptr), languageNote);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(notifications_);
    layout->addWidget(startAtLogin_);
    layout->addWidget(startAtLoginError_);
    layout->addLayout(form);
    layout->addStretch();
    layout->addWidget(buttons);

    // Tab follows reading order; QDialogButtonBox's button is last.
    setTabOrder(notifications_, startAtLogin_);
    setTabOrder(startAtLogin_, language_);
    setTabOrder(language_, close);

    refresh();

    connect(notifications_, &QCheckBox::toggled, settings_, &AppSettings::setNotificationsEnabled);
    connect(startAtLogin_, &QCheckBox::toggled, this, &SettingsDialog::onStartAtLoginToggled);
    // currentIndexChanged, not activated: assistive technologies change the value without a
    // user "activation".
    connect(language_, &QComboBox::currentIndexChanged, this, &SettingsDialog::onLanguageChanged);
    connect(settings_, &AppSettings::settingsChanged, this, &SettingsDialog::refresh);
}

SettingsDialog::~SettingsDialog() = default;

void SettingsDialog::showEvent(QShowEvent* event) {
    refresh();
    QDialog::showEvent(event);
}

void SettingsDialog::refresh() {
    const QSignalBlocker blockNotifications(notifications_);
    const QSignalBlocker blockStart(startAtLogin_);
    const QSignalBlocker blockLanguage(language_);
    notifications_->setChecked(settings_->notificationsEnabled());
    startAtLogin_->setChecked(settings_->startAtLogin());
    const int index = language_->findData(settings_->language());
    // A hand-edited, unknown code shows as the system default; it is left untouched until the
    // user picks something.
    language_->setCurrentIndex(index >= 0 ? index : 0);
}

void SettingsDialog::onStartAtLoginToggled(bool on) {
    QString error;
    if (settings_->setStartAtLogin(on, &error)) {
        startAtLoginError_->clear();
        startAtLoginError_->hide();
        startAtLogin_->setAccessibleDescription(QString());
        return;
    }
    {
        const QSignalBlocker block(startAtLogin_);
        startAtLogin_->setChecked(settings_->startAtLogin());
    }
    const QString message = on ? tr("Could not turn on start at login: %1").arg(error)
                               : tr("Could not turn off start at login: %1").arg(error);
    startAtLoginError_->setText(message);
    startAtLoginError_->show();
    // Screen readers announce the description with the focused checkbox.
    startAtLogin_->setAccessibleDescription(message);
}

void SettingsDialog::onLanguageChanged(int index) {
    settings_->setLanguage(language_->itemData(index).toString());
}

} // namespace calnet::app
