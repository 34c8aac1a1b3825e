// ProfileStore: profiles on disk (see profilestore.h for the layout and guarantees). Every file
// is written with statefile::writeAtomically() and read with statefile::readFile(); buffers
// that held key material are wiped with sodium_memzero.
#include "helper/service/profilestore.h"

#include "helper/ipc/protocol.h"
#include "helper/platform/statefile.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <sodium/utils.h>

#include <QByteArray>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonValue>
#include <QtDebug>

namespace calnet::helper {

using namespace statefile;

namespace {

constexpr char kProfilesSubdir[] = "profiles";
constexpr char kProfileSuffix[] = ".conf";
constexpr char kMeshSuffix[] = ".mesh";
// A mesh profile is a few hundred bytes of JSON.
constexpr std::size_t kMaxMeshBytes = 64 * 1024;
constexpr char kMapCacheSuffix[] = ".netmap";
// About 400 bytes of JSON per node: room for some thousands of nodes.
constexpr std::size_t kMaxMapCacheBytes = 4 * 1024 * 1024;
constexpr char kStateFile[] = "state.json";
// state.json is a few bytes; anything much larger is not ours.
constexpr std::size_t kMaxStateBytes = 64 * 1024;
// How many "wgN" names import() tries before giving up.
constexpr int kMaxDerivedNames = 10000;

QString nameRules() {
    return QStringLiteral("1-%1 characters of A-Z a-z 0-9 _ . -, not starting with '.'")
        .arg(ipc::kMaxProfileNameLength);
}

StoreResult invalidName() {
    return {StoreStatus::InvalidName, QStringLiteral("a profile name must be ") + nameRules(),
            std::nullopt};
}

StoreResult notFound(const QString& name) {
    return {StoreStatus::NotFound, QStringLiteral("no profile named '%1'").arg(name), std::nullopt};
}

} // namespace

ProfileInfo ProfileInfo::summarise(const QString& name, const config::WgQuickConfig& config) {
    ProfileInfo info;
    info.name = name;
    for (const net::IpPrefix& address : config.interface.addresses)
        info.addresses << QString::fromStdString(address.toString());
    for (const net::IpAddress& server : config.interface.dnsServers)
        info.dns << QString::fromStdString(server.toString());
    for (const std::string& domain : config.interface.dnsSearch)
        info.dns << QString::fromStdString(domain);
    info.peerCount = static_cast<int>(config.peers.size());
    for (const config::WgQuickPeer& peer : config.peers) {
        if (peer.endpoint)
            info.endpoints << QString::fromStdString(peer.endpoint->toString());
        info.fullTunnel =
            info.fullTunnel || std::any_of(peer.allowedIps.begin(), peer.allowedIps.end(),
                                           [](const net::IpPrefix& p) { return p.length == 0; });
    }
    return info;
}

ProfileInfo ProfileInfo::summarise(const QString& name, const MeshProfile& mesh) {
    ProfileInfo info;
    info.name = name;
    info.kind = Kind::Mesh;
    info.server = mesh.server;
    info.nodeId = mesh.nodeId;
    info.hostname = mesh.hostname;
    info.addresses = mesh.addresses;
    info.endpoints << mesh.server;
    return info;
}

QJsonObject ProfileInfo::toJson(bool connected) const {
    QJsonObject o{
        {QStringLiteral("name"), name},
        {QStringLiteral("kind"),
         kind == Kind::Mesh ? QStringLiteral("mesh") : QStringLiteral("wireguard")},
        {QStringLiteral("addresses"), QJsonArray::fromStringList(addresses)},
        {QStringLiteral("peers"), peerCount},
        {QStringLiteral("endpoints"), QJsonArray::fromStringList(endpoints)},
        {QStringLiteral("dns"), QJsonArray::fromStringList(dns)},
        {QStringLiteral("fullTunnel"), fullTunnel},
        {QStringLiteral("connected"), connected},
    };
    if (kind == Kind::Mesh) {
        o.insert(QStringLiteral("server"), server);
        o.insert(QStringLiteral("nodeId"), nodeId > 0 ? QJsonValue(nodeId) : QJsonValue());
        o.insert(QStringLiteral("hostname"), hostname);
    }
    if (broken()) {
        QJsonArray list;
        for (const config::ConfigError& e : errors)
            list.append(QJsonObject{{QStringLiteral("line"), e.line},
                                    {QStringLiteral("reason"), QString::fromStdString(e.reason)}});
        o.insert(QStringLiteral("broken"), true);
        o.insert(QStringLiteral("errors"), list);
    }
    return o;
}

const char* toString(StoreStatus status) {
    switch (status) {
    case StoreStatus::Ok:
        return "ok";
    case StoreStatus::InvalidName:
        return "invalid_name";
    case StoreStatus::NotFound:
        return "not_found";
    case StoreStatus::Conflict:
        return "conflict";
    case StoreStatus::Failed:
        return "failed";
    }
    return "?";
}

ProfileStore::ProfileStore(QString stateDir) : stateDir_(std::move(stateDir)) {
    while (stateDir_.size() > 1 && stateDir_.endsWith(QLatin1Char('/')))
        stateDir_.chop(1);
}

QString ProfileStore::profilesDir() const {
    return stateDir_ + QLatin1Char('/') + QLatin1String(kProfilesSubdir);
}

QString ProfileStore::profilePath(const QString& name) const {
    return profilesDir() + QLatin1Char('/') + name + QLatin1String(kProfileSuffix);
}

QString ProfileStore::statePath() const {
    return stateDir_ + QLatin1Char('/') + QLatin1String(kStateFile);
}

bool ProfileStore::isValidName(const QString& name) {
    // One rule for the wire and the disk: the IPC library owns it.
    return ipc::isValidProfileName(name);
}

bool ProfileStore::open(QString* error) {
    QString scratch;
    QString& message = error ? *error : scratch;
    if (!prepareDirectory(stateDir_, true, false, &message) ||
        !prepareDirectory(profilesDir(), false, true, &message))
        return false;
    // Every temporary file in profiles/ is ours; the state directory may hold others' files.
    sweepDirectory(profilesDir(), ".", {kProfileSuffix, kMeshSuffix, kMapCacheSuffix});
    sweepDirectory(stateDir_, std::string(".") + kStateFile + kTempMarker, {});
    loadState();
    return true;
}

QString ProfileStore::meshPath(const QString& name) const {
    return profilesDir() + QLatin1Char('/') + name + QLatin1String(kMeshSuffix);
}

bool ProfileStore::exists(const QString& name) const {
    return entryExists(profilePath(name)) || entryExists(meshPath(name));
}

std::optional<ProfileInfo> ProfileStore::readMesh(const QString& name,
                                                  std::optional<MeshProfile>* mesh) const {
    WipedString text;
    std::string problem;
    switch (readFile(meshPath(name), kMaxMeshBytes, text, problem)) {
    case ReadStatus::Missing:
        return std::nullopt;
    case ReadStatus::Failed: {
        ProfileInfo broken;
        broken.name = name;
        broken.kind = ProfileInfo::Kind::Mesh;
        broken.errors.push_back({0, problem});
        return broken;
    }
    case ReadStatus::Ok:
        break;
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(
        QByteArray::fromRawData(text.text.data(), qsizetype(text.text.size())), &parseError);
    QString why = QStringLiteral("not a JSON object");
    std::optional<MeshProfile> parsed;
    if (doc.isObject())
        parsed = MeshProfile::fromJson(doc.object(), &why);
    if (!parsed) {
        ProfileInfo broken;
        broken.name = name;
        broken.kind = ProfileInfo::Kind::Mesh;
        broken.errors.push_back({0, "the mesh profile is not valid: " + why.toStdString()});
        return broken;
    }
    ProfileInfo info = ProfileInfo::summarise(name, *parsed);
    if (mesh)
        *mesh = std::move(parsed);
    return info;
}

namespace {
// The file text of a mesh profile; holds private keys and the credential.
void meshText(const MeshProfile& mesh, WipedString& out) {
    QByteArray json = QJsonDocument(mesh.toJson()).toJson(QJsonDocument::Indented);
    out.text.assign(json.constData(), std::size_t(json.size()));
    sodium_memzero(json.data(), std::size_t(json.size()));
}
} // namespace

StoreResult ProfileStore::createMesh(const QString& name, const MeshProfile& mesh) {
    if (!isValidName(name))
        return invalidName();
    const auto taken = [&] {
        return StoreResult{StoreStatus::Conflict,
                           QStringLiteral("a profile named '%1' already exists").arg(name),
                           std::nullopt};
    };
    if (exists(name))
        return taken();
    WipedString text;
    meshText(mesh, text);
    const WriteOutcome written = writeAtomically(profilesDir(), name + QLatin1String(kMeshSuffix),
                                                 text.text, Replace::Refused);
    if (written.targetExists)
        return taken();
    if (!written.ok)
        return {StoreStatus::Failed, written.error, std::nullopt};
    // A cache without its profile (a crash in remove()) must not become the new profile's.
    if (const StoreResult stale = removeMapCache(name); !stale.ok())
        qWarning("calnetd: %s", qPrintable(stale.message));
    return {StoreStatus::Ok, {}, ProfileInfo::summarise(name, mesh)};
}

StoreResult ProfileStore::saveMesh(const QString& name, const MeshProfile& mesh) {
    if (!isValidName(name))
        return invalidName();
    if (!isMesh(name))
        return notFound(name);
    WipedString text;
    meshText(mesh, text);
    const WriteOutcome written = writeAtomically(profilesDir(), name + QLatin1String(kMeshSuffix),
                                                 text.text, Replace::Allowed);
    if (!written.ok)
        return {StoreStatus::Failed, written.error, std::nullopt};
    return {StoreStatus::Ok, {}, ProfileInfo::summarise(name, mesh)};
}

std::optional<MeshProfile> ProfileStore::loadMesh(const QString& name) const {
    if (!isValidName(name))
        return std::nullopt;
    std::optional<MeshProfile> mesh;
    (void)readMesh(name, &mesh);
    return mesh;
}

QString ProfileStore::mapCachePath(const QString& name) const {
    return profilesDir() + QLatin1Char('/') + name + QLatin1String(kMapCacheSuffix);
}

StoreResult ProfileStore::saveMapCache(const QString& name, const QByteArray& json) {
    if (!isValidName(name))
        return invalidName();
    if (!isMesh(name))
        return notFound(name);
    const WriteOutcome written = writeAtomically(
        profilesDir(), name + QLatin1String(kMapCacheSuffix),
        std::string_view(json.constData(), std::size_t(json.size())), Replace::Allowed);
    if (!written.ok)
        return {StoreStatus::Failed, written.error, std::nullopt};
    return {};
}

std::optional<QByteArray> ProfileStore::loadMapCache(const QString& name, QString* problem) const {
    if (!isValidName(name))
        return std::nullopt;
    WipedString text;
    std::string why;
    switch (readFile(mapCachePath(name), kMaxMapCacheBytes, text, why)) {
    case ReadStatus::Missing:
        return std::nullopt;
    case ReadStatus::Failed:
        if (problem)
            *problem = QString::fromStdString(why);
        return std::nullopt;
    case ReadStatus::Ok:
        break;
    }
    return QByteArray(text.text.data(), qsizetype(text.text.size()));
}

StoreResult ProfileStore::removeMapCache(const QString& name) {
    if (!isValidName(name))
        return invalidName();
    const QString path = mapCachePath(name);
    if (const int error = removeFile(path); error != 0) {
        if (error == ENOENT)
            return {};
        return {StoreStatus::Failed, sysError("unlink", path, error), std::nullopt};
    }
    syncDirectory(profilesDir());
    return {};
}

bool ProfileStore::isMesh(const QString& name) const {
    return isValidName(name) && entryExists(meshPath(name));
}

std::optional<QString> ProfileStore::findMeshByServer(const QString& server) const {
    const auto wanted = ipc::normaliseServerUrl(server);
    if (!wanted)
        return std::nullopt;
    for (const ProfileInfo& p : list())
        if (p.kind == ProfileInfo::Kind::Mesh && !p.broken() && p.server == *wanted)
            return p.name;
    return std::nullopt;
}

std::optional<ProfileInfo>
ProfileStore::readProfile(const QString& name, std::optional<config::WgQuickConfig>* config) const {
    WipedString text;
    std::string problem;
    switch (readFile(profilePath(name), config::kMaxConfigBytes, text, problem)) {
    case ReadStatus::Missing:
        return std::nullopt;
    case ReadStatus::Failed: {
        ProfileInfo broken;
        broken.name = name;
        broken.errors.push_back({0, problem});
        return broken;
    }
    case ReadStatus::Ok:
        break;
    }
    config::WgQuickParseResult parsed = config::parseWgQuick(text.text);
    if (!parsed.config) {
        ProfileInfo broken;
        broken.name = name;
        broken.errors = std::move(parsed.errors);
        return broken;
    }
    ProfileInfo info = ProfileInfo::summarise(name, *parsed.config);
    if (config)
        *config = std::move(parsed.config);
    return info;
}

ImportResult ProfileStore::import(const QString& text, const std::optional<QString>& name) {
    ImportResult result;
    std::optional<config::WgQuickConfig> parsed;
    {
        QByteArray utf8 = text.toUtf8();
        config::WgQuickParseResult r =
            config::parseWgQuick(std::string_view(utf8.constData(), std::size_t(utf8.size())));
        sodium_memzero(utf8.data(), std::size_t(utf8.size()));
        parsed = std::move(r.config);
        result.errors = std::move(r.errors);
    }
    // The name is not echoed: a confused client might have sent a key in its place.
    if (name && !isValidName(*name))
        result.errors.push_back({0, "the profile name must be " + nameRules().toStdString()});
    if (!result.errors.empty())
        return result;

    const WipedString canonical(config::writeWgQuick(*parsed));
    auto store = [&](const QString& candidate) {
        return writeAtomically(profilesDir(), candidate + QLatin1String(kProfileSuffix),
                               canonical.text, Replace::Refused);
    };
    QString chosen;
    WriteOutcome written;
    if (name) {
        chosen = *name;
        if (isMesh(chosen)) {
            result.conflict = QStringLiteral("a profile named '%1' already exists").arg(chosen);
            return result;
        }
        written = store(chosen);
        if (written.targetExists) {
            result.conflict = QStringLiteral("a profile named '%1' already exists").arg(chosen);
            return result;
        }
    } else {
        for (int n = 0; n < kMaxDerivedNames; ++n) {
            chosen = QStringLiteral("wg%1").arg(n);
            if (exists(chosen))
                continue;
            written = store(chosen);
            if (!written.targetExists)
                break; // stored, or an I/O error
        }
        if (!written.ok && written.error.isEmpty()) {
            result.conflict = QStringLiteral("every name from wg0 to wg%1 is taken; give a name")
                                  .arg(kMaxDerivedNames - 1);
            return result;
        }
    }
    if (!written.ok) {
        result.failure = written.error;
        return result;
    }
    result.profile = ProfileInfo::summarise(chosen, *parsed);
    return result;
}

std::vector<ProfileInfo> ProfileStore::list() const {
    std::vector<ProfileInfo> out;
    QString problem;
    const auto files = fileNames(profilesDir(), &problem);
    if (!files) {
        qWarning("calnetd: %s", qPrintable(problem));
        return out;
    }
    std::vector<std::pair<QString, bool>> names; // name, is a mesh profile
    for (QString file : *files) {
        const bool mesh = file.endsWith(QLatin1String(kMeshSuffix));
        if (!mesh && !file.endsWith(QLatin1String(kProfileSuffix)))
            continue;
        file.chop(int(std::strlen(mesh ? kMeshSuffix : kProfileSuffix)));
        if (isValidName(file))
            names.emplace_back(std::move(file), mesh);
    }
    std::sort(names.begin(), names.end());
    for (const auto& [name, mesh] : names) {
        auto info = mesh ? readMesh(name, nullptr) : readProfile(name, nullptr);
        if (info)
            out.push_back(std::move(*info)); // a file removed meanwhile is simply skipped
    }
    return out;
}

std::optional<ProfileInfo> ProfileStore::info(const QString& name) const {
    if (!isValidName(name))
        return std::nullopt;
    if (auto conf = readProfile(name, nullptr))
        return conf;
    return readMesh(name, nullptr);
}

std::optional<config::WgQuickConfig> ProfileStore::load(const QString& name) const {
    if (!isValidName(name))
        return std::nullopt;
    std::optional<config::WgQuickConfig> config;
    (void)readProfile(name, &config);
    return config;
}

StoreResult ProfileStore::rename(const QString& from, const QString& to) {
    if (!isValidName(from) || !isValidName(to))
        return invalidName();
    if (from == to) {
        auto profile = info(from);
        if (!profile)
            return notFound(from);
        return {StoreStatus::Ok, {}, std::move(profile)};
    }
    const bool mesh = isMesh(from);
    if (exists(to))
        return {StoreStatus::Conflict,
                QStringLiteral("a profile named '%1' already exists").arg(to), std::nullopt};
    const QString fromPath = mesh ? meshPath(from) : profilePath(from);
    const QString toPath = mesh ? meshPath(to) : profilePath(to);
    if (renameNoReplace(local(fromPath), local(toPath)) != 0) {
        if (errno == ENOENT)
            return notFound(from);
        if (errno == EEXIST)
            return {StoreStatus::Conflict,
                    QStringLiteral("a profile named '%1' already exists").arg(to), std::nullopt};
        return {StoreStatus::Failed, sysError("renameat2", fromPath), std::nullopt};
    }
    // The cache follows its profile. No profile was named `to`, so a cache under that name is
    // stale; and a cache is only a cache: one that cannot move is deleted.
    if (mesh) {
        (void)removeMapCache(to);
        if (const int error = renameFile(mapCachePath(from), mapCachePath(to));
            error != 0 && error != ENOENT) {
            qWarning("calnetd: %s", qPrintable(sysError("rename", mapCachePath(from), error)));
            (void)removeMapCache(from);
        }
    }
    syncDirectory(profilesDir());
    return {StoreStatus::Ok, {}, info(to)};
}

StoreResult ProfileStore::remove(const QString& name) {
    if (!isValidName(name))
        return invalidName();
    const bool mesh = isMesh(name);
    // The cache first: a crash in between leaves the profile without a cache, never a cache
    // without a profile.
    if (mesh) {
        if (StoreResult cache = removeMapCache(name); !cache.ok())
            return cache;
    }
    const QString path = mesh ? meshPath(name) : profilePath(name);
    if (const int error = removeFile(path); error != 0) {
        if (error == ENOENT)
            return notFound(name);
        return {StoreStatus::Failed, sysError("unlink", path, error), std::nullopt};
    }
    syncDirectory(profilesDir());
    return {};
}

std::optional<QString> ProfileStore::exportText(const QString& name) const {
    auto config = load(name);
    if (!config)
        return std::nullopt;
    const WipedString text(config::writeWgQuick(*config));
    return QString::fromStdString(text.text);
}

void ProfileStore::loadState() {
    connected_.reset();
    WipedString text;
    std::string problem;
    switch (readFile(statePath(), kMaxStateBytes, text, problem)) {
    case ReadStatus::Missing:
        return;
    case ReadStatus::Failed:
        qWarning("calnetd: %s: %s; assuming not connected", qPrintable(statePath()),
                 problem.c_str());
        return;
    case ReadStatus::Ok:
        break;
    }
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(
        QByteArray::fromRawData(text.text.data(), qsizetype(text.text.size())), &parseError);
    const QJsonValue connected = doc.object().value(QStringLiteral("connected"));
    if (doc.isObject() && (connected.isNull() || connected.isUndefined()))
        return;
    if (doc.isObject() && connected.isString() && isValidName(connected.toString())) {
        connected_ = connected.toString();
        return;
    }
    qWarning("calnetd: %s is not {\"connected\": name|null}; assuming not connected",
             qPrintable(statePath()));
}

StoreResult ProfileStore::setConnectedProfile(const std::optional<QString>& name) {
    if (name && !isValidName(*name))
        return invalidName();
    const QJsonObject o{{QStringLiteral("connected"), name ? QJsonValue(*name) : QJsonValue()}};
    const QByteArray json = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    const WriteOutcome written = writeAtomically(
        stateDir_, QLatin1String(kStateFile),
        std::string_view(json.constData(), std::size_t(json.size())), Replace::Allowed);
    if (!written.ok)
        return {StoreStatus::Failed, written.error, std::nullopt};
    connected_ = name;
    return {};
}

} // namespace calnet::helper
