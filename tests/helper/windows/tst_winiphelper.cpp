// systemIpHelper(), the real IpHelper, as far as Wine can run it: the boot time, LUID and GUID
// conversions, the NRPT rule's registry layout and the DNS registry fallback (Wine has no
// SetInterfaceDnsSettings). Addresses, routes, interface settings and GetBestRoute2 are not
// called here: Wine 8 stubs GetIpInterfaceEntry and friends (calling one aborts the process)
// and answers GetBestRoute2 with ERROR_NOT_SUPPORTED; they wait for a real Windows machine
// (docs/platforms.md). Every key the test writes is its own and is removed again.
#include <QCoreApplication>
#include <QDateTime>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTest>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <windows.h>

#include "helper/platform/windows/iphelper.h"

using namespace calnet;
using namespace calnet::helper::windows;

namespace {

const std::wstring kNrptRoot =
    L"SOFTWARE\\Policies\\Microsoft\\Windows NT\\DNSClient\\DnsPolicyConfig\\";
const std::wstring kTcpip = L"SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\";
const std::wstring kTcpip6 =
    L"SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\Parameters\\Interfaces\\";
// A GUID no adapter has.
constexpr char kTestGuid[] = "{C0FFEE00-1234-4567-89AB-CDEF01234567}";
const std::wstring kTestGuidW = L"{C0FFEE00-1234-4567-89AB-CDEF01234567}";

net::IpAddress ip(const char* text) {
    return *net::IpAddress::parse(text);
}

// A registry value as (type, bytes); type 0 when missing.
struct Value {
    DWORD type = 0;
    std::wstring text; // REG_SZ / REG_MULTI_SZ, with every NUL kept
    DWORD number = 0;  // REG_DWORD
};

Value read(const std::wstring& key, const wchar_t* name) {
    Value v;
    DWORD size = 0;
    if (::RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), name, RRF_RT_ANY | RRF_NOEXPAND, &v.type,
                       nullptr, &size) != ERROR_SUCCESS)
        return Value{};
    std::vector<BYTE> bytes(size);
    if (::RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), name, RRF_RT_ANY | RRF_NOEXPAND, &v.type,
                       bytes.data(), &size) != ERROR_SUCCESS)
        return Value{};
    if (v.type == REG_DWORD && size == sizeof(DWORD))
        std::memcpy(&v.number, bytes.data(), sizeof(DWORD));
    else
        v.text.assign(reinterpret_cast<const wchar_t*>(bytes.data()), size / sizeof(wchar_t));
    return v;
}

bool keyExists(const std::wstring& key) {
    HKEY h = nullptr;
    if (::RegOpenKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, KEY_READ, &h) != ERROR_SUCCESS)
        return false;
    ::RegCloseKey(h);
    return true;
}

bool createKey(const std::wstring& key) {
    HKEY h = nullptr;
    if (::RegCreateKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, nullptr, 0, KEY_ALL_ACCESS, nullptr,
                          &h, nullptr) != ERROR_SUCCESS)
        return false;
    ::RegCloseKey(h);
    return true;
}

QString q(const std::wstring& s) {
    return QString::fromStdWString(s);
}

} // namespace

class TestWinIpHelper : public QObject {
    Q_OBJECT

private slots:
    void bootTimeIsStableAndInThePast() {
        IpHelper& helper = systemIpHelper();
        const std::int64_t first = helper.bootTime();
        const std::int64_t now = QDateTime::currentSecsSinceEpoch();
        QVERIFY2(first <= now && first > now - 10LL * 365 * 86400, QByteArray::number(first));
        QTest::qWait(1100);
        QVERIFY(std::llabs(helper.bootTime() - first) <= 2);
    }

    void luidAndGuidOfAnInterface() {
        IpHelper& helper = systemIpHelper();
        std::uint64_t luid = 0;
        // Index 1 is the loopback interface on Windows and under Wine.
        QCOMPARE(helper.luidOfIndex(1, luid), winerr::kSuccess);
        QVERIFY(luid != 0);
        std::string guid;
        QCOMPARE(helper.guidOfLuid(luid, guid), winerr::kSuccess);
        QVERIFY2(QRegularExpression(QStringLiteral("^\\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-"
                                                   "[0-9A-F]{4}-[0-9A-F]{12}\\}$"))
                     .match(QString::fromStdString(guid))
                     .hasMatch(),
                 guid.c_str());
        std::uint64_t none = 0;
        QVERIFY(helper.luidOfIndex(0xfffffff0u, none) != winerr::kSuccess);
    }

    void nrptRuleLayout() {
        IpHelper& helper = systemIpHelper();
        const std::string rule = "Calnet-tst-" + std::to_string(::GetCurrentProcessId()) + "-0";
        const std::wstring key = kNrptRoot + std::wstring(rule.begin(), rule.end());
        QVERIFY(!keyExists(key));
        QCOMPARE(helper.addNrptRule(rule, {".corp.example", ".lab.example"},
                                    {ip("10.7.0.1"), ip("fd00:7::1")}),
                 winerr::kSuccess);
        const Value name = read(key, L"Name");
        QCOMPARE(name.type, DWORD(REG_MULTI_SZ));
        // Each suffix NUL-terminated, then the list's own NUL.
        QCOMPARE(q(name.text), q(std::wstring(L".corp.example\0.lab.example\0\0", 28)));
        const Value servers = read(key, L"GenericDNSServers");
        QCOMPARE(servers.type, DWORD(REG_SZ));
        QCOMPARE(q(servers.text), q(std::wstring(L"10.7.0.1; fd00:7::1\0", 20)));
        QCOMPARE(read(key, L"ConfigOptions").number, DWORD(8));
        QCOMPARE(read(key, L"Version").number, DWORD(2));
        QCOMPARE(read(key, L"ConfigOptions").type, DWORD(REG_DWORD));

        // Writing it again replaces the values.
        QCOMPARE(helper.addNrptRule(rule, {".other.example"}, {ip("10.9.0.1")}), winerr::kSuccess);
        QCOMPARE(q(read(key, L"Name").text), q(std::wstring(L".other.example\0\0", 16)));

        QCOMPARE(helper.deleteNrptRule(rule), winerr::kSuccess);
        QVERIFY(!keyExists(key));
        // Undo is idempotent: a missing rule is "gone".
        QVERIFY(isGone(helper.deleteNrptRule(rule)));
    }

    void dnsRegistryFallback() {
        HMODULE iphlpapi = ::GetModuleHandleW(L"iphlpapi.dll");
        if (iphlpapi && ::GetProcAddress(iphlpapi, "SetInterfaceDnsSettings"))
            QSKIP("this Windows has SetInterfaceDnsSettings: the registry fallback is not used");
        IpHelper& helper = systemIpHelper();
        const std::wstring v4 = kTcpip + kTestGuidW;
        const std::wstring v6 = kTcpip6 + kTestGuidW;
        // No interface key (an adapter that is gone): clearing finds nothing, which is done.
        QVERIFY(!keyExists(v4));
        QVERIFY(isGone(helper.clearInterfaceDns(kTestGuid, net::Family::V4)));
        DnsMethod used = DnsMethod::InterfaceSettings;
        QVERIFY(helper.setInterfaceDns(kTestGuid, net::Family::V4, {ip("10.7.0.1")}, {}, used) !=
                winerr::kSuccess);

        // The TCP/IP stack makes these keys for every adapter; here the test does.
        QVERIFY(createKey(v4));
        QVERIFY(createKey(v6));
        const auto cleanup = qScopeGuard([&] {
            ::RegDeleteKeyW(HKEY_LOCAL_MACHINE, v4.c_str());
            ::RegDeleteKeyW(HKEY_LOCAL_MACHINE, v6.c_str());
        });
        QCOMPARE(helper.setInterfaceDns(kTestGuid, net::Family::V4,
                                        {ip("10.7.0.1"), ip("10.7.0.2")},
                                        {"corp.example", "lab.example"}, used),
                 winerr::kSuccess);
        QVERIFY(used == DnsMethod::Registry);
        QCOMPARE(q(read(v4, L"NameServer").text), q(std::wstring(L"10.7.0.1,10.7.0.2\0", 18)));
        QCOMPARE(q(read(v4, L"SearchList").text),
                 q(std::wstring(L"corp.example,lab.example\0", 25)));
        QCOMPARE(helper.setInterfaceDns(kTestGuid, net::Family::V6, {ip("fd00:7::1")}, {}, used),
                 winerr::kSuccess);
        QCOMPARE(q(read(v6, L"NameServer").text), q(std::wstring(L"fd00:7::1\0", 10)));
        QCOMPARE(read(v6, L"SearchList").type, DWORD(0)); // one list, with IPv4

        QCOMPARE(helper.clearInterfaceDns(kTestGuid, net::Family::V4), winerr::kSuccess);
        QCOMPARE(helper.clearInterfaceDns(kTestGuid, net::Family::V6), winerr::kSuccess);
        QCOMPARE(q(read(v4, L"NameServer").text), q(std::wstring(L"\0", 1)));
        QCOMPARE(read(v4, L"SearchList").type, DWORD(0));
        QCOMPARE(q(read(v6, L"NameServer").text), q(std::wstring(L"\0", 1)));
        // Twice is harmless.
        QCOMPARE(helper.clearInterfaceDns(kTestGuid, net::Family::V4), winerr::kSuccess);
    }
};

QTEST_GUILESS_MAIN(TestWinIpHelper)
#include "tst_winiphelper.moc"
