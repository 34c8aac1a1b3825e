// PacketFilter: the nftables rules a full tunnel needs beside its routes — what wg-quick(8)
// adds when a peer's AllowedIPs include a default route — one table per interface and
// address family, named calnet-<ifname>:
//
//   preraw      (prerouting, priority -300) a packet for one of the tunnel's addresses that
//               arrives on another interface from a source that is not local is dropped: the
//               address lives only in the tunnel, so anything else claiming to reach it is
//               spoofed.
//   postmangle  (postrouting, priority -150) UDP leaving with the tunnel's fwmark (its own
//               encrypted packets) stores the mark in the connection's conntrack mark;
//   premangle   (prerouting, priority -150) UDP arriving gets the conntrack mark back as its
//               packet mark. The replies from the peer's endpoint then carry the fwmark, so
//               with net.ipv4.conf.all.src_valid_mark=1 the reverse-path check looks them up
//               like the packets that left (main table, the real interface) and strict
//               rp_filter=1 lets them in; without it every reply is dropped, because the
//               unmarked route back to the endpoint is the tunnel itself.
//
// The rules go in through the nft program (`nft -f -`), each table created and replaced in one
// transaction. NetworkSetup journals the table before it is made; rollback deletes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/net/ipaddress.h"

namespace calnet::helper::netconfig {

struct TunnelFilter {
    net::Family family = net::Family::V4;
    std::string ifname;
    std::uint32_t fwmark = 0;
    std::vector<net::IpAddress> addresses; // the tunnel's own addresses of this family
};

// "calnet-<ifname>"; empty when the interface name has characters nft identifiers cannot
// carry (only A-Z a-z 0-9 _ . - are taken).
[[nodiscard]] std::string filterTableName(const std::string& ifname);
// "ip" or "ip6".
[[nodiscard]] const char* nftFamily(net::Family family);
// The nft script that creates (or replaces) the table; "" when filterTableName() is empty.
[[nodiscard]] std::string tunnelFilterScript(const TunnelFilter& filter);

class PacketFilter {
public:
    struct Options {
        std::string nft = "nft"; // a path, or a name looked up in PATH
        int timeoutMs = 10000;
    };
    enum class Result : std::uint8_t {
        Ok,
        NotAvailable, // nft is not installed: nothing was changed
        Failed,
    };

    PacketFilter() = default;
    explicit PacketFilter(Options options) : options_(std::move(options)) {}

    Result add(const TunnelFilter& filter, std::string& error);
    // Deletes the table; one that is not there counts as deleted.
    bool remove(net::Family family, const std::string& table, std::string& error);

    // The filter rollback and NetworkSetup use unless given another.
    static PacketFilter& system();

private:
    Options options_;
};

} // namespace calnet::helper::netconfig
