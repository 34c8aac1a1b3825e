#include "app/platform/windows/autostart.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QDir>

#include <optional>
#include <string>

#include <windows.h>

#include "helper/platform/windows/systemerror.h"

namespace calnet::app::autostart {

namespace {

const wchar_t* const kRunKey = L"Software\\Microsoft\\Windows\\CurrentVersion\\Run";
const wchar_t* const kApprovedKey =
    L"Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run";
const char* const kRunKeyDisplay =
    "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";

std::wstring valueName() {
    return QString::fromLatin1(kValueName).toStdWString();
}

// The raw bytes of a value under HKCU, nullopt when it is absent or unreadable.
std::optional<QByteArray> readValue(const wchar_t* key, DWORD flags) {
    DWORD size = 0;
    const std::wstring name = valueName();
    if (::RegGetValueW(HKEY_CURRENT_USER, key, name.c_str(), flags, nullptr, nullptr, &size) !=
        ERROR_SUCCESS)
        return std::nullopt;
    QByteArray bytes(int(size), '\0');
    if (::RegGetValueW(HKEY_CURRENT_USER, key, name.c_str(), flags, nullptr, bytes.data(), &size) !=
        ERROR_SUCCESS)
        return std::nullopt;
    bytes.truncate(int(size));
    return bytes;
}

LSTATUS removeValue(const wchar_t* key) {
    const std::wstring name = valueName();
    const LSTATUS status = ::RegDeleteKeyValueW(HKEY_CURRENT_USER, key, name.c_str());
    return (status == ERROR_FILE_NOT_FOUND || status == ERROR_PATH_NOT_FOUND) ? ERROR_SUCCESS
                                                                              : status;
}

} // namespace

QString commandLine(const QString& applicationFilePath) {
    return u'"' + QDir::toNativeSeparators(applicationFilePath) + QStringLiteral("\" --autostart");
}

bool approvedByTaskManager(const QByteArray& startupApprovedValue) {
    return startupApprovedValue.isEmpty() || (startupApprovedValue.at(0) & 1) == 0;
}

bool isEnabled() {
    if (!readValue(kRunKey, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND))
        return false;
    const auto approved = readValue(kApprovedKey, RRF_RT_REG_BINARY);
    return !approved || approvedByTaskManager(*approved);
}

bool setEnabled(bool on, QString* error) {
    auto fail = [&](const char* sentence, LSTATUS status) {
        if (error)
            *error = QCoreApplication::translate("calnet::app::autostart", sentence)
                         .arg(QString::fromLatin1(kRunKeyDisplay),
                              calnet::platform::windows::systemErrorText(DWORD(status)));
        return false;
    };
    if (!on) {
        const LSTATUS status = removeValue(kRunKey);
        if (status != ERROR_SUCCESS)
            return fail(QT_TRANSLATE_NOOP("calnet::app::autostart", "Could not remove %1: %2"),
                        status);
        removeValue(kApprovedKey); // a leftover switch would only confuse a later enable
        return true;
    }
    const std::wstring name = valueName();
    const std::wstring command =
        commandLine(QCoreApplication::applicationFilePath()).toStdWString();
    const LSTATUS status =
        ::RegSetKeyValueW(HKEY_CURRENT_USER, kRunKey, name.c_str(), REG_SZ, command.c_str(),
                          DWORD((command.size() + 1) * sizeof(wchar_t)));
    if (status != ERROR_SUCCESS)
        return fail(QT_TRANSLATE_NOOP("calnet::app::autostart", "Could not write %1: %2"), status);
    // The user asked for it here: a switch-off from Task Manager no longer applies.
    removeValue(kApprovedKey);
    return true;
}

} // namespace calnet::app::autostart
