// Sysctl: read and write kernel parameters through /proc/sys, by their dotted name
// ("net.ipv4.conf.all.src_valid_mark" is /proc/sys/net/ipv4/conf/all/src_valid_mark).
//
// Files under /proc/sys/net belong to the network namespace of the thread that opens them, so
// a process that unshare()d its namespace changes only its own copy.
#pragma once

#include <string>
#include <string_view>

namespace calnet::helper::netconfig {

// The parameter the full-tunnel setup needs: lets the reverse-path check use the packet mark,
// so replies to the marked WireGuard socket pass it (wg-quick(8) sets it too).
inline constexpr std::string_view kSrcValidMark = "net.ipv4.conf.all.src_valid_mark";

// Only names of this allow-list are accepted (the journal is read back from disk and must not
// become a way to write arbitrary kernel parameters).
[[nodiscard]] bool isManagedSysctl(std::string_view name);

// The value without its trailing newline. Return 0 or an errno.
int readSysctl(std::string_view name, std::string& value);
int writeSysctl(std::string_view name, std::string_view value);

} // namespace calnet::helper::netconfig
