// Preferences: notifications, start at login, language. Every change applies at once (there is
// nothing to confirm or cancel), so the dialog has only a Close button. A start-at-login
// failure is shown inline under its checkbox, not in a message box, and the box snaps back to
// what the autostart entry really says.
#pragma once

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;

namespace calnet::app {

class AppSettings;

class SettingsDialog : public QDialog {
    Q_OBJECT

public:
    explicit SettingsDialog(AppSettings* settings, QWidget* parent = nullptr);
    ~SettingsDialog() override;

    // For tests.
    [[nodiscard]] QCheckBox* notificationsCheckBox() const { return notifications_; }
    [[nodiscard]] QCheckBox* startAtLoginCheckBox() const { return startAtLogin_; }
    [[nodiscard]] QComboBox* languageComboBox() const { return language_; }
    [[nodiscard]] QLabel* startAtLoginErrorLabel() const { return startAtLoginError_; }

protected:
    // The autostart entry may have been changed outside Calnet while the dialog was hidden.
    void showEvent(QShowEvent* event) override;

private:
    void refresh();
    void onStartAtLoginToggled(bool on);
    void onLanguageChanged(int index);

    AppSettings* settings_ = nullptr;
    QCheckBox* notifications_ = nullptr;
    QCheckBox* startAtLogin_ = nullptr;
    QLabel* startAtLoginError_ = nullptr;
    QComboBox* language_ = nullptr;
};

} // namespace calnet::app
