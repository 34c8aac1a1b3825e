// systemIpHelper(): IpHelper on the IP Helper API, the DNS client's interface settings and the
// registry. Functions newer than mingw-w64's headers (SetInterfaceDnsSettings) or outside the
// DLLs calnetd links (DnsFlushResolverCache, RefreshPolicyEx) are looked up at run time, from
// System32 only, and their absence is handled where it matters.
#include "helper/platform/windows/iphelper.h"

// Order matters: winsock2.h before windows.h, iphlpapi.h before netioapi.h.
// clang-format off
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
// clang-format on

#include <charconv>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace calnet::helper::windows {

namespace {

// DNS_INTERFACE_SETTINGS (netioapi.h of the Windows 10 2004 SDK), declared from its documented
// layout: mingw-w64's netioapi.h does not have it.
struct DnsInterfaceSettings {
    ULONG Version;
    ULONG64 Flags;
    PWSTR Domain;
    PWSTR NameServer;
    PWSTR SearchList;
    ULONG RegistrationEnabled;
    ULONG RegisterAdapterName;
    ULONG EnableLLMNR;
    ULONG QueryAdapterName;
    PWSTR ProfileNameServer;
};
constexpr ULONG kDnsInterfaceSettingsVersion1 = 1;
constexpr ULONG64 kDnsSettingIpv6 = 0x0001;
constexpr ULONG64 kDnsSettingNameServer = 0x0002;
constexpr ULONG64 kDnsSettingSearchList = 0x0004;

using SetInterfaceDnsSettingsFn = DWORD(WINAPI*)(GUID, const DnsInterfaceSettings*);
using DnsFlushResolverCacheFn = BOOL(WINAPI*)();
using RefreshPolicyExFn = BOOL(WINAPI*)(BOOL, DWORD);
constexpr DWORD kRefreshPolicyForce = 1; // RP_FORCE (userenv.h)

constexpr wchar_t kTcpipInterfaces[] = L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\"
                                       L"Interfaces\\";
constexpr wchar_t kTcpip6Interfaces[] = L"SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\"
                                        L"Parameters\\Interfaces\\";
constexpr wchar_t kNrptRoot[] = L"SOFTWARE\\Policies\\Microsoft\\Windows NT\\DNSClient\\"
                                L"DnsPolicyConfig\\";
// ConfigOptions of a rule that only names DNS servers (no DNSSEC, no DirectAccess).
constexpr DWORD kNrptGenericDnsServers = 0x8;
constexpr DWORD kNrptVersion = 2;

// A function of a system DLL, or nullptr. LOAD_LIBRARY_SEARCH_SYSTEM32: calnetd runs as
// LocalSystem and must never load a DLL planted elsewhere. The module stays loaded.
template <class Fn> Fn systemFunction(const wchar_t* dll, const char* name) {
    HMODULE module = ::GetModuleHandleW(dll);
    if (!module)
        module = ::LoadLibraryExW(dll, nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!module)
        return nullptr;
    // Through void(*)(): the one function pointer type GCC lets any other be cast to silently.
    return reinterpret_cast<Fn>(reinterpret_cast<void (*)()>(::GetProcAddress(module, name)));
}

NET_LUID toLuid(std::uint64_t value) {
    NET_LUID luid;
    luid.Value = value;
    return luid;
}

ADDRESS_FAMILY toFamily(net::Family family) {
    return family == net::Family::V4 ? AF_INET : AF_INET6;
}

SOCKADDR_INET toSockaddr(const net::IpAddress& address) {
    SOCKADDR_INET s;
    std::memset(&s, 0, sizeof s);
    if (address.family == net::Family::V4) {
        s.Ipv4.sin_family = AF_INET;
        std::memcpy(&s.Ipv4.sin_addr, address.bytes.data(), 4);
    } else {
        s.Ipv6.sin6_family = AF_INET6;
        std::memcpy(&s.Ipv6.sin6_addr, address.bytes.data(), 16);
    }
    return s;
}

net::IpAddress fromSockaddr(const SOCKADDR_INET& s) {
    net::IpAddress a;
    if (s.si_family == AF_INET6) {
        a.family = net::Family::V6;
        std::memcpy(a.bytes.data(), &s.Ipv6.sin6_addr, 16);
    } else {
        std::memcpy(a.bytes.data(), &s.Ipv4.sin_addr, 4);
    }
    return a;
}

std::wstring wide(const std::string& utf8) {
    if (utf8.empty())
        return {};
    const int n = ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), int(utf8.size()), nullptr, 0);
    std::wstring out(std::size_t(n > 0 ? n : 0), L'\0');
    if (n > 0)
        ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), int(utf8.size()), out.data(), n);
    return out;
}

std::string guidText(const GUID& g) {
    char text[39];
    std::snprintf(text, sizeof text, "{%08lX-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
                  static_cast<unsigned long>(g.Data1), g.Data2, g.Data3, g.Data4[0], g.Data4[1],
                  g.Data4[2], g.Data4[3], g.Data4[4], g.Data4[5], g.Data4[6], g.Data4[7]);
    return text;
}

// "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}", either case.
bool parseGuid(const std::string& text, GUID& g) {
    if (text.size() != 38 || text.front() != '{' || text.back() != '}' || text[9] != '-' ||
        text[14] != '-' || text[19] != '-' || text[24] != '-')
        return false;
    const auto hex = [&](std::size_t at, std::size_t digits, auto& out) {
        unsigned long long v = 0;
        const char* first = text.data() + at;
        const auto [end, ec] = std::from_chars(first, first + digits, v, 16);
        out = static_cast<std::remove_reference_t<decltype(out)>>(v);
        return ec == std::errc() && end == first + digits;
    };
    bool ok = hex(1, 8, g.Data1) && hex(10, 4, g.Data2) && hex(15, 4, g.Data3);
    for (std::size_t i = 0; i < 8 && ok; ++i)
        ok = hex(i < 2 ? 20 + 2 * i : 25 + 2 * (i - 2), 2, g.Data4[i]);
    return ok;
}

std::wstring joined(const std::vector<std::string>& items, const wchar_t* separator) {
    std::wstring out;
    for (const auto& item : items) {
        if (!out.empty())
            out += separator;
        out += wide(item);
    }
    return out;
}

std::vector<std::string> texts(const std::vector<net::IpAddress>& addresses) {
    std::vector<std::string> out;
    for (const auto& a : addresses)
        out.push_back(a.toString());
    return out;
}

struct Key {
    HKEY handle = nullptr;
    Key() = default;
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
    ~Key() {
        if (handle)
            ::RegCloseKey(handle);
    }
};

LSTATUS setString(HKEY key, const wchar_t* name, const std::wstring& value, DWORD type = REG_SZ) {
    // REG_SZ and REG_MULTI_SZ sizes count the terminating NUL(s), which `value` carries for
    // REG_MULTI_SZ and c_str() adds for REG_SZ.
    const std::size_t chars = value.size() + 1;
    return ::RegSetValueExW(key, name, 0, type, reinterpret_cast<const BYTE*>(value.c_str()),
                            static_cast<DWORD>(chars * sizeof(wchar_t)));
}

LSTATUS setDword(HKEY key, const wchar_t* name, DWORD value) {
    return ::RegSetValueExW(key, name, 0, REG_DWORD, reinterpret_cast<const BYTE*>(&value),
                            sizeof value);
}

std::wstring interfaceKey(const std::string& guid, net::Family family) {
    return (family == net::Family::V4 ? kTcpipInterfaces : kTcpip6Interfaces) + wide(guid);
}

class SystemIpHelper final : public IpHelper {
public:
    WinError luidOfIndex(std::uint32_t ifindex, std::uint64_t& luid) override {
        NET_LUID l;
        const DWORD rc = ::ConvertInterfaceIndexToLuid(ifindex, &l);
        luid = rc == NO_ERROR ? l.Value : 0;
        return rc;
    }

    WinError guidOfLuid(std::uint64_t luid, std::string& guid) override {
        const NET_LUID l = toLuid(luid);
        GUID g;
        const DWORD rc = ::ConvertInterfaceLuidToGuid(&l, &g);
        guid = rc == NO_ERROR ? guidText(g) : std::string();
        return rc;
    }

    WinError getInterface(std::uint64_t luid, net::Family family, InterfaceSettings& out) override {
        MIB_IPINTERFACE_ROW row;
        ::InitializeIpInterfaceEntry(&row);
        row.Family = toFamily(family);
        row.InterfaceLuid = toLuid(luid);
        const DWORD rc = ::GetIpInterfaceEntry(&row);
        if (rc == NO_ERROR)
            out = InterfaceSettings{row.NlMtu, row.Metric, row.UseAutomaticMetric != FALSE};
        return rc;
    }

    WinError setInterface(std::uint64_t luid, net::Family family,
                          const InterfaceSettings& settings) override {
        // SetIpInterfaceEntry writes every field: start from the current row.
        MIB_IPINTERFACE_ROW row;
        ::InitializeIpInterfaceEntry(&row);
        row.Family = toFamily(family);
        row.InterfaceLuid = toLuid(luid);
        if (const DWORD rc = ::GetIpInterfaceEntry(&row); rc != NO_ERROR)
            return rc;
        row.NlMtu = settings.mtu;
        row.Metric = settings.metric;
        row.UseAutomaticMetric = settings.automaticMetric ? TRUE : FALSE;
        // Documented quirk: an IPv4 row is refused (ERROR_INVALID_PARAMETER) unless this is 0.
        if (family == net::Family::V4)
            row.SitePrefixLength = 0;
        return ::SetIpInterfaceEntry(&row);
    }

    WinError addAddress(std::uint64_t luid, const net::IpPrefix& address) override {
        MIB_UNICASTIPADDRESS_ROW row = addressRow(luid, address);
        // No duplicate address detection on a point-to-point tunnel: usable at once.
        row.DadState = IpDadStatePreferred;
        return ::CreateUnicastIpAddressEntry(&row);
    }

    WinError deleteAddress(std::uint64_t luid, const net::IpPrefix& address) override {
        MIB_UNICASTIPADDRESS_ROW row = addressRow(luid, address);
        return ::DeleteUnicastIpAddressEntry(&row);
    }

    static MIB_UNICASTIPADDRESS_ROW addressRow(std::uint64_t luid, const net::IpPrefix& address) {
        MIB_UNICASTIPADDRESS_ROW row;
        ::InitializeUnicastIpAddressEntry(&row);
        row.InterfaceLuid = toLuid(luid);
        row.Address = toSockaddr(address.address);
        row.OnLinkPrefixLength = address.length;
        return row;
    }

    WinError addRoute(const RouteSpec& route) override {
        MIB_IPFORWARD_ROW2 row = routeRow(route);
        return ::CreateIpForwardEntry2(&row);
    }

    WinError deleteRoute(const RouteSpec& route) override {
        MIB_IPFORWARD_ROW2 row = routeRow(route);
        return ::DeleteIpForwardEntry2(&row);
    }

    WinError bestRoute(const net::IpAddress& destination, BestRoute& out) override {
        const SOCKADDR_INET to = toSockaddr(destination);
        MIB_IPFORWARD_ROW2 row;
        std::memset(&row, 0, sizeof row);
        SOCKADDR_INET source;
        std::memset(&source, 0, sizeof source);
        const DWORD rc = ::GetBestRoute2(nullptr, 0, nullptr, &to, 0, &row, &source);
        if (rc != NO_ERROR)
            return rc;
        out.luid = row.InterfaceLuid.Value;
        out.ifindex = row.InterfaceIndex;
        out.prefix = net::IpPrefix{fromSockaddr(row.DestinationPrefix.Prefix),
                                   row.DestinationPrefix.PrefixLength};
        out.nextHop = fromSockaddr(row.NextHop);
        return NO_ERROR;
    }

    WinError setInterfaceDns(const std::string& guid, net::Family family,
                             const std::vector<net::IpAddress>& servers,
                             const std::vector<std::string>& searchDomains,
                             DnsMethod& used) override {
        const std::wstring nameServer = joined(texts(servers), L",");
        const std::wstring searchList = joined(searchDomains, L",");
        if (const auto set = setInterfaceDnsSettings()) {
            used = DnsMethod::InterfaceSettings;
            return callDnsSettings(set, guid, family, nameServer, searchList);
        }
        used = DnsMethod::Registry;
        return writeDnsRegistry(guid, family, nameServer, searchList, false);
    }

    WinError clearInterfaceDns(const std::string& guid, net::Family family) override {
        if (const auto set = setInterfaceDnsSettings())
            if (callDnsSettings(set, guid, family, L"", L"") == NO_ERROR)
                return NO_ERROR;
        // No API, or the adapter is gone: its settings still sit under its GUID.
        return writeDnsRegistry(guid, family, L"", L"", true);
    }

    WinError addNrptRule(const std::string& ruleName, const std::vector<std::string>& suffixes,
                         const std::vector<net::IpAddress>& servers) override {
        Key key;
        const std::wstring path = kNrptRoot + wide(ruleName);
        if (const LSTATUS rc = ::RegCreateKeyExW(HKEY_LOCAL_MACHINE, path.c_str(), 0, nullptr,
                                                 REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, nullptr,
                                                 &key.handle, nullptr);
            rc != ERROR_SUCCESS)
            return static_cast<WinError>(rc);
        // Name: REG_MULTI_SZ, each suffix NUL-terminated and one more NUL at the end (the one
        // setString adds).
        std::wstring names;
        for (const auto& s : suffixes) {
            names += wide(s);
            names += L'\0';
        }
        LSTATUS rc = setDword(key.handle, L"Version", kNrptVersion);
        if (rc == ERROR_SUCCESS)
            rc = setString(key.handle, L"Name", names, REG_MULTI_SZ);
        if (rc == ERROR_SUCCESS)
            rc = setString(key.handle, L"GenericDNSServers", joined(texts(servers), L"; "));
        if (rc == ERROR_SUCCESS)
            rc = setDword(key.handle, L"ConfigOptions", kNrptGenericDnsServers);
        if (rc == ERROR_SUCCESS)
            rc = setString(key.handle, L"IPSECCARestriction", L"");
        return static_cast<WinError>(rc);
    }

    WinError deleteNrptRule(const std::string& ruleName) override {
        const std::wstring path = kNrptRoot + wide(ruleName);
        return static_cast<WinError>(::RegDeleteKeyW(HKEY_LOCAL_MACHINE, path.c_str()));
    }

    WinError refreshDns() override {
        // Keys under SOFTWARE\Policies are read on a group policy refresh; then the cache
        // must forget answers given under the old rules.
        WinError rc = ERROR_PROC_NOT_FOUND;
        if (const auto refresh =
                systemFunction<RefreshPolicyExFn>(L"userenv.dll", "RefreshPolicyEx"))
            rc = refresh(TRUE, kRefreshPolicyForce) ? NO_ERROR : ::GetLastError();
        if (const auto flush =
                systemFunction<DnsFlushResolverCacheFn>(L"dnsapi.dll", "DnsFlushResolverCache"))
            flush();
        return rc;
    }

    std::int64_t bootTime() override {
        FILETIME now;
        ::GetSystemTimeAsFileTime(&now);
        const std::uint64_t ticks =
            (std::uint64_t(now.dwHighDateTime) << 32) | std::uint64_t(now.dwLowDateTime);
        // FILETIME counts 100 ns from 1601; 11644473600 s separate 1601 and 1970.
        const std::int64_t unixNow = std::int64_t(ticks / 10000000ULL) - 11644473600LL;
        return unixNow - std::int64_t(::GetTickCount64() / 1000);
    }

private:
    static MIB_IPFORWARD_ROW2 routeRow(const RouteSpec& route) {
        MIB_IPFORWARD_ROW2 row;
        ::InitializeIpForwardEntry(&row);
        row.InterfaceLuid = toLuid(route.luid);
        row.DestinationPrefix.Prefix = toSockaddr(route.prefix.masked().address);
        row.DestinationPrefix.PrefixLength = route.prefix.length;
        row.NextHop = toSockaddr(route.nextHop);
        row.Metric = route.metric;
        row.Protocol = RouteProtocolNetMgmt; // MIB_IPPROTO_NETMGMT: a static route
        return row;
    }

    static SetInterfaceDnsSettingsFn setInterfaceDnsSettings() {
        static const auto fn =
            systemFunction<SetInterfaceDnsSettingsFn>(L"iphlpapi.dll", "SetInterfaceDnsSettings");
        return fn;
    }

    static WinError callDnsSettings(SetInterfaceDnsSettingsFn set, const std::string& guid,
                                    net::Family family, std::wstring nameServer,
                                    std::wstring searchList) {
        GUID g;
        if (!parseGuid(guid, g))
            return ERROR_INVALID_PARAMETER;
        DnsInterfaceSettings settings;
        std::memset(&settings, 0, sizeof settings);
        settings.Version = kDnsInterfaceSettingsVersion1;
        settings.Flags = kDnsSettingNameServer;
        settings.NameServer = nameServer.data();
        if (family == net::Family::V6) {
            settings.Flags |= kDnsSettingIpv6;
        } else {
            // The search list is one per interface: set (and cleared) with the IPv4 call.
            settings.Flags |= kDnsSettingSearchList;
            settings.SearchList = searchList.data();
        }
        return set(g, &settings);
    }

    // The values the DNS client read before SetInterfaceDnsSettings existed. `clearing`: a
    // missing key means the settings are gone already.
    static WinError writeDnsRegistry(const std::string& guid, net::Family family,
                                     const std::wstring& nameServer, const std::wstring& searchList,
                                     bool clearing) {
        Key key;
        const std::wstring path = interfaceKey(guid, family);
        if (const LSTATUS rc =
                ::RegOpenKeyExW(HKEY_LOCAL_MACHINE, path.c_str(), 0, KEY_SET_VALUE, &key.handle);
            rc != ERROR_SUCCESS)
            return static_cast<WinError>(rc);
        LSTATUS rc = setString(key.handle, L"NameServer", nameServer);
        if (rc == ERROR_SUCCESS && family == net::Family::V4) {
            if (clearing) {
                rc = ::RegDeleteValueW(key.handle, L"SearchList");
                if (rc == ERROR_FILE_NOT_FOUND)
                    rc = ERROR_SUCCESS;
            } else {
                rc = setString(key.handle, L"SearchList", searchList);
            }
        }
        if (rc == ERROR_SUCCESS)
            if (const auto flush =
                    systemFunction<DnsFlushResolverCacheFn>(L"dnsapi.dll", "DnsFlushResolverCache"))
                flush();
        return static_cast<WinError>(rc);
    }
};

} // namespace

IpHelper& systemIpHelper() {
    static SystemIpHelper helper;
    return helper;
}

} // namespace calnet::helper::windows
