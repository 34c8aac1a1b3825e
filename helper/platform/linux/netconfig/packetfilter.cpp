#include "helper/platform/linux/netconfig/packetfilter.h"

#include <cctype>

#include "helper/platform/linux/netconfig/program.h"

namespace calnet::helper::netconfig {

std::string filterTableName(const std::string& ifname) {
    if (ifname.empty() || ifname.size() > 15)
        return {};
    for (const char c : ifname)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
            return {};
    return "calnet-" + ifname;
}

const char* nftFamily(net::Family family) {
    return family == net::Family::V4 ? "ip" : "ip6";
}

std::string tunnelFilterScript(const TunnelFilter& f) {
    const std::string table = filterTableName(f.ifname);
    if (table.empty())
        return {};
    const std::string family = nftFamily(f.family);
    const std::string addr = f.family == net::Family::V4 ? "ip" : "ip6";
    const std::string qualified = family + " " + table;
    std::string s;
    // Create-then-delete makes the delete succeed whether or not a table of that name was
    // left behind, and the whole file is one transaction: all of it or nothing.
    s += "table " + qualified + " {}\n";
    s += "delete table " + qualified + "\n";
    s += "table " + qualified + " {\n";
    s += "  chain preraw {\n";
    s += "    type filter hook prerouting priority -300; policy accept;\n";
    for (const auto& a : f.addresses)
        if (a.family == f.family)
            s += "    iifname != \"" + f.ifname + "\" " + addr + " daddr " + a.toString() +
                 " fib saddr type != local drop\n";
    s += "  }\n";
    s += "  chain premangle {\n";
    s += "    type filter hook prerouting priority -150; policy accept;\n";
    s += "    meta l4proto udp meta mark set ct mark\n";
    s += "  }\n";
    s += "  chain postmangle {\n";
    s += "    type filter hook postrouting priority -150; policy accept;\n";
    s += "    meta l4proto udp meta mark " + std::to_string(f.fwmark) + " ct mark set meta mark\n";
    s += "  }\n";
    s += "}\n";
    return s;
}

PacketFilter::Result PacketFilter::add(const TunnelFilter& filter, std::string& error) {
    const std::string script = tunnelFilterScript(filter);
    if (script.empty()) {
        error = "interface name " + filter.ifname + " cannot name an nftables table";
        return Result::Failed;
    }
    const ProgramResult r = runProgram(options_.nft, {"-f", "-"}, script, options_.timeoutMs);
    if (r.ok())
        return Result::Ok;
    error = "nft: " + r.describe();
    return r.spawnError != 0 ? Result::NotAvailable : Result::Failed;
}

bool PacketFilter::remove(net::Family family, const std::string& table, std::string& error) {
    const ProgramResult r = runProgram(options_.nft, {"delete", "table", nftFamily(family), table},
                                       {}, options_.timeoutMs);
    if (r.ok())
        return true;
    if (r.spawnError != 0) {
        // No nft, so nothing nft made can be there (and nothing can remove it).
        return true;
    }
    if (!r.timedOut && r.output.find("No such file or directory") != std::string::npos)
        return true; // already gone (ENOENT from the kernel)
    error = "nft delete table " + std::string(nftFamily(family)) + " " + table + ": " +
            r.describe();
    return false;
}

PacketFilter& PacketFilter::system() {
    static PacketFilter filter;
    return filter;
}

} // namespace calnet::helper::netconfig
