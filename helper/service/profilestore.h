// ProfileStore: the user's WireGuard tunnel profiles, kept by calnetd on disk.
//
// Layout under the state directory (default /var/lib/calnet):
//   <state>/                  created 0700 if missing; must be a directory owned by us
//   <state>/state.json        {"connected": "<name>"|null}, 0600: what to reconnect after a crash
//   <state>/profiles/         0700 (tightened on open), owned by us
//   <state>/profiles/<name>.conf   0600, wg-quick text exactly as writeWgQuick() produces it
//   <state>/profiles/<name>.mesh   0600, a Calnet network profile (meshprofile.h), JSON
//   <state>/profiles/<name>.netmap 0600, the last network map of that profile (mapcache.h); it
//                                  follows its profile: rename() moves it, remove() deletes it
//
// One name is one profile: a name is never used by a .conf and a .mesh at the same time (the
// store refuses to create the second).
//
// What is stored always came out of parseWgQuick() and was written back by writeWgQuick(), so a
// stored profile is normalised and valid. A file edited by hand that no longer parses is listed
// as a broken entry (with the parser's line-numbered errors), never loaded and never a crash.
//
// Every write is atomic and durable: the data goes to a temporary file in the same directory
// (".<target>.tmp-XXXXXX", created 0600 so key material is never readable by others, even for
// an instant), which is fsync()ed and renamed over the target, and then the directory is
// fsync()ed so the rename itself survives a power cut. A crash therefore leaves either the old
// file or the new one, plus at worst a stale temporary file: list() never looks at those (no
// profile name starts with '.'), and open() deletes them. QSaveFile is not used: in Qt 6 it
// creates new files 0666 & ~umask, does not fsync the directory, and can only replace, while
// import() and rename() must never replace another profile (they use RENAME_NOREPLACE).
//
// Profile names: 1-32 characters of [A-Za-z0-9_.-], not starting with '.' (so "." / ".." and
// our temporary files can never be names). They are case-sensitive, as file names are.
//
// The store knows nothing about connections beyond the persisted "connected" name: refusing to
// rename or remove the profile that is in use (docs/ipc.md "conflict") is the service's job.
//
// Not thread-safe: one owner thread (the service's event loop) calls everything.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include "core/config/wgquick.h"
#include "helper/platform/statefile.h"
#include "helper/service/meshprofile.h"

namespace calnet::helper {

// The non-secret summary of a profile that the IPC shows to every caller (docs/ipc.md
// `Profile`). It never holds a private or preshared key; it has no field that could.
struct ProfileInfo {
    enum class Kind : std::uint8_t { WireGuard, Mesh };

    QString name;
    Kind kind = Kind::WireGuard;
    // Mesh only: the server URL, our node id (0 = not registered yet) and hostname.
    QString server;
    qint64 nodeId = 0;
    QString hostname;
    QStringList addresses; // [Interface] Address, host bits as written ("10.8.0.2/24")
    int peerCount = 0;
    QStringList endpoints;   // one per peer that has an Endpoint ("vpn.example.com:51820")
    QStringList dns;         // DNS servers, then search domains
    bool fullTunnel = false; // some peer's AllowedIPs has a /0 (0.0.0.0/0 or ::/0)
    // Non-empty when the file on disk does not parse (edited by hand); the fields above are
    // then empty. Reasons never contain key material (parseWgQuick() withholds it).
    std::vector<config::ConfigError> errors;

    [[nodiscard]] bool broken() const { return !errors.empty(); }

    [[nodiscard]] static ProfileInfo summarise(const QString& name,
                                               const config::WgQuickConfig& config);
    [[nodiscard]] static ProfileInfo summarise(const QString& name, const MeshProfile& mesh);

    // The docs/ipc.md `Profile` object ("kind": "wireguard"|"mesh"; a mesh profile adds
    // "server", "nodeId" and "hostname"; "endpoints" is then [server]). A broken entry additionally
    // carries "broken": true and "errors": [{"line": int, "reason": string}].
    [[nodiscard]] QJsonObject toJson(bool connected) const;
};

// Outcome of the operations that change the store, mapped 1:1 to docs/ipc.md error codes.
enum class StoreStatus : std::uint8_t {
    Ok,
    InvalidName, // invalid_params: the name breaks the naming rules
    NotFound,    // not_found: no profile with that name
    Conflict,    // conflict: the new name is taken
    Failed,      // failed: an I/O error; the message says which call failed and why
};

[[nodiscard]] const char* toString(StoreStatus status);

struct StoreResult {
    StoreStatus status = StoreStatus::Ok;
    QString message;                    // empty when Ok
    std::optional<ProfileInfo> profile; // rename(): the renamed profile

    [[nodiscard]] bool ok() const { return status == StoreStatus::Ok; }
};

struct ImportResult {
    std::optional<ProfileInfo> profile;      // set exactly when the profile was stored
    std::vector<config::ConfigError> errors; // parse errors (line >= 1) and a bad name (line 0)
    QString conflict; // non-empty when the requested name is taken (checked after errors)
    QString failure;  // non-empty when the file could not be written (an I/O error)
};

class ProfileStore {
public:
    explicit ProfileStore(QString stateDir = statefile::defaultStateDirectory());

    // Creates the directories if needed, checks they are directories owned by this user,
    // tightens the profiles directory to 0700 and profile files to 0600, deletes stale temporary
    // files and reads state.json (a missing or unreadable one means "not connected"). Must
    // succeed before anything else is called.
    [[nodiscard]] bool open(QString* error = nullptr);

    [[nodiscard]] const QString& stateDir() const { return stateDir_; }
    [[nodiscard]] QString profilesDir() const;
    [[nodiscard]] QString profilePath(const QString& name) const;

    [[nodiscard]] static bool isValidName(const QString& name);

    // Parses `text`; when it is valid and the name is free, stores writeWgQuick() of it under
    // `name`, or under the first free "wg0", "wg1", ... when no name is given.
    [[nodiscard]] ImportResult import(const QString& text,
                                      const std::optional<QString>& name = std::nullopt);

    // Every <name>.conf with a valid name, sorted by name; files that do not parse are broken
    // entries. Anything else in the directory (temporary files, other names) is ignored.
    [[nodiscard]] std::vector<ProfileInfo> list() const;
    // The summary of one profile (possibly broken); nullopt when there is no such profile.
    [[nodiscard]] std::optional<ProfileInfo> info(const QString& name) const;
    // The parsed profile; nullopt when there is no such profile or it is broken.
    [[nodiscard]] std::optional<config::WgQuickConfig> load(const QString& name) const;

    // ---- Calnet network profiles (<name>.mesh) ----
    // Stores a new mesh profile; Conflict when the name is taken by a profile of either kind.
    [[nodiscard]] StoreResult createMesh(const QString& name, const MeshProfile& mesh);
    // Replaces an existing mesh profile (after a registration); NotFound when there is none.
    [[nodiscard]] StoreResult saveMesh(const QString& name, const MeshProfile& mesh);
    // nullopt when there is no such mesh profile or it does not parse.
    [[nodiscard]] std::optional<MeshProfile> loadMesh(const QString& name) const;
    [[nodiscard]] bool isMesh(const QString& name) const;
    // The mesh profile for this server URL (normalised), if there is one.
    [[nodiscard]] std::optional<QString> findMeshByServer(const QString& server) const;

    // ---- the network map cache of a mesh profile (<name>.netmap, mapcache.h) ----
    // Replaces the cache atomically; NotFound when there is no mesh profile of that name.
    [[nodiscard]] StoreResult saveMapCache(const QString& name, const QByteArray& json);
    // The file's bytes; nullopt when there is none, or (with `problem` set) when it cannot be
    // read.
    [[nodiscard]] std::optional<QByteArray> loadMapCache(const QString& name,
                                                         QString* problem = nullptr) const;
    // Deletes the cache; a missing one is no error.
    [[nodiscard]] StoreResult removeMapCache(const QString& name);

    // Renames without rewriting the file (the name is not in it); never replaces another
    // profile, even one created concurrently (renameat2 RENAME_NOREPLACE).
    [[nodiscard]] StoreResult rename(const QString& from, const QString& to);
    [[nodiscard]] StoreResult remove(const QString& name);

    // The profile as wg-quick text, keys included (admin-only export); nullopt when there is no
    // such profile or it is broken.
    [[nodiscard]] std::optional<QString> exportText(const QString& name) const;

    // The profile that was connected when the service last changed state (state.json).
    [[nodiscard]] const std::optional<QString>& connectedProfile() const { return connected_; }
    // Persists the new value atomically; the in-memory value changes only when that worked.
    [[nodiscard]] StoreResult setConnectedProfile(const std::optional<QString>& name);

private:
    [[nodiscard]] QString statePath() const;
    // nullopt when the file does not exist; a broken entry when it cannot be read or parsed.
    [[nodiscard]] std::optional<ProfileInfo>
    readProfile(const QString& name, std::optional<config::WgQuickConfig>* config) const;
    [[nodiscard]] QString meshPath(const QString& name) const;
    [[nodiscard]] QString mapCachePath(const QString& name) const;
    [[nodiscard]] std::optional<ProfileInfo> readMesh(const QString& name,
                                                      std::optional<MeshProfile>* mesh) const;
    // A .conf or a .mesh with this name.
    [[nodiscard]] bool exists(const QString& name) const;
    void loadState();

    QString stateDir_;
    std::optional<QString> connected_;
};

} // namespace calnet::helper
