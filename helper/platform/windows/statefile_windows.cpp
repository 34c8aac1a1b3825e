// The state directory's files on Windows (helper/platform/statefile.h): the same guarantees as
// POSIX with the Win32 calls that give them.
//
// Access: the state directory (%ProgramData%\Calnet) gets a protected DACL that grants SYSTEM
// and Administrators full control and nobody else anything, inherited by every file created in
// it, so a file is private from the moment it exists (POSIX gets there with mode 0600).
// Atomic replace: a temporary file written and flushed (FlushFileBuffers), then MoveFileExW with
// MOVEFILE_WRITE_THROUGH, which returns only once the rename is on disk: NTFS journals the
// directory entry with it, so there is no separate directory sync to make.
// Errors are reported with errno values (ENOENT, EEXIST, EACCES, EIO) as the interface says.
#include "helper/platform/statefile.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include <sodium/randombytes.h>
#include <sodium/utils.h>

#include <QDir>
#include <QFile>
#include <QtDebug>

#include <windows.h>
// aclapi.h and sddl.h need windows.h's types first.
#include <aclapi.h>
#include <sddl.h>

#include "helper/platform/windows/handle.h"
#include "helper/platform/windows/processuser.h"
#include "helper/platform/windows/systemerror.h"

namespace calnet::helper::statefile {

namespace {

// SYSTEM and Administrators: full control, inherited by files and subdirectories; the P makes
// the DACL protected, so nothing is inherited from %ProgramData%.
constexpr wchar_t kDirectorySddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
// Every file written gets the same, explicitly, whatever the directory passes on (a directory
// given with --state-dir may not have the DACL above).
constexpr wchar_t kFileSddl[] = L"D:P(A;;FA;;;SY)(A;;FA;;;BA)";
// Who may own the state directory: SYSTEM, Administrators, or the user calnetd runs as.
constexpr wchar_t kLocalSystemSid[] = L"S-1-5-18";
constexpr wchar_t kAdministratorsSid[] = L"S-1-5-32-544";

std::wstring wide(const QString& path) {
    return QDir::toNativeSeparators(path).toStdWString();
}

int errnoFor(DWORD code) {
    switch (code) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return ENOENT;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
        return EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
        return EACCES;
    default:
        return EIO;
    }
}

QString winError(const char* call, const QString& path, DWORD code) {
    return QStringLiteral("%1 %2: %3")
        .arg(QLatin1String(call), path, platform::windows::systemErrorText(code));
}

using Handle = calnet::platform::windows::UniqueHandle;
using calnet::platform::windows::ownHandle;

// A DACL in SDDL as a self-relative security descriptor (LocalFree'd).
struct Descriptor {
    PSECURITY_DESCRIPTOR sd = nullptr;
    explicit Descriptor(const wchar_t* sddl) {
        if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd,
                                                                    nullptr))
            sd = nullptr;
    }
    ~Descriptor() {
        if (sd)
            ::LocalFree(sd);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
};

std::string randomSuffix() {
    unsigned char bytes[6];
    randombytes_buf(bytes, sizeof bytes);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char b : bytes) {
        out += kHex[b >> 4];
        out += kHex[b & 15];
    }
    return out;
}

bool writeAll(HANDLE file, std::string_view data) {
    while (!data.empty()) {
        const DWORD chunk = DWORD(std::min<std::size_t>(data.size(), 1u << 30));
        DWORD written = 0;
        if (!::WriteFile(file, data.data(), chunk, &written, nullptr) || written == 0)
            return false;
        data.remove_prefix(written);
    }
    return true;
}

// Gives `path` the DACL of `descriptor`, protected (nothing inherited).
bool protect(const QString& path, const Descriptor& descriptor, QString* error) {
    BOOL present = FALSE;
    BOOL defaulted = FALSE;
    PACL dacl = nullptr;
    ::GetSecurityDescriptorDacl(descriptor.sd, &present, &dacl, &defaulted);
    const DWORD rc =
        ::SetNamedSecurityInfoW(const_cast<wchar_t*>(wide(path).c_str()), SE_FILE_OBJECT,
                                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                nullptr, nullptr, dacl, nullptr);
    if (rc != ERROR_SUCCESS) {
        *error = winError("SetNamedSecurityInfo", path, rc);
        return false;
    }
    return true;
}

} // namespace

WipedString::~WipedString() {
    sodium_memzero(text.data(), text.size());
}

QString defaultStateDirectory() {
    // %ProgramData% is where Windows keeps machine-wide program data (C:\ProgramData unless
    // moved); the SCM starts the service with it set.
    const QString base = qEnvironmentVariable("ProgramData", QStringLiteral("C:/ProgramData"));
    return QDir::fromNativeSeparators(base) + QStringLiteral("/Calnet");
}

std::string local(const QString& path) {
    return QDir::toNativeSeparators(path).toStdString();
}

QString sysError(const char* call, const QString& path, int error) {
    return QStringLiteral("%1 %2: %3")
        .arg(QLatin1String(call), path, QString::fromLocal8Bit(std::strerror(error)));
}

bool syncDirectory(const QString&) {
    // MOVEFILE_WRITE_THROUGH already made the rename durable (see the top of the file).
    return true;
}

int renameNoReplace(const std::string& from, const std::string& to) {
    if (::MoveFileExW(QString::fromStdString(from).toStdWString().c_str(),
                      QString::fromStdString(to).toStdWString().c_str(), MOVEFILE_WRITE_THROUGH))
        return 0;
    errno = errnoFor(::GetLastError());
    return -1;
}

WriteOutcome writeAtomically(const QString& dir, const QString& fileName, std::string_view data,
                             Replace replace) {
    WriteOutcome out;
    const QString target = dir + QLatin1Char('/') + fileName;
    const QString tempName = dir + QStringLiteral("/.") + fileName + QLatin1String(kTempMarker) +
                             QString::fromStdString(randomSuffix());
    // CREATE_NEW: never opens a file someone planted under the temporary name. The file is
    // created with SYSTEM's and Administrators' DACL alone (kFileSddl).
    const Descriptor descriptor(kFileSddl);
    SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor.sd, FALSE};
    Handle file = ownHandle(::CreateFileW(wide(tempName).c_str(), GENERIC_WRITE, 0,
                                          descriptor.sd ? &attributes : nullptr, CREATE_NEW,
                                          FILE_ATTRIBUTE_NORMAL, nullptr));
    if (!file) {
        out.error = winError("CreateFile", tempName, ::GetLastError());
        return out;
    }
    auto fail = [&](const char* call, const QString& path, DWORD code) {
        out.error = winError(call, path, code);
        ::DeleteFileW(wide(tempName).c_str());
        return out;
    };
    if (!writeAll(file.get(), data) || !::FlushFileBuffers(file.get())) {
        const DWORD code = ::GetLastError();
        file.reset(); // closed before it is deleted
        return fail("WriteFile", tempName, code);
    }
    file.reset(); // closed before it is moved
    const DWORD flags = MOVEFILE_WRITE_THROUGH |
                        (replace == Replace::Allowed ? MOVEFILE_REPLACE_EXISTING : DWORD(0));
    if (!::MoveFileExW(wide(tempName).c_str(), wide(target).c_str(), flags)) {
        const DWORD code = ::GetLastError();
        if (replace == Replace::Refused &&
            (code == ERROR_ALREADY_EXISTS || code == ERROR_FILE_EXISTS)) {
            ::DeleteFileW(wide(tempName).c_str());
            out.targetExists = true;
            return out;
        }
        return fail("MoveFileEx", target, code);
    }
    out.durable = true;
    out.ok = true;
    return out;
}

// FILE_FLAG_OPEN_REPARSE_POINT opens a symbolic link or junction itself, which is then refused;
// a named pipe or device is refused by its type.
ReadStatus readFile(const QString& path, std::size_t maxBytes, WipedString& out,
                    std::string& problem) {
    const Handle file = ownHandle(::CreateFileW(
        wide(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr,
        OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, nullptr));
    if (!file) {
        const DWORD code = ::GetLastError();
        if (code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND)
            return ReadStatus::Missing;
        problem =
            "the file cannot be read: " + platform::windows::systemErrorText(code).toStdString();
        return ReadStatus::Failed;
    }
    BY_HANDLE_FILE_INFORMATION info{};
    if (::GetFileType(file.get()) != FILE_TYPE_DISK ||
        !::GetFileInformationByHandle(file.get(), &info) ||
        (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
        problem = "the file is not a regular file";
        return ReadStatus::Failed;
    }
    if (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
        problem = "the file is a symbolic link";
        return ReadStatus::Failed;
    }
    const std::uint64_t size = (std::uint64_t(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
    if (size > maxBytes) {
        problem = "the file is larger than " + std::to_string(maxBytes) + " bytes";
        return ReadStatus::Failed;
    }
    // Sized once (no unwiped copy left by a reallocation); the spare byte tells a file that
    // grew since it was measured.
    const std::size_t expected = std::size_t(size);
    out.text.assign(expected + 1, '\0');
    std::size_t used = 0;
    while (used < out.text.size()) {
        DWORD n = 0;
        if (!::ReadFile(file.get(), out.text.data() + used, DWORD(out.text.size() - used), &n,
                        nullptr)) {
            problem = "the file cannot be read: " +
                      platform::windows::systemErrorText(::GetLastError()).toStdString();
            return ReadStatus::Failed;
        }
        if (n == 0)
            break;
        used += n;
    }
    if (used > expected) {
        problem = "the file changed while it was being read";
        return ReadStatus::Failed;
    }
    out.text.resize(used);
    return ReadStatus::Ok;
}

bool prepareDirectory(const QString& path, bool followSymlink, bool tighten, QString* error) {
    const Descriptor descriptor(kDirectorySddl);
    if (!descriptor.sd) {
        *error = winError("ConvertStringSecurityDescriptor", path, ::GetLastError());
        return false;
    }
    SECURITY_ATTRIBUTES attributes{sizeof attributes, descriptor.sd, FALSE};
    bool created = ::CreateDirectoryW(wide(path).c_str(), &attributes);
    if (!created && ::GetLastError() != ERROR_ALREADY_EXISTS) {
        *error = winError("CreateDirectory", path, ::GetLastError());
        return false;
    }
    const DWORD attrs = ::GetFileAttributesW(wide(path).c_str());
    if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        *error = path + QStringLiteral(" is not a directory");
        return false;
    }
    if ((attrs & FILE_ATTRIBUTE_REPARSE_POINT) && !followSymlink) {
        *error = path + QStringLiteral(" is a link, not a directory");
        return false;
    }
    // Users may create folders in %ProgramData%: one made by someone else before the service
    // first ran is refused (its owner could always change its DACL back), as POSIX refuses a
    // directory of another uid.
    PSID owner = nullptr;
    PSECURITY_DESCRIPTOR ownerSd = nullptr;
    if (const DWORD rc =
            ::GetNamedSecurityInfoW(wide(path).c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                                    &owner, nullptr, nullptr, nullptr, &ownerSd);
        rc != ERROR_SUCCESS) {
        *error = winError("GetNamedSecurityInfo", path, rc);
        return false;
    }
    const QString ownerSid = platform::windows::sidText(owner);
    ::LocalFree(ownerSd);
    if (ownerSid != QString::fromWCharArray(kLocalSystemSid) &&
        ownerSid != QString::fromWCharArray(kAdministratorsSid) &&
        ownerSid != platform::windows::currentUserSid()) {
        *error = QStringLiteral("%1 is owned by %2, not by SYSTEM, Administrators or %3")
                     .arg(path, ownerSid.isEmpty() ? QStringLiteral("nobody") : ownerSid,
                          platform::windows::currentUserSid());
        return false;
    }
    if (tighten && !created)
        return protect(path, descriptor, error);
    return true;
}

void sweepDirectory(const QString& dir, std::string_view tempPrefix,
                    std::initializer_list<std::string_view> privateSuffixes) {
    // Stale temporary files go; private files get the file DACL again (one moved into the
    // folder keeps the DACL it had where it came from).
    const Descriptor fileDescriptor(kFileSddl);
    QString error;
    const auto names = fileNames(dir, &error);
    if (!names) {
        qWarning("calnetd: %s", qPrintable(error));
        return;
    }
    for (const QString& name : *names) {
        const std::string utf8 = name.toStdString();
        const QString path = dir + QLatin1Char('/') + name;
        const DWORD attrs = ::GetFileAttributesW(wide(path).c_str());
        if (attrs == INVALID_FILE_ATTRIBUTES ||
            (attrs & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)))
            continue;
        if (std::string_view(utf8).starts_with(tempPrefix) &&
            utf8.find(kTempMarker) != std::string::npos) {
            if (!::DeleteFileW(wide(path).c_str()))
                qWarning("calnetd: cannot remove stale %s: %s", qPrintable(path),
                         qPrintable(platform::windows::systemErrorText(::GetLastError())));
            continue;
        }
        const bool isPrivate =
            std::any_of(privateSuffixes.begin(), privateSuffixes.end(),
                        [&](std::string_view suffix) { return utf8.ends_with(suffix); });
        if (QString why; isPrivate && !protect(path, fileDescriptor, &why))
            qWarning("calnetd: %s", qPrintable(why));
    }
}

bool entryExists(const QString& path) {
    return ::GetFileAttributesW(wide(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

std::optional<std::vector<QString>> fileNames(const QString& dir, QString* error) {
    WIN32_FIND_DATAW found{};
    const HANDLE search = ::FindFirstFileW(wide(dir + QStringLiteral("/*")).c_str(), &found);
    if (search == INVALID_HANDLE_VALUE) {
        const DWORD code = ::GetLastError();
        if (code == ERROR_FILE_NOT_FOUND)
            return std::vector<QString>{}; // an empty directory has no entries at all
        *error = winError("FindFirstFile", dir, code);
        return std::nullopt;
    }
    std::vector<QString> names;
    do {
        const QString name = QString::fromWCharArray(found.cFileName);
        if (name != QLatin1String(".") && name != QLatin1String(".."))
            names.push_back(name);
    } while (::FindNextFileW(search, &found));
    ::FindClose(search);
    return names;
}

int removeFile(const QString& path) {
    return ::DeleteFileW(wide(path).c_str()) ? 0 : errnoFor(::GetLastError());
}

int renameFile(const QString& from, const QString& to) {
    return ::MoveFileExW(wide(from).c_str(), wide(to).c_str(),
                         MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)
               ? 0
               : errnoFor(::GetLastError());
}

} // namespace calnet::helper::statefile
