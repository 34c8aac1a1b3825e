#include "helper/platform/linux/netconfig/routeplan.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "helper/platform/linux/netconfig/rtnetlink.h"

namespace calnet::helper::netconfig {

namespace {

std::optional<std::uint32_t> parseId(std::string_view text) {
    std::uint32_t value = 0;
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::optional<std::uint32_t> lookupTableName(std::string_view name,
                                             const std::vector<std::string>& files) {
    if (name == "main")
        return kTableMain;
    if (name == "local")
        return kTableLocal;
    if (name == "default")
        return kTableDefault;
    for (const auto& path : files) {
        std::ifstream in(path);
        std::string line;
        while (std::getline(in, line)) {
            if (const auto hash = line.find('#'); hash != std::string::npos)
                line.resize(hash);
            const auto idStart = line.find_first_not_of(" \t");
            if (idStart == std::string::npos)
                continue;
            const auto idEnd = line.find_first_of(" \t", idStart);
            if (idEnd == std::string::npos)
                continue;
            const auto nameStart = line.find_first_not_of(" \t", idEnd);
            if (nameStart == std::string::npos)
                continue;
            const auto nameEnd = line.find_first_of(" \t", nameStart);
            const std::string_view entry = std::string_view(line).substr(
                nameStart, nameEnd == std::string::npos ? std::string::npos : nameEnd - nameStart);
            if (entry != name)
                continue;
            if (auto id = parseId(std::string_view(line).substr(idStart, idEnd - idStart)))
                return id;
        }
    }
    return std::nullopt;
}

} // namespace

const char* toString(TableMode mode) {
    switch (mode) {
    case TableMode::Auto:
        return "auto";
    case TableMode::Off:
        return "off";
    case TableMode::Explicit:
        return "explicit";
    }
    return "?";
}

std::vector<std::string> defaultRtTablesFiles() {
    std::vector<std::string> files{"/etc/iproute2/rt_tables"};
    std::error_code ec;
    std::vector<std::string> dropIns;
    for (const auto& e : std::filesystem::directory_iterator("/etc/iproute2/rt_tables.d", ec))
        if (e.path().extension() == ".conf")
            dropIns.push_back(e.path().string());
    std::sort(dropIns.begin(), dropIns.end());
    files.insert(files.end(), dropIns.begin(), dropIns.end());
    files.push_back("/usr/share/iproute2/rt_tables");
    files.push_back("/usr/lib/iproute2/rt_tables");
    return files;
}

std::optional<TableSetting> parseTableSetting(const std::optional<std::string>& text,
                                              const std::vector<std::string>& files,
                                              std::string& error) {
    if (!text || *text == "auto")
        return TableSetting{TableMode::Auto, 0};
    if (*text == "off")
        return TableSetting{TableMode::Off, 0};
    if (!text->empty() && text->front() >= '0' && text->front() <= '9') {
        std::uint32_t id = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
        if (ec != std::errc{} || end != text->data() + text->size() || id == 0) {
            // Table 0 is RT_TABLE_UNSPEC: the kernel would silently pick one for us.
            error = "Table = " + *text + " is not a routing table id (1 to 4294967295)";
            return std::nullopt;
        }
        return TableSetting{TableMode::Explicit, id};
    }
    if (auto id = lookupTableName(*text, files); id && *id != 0)
        return TableSetting{TableMode::Explicit, *id};
    error = "Table = " + *text + " is not a table name known to iproute2 (rt_tables)";
    return std::nullopt;
}

std::optional<RoutePlan> planRoutes(const config::WgQuickConfig& config, std::string& error,
                                    const std::vector<std::string>& rtTablesFiles) {
    auto table = parseTableSetting(config.interface.table, rtTablesFiles, error);
    if (!table)
        return std::nullopt;
    RoutePlan plan;
    plan.table = *table;
    plan.configFwmark = config.interface.fwMark;
    if (plan.table.mode == TableMode::Off)
        return plan;
    for (const auto& peer : config.peers)
        for (const auto& prefix : peer.allowedIps)
            plan.prefixes.push_back(prefix.masked());
    // Longest first; ties in a fixed order so the plan (and the journal) is deterministic.
    std::sort(plan.prefixes.begin(), plan.prefixes.end(),
              [](const net::IpPrefix& a, const net::IpPrefix& b) {
                  if (a.length != b.length)
                      return a.length > b.length;
                  return a < b;
              });
    plan.prefixes.erase(std::unique(plan.prefixes.begin(), plan.prefixes.end()),
                        plan.prefixes.end());
    if (plan.table.mode == TableMode::Auto)
        for (const auto& p : plan.prefixes)
            if (p.length == 0)
                (p.address.family == net::Family::V4 ? plan.defaultV4 : plan.defaultV6) = true;
    return plan;
}

} // namespace calnet::helper::netconfig
