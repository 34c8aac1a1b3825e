// Autostart on Windows (the Run key; under Wine in CI, Wine's registry): the command line quotes
// the program's native path; enabling writes HKCU\...\Run\Calnet, disabling removes it, both
// idempotent; Task Manager's switch-off (an odd first byte under StartupApproved\Run) makes
// isEnabled() false without the Run value going, and enabling from Calnet clears it. Whatever the
// user had under those names before the test is put back afterwards.
#include <QCoreApplication>
#include <QTest>

#include <optional>
#include <string>

#include <windows.h>

#include "app/platform/autostart.h"

namespace autostart = calnet::app::autostart;

namespace {

const wchar_t* const kRunKey = L"Software\\Microsoft\\Windows\\CurrentVersion\\Run";
const wchar_t* const kApprovedKey =
    L"Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run";
const wchar_t* const kName = L"Calnet";

struct Saved {
    DWORD type = 0;
    std::string bytes;
};

std::optional<Saved> save(const wchar_t* key) {
    DWORD size = 0;
    DWORD type = 0;
    if (::RegGetValueW(HKEY_CURRENT_USER, key, kName, RRF_RT_ANY | RRF_NOEXPAND, &type, nullptr,
                       &size) != ERROR_SUCCESS)
        return std::nullopt;
    Saved s{type, std::string(size, '\0')};
    if (::RegGetValueW(HKEY_CURRENT_USER, key, kName, RRF_RT_ANY | RRF_NOEXPAND, &type,
                       s.bytes.data(), &size) != ERROR_SUCCESS)
        return std::nullopt;
    s.bytes.resize(size);
    return s;
}

void restore(const wchar_t* key, const std::optional<Saved>& saved) {
    if (saved)
        ::RegSetKeyValueW(HKEY_CURRENT_USER, key, kName, saved->type, saved->bytes.data(),
                          DWORD(saved->bytes.size()));
    else
        ::RegDeleteKeyValueW(HKEY_CURRENT_USER, key, kName);
}

std::optional<QString> runValue() {
    wchar_t buffer[1024];
    DWORD size = sizeof buffer;
    if (::RegGetValueW(HKEY_CURRENT_USER, kRunKey, kName, RRF_RT_REG_SZ, nullptr, buffer, &size) !=
        ERROR_SUCCESS)
        return std::nullopt;
    return QString::fromWCharArray(buffer);
}

bool setApproved(unsigned char first) {
    unsigned char value[12] = {first};
    return ::RegSetKeyValueW(HKEY_CURRENT_USER, kApprovedKey, kName, REG_BINARY, value,
                             sizeof value) == ERROR_SUCCESS;
}

bool approvedExists() {
    return ::RegGetValueW(HKEY_CURRENT_USER, kApprovedKey, kName, RRF_RT_ANY, nullptr, nullptr,
                          nullptr) == ERROR_SUCCESS;
}

} // namespace

class TestWinAutostart : public QObject {
    Q_OBJECT

    std::optional<Saved> savedRun_;
    std::optional<Saved> savedApproved_;

private slots:
    void initTestCase() {
        savedRun_ = save(kRunKey);
        savedApproved_ = save(kApprovedKey);
    }
    void cleanupTestCase() {
        restore(kRunKey, savedRun_);
        restore(kApprovedKey, savedApproved_);
    }

    void commandLineQuotesTheNativePath() {
        QCOMPARE(autostart::commandLine(QStringLiteral("C:/Program Files/Calnet/calnet.exe")),
                 QStringLiteral("\"C:\\Program Files\\Calnet\\calnet.exe\" --autostart"));
    }

    void taskManagerSwitch() {
        QVERIFY(autostart::approvedByTaskManager({}));
        QVERIFY(autostart::approvedByTaskManager(QByteArray("\x02\0\0\0", 4)));
        QVERIFY(autostart::approvedByTaskManager(QByteArray("\x06\0\0\0", 4)));
        QVERIFY(!autostart::approvedByTaskManager(QByteArray("\x03\0\0\0", 4)));
        QVERIFY(!autostart::approvedByTaskManager(QByteArray("\x07\0\0\0", 4)));
    }

    void enableDisableRoundTrip() {
        QString error;
        QVERIFY2(autostart::setEnabled(false, &error), qPrintable(error));
        QVERIFY(!autostart::isEnabled());
        QVERIFY(!runValue());

        QVERIFY2(autostart::setEnabled(true, &error), qPrintable(error));
        QVERIFY(autostart::isEnabled());
        QCOMPARE(runValue().value_or(QString()),
                 autostart::commandLine(QCoreApplication::applicationFilePath()));
        QVERIFY2(autostart::setEnabled(true, &error), qPrintable(error)); // again: no change
        QVERIFY(autostart::isEnabled());

        // Switched off in Task Manager: the Run value stays, the login will not start Calnet.
        QVERIFY(setApproved(0x03));
        QVERIFY(!autostart::isEnabled());
        QVERIFY(runValue());
        QVERIFY(setApproved(0x02));
        QVERIFY(autostart::isEnabled());
        QVERIFY(setApproved(0x03));
        QVERIFY2(autostart::setEnabled(true, &error), qPrintable(error));
        QVERIFY(!approvedExists());
        QVERIFY(autostart::isEnabled());

        QVERIFY2(autostart::setEnabled(false, &error), qPrintable(error));
        QVERIFY(!autostart::isEnabled());
        QVERIFY(!runValue());
        QVERIFY2(autostart::setEnabled(false, &error), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestWinAutostart)
#include "tst_winautostart.moc"
