// StateFile: how calnetd writes and reads the small files of its state directory (profiles,
// state.json, network map caches, the network configuration journals). One implementation per
// OS (POSIX: platform/posix/statefile.cpp), so every file gets the same guarantees:
//
// writeAtomically(): mkostemp ".<file>.tmp-XXXXXX" (0600) -> write all -> fsync -> close ->
// rename over the target, or renameat2(RENAME_NOREPLACE) when the target must not exist -> fsync
// the directory. Any failure before the rename unlinks the temporary file and leaves the target
// untouched; a crash leaves the old file or the new one, plus at worst a stale temporary file
// (its name starts with '.' and holds kTempMarker, so the owner can sweep it).
//
// readFile(): a regular file of bounded size, never through a symlink, never blocking on a FIFO.
//
// Buffers that may hold key material are WipedStrings.
#pragma once

#include <QString>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace calnet::helper::statefile {

inline constexpr char kTempMarker[] = ".tmp-";

// A std::string that wipes its bytes when it dies: file contents and writeWgQuick() output hold
// private and preshared keys.
struct WipedString {
    std::string text;

    WipedString() = default;
    explicit WipedString(std::string s) : text(std::move(s)) {}
    WipedString(const WipedString&) = delete;
    WipedString& operator=(const WipedString&) = delete;
    ~WipedString();
};

// Where calnetd keeps its state unless told otherwise: /var/lib/calnet (POSIX),
// %ProgramData%\Calnet (Windows).
[[nodiscard]] QString defaultStateDirectory();

// The path in the file system's encoding.
[[nodiscard]] std::string local(const QString& path);
// "<call> <path>: <strerror(errno)>", taken before anything else can change errno.
[[nodiscard]] QString sysError(const char* call, const QString& path, int error = errno);

// Makes a rename or unlink in `dir` durable (the entry lives in the directory, not the file).
// false (and a warning in the log) when the directory could not be synced.
bool syncDirectory(const QString& dir);
// rename() that fails with EEXIST instead of replacing `to`.
[[nodiscard]] int renameNoReplace(const std::string& from, const std::string& to);

enum class Replace : std::uint8_t { Allowed, Refused };

struct WriteOutcome {
    bool ok = false;
    bool targetExists = false; // Replace::Refused and the target was there: nothing changed
    bool durable = false;      // ok, and the directory was synced: the rename survives a crash
    QString error;
};

// `dir`/`fileName` becomes `data`, 0600, atomically and durably (see above).
[[nodiscard]] WriteOutcome writeAtomically(const QString& dir, const QString& fileName,
                                           std::string_view data, Replace replace);

enum class ReadStatus : std::uint8_t { Ok, Missing, Failed };

// Reads a regular file of at most maxBytes into `out`; `problem` says why when Failed.
[[nodiscard]] ReadStatus readFile(const QString& path, std::size_t maxBytes, WipedString& out,
                                  std::string& problem);

// Creates `path` 0700 if missing and checks that it is a directory owned by us; with
// `tighten`, an existing one is made 0700. The state directory may be a symlink (an admin
// moving it to another disk): followSymlink.
[[nodiscard]] bool prepareDirectory(const QString& path, bool followSymlink, bool tighten,
                                    QString* error);
// Deletes our stale temporary files in `dir` (a crash between mkostemp and rename): regular
// files whose name starts with `tempPrefix` and contains kTempMarker. Files ending in one of
// `privateSuffixes` that others may read are tightened to kFileMode (an editor may have
// written them with the umask).
void sweepDirectory(const QString& dir, std::string_view tempPrefix,
                    std::initializer_list<std::string_view> privateSuffixes);
// Whether something exists at `path` (a symlink is not followed).
[[nodiscard]] bool entryExists(const QString& path);
// The names in `dir`, but . and ..; nullopt and the reason when it cannot be read.
[[nodiscard]] std::optional<std::vector<QString>> fileNames(const QString& dir, QString* error);
// 0, or the errno of the failed unlink / rename.
[[nodiscard]] int removeFile(const QString& path);
[[nodiscard]] int renameFile(const QString& from, const QString& to);

} // namespace calnet::helper::statefile
