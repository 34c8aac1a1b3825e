#include "helper/platform/statefile.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium/utils.h>

#include <QFile>
#include <QtDebug>

namespace calnet::helper::statefile {

WipedString::~WipedString() {
    sodium_memzero(text.data(), text.size());
}

QString defaultStateDirectory() {
    return QStringLiteral("/var/lib/calnet");
}

std::string local(const QString& path) {
    return QFile::encodeName(path).toStdString();
}

QString sysError(const char* call, const QString& path, int error) {
    return QStringLiteral("%1 %2: %3")
        .arg(QLatin1String(call), path, QString::fromLocal8Bit(std::strerror(error)));
}

namespace {
constexpr mode_t kFileMode = 0600;

bool writeAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

bool syncDirectory(const QString& dir) {
    const int fd = ::open(local(dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (!ok)
        qWarning("calnetd: %s", qPrintable(sysError("fsync", dir)));
    if (fd >= 0)
        ::close(fd);
    return ok;
}

// renameat2(RENAME_NOREPLACE) is atomic on ext4, xfs, btrfs, tmpfs and overlayfs; where it is
// not supported (EINVAL, e.g. NFS) link()+unlink() gives the same no-replace guarantee, at the
// cost of a moment with two names.
int renameNoReplace(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (::link(from.c_str(), to.c_str()) != 0)
        return -1;
    ::unlink(from.c_str());
    return 0;
}

WriteOutcome writeAtomically(const QString& dir, const QString& fileName, std::string_view data,
                             Replace replace) {
    WriteOutcome out;
    const QString target = dir + QLatin1Char('/') + fileName;
    std::string temp = local(dir + QStringLiteral("/.") + fileName + QLatin1String(kTempMarker) +
                             QStringLiteral("XXXXXX"));
    // mkostemp creates the file 0600 whatever the umask.
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) {
        out.error = sysError("mkostemp", dir);
        return out;
    }
    const QString tempName = QFile::decodeName(temp.c_str());
    auto fail = [&](const char* call, const QString& path) {
        out.error = sysError(call, path);
        ::unlink(temp.c_str());
        return out;
    };
    if (::fchmod(fd, kFileMode) != 0) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return fail("fchmod", tempName);
    }
    if (!writeAll(fd, data) || ::fsync(fd) != 0) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return fail("write", tempName);
    }
    if (::close(fd) != 0)
        return fail("close", tempName);

    const std::string targetPath = local(target);
    if (replace == Replace::Allowed) {
        if (::rename(temp.c_str(), targetPath.c_str()) != 0)
            return fail("rename", target);
    } else if (renameNoReplace(temp, targetPath) != 0) {
        if (errno == EEXIST) {
            ::unlink(temp.c_str());
            out.targetExists = true;
            return out;
        }
        return fail("renameat2", target);
    }
    out.durable = syncDirectory(dir);
    out.ok = true;
    return out;
}

// O_NOFOLLOW refuses a symlink; O_NONBLOCK keeps a FIFO planted under a profile's name from
// hanging the service.
ReadStatus readFile(const QString& path, std::size_t maxBytes, WipedString& out,
                    std::string& problem) {
    const int fd = ::open(local(path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return ReadStatus::Missing;
        problem = errno == ELOOP ? std::string("the file is a symbolic link")
                                 : "the file cannot be read: " + std::string(std::strerror(errno));
        return ReadStatus::Failed;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        problem = "the file is not a regular file";
        ::close(fd);
        return ReadStatus::Failed;
    }
    if (static_cast<std::size_t>(st.st_size) > maxBytes) {
        problem = "the file is larger than " + std::to_string(maxBytes) + " bytes";
        ::close(fd);
        return ReadStatus::Failed;
    }
    // Sized once, never grown, so no unwiped copy of a key is left behind by a reallocation. One
    // spare byte tells a file that grew since fstat() from one that fits.
    const std::size_t expected = static_cast<std::size_t>(st.st_size);
    out.text.assign(expected + 1, '\0');
    std::size_t used = 0;
    while (used < out.text.size()) {
        const ssize_t n = ::read(fd, out.text.data() + used, out.text.size() - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            problem = "the file cannot be read: " + std::string(std::strerror(errno));
            ::close(fd);
            return ReadStatus::Failed;
        }
        if (n == 0)
            break;
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (used > expected) {
        problem = "the file changed while it was being read";
        return ReadStatus::Failed;
    }
    sodium_memzero(out.text.data() + used, out.text.size() - used);
    out.text.resize(used); // shrinking never reallocates
    return ReadStatus::Ok;
}

namespace {
constexpr mode_t kDirMode = 0700;
} // namespace

bool prepareDirectory(const QString& path, bool followSymlink, bool tighten, QString* error) {
    const std::string p = local(path);
    bool created = false;
    if (::mkdir(p.c_str(), kDirMode) == 0)
        created = true;
    else if (errno != EEXIST) {
        *error = sysError("mkdir", path);
        return false;
    }
    struct stat st {};
    if ((followSymlink ? ::stat(p.c_str(), &st) : ::lstat(p.c_str(), &st)) != 0) {
        *error = sysError("stat", path);
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        *error = path + QStringLiteral(" is not a directory");
        return false;
    }
    if (st.st_uid != ::geteuid()) {
        *error = QStringLiteral("%1 is owned by uid %2, not by uid %3")
                     .arg(path)
                     .arg(st.st_uid)
                     .arg(::geteuid());
        return false;
    }
    if (tighten && (st.st_mode & 07777) != kDirMode && ::chmod(p.c_str(), kDirMode) != 0) {
        *error = sysError("chmod", path);
        return false;
    }
    if (created) {
        const QString parent = path.section(QLatin1Char('/'), 0, -2);
        syncDirectory(parent.isEmpty() ? QStringLiteral("/") : parent);
    }
    return true;
}

void sweepDirectory(const QString& dir, std::string_view tempPrefix,
                    std::initializer_list<std::string_view> privateSuffixes) {
    DIR* d = ::opendir(local(dir).c_str());
    if (!d) {
        qWarning("calnetd: %s", qPrintable(sysError("opendir", dir)));
        return;
    }
    const int dirFd = ::dirfd(d);
    while (const dirent* entry = ::readdir(d)) {
        const std::string_view name = entry->d_name;
        struct stat st {};
        if (::fstatat(dirFd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (name.starts_with(tempPrefix) && name.find(kTempMarker) != std::string_view::npos) {
            if (::unlinkat(dirFd, entry->d_name, 0) != 0)
                qWarning("calnetd: cannot remove stale %s/%s: %s", qPrintable(dir), entry->d_name,
                         std::strerror(errno));
            continue;
        }
        const bool isPrivate = std::any_of(privateSuffixes.begin(), privateSuffixes.end(),
                                           [&](std::string_view s) { return name.ends_with(s); });
        if (isPrivate && (st.st_mode & 077) != 0 &&
            ::fchmodat(dirFd, entry->d_name, kFileMode, 0) != 0)
            qWarning("calnetd: cannot chmod %s/%s: %s", qPrintable(dir), entry->d_name,
                     std::strerror(errno));
    }
    ::closedir(d);
}

bool entryExists(const QString& path) {
    struct stat st {};
    return ::lstat(local(path).c_str(), &st) == 0;
}

std::optional<std::vector<QString>> fileNames(const QString& dir, QString* error) {
    DIR* d = ::opendir(local(dir).c_str());
    if (!d) {
        *error = sysError("opendir", dir);
        return std::nullopt;
    }
    std::vector<QString> names;
    while (const dirent* entry = ::readdir(d)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..")
            names.push_back(QFile::decodeName(entry->d_name));
    }
    ::closedir(d);
    return names;
}

int removeFile(const QString& path) {
    return ::unlink(local(path).c_str()) == 0 ? 0 : errno;
}

int renameFile(const QString& from, const QString& to) {
    return ::rename(local(from).c_str(), local(to).c_str()) == 0 ? 0 : errno;
}

} // namespace calnet::helper::statefile
