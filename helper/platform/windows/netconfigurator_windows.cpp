#include "helper/platform/windows/netconfigurator_windows.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "helper/platform/statefile.h"
#include "helper/platform/windows/winerror.h"

namespace calnet::helper::windows {

namespace {

constexpr char kFormat[] = "calnet-windows-netconfig-journal";
constexpr char kEntriesOpen[] = "\"entries\":[";
constexpr char kFilePrefix[] = "netconfig-";
constexpr char kFileSuffix[] = ".json";

template <class... F> struct Overloaded : F... { using F::operator()...; };
template <class... F> Overloaded(F...) -> Overloaded<F...>;

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

int familyNumber(net::Family family) {
    return family == net::Family::V4 ? 4 : 6;
}

std::optional<net::Family> familyField(const QJsonObject& o) {
    const int n = o.value(QStringLiteral("family")).toInt(0);
    if (n == 4)
        return net::Family::V4;
    if (n == 6)
        return net::Family::V6;
    return std::nullopt;
}

// LUIDs as decimal strings: a JSON number is a double and loses the top bits of a 64-bit value.
std::optional<std::uint64_t> luidField(const QJsonObject& o, const char* key = "luid") {
    const std::string text = o.value(QLatin1String(key)).toString().toStdString();
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::optional<net::IpPrefix> prefixField(const QJsonObject& o, const char* key) {
    return net::IpPrefix::parse(o.value(QLatin1String(key)).toString().toStdString());
}

QJsonObject settingsJson(const InterfaceSettings& s) {
    return QJsonObject{{QStringLiteral("mtu"), static_cast<qint64>(s.mtu)},
                       {QStringLiteral("metric"), static_cast<qint64>(s.metric)},
                       {QStringLiteral("automaticMetric"), s.automaticMetric}};
}

std::optional<InterfaceSettings> settingsField(const QJsonObject& o, const char* key) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (!v.isObject())
        return std::nullopt;
    const QJsonObject s = v.toObject();
    const auto number = [&](const char* name) -> std::optional<std::uint32_t> {
        const QJsonValue n = s.value(QLatin1String(name));
        if (!n.isDouble() || n.toDouble() < 0 || n.toDouble() > 4294967295.0)
            return std::nullopt;
        return static_cast<std::uint32_t>(n.toInteger());
    };
    const auto mtu = number("mtu");
    const auto metric = number("metric");
    const QJsonValue automatic = s.value(QStringLiteral("automaticMetric"));
    if (!mtu || !metric || !automatic.isBool())
        return std::nullopt;
    return InterfaceSettings{*mtu, *metric, automatic.toBool()};
}

QJsonObject toJson(const JournalEntry& entry) {
    return std::visit(
        Overloaded{
            [](const AddressAdded& e) {
                return QJsonObject{{QStringLiteral("op"), QStringLiteral("address")},
                                   {QStringLiteral("luid"), qs(std::to_string(e.luid))},
                                   {QStringLiteral("address"), qs(e.address.toString())}};
            },
            [](const InterfaceChanged& e) {
                return QJsonObject{{QStringLiteral("op"), QStringLiteral("interface")},
                                   {QStringLiteral("luid"), qs(std::to_string(e.luid))},
                                   {QStringLiteral("family"), familyNumber(e.family)},
                                   {QStringLiteral("previous"), settingsJson(e.previous)},
                                   {QStringLiteral("settings"), settingsJson(e.settings)}};
            },
            [](const RouteAdded& e) {
                return QJsonObject{{QStringLiteral("op"), QStringLiteral("route")},
                                   {QStringLiteral("luid"), qs(std::to_string(e.route.luid))},
                                   {QStringLiteral("prefix"), qs(e.route.prefix.toString())},
                                   {QStringLiteral("nextHop"), qs(e.route.nextHop.toString())},
                                   {QStringLiteral("metric"), static_cast<qint64>(e.route.metric)}};
            },
            [](const DnsSet& e) {
                return QJsonObject{{QStringLiteral("op"), QStringLiteral("dns")},
                                   {QStringLiteral("guid"), qs(e.guid)},
                                   {QStringLiteral("family"), familyNumber(e.family)}};
            },
            [](const NrptRuleAdded& e) {
                return QJsonObject{{QStringLiteral("op"), QStringLiteral("nrpt")},
                                   {QStringLiteral("rule"), qs(e.ruleName)}};
            },
        },
        entry);
}

std::optional<JournalEntry> fromJson(const QJsonObject& o) {
    const QString op = o.value(QStringLiteral("op")).toString();
    if (op == QLatin1String("address")) {
        const auto luid = luidField(o);
        const auto address = prefixField(o, "address");
        if (luid && address)
            return AddressAdded{*luid, *address};
    } else if (op == QLatin1String("interface")) {
        const auto luid = luidField(o);
        const auto family = familyField(o);
        const auto previous = settingsField(o, "previous");
        const auto settings = settingsField(o, "settings");
        if (luid && family && previous && settings)
            return InterfaceChanged{*luid, *family, *previous, *settings};
    } else if (op == QLatin1String("route")) {
        const auto luid = luidField(o);
        const auto prefix = prefixField(o, "prefix");
        const auto nextHop =
            net::IpAddress::parse(o.value(QStringLiteral("nextHop")).toString().toStdString());
        const QJsonValue metric = o.value(QStringLiteral("metric"));
        if (luid && prefix && nextHop && nextHop->family == prefix->address.family &&
            metric.isDouble() && metric.toDouble() >= 0 && metric.toDouble() <= 4294967295.0)
            return RouteAdded{RouteSpec{*luid, *prefix, *nextHop,
                                        static_cast<std::uint32_t>(metric.toInteger())}};
    } else if (op == QLatin1String("dns")) {
        const std::string guid = o.value(QStringLiteral("guid")).toString().toStdString();
        const auto family = familyField(o);
        if (!guid.empty() && family)
            return DnsSet{guid, *family};
    } else if (op == QLatin1String("nrpt")) {
        const std::string rule = o.value(QStringLiteral("rule")).toString().toStdString();
        if (!rule.empty())
            return NrptRuleAdded{rule};
    }
    return std::nullopt;
}

std::string describeLuid(std::uint64_t luid) {
    return "interface luid " + std::to_string(luid);
}

net::IpAddress unspecified(net::Family family) {
    net::IpAddress a;
    a.family = family;
    return a;
}

bool sameGuid(const std::string& a, const std::string& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Whether the change belongs to the adapter `luid` (and went away with it).
bool boundTo(const JournalEntry& entry, std::uint64_t luid) {
    return std::visit(Overloaded{
                          [&](const AddressAdded& e) { return e.luid == luid; },
                          [&](const InterfaceChanged& e) { return e.luid == luid; },
                          [&](const RouteAdded& e) { return e.route.luid == luid; },
                          [](const DnsSet&) { return false; },
                          [](const NrptRuleAdded&) { return false; },
                      },
                      entry);
}

WinError undo(IpHelper& ip, const JournalEntry& entry) {
    return std::visit(
        Overloaded{
            [&](const AddressAdded& e) { return ip.deleteAddress(e.luid, e.address); },
            [&](const InterfaceChanged& e) {
                return ip.setInterface(e.luid, e.family, e.previous);
            },
            [&](const RouteAdded& e) { return ip.deleteRoute(e.route); },
            [&](const DnsSet& e) { return ip.clearInterfaceDns(e.guid, e.family); },
            [&](const NrptRuleAdded& e) { return ip.deleteNrptRule(e.ruleName); },
        },
        entry);
}

std::string joinSummary(const std::vector<std::string>& failures,
                        const std::vector<std::string>& notes) {
    std::string out;
    for (const auto* list : {&failures, &notes})
        for (const auto& s : *list) {
            if (!out.empty())
                out += "; ";
            out += s;
        }
    return out;
}

// The two halves that replace a default route: more specific than any default route, so they
// win without the physical default route being touched (and it comes back by itself).
std::vector<net::IpPrefix> halves(net::Family family) {
    net::IpPrefix low;
    low.address.family = family;
    low.length = 1;
    net::IpPrefix high = low;
    high.address.bytes[0] = 0x80;
    return {low, high};
}

} // namespace

std::string describe(const JournalEntry& entry) {
    return std::visit(
        Overloaded{
            [](const AddressAdded& e) {
                return "address " + e.address.toString() + " on " + describeLuid(e.luid);
            },
            [](const InterfaceChanged& e) {
                return std::string(e.family == net::Family::V4 ? "IPv4" : "IPv6") + " MTU " +
                       std::to_string(e.settings.mtu) + ", metric " +
                       (e.settings.automaticMetric ? std::string("automatic")
                                                   : std::to_string(e.settings.metric)) +
                       " on " + describeLuid(e.luid);
            },
            [](const RouteAdded& e) {
                const bool onLink = e.route.nextHop == unspecified(e.route.nextHop.family);
                return "route " + e.route.prefix.toString() +
                       (onLink ? std::string() : " via " + e.route.nextHop.toString()) + " on " +
                       describeLuid(e.route.luid);
            },
            [](const DnsSet& e) {
                return std::string(e.family == net::Family::V4 ? "IPv4" : "IPv6") +
                       " DNS settings of interface " + e.guid;
            },
            [](const NrptRuleAdded& e) { return "NRPT rule " + e.ruleName; },
        },
        entry);
}

bool survivesReboot(const JournalEntry& entry) {
    return std::holds_alternative<DnsSet>(entry) || std::holds_alternative<NrptRuleAdded>(entry);
}

// --- WindowsJournal ---------------------------------------------------------------------------

std::string WindowsJournal::fileNameFor(const std::string& ifname) {
    // The name also becomes part of NRPT registry key names: no path or key separators.
    if (ifname.empty() || ifname.size() > 128 || ifname.front() == '.')
        return {};
    for (const char c : ifname)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e ||
            std::string_view("\\/:*?\"<>|").find(c) != std::string_view::npos)
            return {};
    return kFilePrefix + ifname + kFileSuffix;
}

WindowsJournal::WindowsJournal(std::string stateDir, std::string fileName)
    : stateDir_(std::move(stateDir)), fileName_(std::move(fileName)) {}

std::string WindowsJournal::path() const {
    return stateDir_ + "/" + fileName_;
}

std::string WindowsJournal::serialise(const std::vector<JournalEntry>& entries) const {
    QJsonObject header{{QStringLiteral("format"), QLatin1String(kFormat)},
                       {QStringLiteral("version"), kVersion},
                       {QStringLiteral("interface"), qs(interface_)},
                       {QStringLiteral("luid"), qs(std::to_string(luid_))},
                       {QStringLiteral("guid"), qs(guid_)}};
    if (bootTime_)
        header.insert(QStringLiteral("bootTime"), static_cast<qint64>(*bootTime_));
    // The header on the first line, ending in `"entries":[`, then one entry per line.
    std::string out = QJsonDocument(header).toJson(QJsonDocument::Compact).toStdString();
    out.pop_back(); // the closing brace
    out += std::string(",") + kEntriesOpen + "\n";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        out += QJsonDocument(toJson(entries[i])).toJson(QJsonDocument::Compact).toStdString();
        out += i + 1 < entries.size() ? ",\n" : "\n";
    }
    out += "]}\n";
    return out;
}

bool WindowsJournal::load(std::string& problem) {
    interface_.clear();
    luid_ = 0;
    guid_.clear();
    bootTime_.reset();
    entries_.clear();

    statefile::WipedString data;
    switch (statefile::readFile(qs(path()), kMaxFileBytes, data, problem)) {
    case statefile::ReadStatus::Missing:
        return true;
    case statefile::ReadStatus::Failed:
        return false;
    case statefile::ReadStatus::Ok:
        break;
    }

    const auto readHeader = [&](const QJsonObject& o) {
        if (o.value(QStringLiteral("format")).toString() != QLatin1String(kFormat))
            return false;
        interface_ = o.value(QStringLiteral("interface")).toString().toStdString();
        luid_ = luidField(o).value_or(0);
        guid_ = o.value(QStringLiteral("guid")).toString().toStdString();
        const QJsonValue boot = o.value(QStringLiteral("bootTime"));
        if (boot.isDouble())
            bootTime_ = boot.toInteger();
        return true;
    };

    // The normal case: one JSON object.
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(data.text));
    if (doc.isObject() && doc.object().value(QStringLiteral("entries")).isArray() &&
        readHeader(doc.object())) {
        for (const auto& v : doc.object().value(QStringLiteral("entries")).toArray())
            if (auto e = v.isObject() ? fromJson(v.toObject()) : std::nullopt)
                entries_.push_back(std::move(*e));
        return true;
    }

    // Damaged (a disk that lost part of the file): salvage what reads line by line. Without
    // its header the journal counts as this boot's, so its entries are undone, not dropped.
    std::size_t start = 0;
    bool first = true;
    const std::string& text = data.text;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        while (!line.empty() && (line.back() == ',' || line.back() == ' ' || line.back() == '\r'))
            line.pop_back();
        if (std::exchange(first, false)) {
            const QJsonDocument h = QJsonDocument::fromJson(QByteArray::fromStdString(line + "]}"));
            if (h.isObject() && readHeader(h.object()))
                continue;
        }
        const QJsonDocument d = QJsonDocument::fromJson(QByteArray::fromStdString(line));
        if (auto e = d.isObject() ? fromJson(d.object()) : std::nullopt)
            entries_.push_back(std::move(*e));
    }
    return true;
}

bool WindowsJournal::write(const std::vector<JournalEntry>& entries, std::string& error) {
    const auto outcome = statefile::writeAtomically(
        qs(stateDir_), qs(fileName_), serialise(entries), statefile::Replace::Allowed);
    if (!outcome.ok) {
        error = "journal " + path() + ": " + outcome.error.toStdString();
        return false;
    }
    return true;
}

bool WindowsJournal::begin(const std::string& interface, std::uint64_t luid,
                           const std::string& guid, std::int64_t bootTime, std::string& error) {
    interface_ = interface;
    luid_ = luid;
    guid_ = guid;
    bootTime_ = bootTime;
    entries_.clear();
    return write(entries_, error);
}

bool WindowsJournal::record(const JournalEntry& entry, std::string& error) {
    std::vector<JournalEntry> next = entries_;
    next.push_back(entry);
    if (!write(next, error))
        return false;
    entries_ = std::move(next);
    return true;
}

bool WindowsJournal::forget(const JournalEntry& entry, std::string& error) {
    const auto it = std::find(entries_.rbegin(), entries_.rend(), entry);
    if (it == entries_.rend())
        return true;
    std::vector<JournalEntry> next = entries_;
    next.erase(next.begin() + (std::distance(it, entries_.rend()) - 1));
    if (!write(next, error))
        return false;
    entries_ = std::move(next);
    return true;
}

bool WindowsJournal::replaceEntries(std::vector<JournalEntry> entries, std::string& error) {
    if (!write(entries, error))
        return false;
    entries_ = std::move(entries);
    return true;
}

bool WindowsJournal::discard(std::string& error) {
    entries_.clear();
    const int rc = statefile::removeFile(qs(path()));
    if (rc != 0 && rc != ENOENT) {
        error = "cannot delete journal " + path() + ": " +
                statefile::sysError("remove", qs(path()), rc).toStdString();
        return false;
    }
    return true;
}

// --- rollback ---------------------------------------------------------------------------------

UndoReport rollbackWindowsJournal(IpHelper& ip, WindowsJournal& journal) {
    UndoReport report;
    std::vector<std::string> notes;
    const auto finish = [&] {
        report.summary = joinSummary(report.failures, notes);
        return report;
    };

    const bool otherBoot =
        journal.bootTime() && std::llabs(*journal.bootTime() - ip.bootTime()) > kBootTimeSlack;
    // The adapter the journal names is gone when its LUID is unknown or now belongs to an
    // adapter with another GUID; then what was bound to it went with it.
    bool adapterGone = false;
    if (!otherBoot && !journal.empty() && journal.luid() != 0 && !journal.guid().empty()) {
        std::string guid;
        const WinError rc = ip.guidOfLuid(journal.luid(), guid);
        adapterGone = isGone(rc) || (rc == winerr::kSuccess && !sameGuid(guid, journal.guid()));
    }

    std::vector<JournalEntry> kept;
    bool nrptChanged = false;
    std::size_t skipped = 0;
    const auto& entries = journal.entries();
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
        const JournalEntry& entry = *it;
        if ((otherBoot && !survivesReboot(entry)) ||
            (adapterGone && boundTo(entry, journal.luid()))) {
            ++report.undone;
            ++skipped;
            continue;
        }
        const WinError rc = undo(ip, entry);
        if (rc == winerr::kSuccess || isGone(rc)) {
            ++report.undone;
            nrptChanged = nrptChanged || std::holds_alternative<NrptRuleAdded>(entry);
            continue;
        }
        report.failures.push_back(describe(entry) + ": " + systemErrorText(rc));
        kept.insert(kept.begin(), entry);
    }
    if (nrptChanged)
        if (const WinError rc = ip.refreshDns(); rc != winerr::kSuccess)
            notes.push_back("DNS policy refresh: " + systemErrorText(rc));
    if (skipped > 0)
        notes.push_back(std::to_string(skipped) + " change(s) of " + journal.interface() +
                        (otherBoot ? " ended with a reboot" : " went away with its adapter"));

    std::string error;
    if (kept.empty() ? !journal.discard(error) : !journal.replaceEntries(std::move(kept), error))
        report.failures.push_back(error);
    return finish();
}

UndoReport rollbackWindowsLeftovers(IpHelper& ip, const std::string& stateDir) {
    UndoReport report;
    std::vector<std::string> notes;
    if (!statefile::entryExists(qs(stateDir)))
        return report; // a first start: nothing can be left over
    QString listError;
    const auto names = statefile::fileNames(qs(stateDir), &listError);
    if (!names) {
        report.failures.push_back("state directory " + stateDir + ": " + listError.toStdString());
        report.summary = report.failures.back();
        return report;
    }
    const std::string_view prefix = kFilePrefix;
    const std::string_view suffix = kFileSuffix;
    for (const QString& qname : *names) {
        const std::string name = qname.toStdString();
        if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
            !name.ends_with(suffix))
            continue;
        WindowsJournal journal(stateDir, name);
        std::string problem;
        if (!journal.load(problem)) {
            report.failures.push_back(journal.path() + ": " + problem);
            continue;
        }
        const UndoReport one = rollbackWindowsJournal(ip, journal);
        report.undone += one.undone;
        report.failures.insert(report.failures.end(), one.failures.begin(), one.failures.end());
        if (one.ok() && !one.summary.empty())
            notes.push_back(one.summary);
    }
    report.summary = joinSummary(report.failures, notes);
    return report;
}

// --- WindowsNetworkConfigurator ---------------------------------------------------------------

std::unique_ptr<WindowsNetworkConfigurator>
WindowsNetworkConfigurator::create(IpHelper& ip, const std::string& ifname, std::uint32_t ifindex,
                                   const std::string& stateDir, std::string& error) {
    if (WindowsJournal::fileNameFor(ifname).empty()) {
        error = "interface name \"" + ifname + "\" cannot name a journal";
        return nullptr;
    }
    std::uint64_t luid = 0;
    if (const WinError rc = ip.luidOfIndex(ifindex, luid); rc != winerr::kSuccess) {
        error = "interface " + ifname + " (index " + std::to_string(ifindex) +
                "): " + systemErrorText(rc);
        return nullptr;
    }
    return std::make_unique<WindowsNetworkConfigurator>(ip, ifname, luid, stateDir);
}

WindowsNetworkConfigurator::WindowsNetworkConfigurator(IpHelper& ip, std::string ifname,
                                                       std::uint64_t luid,
                                                       const std::string& stateDir)
    : ip_(ip), ifname_(std::move(ifname)), luid_(luid),
      journal_(stateDir, WindowsJournal::fileNameFor(ifname_)) {}

bool WindowsNetworkConfigurator::apply(const config::WgQuickConfig& config,
                                       const SetFwmark& setFwmark, const Options& options,
                                       std::string& error) {
    error.clear();
    warnings_.clear();
    ipv6Off_ = false;
    mtu_ = 0;
    // What a previous run left goes first (normally rolled back at helper start already).
    std::string problem;
    if (!journal_.load(problem)) {
        error = "journal of " + ifname_ + ": " + problem;
        return false;
    }
    if (!journal_.empty()) {
        const UndoReport leftover = rollback();
        if (!leftover.ok()) {
            error = "cannot undo a previous setup of " + ifname_ + ": " + leftover.summary;
            return false;
        }
    }
    if (applySteps(config, setFwmark, options, error))
        return true;
    const UndoReport undone = rollback();
    if (!undone.ok())
        error += "; rollback incomplete: " + undone.summary;
    return false;
}

UndoReport WindowsNetworkConfigurator::rollback() {
    std::string problem;
    if (journal_.empty() && !journal_.load(problem))
        return UndoReport{0, {problem}, problem};
    return rollbackWindowsJournal(ip_, journal_);
}

bool WindowsNetworkConfigurator::change(const JournalEntry& entry,
                                        const std::function<WinError()>& run, std::string& error) {
    if (!journal_.record(entry, error))
        return false;
    const WinError rc = run();
    if (rc == winerr::kSuccess)
        return true;
    if (rc == winerr::kObjectAlreadyExists) // there before us: not ours to undo
        return journal_.forget(entry, error);
    error = ifname_ + ": " + describe(entry) + ": " + systemErrorText(rc);
    return false;
}

bool WindowsNetworkConfigurator::applySteps(const config::WgQuickConfig& config,
                                            const SetFwmark& setFwmark, const Options& options,
                                            std::string& error) {
    // 1. The interface, both sides.
    if (const WinError rc = ip_.guidOfLuid(luid_, guid_); rc != winerr::kSuccess) {
        error = "interface " + ifname_ + ": " + systemErrorText(rc);
        return false;
    }
    InterfaceSettings v4;
    InterfaceSettings v6;
    if (const WinError rc = ip_.getInterface(luid_, net::Family::V4, v4); rc != winerr::kSuccess) {
        error = "interface " + ifname_ + " (IPv4): " + systemErrorText(rc);
        return false;
    }
    if (const WinError rc = ip_.getInterface(luid_, net::Family::V6, v6); rc != winerr::kSuccess) {
        if (!isGone(rc)) {
            error = "interface " + ifname_ + " (IPv6): " + systemErrorText(rc);
            return false;
        }
        ipv6Off_ = true;
    }
    const auto kept = [&](net::Family family) { return !(ipv6Off_ && family == net::Family::V6); };
    if (ipv6Off_) {
        bool anyV6 =
            std::any_of(config.interface.addresses.begin(), config.interface.addresses.end(),
                        [](const net::IpPrefix& a) { return a.address.family == net::Family::V6; });
        for (const auto& peer : config.peers)
            for (const auto& p : peer.allowedIps)
                anyV6 = anyV6 || p.address.family == net::Family::V6;
        if (anyV6)
            warnings_.push_back("IPv6 is not enabled on " + ifname_ +
                                ": connected with IPv4 only, without its IPv6 addresses, routes "
                                "and DNS servers");
    }
    if (!journal_.begin(ifname_, luid_, guid_, ip_.bootTime(), error))
        return false;

    // 2. Addresses.
    std::vector<net::IpPrefix> addresses;
    for (const auto& a : config.interface.addresses)
        if (kept(a.address.family) &&
            std::find(addresses.begin(), addresses.end(), a) == addresses.end())
            addresses.push_back(a);
    for (const auto& a : addresses)
        if (!change(
                AddressAdded{luid_, a}, [&] { return ip_.addAddress(luid_, a); }, error))
            return false;

    // The routes: every allowed IP, masked, once, longest first; a /0 as its two halves.
    std::vector<net::IpPrefix> prefixes;
    bool fullTunnel = false;
    for (const auto& peer : config.peers)
        for (const auto& allowed : peer.allowedIps) {
            if (!kept(allowed.address.family))
                continue;
            std::vector<net::IpPrefix> add{allowed.masked()};
            if (allowed.length == 0) {
                fullTunnel = true;
                add = halves(allowed.address.family);
            }
            for (const auto& p : add)
                if (std::find(prefixes.begin(), prefixes.end(), p) == prefixes.end())
                    prefixes.push_back(p);
        }
    std::stable_sort(
        prefixes.begin(), prefixes.end(),
        [](const net::IpPrefix& a, const net::IpPrefix& b) { return a.length > b.length; });

    std::vector<net::IpAddress> servers;
    for (const auto& s : config.interface.dnsServers)
        if (kept(s.family))
            servers.push_back(s);
    const bool useNrpt = !servers.empty() && !config.interface.dnsSearch.empty() && !fullTunnel;
    // The interface's servers answer every name: Windows must ask them first.
    const bool dnsFirst = !servers.empty() && !useNrpt;

    // 3. MTU and metric.
    const std::vector<net::IpAddress> endpoints =
        NetworkConfigurator::endpointAddresses(config, options.endpointAddresses);
    mtu_ = config.interface.mtu ? *config.interface.mtu : automaticMtu(endpoints);
    for (const auto family : {net::Family::V4, net::Family::V6}) {
        if (!kept(family))
            continue;
        const InterfaceSettings& now = family == net::Family::V4 ? v4 : v6;
        InterfaceSettings wanted = now;
        wanted.mtu = mtu_;
        if (family == net::Family::V6 && mtu_ < config::kMinMtuIpv6) {
            wanted.mtu = now.mtu; // IPv6 cannot run below 1280 (RFC 8200 §5)
            warnings_.push_back("MTU " + std::to_string(mtu_) + " is below IPv6's minimum: the " +
                                "IPv6 MTU of " + ifname_ + " stays " + std::to_string(now.mtu));
        }
        if (dnsFirst) {
            wanted.metric = 0;
            wanted.automaticMetric = false;
        }
        if (wanted != now && !change(
                                 InterfaceChanged{luid_, family, now, wanted},
                                 [&] { return ip_.setInterface(luid_, family, wanted); }, error))
            return false;
    }

    // 4. FwMark: a socket option Windows does not have. Routes keep the tunnel's own packets
    //    off the tunnel instead (5.), so a refusal is only worth a warning.
    if (config.interface.fwMark) {
        std::string why = "Windows has no fwmark";
        if (!setFwmark || !setFwmark(*config.interface.fwMark, why))
            warnings_.push_back("FwMark " + std::to_string(*config.interface.fwMark) +
                                " not applied (" + why + ")");
    }

    // 5. Endpoint pins: an endpoint that one of the tunnel's routes would catch (always so in
    //    a full tunnel) is pinned to the route it has now, before any tunnel route exists.
    std::vector<net::IpAddress> caught;
    for (const auto& endpoint : endpoints)
        if (std::any_of(prefixes.begin(), prefixes.end(),
                        [&](const net::IpPrefix& p) { return p.contains(endpoint); }))
            caught.push_back(endpoint);
    if (!pinEndpoints(caught, error))
        return false;

    // 6. Routes, 7./8. DNS.
    return addRoutes(prefixes, error) && setDns(config, useNrpt, error);
}

std::uint32_t
WindowsNetworkConfigurator::automaticMtu(const std::vector<net::IpAddress>& endpoints) {
    std::uint32_t smallest = 0;
    // The MTU of the interface each endpoint is reached through now.
    for (const auto& endpoint : endpoints) {
        BestRoute route;
        InterfaceSettings settings;
        if (ip_.bestRoute(endpoint, route) == winerr::kSuccess &&
            ip_.getInterface(route.luid, endpoint.family, settings) == winerr::kSuccess &&
            settings.mtu != 0 && (smallest == 0 || settings.mtu < smallest))
            smallest = settings.mtu;
    }
    if (smallest == 0)
        smallest = kFallbackUnderlayMtu;
    return std::max<std::uint32_t>(
        smallest > kWireGuardOverhead ? smallest - kWireGuardOverhead : 0, config::kMinMtu);
}

bool WindowsNetworkConfigurator::pinEndpoints(const std::vector<net::IpAddress>& endpoints,
                                              std::string& error) {
    for (const auto& endpoint : endpoints) {
        BestRoute best;
        if (const WinError rc = ip_.bestRoute(endpoint, best); rc != winerr::kSuccess) {
            // Unreachable now: nothing to pin; the tunnel will not come up until it is.
            warnings_.push_back("no route to endpoint " + endpoint.toString() +
                                " to keep it off the tunnel: " + systemErrorText(rc));
            continue;
        }
        if (best.luid == luid_) {
            warnings_.push_back("endpoint " + endpoint.toString() + " is routed through " +
                                ifname_ + " itself; not pinned");
            continue;
        }
        const RouteSpec pin{
            best.luid, net::IpPrefix{endpoint, static_cast<std::uint8_t>(endpoint.maxPrefix())},
            best.nextHop, 0};
        if (!change(
                RouteAdded{pin}, [&] { return ip_.addRoute(pin); }, error))
            return false;
    }
    return true;
}

bool WindowsNetworkConfigurator::addRoutes(const std::vector<net::IpPrefix>& prefixes,
                                           std::string& error) {
    for (const auto& prefix : prefixes) {
        const RouteSpec route{luid_, prefix, unspecified(prefix.address.family), 0};
        if (!change(
                RouteAdded{route}, [&] { return ip_.addRoute(route); }, error))
            return false;
    }
    return true;
}

bool WindowsNetworkConfigurator::setDns(const config::WgQuickConfig& config, bool useNrpt,
                                        std::string& error) {
    std::vector<net::IpAddress> v4;
    std::vector<net::IpAddress> v6;
    for (const auto& s : config.interface.dnsServers)
        if (s.family == net::Family::V4)
            v4.push_back(s);
        else if (!ipv6Off_)
            v6.push_back(s);
    if (v4.empty() && v6.empty())
        return true; // wg-quick ignores search domains without servers too

    bool registry = false;
    for (const auto family : {net::Family::V4, net::Family::V6}) {
        const auto& servers = family == net::Family::V4 ? v4 : v6;
        // The search list rides on the IPv4 call (one list per interface).
        if (servers.empty() && (family == net::Family::V6 || config.interface.dnsSearch.empty()))
            continue;
        DnsMethod used = DnsMethod::InterfaceSettings;
        const std::vector<std::string> none;
        if (!change(
                DnsSet{guid_, family},
                [&] {
                    return ip_.setInterfaceDns(
                        guid_, family, servers,
                        family == net::Family::V4 ? config.interface.dnsSearch : none, used);
                },
                error))
            return false;
        registry = registry || used == DnsMethod::Registry;
    }
    if (registry)
        warnings_.push_back("DNS of " + ifname_ +
                            " written to the registry (SetInterfaceDnsSettings needs Windows 10 "
                            "2004 or later): the DNS client may take a moment to use it");
    if (!useNrpt)
        return true;

    // 8. NRPT: failures are warnings, the interface's own servers are set already.
    std::vector<net::IpAddress> servers = v4;
    servers.insert(servers.end(), v6.begin(), v6.end());
    const auto& domains = config.interface.dnsSearch;
    bool written = false;
    for (std::size_t first = 0, n = 0; first < domains.size(); first += kNrptSuffixesPerRule, ++n) {
        std::vector<std::string> suffixes;
        for (std::size_t i = first; i < std::min(domains.size(), first + kNrptSuffixesPerRule); ++i)
            suffixes.push_back("." + domains[i]);
        const NrptRuleAdded entry{"Calnet-" + ifname_ + "-" + std::to_string(n)};
        if (!journal_.record(entry, error))
            return false;
        // Kept in the journal even on failure: a key may be half-written, and deleting a
        // missing one counts as done.
        if (const WinError rc = ip_.addNrptRule(entry.ruleName, suffixes, servers);
            rc != winerr::kSuccess) {
            warnings_.push_back("NRPT rule " + entry.ruleName + " not written (" +
                                systemErrorText(rc) +
                                "): names under the search domains may not reach the tunnel's "
                                "DNS servers");
            continue;
        }
        written = true;
    }
    if (written)
        if (const WinError rc = ip_.refreshDns(); rc != winerr::kSuccess)
            warnings_.push_back("DNS policy refresh after the NRPT rules: " + systemErrorText(rc) +
                                "; they apply from the next policy refresh");
    return true;
}

} // namespace calnet::helper::windows
