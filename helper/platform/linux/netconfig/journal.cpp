#include "helper/platform/linux/netconfig/journal.h"

#include "helper/platform/statefile.h"

#include "helper/platform/linux/netconfig/packetfilter.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

namespace calnet::helper::netconfig {

namespace {

constexpr const char* kFormat = "calnet-netconfig-journal";
constexpr const char* kFilePrefix = "netconfig-";
constexpr const char* kFileSuffix = ".json";
constexpr const char* kEntriesOpen = "\"entries\":[";

template <class... Ts> struct Overloaded : Ts... { using Ts::operator()...; };
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

bool isValidIfname(std::string_view name) {
    if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..")
        return false;
    for (const char c : name)
        if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            return false;
    return true;
}

// A resolvconf record name: what an interface name allows plus the "prefix." of
// interface-order (e.g. "tun.cn0").
bool isValidRecord(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-')
        return false;
    for (const char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
            c != '=' && c != '+')
            return false;
    return true;
}

std::string errnoText(const std::string& what, int err) {
    return what + ": " + std::strerror(err);
}

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

// --- JSON fields ---------------------------------------------------------------------------

std::optional<std::uint64_t> uintField(const QJsonObject& o, const char* key, std::uint64_t max) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (!v.isDouble())
        return std::nullopt;
    const double d = v.toDouble();
    if (d < 0 || d > static_cast<double>(max) || d != static_cast<double>(std::uint64_t(d)))
        return std::nullopt;
    return static_cast<std::uint64_t>(d);
}

std::optional<std::string> stringField(const QJsonObject& o, const char* key) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (!v.isString())
        return std::nullopt;
    return v.toString().toStdString();
}

std::optional<LinkRef> linkField(const QJsonObject& o) {
    const auto index = uintField(o, "ifindex", INT32_MAX);
    const auto name = stringField(o, "ifname");
    if (!index || *index == 0 || !name || !isValidIfname(*name))
        return std::nullopt;
    return LinkRef{static_cast<int>(*index), *name};
}

void putLink(QJsonObject& o, const LinkRef& link) {
    o.insert("ifindex", link.ifindex);
    o.insert("ifname", qs(link.name));
}

QJsonObject toJson(const JournalEntry& entry) {
    QJsonObject o;
    std::visit(Overloaded{
                   [&](const AddressAdded& e) {
                       o.insert("op", "address");
                       putLink(o, e.link);
                       o.insert("address", qs(e.address.toString()));
                   },
                   [&](const MtuChanged& e) {
                       o.insert("op", "mtu");
                       putLink(o, e.link);
                       o.insert("previous", static_cast<qint64>(e.previous));
                       o.insert("mtu", static_cast<qint64>(e.mtu));
                   },
                   [&](const LinkBroughtUp& e) {
                       o.insert("op", "link-up");
                       putLink(o, e.link);
                   },
                   [&](const RouteAdded& e) {
                       o.insert("op", "route");
                       putLink(o, e.link);
                       o.insert("prefix", qs(e.route.prefix.toString()));
                       o.insert("table", static_cast<qint64>(e.route.table));
                       o.insert("metric", static_cast<qint64>(e.route.metric));
                   },
                   [&](const RuleAdded& e) {
                       o.insert("op", "rule");
                       o.insert("family", e.rule.family == net::Family::V4 ? 4 : 6);
                       o.insert("priority", static_cast<qint64>(e.rule.priority));
                       o.insert("table", static_cast<qint64>(e.rule.table));
                       if (e.rule.fwmark)
                           o.insert("fwmark", static_cast<qint64>(*e.rule.fwmark));
                       if (e.rule.invert)
                           o.insert("invert", true);
                       if (e.rule.suppressPrefixLength)
                           o.insert("suppressPrefixLength", *e.rule.suppressPrefixLength);
                   },
                   [&](const SysctlChanged& e) {
                       o.insert("op", "sysctl");
                       o.insert("name", qs(e.name));
                       o.insert("previous", qs(e.previous));
                       o.insert("value", qs(e.value));
                   },
                   [&](const ResolvedDnsSet& e) {
                       o.insert("op", "dns-resolved");
                       putLink(o, e.link);
                   },
                   [&](const ResolvconfDnsSet& e) {
                       o.insert("op", "dns-resolvconf");
                       o.insert("record", qs(e.record));
                   },
                   [&](const FilterTableAdded& e) {
                       o.insert("op", "nft-table");
                       o.insert("family", e.family == net::Family::V4 ? 4 : 6);
                       o.insert("table", qs(e.table));
                   },
               },
               entry);
    return o;
}

// Strict: an entry with a missing or malformed field is not an entry (it is counted as
// unreadable), so nothing is ever undone from a guess.
std::optional<JournalEntry> fromJson(const QJsonObject& o) {
    const auto op = stringField(o, "op");
    if (!op)
        return std::nullopt;
    if (*op == "address" || *op == "link-up" || *op == "dns-resolved" || *op == "mtu" ||
        *op == "route") {
        const auto link = linkField(o);
        if (!link)
            return std::nullopt;
        if (*op == "link-up")
            return LinkBroughtUp{*link};
        if (*op == "dns-resolved")
            return ResolvedDnsSet{*link};
        if (*op == "address") {
            const auto text = stringField(o, "address");
            const auto prefix = text ? net::IpPrefix::parse(*text) : std::nullopt;
            if (!prefix)
                return std::nullopt;
            return AddressAdded{*link, *prefix};
        }
        if (*op == "mtu") {
            const auto previous = uintField(o, "previous", UINT32_MAX);
            const auto mtu = uintField(o, "mtu", UINT32_MAX);
            if (!previous || !mtu || *previous == 0)
                return std::nullopt;
            return MtuChanged{*link, static_cast<std::uint32_t>(*previous),
                              static_cast<std::uint32_t>(*mtu)};
        }
        const auto text = stringField(o, "prefix");
        const auto prefix = text ? net::IpPrefix::parse(*text) : std::nullopt;
        const auto table = uintField(o, "table", UINT32_MAX);
        const auto metric = uintField(o, "metric", UINT32_MAX);
        if (!prefix || !table || *table == 0 || !metric)
            return std::nullopt;
        return RouteAdded{*link, RouteSpec{prefix->masked(), link->ifindex,
                                           static_cast<std::uint32_t>(*table),
                                           static_cast<std::uint32_t>(*metric)}};
    }
    if (*op == "rule") {
        const auto family = uintField(o, "family", 6);
        const auto priority = uintField(o, "priority", UINT32_MAX);
        const auto table = uintField(o, "table", UINT32_MAX);
        if (!family || (*family != 4 && *family != 6) || !priority || !table || *table == 0)
            return std::nullopt;
        RuleSpec rule;
        rule.family = *family == 4 ? net::Family::V4 : net::Family::V6;
        rule.priority = static_cast<std::uint32_t>(*priority);
        rule.table = static_cast<std::uint32_t>(*table);
        if (o.contains("fwmark")) {
            const auto mark = uintField(o, "fwmark", UINT32_MAX);
            if (!mark)
                return std::nullopt;
            rule.fwmark = static_cast<std::uint32_t>(*mark);
        }
        if (o.contains("invert")) {
            if (!o.value("invert").isBool())
                return std::nullopt;
            rule.invert = o.value("invert").toBool();
        }
        if (o.contains("suppressPrefixLength")) {
            const auto length = uintField(o, "suppressPrefixLength", 128);
            if (!length)
                return std::nullopt;
            rule.suppressPrefixLength = static_cast<std::uint8_t>(*length);
        }
        // A rule that selects nothing would, when "deleted", match the first rule of that
        // priority whatever it is: only the two shapes we add are accepted.
        if (!rule.fwmark && !rule.suppressPrefixLength)
            return std::nullopt;
        return RuleAdded{rule};
    }
    if (*op == "sysctl") {
        auto name = stringField(o, "name");
        auto previous = stringField(o, "previous");
        auto value = stringField(o, "value");
        if (!name || !previous || !value || previous->size() > 64 || value->size() > 64)
            return std::nullopt;
        return SysctlChanged{*name, *previous, *value};
    }
    if (*op == "dns-resolvconf") {
        auto record = stringField(o, "record");
        if (!record || !isValidRecord(*record))
            return std::nullopt;
        return ResolvconfDnsSet{*record};
    }
    if (*op == "nft-table") {
        const auto family = uintField(o, "family", 6);
        auto table = stringField(o, "table");
        // Only a table we could have made: never delete another program's from a bad file.
        if (!family || (*family != 4 && *family != 6) || !table ||
            table->rfind("calnet-", 0) != 0 || filterTableName(table->substr(7)) != *table)
            return std::nullopt;
        return FilterTableAdded{*family == 4 ? net::Family::V4 : net::Family::V6, *table};
    }
    return std::nullopt;
}

std::string jsonString(const std::string& s) {
    // QJsonDocument has no scalar documents: serialise a one-element array and unwrap it.
    const QByteArray array = QJsonDocument(QJsonArray{qs(s)}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2).toStdString();
}

bool parseHeader(const QJsonObject& o, JournalHeader& header) {
    if (o.value("format").toString() != QLatin1String(kFormat))
        return false;
    const auto version = uintField(o, "version", 1000);
    const auto interface = stringField(o, "interface");
    if (!version || *version != Journal::kVersion || !interface || !isValidIfname(*interface))
        return false;
    header.interface = *interface;
    header.bootId = stringField(o, "bootId").value_or("");
    header.netns = uintField(o, "netns", UINT64_MAX >> 11).value_or(0);
    return true;
}

// The state directory's one way to replace a file: temp file + fsync + rename + fsync of the
// directory (statefile.h).
bool writeAtomically(const std::string& path, const std::string& data, std::string& error) {
    const std::filesystem::path p(path);
    const auto outcome = statefile::writeAtomically(
        QString::fromStdString(p.parent_path().empty() ? "." : p.parent_path().string()),
        QString::fromStdString(p.filename().string()), data, statefile::Replace::Allowed);
    // Write-ahead: an entry counts as recorded only once it survives a power loss, so the
    // directory sync failing fails the write (other state files only warn).
    if (!outcome.ok)
        error = "journal: " + outcome.error.toStdString();
    else if (!outcome.durable)
        error = "journal: fsync of the directory of " + path + " failed";
    return outcome.ok && outcome.durable;
}

} // namespace

std::string describe(const JournalEntry& entry) {
    return std::visit(
        Overloaded{
            [](const AddressAdded& e) {
                return "address " + e.address.toString() + " dev " + e.link.name;
            },
            [](const MtuChanged& e) {
                return "mtu " + std::to_string(e.previous) + " -> " + std::to_string(e.mtu) +
                       " dev " + e.link.name;
            },
            [](const LinkBroughtUp& e) { return "link up dev " + e.link.name; },
            [](const RouteAdded& e) {
                return "route " + e.route.prefix.toString() + " dev " + e.link.name + " table " +
                       std::to_string(e.route.table);
            },
            [](const RuleAdded& e) {
                std::string text = std::string(e.rule.family == net::Family::V4 ? "-4" : "-6") +
                                   " rule " + std::to_string(e.rule.priority) + ":";
                if (e.rule.invert)
                    text += " not";
                if (e.rule.fwmark)
                    text += " fwmark " + std::to_string(*e.rule.fwmark);
                text += " lookup " + std::to_string(e.rule.table);
                if (e.rule.suppressPrefixLength)
                    text +=
                        " suppress_prefixlength " + std::to_string(*e.rule.suppressPrefixLength);
                return text;
            },
            [](const SysctlChanged& e) {
                return "sysctl " + e.name + " " + e.previous + " -> " + e.value;
            },
            [](const ResolvedDnsSet& e) { return "dns (systemd-resolved) link " + e.link.name; },
            [](const ResolvconfDnsSet& e) { return "dns (resolvconf) record " + e.record; },
            [](const FilterTableAdded& e) {
                return std::string("nftables table ") + nftFamily(e.family) + " " + e.table;
            },
        },
        entry);
}

std::string currentBootId() {
    const int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    char buffer[64];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    ::close(fd);
    std::string id(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' '))
        id.pop_back();
    return id;
}

std::uint64_t currentNetns() {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) < 0)
        return 0;
    return st.st_ino;
}

std::string Journal::pathFor(const std::string& stateDir, const std::string& ifname) {
    if (!isValidIfname(ifname))
        return {};
    return (std::filesystem::path(stateDir) / (kFilePrefix + ifname + kFileSuffix)).string();
}

std::vector<std::string> Journal::findAll(const std::string& stateDir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(stateDir, ec)) {
        const std::string name = e.path().filename().string();
        const std::string_view suffix = kFileSuffix;
        if (name.rfind(kFilePrefix, 0) == 0 && name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
            out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

Journal::Journal(std::string path) : path_(std::move(path)) {}

Journal::LoadResult Journal::load() {
    LoadResult result;
    header_ = JournalHeader{};
    headerRead_ = false;
    entries_.clear();

    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT)
            result.problem = errnoText("open", errno);
        result.existed = errno != ENOENT;
        return result;
    }
    result.existed = true;
    std::string data;
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        data.append(buffer, static_cast<std::size_t>(n));
        if (data.size() > kMaxFileBytes)
            break;
    }
    ::close(fd);
    if (data.size() > kMaxFileBytes) {
        result.problem = "larger than " + std::to_string(kMaxFileBytes) + " bytes; not read";
        return result;
    }

    // The normal case: the whole file is one JSON object.
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(data), &parseError);
    if (parseError.error == QJsonParseError::NoError && doc.isObject() &&
        parseHeader(doc.object(), header_) && doc.object().value("entries").isArray()) {
        headerRead_ = true;
        result.intact = true;
        for (const auto& v : doc.object().value("entries").toArray()) {
            if (auto e = v.isObject() ? fromJson(v.toObject()) : std::nullopt)
                entries_.push_back(std::move(*e));
            else
                ++result.unreadable;
        }
        return result;
    }

    // Damaged: salvage line by line (the writer puts the header and each entry on a line).
    result.problem = parseError.error != QJsonParseError::NoError
                         ? parseError.errorString().toStdString() + " at offset " +
                               std::to_string(parseError.offset)
                         : "not a journal";
    std::size_t start = 0;
    bool first = true;
    while (start < data.size()) {
        std::size_t end = data.find('\n', start);
        if (end == std::string::npos)
            end = data.size();
        std::string line = data.substr(start, end - start);
        start = end + 1;
        while (!line.empty() && (line.back() == ',' || line.back() == ' ' || line.back() == '\r'))
            line.pop_back();
        if (first) {
            first = false;
            const std::string_view open = kEntriesOpen;
            if (line.size() >= open.size() &&
                line.compare(line.size() - open.size(), open.size(), open) == 0) {
                const QJsonDocument h =
                    QJsonDocument::fromJson(QByteArray::fromStdString(line + "]}"));
                if (h.isObject() && parseHeader(h.object(), header_)) {
                    headerRead_ = true;
                    continue;
                }
            }
            header_ = JournalHeader{};
        }
        if (line.empty() || line == "]}")
            continue;
        const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(line));
        if (auto e = d.isObject() ? fromJson(d.object()) : std::nullopt)
            entries_.push_back(std::move(*e));
        else
            ++result.unreadable;
    }
    return result;
}

Journal::Origin Journal::origin() const {
    if (!headerRead_)
        return Origin::Unknown;
    const std::string boot = currentBootId();
    if (!boot.empty() && !header_.bootId.empty() && boot != header_.bootId)
        return Origin::PreviousBoot;
    const std::uint64_t netns = currentNetns();
    if (netns != 0 && header_.netns != 0 && netns != header_.netns)
        return Origin::OtherNamespace;
    return Origin::Here;
}

bool Journal::begin(const std::string& interface, std::string& error) {
    if (!isValidIfname(interface)) {
        error = "journal: invalid interface name";
        return false;
    }
    const auto dir = std::filesystem::path(path_).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            error = "journal: create " + dir.string() + ": " + ec.message();
            return false;
        }
        ::chmod(dir.c_str(), 0700);
    }
    JournalHeader header{interface, currentBootId(), currentNetns()};
    std::swap(header, header_);
    const bool wasRead = headerRead_;
    headerRead_ = true;
    if (!write({}, error)) {
        header_ = header;
        headerRead_ = wasRead;
        return false;
    }
    entries_.clear();
    return true;
}

bool Journal::record(const JournalEntry& entry, std::string& error) {
    return record(std::vector<JournalEntry>{entry}, error);
}

bool Journal::record(const std::vector<JournalEntry>& entries, std::string& error) {
    if (entries.empty())
        return true;
    std::vector<JournalEntry> next = entries_;
    next.insert(next.end(), entries.begin(), entries.end());
    return replaceEntries(std::move(next), error);
}

bool Journal::forget(const JournalEntry& entry, std::string& error) {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (*it == entry) {
            std::vector<JournalEntry> next = entries_;
            next.erase(next.begin() + (entries_.rend() - it - 1));
            return replaceEntries(std::move(next), error);
        }
    }
    return true;
}

bool Journal::replaceEntries(std::vector<JournalEntry> entries, std::string& error) {
    if (!write(entries, error))
        return false;
    entries_ = std::move(entries);
    return true;
}

bool Journal::discard(std::string& error) {
    entries_.clear();
    if (::unlink(path_.c_str()) < 0 && errno != ENOENT) {
        error = errnoText("journal: remove " + path_, errno);
        return false;
    }
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

std::string Journal::serialise() const {
    return serialise(entries_);
}

std::string Journal::serialise(const std::vector<JournalEntry>& entries) const {
    std::string out = "{\"format\":\"" + std::string(kFormat) +
                      "\",\"version\":" + std::to_string(kVersion) +
                      ",\"interface\":" + jsonString(header_.interface) +
                      ",\"bootId\":" + jsonString(header_.bootId) +
                      ",\"netns\":" + std::to_string(header_.netns) + "," + kEntriesOpen + "\n";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        out += QJsonDocument(toJson(entries[i])).toJson(QJsonDocument::Compact).toStdString();
        out += i + 1 < entries.size() ? ",\n" : "\n";
    }
    out += "]}\n";
    return out;
}

bool Journal::write(const std::vector<JournalEntry>& entries, std::string& error) {
    if (header_.interface.empty()) {
        // The header was unreadable: the file name still says which interface this is, and we
        // are writing from this boot and namespace now.
        std::string name = std::filesystem::path(path_).filename().string();
        const std::string_view prefix = kFilePrefix, suffix = kFileSuffix;
        if (name.size() > prefix.size() + suffix.size())
            name = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
        if (!isValidIfname(name)) {
            error = "journal: no interface name for " + path_;
            return false;
        }
        header_ = JournalHeader{name, currentBootId(), currentNetns()};
        headerRead_ = true;
    }
    return writeAtomically(path_, serialise(entries), error);
}

} // namespace calnet::helper::netconfig
