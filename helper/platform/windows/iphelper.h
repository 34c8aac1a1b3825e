// IpHelper: the Windows calls the network configurator makes, one virtual per operation, so that
// WindowsNetworkConfigurator can be tested against a fake that records them (the real calls
// need Administrator rights and a real adapter; under Wine most are stubs).
//
// systemIpHelper() implements it with the IP Helper API (iphlpapi.dll), the interface DNS
// settings and the registry:
//   addresses   CreateUnicastIpAddressEntry / DeleteUnicastIpAddressEntry
//   routes      CreateIpForwardEntry2 / DeleteIpForwardEntry2, GetBestRoute2
//   MTU, metric GetIpInterfaceEntry / SetIpInterfaceEntry (per address family)
//   DNS         SetInterfaceDnsSettings (Windows 10 2004+, looked up at run time); without it
//               the values NameServer and SearchList under
//               HKLM\SYSTEM\CurrentControlSet\Services\Tcpip[6]\Parameters\Interfaces\{GUID}
//   NRPT        keys under HKLM\SOFTWARE\Policies\Microsoft\Windows NT\DNSClient\DnsPolicyConfig
//
// Every call returns a Win32 error code (0 = done); describe one with
// windows::systemErrorText() (winerror.h). Interfaces are named by their NET_LUID (its 64-bit
// Value): unlike the index, it names the same adapter for as long as the adapter exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/net/ipaddress.h"

namespace calnet::helper::windows {

using WinError = std::uint32_t; // a Win32 error code (DWORD); 0 = ERROR_SUCCESS

// The Win32 codes the configurator tells apart (so that code without <windows.h>, such as a
// fake, can use them).
namespace winerr {
inline constexpr WinError kSuccess = 0;
inline constexpr WinError kFileNotFound = 2;           // ERROR_FILE_NOT_FOUND
inline constexpr WinError kPathNotFound = 3;           // ERROR_PATH_NOT_FOUND
inline constexpr WinError kAccessDenied = 5;           // ERROR_ACCESS_DENIED
inline constexpr WinError kInvalidParameter = 87;      // ERROR_INVALID_PARAMETER
inline constexpr WinError kProcNotFound = 127;         // ERROR_PROC_NOT_FOUND
inline constexpr WinError kNotSupported = 50;          // ERROR_NOT_SUPPORTED
inline constexpr WinError kNotFound = 1168;            // ERROR_NOT_FOUND
inline constexpr WinError kObjectAlreadyExists = 5010; // ERROR_OBJECT_ALREADY_EXISTS
} // namespace winerr

// What an undo may meet when the thing is already gone (or its interface is): counts as done.
[[nodiscard]] inline bool isGone(WinError code) {
    return code == winerr::kNotFound || code == winerr::kFileNotFound ||
           code == winerr::kPathNotFound;
}

// One route of the IP forwarding table, as CreateIpForwardEntry2 takes it. A next hop of the
// unspecified address (:: or 0.0.0.0, of the prefix's family) means on-link.
struct RouteSpec {
    std::uint64_t luid = 0;
    net::IpPrefix prefix;
    net::IpAddress nextHop;
    std::uint32_t metric = 0; // added to the interface's metric
    friend bool operator==(const RouteSpec&, const RouteSpec&) = default;
};

// The parts of MIB_IPINTERFACE_ROW the configurator reads and writes.
struct InterfaceSettings {
    std::uint32_t mtu = 0; // NlMtu
    std::uint32_t metric = 0;
    bool automaticMetric = true; // UseAutomaticMetric
    friend bool operator==(const InterfaceSettings&, const InterfaceSettings&) = default;
};

// GetBestRoute2's answer for one destination.
struct BestRoute {
    std::uint64_t luid = 0;
    std::uint32_t ifindex = 0;
    net::IpPrefix prefix;   // the route that matched
    net::IpAddress nextHop; // unspecified when the destination is on-link
};

// How setInterfaceDns() stored the settings.
enum class DnsMethod : std::uint8_t {
    InterfaceSettings, // SetInterfaceDnsSettings
    Registry,          // the Tcpip[6] interface values (Windows older than 10 2004)
};

class IpHelper {
public:
    virtual ~IpHelper() = default;

    // ConvertInterfaceIndexToLuid / ConvertInterfaceLuidToGuid ("{…}", upper-case hex, the
    // form of the registry's key names).
    virtual WinError luidOfIndex(std::uint32_t ifindex, std::uint64_t& luid) = 0;
    virtual WinError guidOfLuid(std::uint64_t luid, std::string& guid) = 0;

    // The interface's IPv4 or IPv6 side; kNotFound when that protocol is not bound to it
    // (IPv6 switched off on the adapter or the host).
    virtual WinError getInterface(std::uint64_t luid, net::Family family,
                                  InterfaceSettings& out) = 0;
    virtual WinError setInterface(std::uint64_t luid, net::Family family,
                                  const InterfaceSettings& settings) = 0;

    // `address` keeps its host bits; the length is the on-link prefix (Windows adds its
    // on-link route itself). kObjectAlreadyExists when it is there already.
    virtual WinError addAddress(std::uint64_t luid, const net::IpPrefix& address) = 0;
    virtual WinError deleteAddress(std::uint64_t luid, const net::IpPrefix& address) = 0;

    // kObjectAlreadyExists when the same route (interface, prefix, next hop) exists.
    virtual WinError addRoute(const RouteSpec& route) = 0;
    virtual WinError deleteRoute(const RouteSpec& route) = 0;
    // The route the host would take to `destination` right now.
    virtual WinError bestRoute(const net::IpAddress& destination, BestRoute& out) = 0;

    // The interface `guid`'s static DNS servers of one family and (IPv4 call only) its search
    // list; `used` says where they went. clearInterfaceDns() empties both and also works
    // after the adapter is gone (the settings live on in the registry under its GUID, and a
    // Wintun adapter created again with the same GUID would pick them up).
    virtual WinError setInterfaceDns(const std::string& guid, net::Family family,
                                     const std::vector<net::IpAddress>& servers,
                                     const std::vector<std::string>& searchDomains,
                                     DnsMethod& used) = 0;
    virtual WinError clearInterfaceDns(const std::string& guid, net::Family family) = 0;

    // An NRPT rule: queries for names under each of `suffixes` (".corp.example") go to
    // `servers`. Creates or replaces the key `ruleName` under DnsPolicyConfig.
    virtual WinError addNrptRule(const std::string& ruleName,
                                 const std::vector<std::string>& suffixes,
                                 const std::vector<net::IpAddress>& servers) = 0;
    // kFileNotFound when there is no such rule.
    virtual WinError deleteNrptRule(const std::string& ruleName) = 0;
    // Makes the DNS client re-read the NRPT (a group policy refresh) and forget its cache;
    // best effort, what is missing on this Windows is skipped.
    virtual WinError refreshDns() = 0;

    // When this boot started, in seconds since 1970 (the clock now minus the time since boot):
    // journals written in another boot describe routes and addresses that no longer exist.
    // Clock changes move it, so compare with some slack (kBootTimeSlack).
    [[nodiscard]] virtual std::int64_t bootTime() = 0;
};

// How far two bootTime() readings of the same boot may be apart (clock adjustments, NTP).
inline constexpr std::int64_t kBootTimeSlack = 10 * 60;

// The IP Helper API of this machine (a process-wide object; the calls themselves are
// thread-safe, the object has no state besides the functions it looked up).
[[nodiscard]] IpHelper& systemIpHelper();

} // namespace calnet::helper::windows
