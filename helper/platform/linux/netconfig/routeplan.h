// RoutePlan: which routes a profile needs, decided from the profile alone (no I/O besides
// reading iproute2's table names), following wg-quick(8) on Linux:
//
//   Table unset or "auto"  every allowed IP becomes a route in the main table, except a /0:
//                          a /0 turns on policy routing for its family (a default route in a
//                          table of its own, selected for unmarked packets; see NetworkSetup)
//   Table = off            no routes at all
//   Table = <number|name>  every allowed IP, /0 included, becomes a route in that table; no
//                          rules, no fwmark
//
// Prefixes are the peers' allowed IPs, masked (as the kernel stores them), without duplicates,
// longest prefix first (wg-quick adds them in that order, so a broader prefix is only skipped
// when a route already covers it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/wgquick.h"
#include "core/net/ipaddress.h"

namespace calnet::helper::netconfig {

enum class TableMode : std::uint8_t {
    Auto,     // main table, /0 through policy routing
    Off,      // no routes
    Explicit, // everything into `table`
};

[[nodiscard]] const char* toString(TableMode mode);

struct TableSetting {
    TableMode mode = TableMode::Auto;
    std::uint32_t table = 0; // Explicit only

    friend bool operator==(const TableSetting&, const TableSetting&) = default;
};

struct RoutePlan {
    TableSetting table;
    std::vector<net::IpPrefix> prefixes;       // masked, unique, longest first
    bool defaultV4 = false;                    // Auto mode and a 0.0.0.0/0 among the allowed IPs
    bool defaultV6 = false;                    // Auto mode and a ::/0 among the allowed IPs
    std::optional<std::uint32_t> configFwmark; // [Interface] FwMark

    [[nodiscard]] bool fullTunnel() const { return defaultV4 || defaultV6; }
};

// iproute2's table-name files, in the order ip(8) 6.x reads them.
[[nodiscard]] std::vector<std::string> defaultRtTablesFiles();

// "auto", "off", a decimal table id 1..4294967295, or a name: main/local/default or one listed
// in an rt_tables file ("<id> <name>" per line, '#' comments). Unset means auto.
[[nodiscard]] std::optional<TableSetting> parseTableSetting(const std::optional<std::string>& text,
                                                            const std::vector<std::string>& files,
                                                            std::string& error);

[[nodiscard]] std::optional<RoutePlan>
planRoutes(const config::WgQuickConfig& config, std::string& error,
           const std::vector<std::string>& rtTablesFiles = defaultRtTablesFiles());

} // namespace calnet::helper::netconfig
