// WindowsNetworkConfigurator against FakeIpHelper, a stand-in for the IP Helper API that keeps
// the host's network as plain sets (addresses, routes, interface settings, DNS, NRPT rules),
// answers like Windows does (ERROR_OBJECT_ALREADY_EXISTS, ERROR_NOT_FOUND) and records every
// call in order. Under Wine the real calls would need an adapter and Administrator rights, so
// what is checked here is the order of the calls, the journal on disk (through the real
// statefile functions) and that every rollback path leaves the fake exactly as it found it.
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config/wgquick.h"
#include "helper/platform/windows/iphelper.h"
#include "helper/platform/windows/netconfigurator_windows.h"
#include "helper/platform/windows/winerror.h"

using namespace calnet;
using namespace calnet::helper;
using namespace calnet::helper::windows;

namespace {

constexpr std::uint64_t kTunLuid = 42;
constexpr std::uint64_t kPhysicalLuid = 7;
constexpr std::uint32_t kTunIndex = 17;
constexpr char kTunGuid[] = "{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}";
constexpr std::int64_t kBootTime = 1'780'000'000;

net::IpAddress ip(const char* text) {
    return *net::IpAddress::parse(text);
}

std::string familyName(net::Family f) {
    return f == net::Family::V4 ? "v4" : "v6";
}

std::string settingsText(const InterfaceSettings& s) {
    return "mtu=" + std::to_string(s.mtu) +
           " metric=" + (s.automaticMetric ? std::string("auto") : std::to_string(s.metric));
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items)
        out += (out.empty() ? "" : ",") + i;
    return out;
}

std::string join(const std::vector<net::IpAddress>& items) {
    std::vector<std::string> texts;
    for (const auto& i : items)
        texts.push_back(i.toString());
    return join(texts);
}

// For QCOMPARE's readable "lists differ at index N".
QStringList qlist(const std::vector<std::string>& items) {
    QStringList out;
    for (const auto& i : items)
        out << QString::fromStdString(i);
    return out;
}

std::string routeText(const RouteSpec& r) {
    return std::to_string(r.luid) + " " + r.prefix.toString() + " via " + r.nextHop.toString() +
           " metric " + std::to_string(r.metric);
}

class FakeIpHelper final : public IpHelper {
public:
    // The host: a physical interface (luid 7, MTU 1500, gateway 192.168.1.1) and the tunnel
    // (luid 42, both sides bound, MTU 65535 as Wintun starts, automatic metric).
    FakeIpHelper() {
        interfaces[{kTunLuid, net::Family::V4}] = {65535, 5, true};
        interfaces[{kTunLuid, net::Family::V6}] = {65535, 5, true};
        interfaces[{kPhysicalLuid, net::Family::V4}] = {1500, 25, true};
        interfaces[{kPhysicalLuid, net::Family::V6}] = {1500, 25, true};
        guids[kTunLuid] = kTunGuid;
        guids[kPhysicalLuid] = "{11111111-2222-3333-4444-555555555555}";
    }

    std::vector<std::string> calls;
    // Fail the `failNth` call (1-based) of operation `failOp` with `failCode`.
    std::string failOp;
    int failNth = 0;
    WinError failCode = winerr::kAccessDenied;
    std::map<std::string, int> counts;

    std::map<std::pair<std::uint64_t, net::Family>, InterfaceSettings> interfaces;
    std::map<std::uint64_t, std::string> guids;
    std::set<std::pair<std::uint64_t, net::IpPrefix>> addresses;
    std::set<std::string> routes;            // routeText()
    std::map<std::string, std::string> dns;  // guid + family -> "servers|search"
    std::map<std::string, std::string> nrpt; // rule -> "suffixes -> servers"
    std::int64_t boot = kBootTime;

    // The host's state, to compare before and after.
    [[nodiscard]] std::string snapshot() const {
        std::string s;
        for (const auto& [key, v] : interfaces)
            s += std::to_string(key.first) + familyName(key.second) + " " + settingsText(v) + "\n";
        for (const auto& [luid, a] : addresses)
            s += "addr " + std::to_string(luid) + " " + a.toString() + "\n";
        for (const auto& r : routes)
            s += "route " + r + "\n";
        for (const auto& [k, v] : dns)
            s += "dns " + k + " " + v + "\n";
        for (const auto& [k, v] : nrpt)
            s += "nrpt " + k + " " + v + "\n";
        return s;
    }

    // The calls that change something (no look-ups).
    [[nodiscard]] std::vector<std::string> changes() const {
        std::vector<std::string> out;
        for (const auto& c : calls)
            if (c.rfind("get", 0) != 0 && c.rfind("bestRoute", 0) != 0 &&
                c.rfind("guidOfLuid", 0) != 0 && c.rfind("luidOfIndex", 0) != 0)
                out.push_back(c);
        return out;
    }

    WinError luidOfIndex(std::uint32_t ifindex, std::uint64_t& luid) override {
        calls.push_back("luidOfIndex " + std::to_string(ifindex));
        if (ifindex != kTunIndex)
            return winerr::kFileNotFound;
        luid = kTunLuid;
        return 0;
    }
    WinError guidOfLuid(std::uint64_t luid, std::string& guid) override {
        calls.push_back("guidOfLuid " + std::to_string(luid));
        const auto it = guids.find(luid);
        if (it == guids.end())
            return winerr::kFileNotFound;
        guid = it->second;
        return 0;
    }
    WinError getInterface(std::uint64_t luid, net::Family family, InterfaceSettings& out) override {
        calls.push_back("getInterface " + std::to_string(luid) + " " + familyName(family));
        const auto it = interfaces.find({luid, family});
        if (it == interfaces.end())
            return winerr::kNotFound;
        out = it->second;
        return 0;
    }
    WinError setInterface(std::uint64_t luid, net::Family family,
                          const InterfaceSettings& settings) override {
        calls.push_back("setInterface " + std::to_string(luid) + " " + familyName(family) + " " +
                        settingsText(settings));
        if (const WinError rc = injected("setInterface"))
            return rc;
        const auto it = interfaces.find({luid, family});
        if (it == interfaces.end())
            return winerr::kNotFound;
        it->second = settings;
        return 0;
    }
    WinError addAddress(std::uint64_t luid, const net::IpPrefix& address) override {
        calls.push_back("addAddress " + std::to_string(luid) + " " + address.toString());
        if (const WinError rc = injected("addAddress"))
            return rc;
        if (!guids.contains(luid))
            return winerr::kNotFound;
        return addresses.insert({luid, address}).second ? 0 : winerr::kObjectAlreadyExists;
    }
    WinError deleteAddress(std::uint64_t luid, const net::IpPrefix& address) override {
        calls.push_back("deleteAddress " + std::to_string(luid) + " " + address.toString());
        if (const WinError rc = injected("deleteAddress"))
            return rc;
        return addresses.erase({luid, address}) ? 0 : winerr::kNotFound;
    }
    WinError addRoute(const RouteSpec& route) override {
        calls.push_back("addRoute " + routeText(route));
        if (const WinError rc = injected("addRoute"))
            return rc;
        return routes.insert(routeText(route)).second ? 0 : winerr::kObjectAlreadyExists;
    }
    WinError deleteRoute(const RouteSpec& route) override {
        calls.push_back("deleteRoute " + routeText(route));
        if (const WinError rc = injected("deleteRoute"))
            return rc;
        return routes.erase(routeText(route)) ? 0 : winerr::kNotFound;
    }
    WinError bestRoute(const net::IpAddress& destination, BestRoute& out) override {
        calls.push_back("bestRoute " + destination.toString());
        if (destination.family == net::Family::V6)
            return winerr::kNotFound; // no IPv6 uplink on this host
        out.luid = kPhysicalLuid;
        out.ifindex = 3;
        out.prefix = *net::IpPrefix::parse("0.0.0.0/0");
        out.nextHop = ip("192.168.1.1");
        return 0;
    }
    WinError setInterfaceDns(const std::string& guid, net::Family family,
                             const std::vector<net::IpAddress>& servers,
                             const std::vector<std::string>& searchDomains,
                             DnsMethod& used) override {
        calls.push_back("setInterfaceDns " + guid + " " + familyName(family) + " " + join(servers) +
                        " search=" + join(searchDomains));
        if (const WinError rc = injected("setInterfaceDns"))
            return rc;
        used = dnsMethod;
        dns[guid + familyName(family)] = join(servers) + "|" + join(searchDomains);
        return 0;
    }
    WinError clearInterfaceDns(const std::string& guid, net::Family family) override {
        calls.push_back("clearInterfaceDns " + guid + " " + familyName(family));
        if (const WinError rc = injected("clearInterfaceDns"))
            return rc;
        return dns.erase(guid + familyName(family)) ? 0 : winerr::kFileNotFound;
    }
    WinError addNrptRule(const std::string& ruleName, const std::vector<std::string>& suffixes,
                         const std::vector<net::IpAddress>& servers) override {
        calls.push_back("addNrptRule " + ruleName + " " + join(suffixes) + " -> " + join(servers));
        if (const WinError rc = injected("addNrptRule"))
            return rc;
        nrpt[ruleName] = join(suffixes) + " -> " + join(servers);
        return 0;
    }
    WinError deleteNrptRule(const std::string& ruleName) override {
        calls.push_back("deleteNrptRule " + ruleName);
        if (const WinError rc = injected("deleteNrptRule"))
            return rc;
        return nrpt.erase(ruleName) ? 0 : winerr::kFileNotFound;
    }
    WinError refreshDns() override {
        calls.push_back("refreshDns");
        return 0;
    }
    std::int64_t bootTime() override { return boot; }

    DnsMethod dnsMethod = DnsMethod::InterfaceSettings;

private:
    WinError injected(const std::string& op) {
        const int n = ++counts[op];
        return op == failOp && n == failNth ? failCode : 0;
    }
};

config::WgQuickConfig profile(const std::string& body) {
    const std::string text = "[Interface]\n"
                             "PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n" +
                             body;
    auto parsed = config::parseWgQuick(text);
    if (!parsed.config) {
        for (const auto& e : parsed.errors)
            qWarning("line %d: %s", e.line, e.reason.c_str());
        qFatal("test profile does not parse");
    }
    return *parsed.config;
}

const char* const kPeer = "[Peer]\n"
                          "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
                          "Endpoint = 198.51.100.7:51820\n";

// A split tunnel: two IPv4 networks and an IPv6 one, DNS servers and search domains.
config::WgQuickConfig splitProfile() {
    return profile(std::string("Address = 10.7.0.2/24, fd00:7::2/64\n"
                               "DNS = 10.7.0.1, corp.example, lab.example\n"
                               "MTU = 1380\n") +
                   kPeer + "AllowedIPs = 10.7.0.0/24, 10.8.0.0/16, fd00:7::/64\n");
}

// A full tunnel of both families, the MTU left automatic, a FwMark.
config::WgQuickConfig fullProfile() {
    return profile(std::string("Address = 10.7.0.2/32, fd00:7::2/128\n"
                               "DNS = 10.7.0.1, corp.example\n"
                               "FwMark = 51820\n") +
                   kPeer + "AllowedIPs = 0.0.0.0/0, ::/0\n");
}

const NetworkConfigurator::SetFwmark kNoFwmark = [](std::uint32_t, std::string& error) {
    error = "not supported on Windows";
    return false;
};

} // namespace

class TestWinNetConfig : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    [[nodiscard]] std::string stateDir() const { return dir_.path().toStdString(); }
    [[nodiscard]] QString journalPath() const { return dir_.filePath("netconfig-cn0.json"); }

    std::unique_ptr<WindowsNetworkConfigurator> make(FakeIpHelper& fake) {
        std::string error;
        auto c = WindowsNetworkConfigurator::create(fake, "cn0", kTunIndex, stateDir(), error);
        if (!c)
            qFatal("create: %s", error.c_str());
        fake.calls.clear();
        return c;
    }

private slots:
    void init() {
        QVERIFY(dir_.isValid());
        for (const QString& name : QDir(dir_.path()).entryList(QDir::Files | QDir::Hidden))
            QFile::remove(dir_.filePath(name));
    }

    void splitProfileCallsInOrder() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        const std::string g = kTunGuid;
        const std::vector<std::string> expected{
            "guidOfLuid 42",
            "getInterface 42 v4",
            "getInterface 42 v6",
            "addAddress 42 10.7.0.2/24",
            "addAddress 42 fd00:7::2/64",
            // NRPT carries the search domains: the metric stays automatic.
            "setInterface 42 v4 mtu=1380 metric=auto",
            "setInterface 42 v6 mtu=1380 metric=auto",
            // Longest first; the endpoint is outside every route, so nothing is pinned.
            "addRoute 42 fd00:7::/64 via :: metric 0",
            "addRoute 42 10.7.0.0/24 via 0.0.0.0 metric 0",
            "addRoute 42 10.8.0.0/16 via 0.0.0.0 metric 0",
            "setInterfaceDns " + g + " v4 10.7.0.1 search=corp.example,lab.example",
            "addNrptRule Calnet-cn0-0 .corp.example,.lab.example -> 10.7.0.1",
            "refreshDns",
        };
        QCOMPARE(qlist(fake.calls), qlist(expected));
        QVERIFY(!c->ipv6Disabled());
        QVERIFY2(c->warnings().empty(), join(c->warnings()).c_str());
        QCOMPARE(c->mtu(), 1380u);

        // The journal is on disk, one entry per line after the header.
        QFile file(journalPath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().split('\n');
        QVERIFY(lines.first().contains("\"format\":\"calnet-windows-netconfig-journal\""));
        QVERIFY(lines.first().contains("\"luid\":\"42\""));
        QVERIFY(lines.first().contains(QByteArray("\"bootTime\":") +
                                       QByteArray::number(qint64(kBootTime))));
        QVERIFY(lines.first().endsWith("\"entries\":["));
        QCOMPARE(lines.size(), 1 + 9 + 1 + 1); // header, 9 entries, "]}", the last newline
        QVERIFY(lines.at(1).contains("\"op\":\"address\""));
        QVERIFY(lines.at(9).contains("\"op\":\"nrpt\""));
    }

    void fullTunnelHalvesAndEndpointPin() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(fullProfile(), kNoFwmark, {}, error), error.c_str());
        const std::string g = kTunGuid;
        const std::vector<std::string> expected{
            "guidOfLuid 42",
            "getInterface 42 v4",
            "getInterface 42 v6",
            "addAddress 42 10.7.0.2/32",
            "addAddress 42 fd00:7::2/128",
            // Automatic MTU: the endpoint's interface (1500) minus 80.
            "bestRoute 198.51.100.7",
            "getInterface 7 v4",
            // A full tunnel's DNS answers every name: metric 0.
            "setInterface 42 v4 mtu=1420 metric=0",
            "setInterface 42 v6 mtu=1420 metric=0",
            // The endpoint pinned to the physical gateway before the halves exist.
            "bestRoute 198.51.100.7",
            "addRoute 7 198.51.100.7/32 via 192.168.1.1 metric 0",
            "addRoute 42 0.0.0.0/1 via 0.0.0.0 metric 0",
            "addRoute 42 128.0.0.0/1 via 0.0.0.0 metric 0",
            "addRoute 42 ::/1 via :: metric 0",
            "addRoute 42 8000::/1 via :: metric 0",
            // Full tunnel: search domains on the interface, no NRPT.
            "setInterfaceDns " + g + " v4 10.7.0.1 search=corp.example",
        };
        QCOMPARE(qlist(fake.calls), qlist(expected));
        QCOMPARE(c->mtu(), 1420u);
        // Windows has no fwmark: the refusal is a warning, not a failure.
        QCOMPARE(c->warnings().size(), std::size_t(1));
        QVERIFY(c->warnings().front().find("FwMark 51820 not applied") != std::string::npos);
    }

    void fullTunnelWithoutFwmarkSetter() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(fullProfile(), nullptr, {}, error), error.c_str());
        QCOMPARE(c->warnings().size(), std::size_t(1));
        QVERIFY(c->warnings().front().find("Windows has no fwmark") != std::string::npos);
    }

    void resolvedEndpointsArePinned() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        NetworkConfigurator::Options options;
        options.endpointAddresses = {ip("203.0.113.9")};
        QVERIFY2(c->apply(fullProfile(), kNoFwmark, options, error), error.c_str());
        QVERIFY(fake.routes.contains("7 203.0.113.9/32 via 192.168.1.1 metric 0"));
        QVERIFY(!fake.routes.contains("7 198.51.100.7/32 via 192.168.1.1 metric 0"));
    }

    void rollbackUndoesInReverse() {
        FakeIpHelper fake;
        const std::string before = fake.snapshot();
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        QVERIFY(fake.snapshot() != before);
        fake.calls.clear();
        const UndoReport report = c->rollback();
        QVERIFY2(report.ok(), report.summary.c_str());
        QCOMPARE(report.undone, std::size_t(9));
        const std::string g = kTunGuid;
        const std::vector<std::string> expected{
            "deleteNrptRule Calnet-cn0-0",
            "clearInterfaceDns " + g + " v4",
            "deleteRoute 42 10.8.0.0/16 via 0.0.0.0 metric 0",
            "deleteRoute 42 10.7.0.0/24 via 0.0.0.0 metric 0",
            "deleteRoute 42 fd00:7::/64 via :: metric 0",
            "setInterface 42 v6 mtu=65535 metric=auto",
            "setInterface 42 v4 mtu=65535 metric=auto",
            "deleteAddress 42 fd00:7::2/64",
            "deleteAddress 42 10.7.0.2/24",
            "refreshDns",
        };
        QCOMPARE(qlist(fake.changes()), qlist(expected));
        QCOMPARE(QString::fromStdString(fake.snapshot()), QString::fromStdString(before));
        QVERIFY(!QFile::exists(journalPath()));
    }

    void fullTunnelRollbackRemovesPin() {
        FakeIpHelper fake;
        const std::string before = fake.snapshot();
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(fullProfile(), kNoFwmark, {}, error), error.c_str());
        const UndoReport report = c->rollback();
        QVERIFY2(report.ok(), report.summary.c_str());
        QCOMPARE(QString::fromStdString(fake.snapshot()), QString::fromStdString(before));
    }

    void failureUndoesEverything() {
        FakeIpHelper fake;
        const std::string before = fake.snapshot();
        fake.failOp = "addRoute";
        fake.failNth = 3;
        auto c = make(fake);
        std::string error;
        QVERIFY(!c->apply(splitProfile(), kNoFwmark, {}, error));
        QVERIFY2(error.find("cn0: route 10.8.0.0/16 on interface luid 42: ") == 0, error.c_str());
        QVERIFY2(error.find(systemErrorText(winerr::kAccessDenied)) != std::string::npos,
                 error.c_str());
        QVERIFY2(error.find("rollback incomplete") == std::string::npos, error.c_str());
        QCOMPARE(QString::fromStdString(fake.snapshot()), QString::fromStdString(before));
        // The failed route was journaled first; undoing it found nothing, which counts as done.
        QVERIFY(fake.calls.back() == "deleteAddress 42 10.7.0.2/24");
        QVERIFY(!QFile::exists(journalPath()));
        // Nothing after the failure was attempted.
        for (const auto& call : fake.calls)
            QVERIFY2(call.rfind("setInterfaceDns", 0) != 0 && call.rfind("addNrptRule", 0) != 0,
                     call.c_str());
    }

    void crashLeftoversAreUndone() {
        FakeIpHelper fake;
        const std::string before = fake.snapshot();
        {
            auto c = make(fake);
            std::string error;
            QVERIFY2(c->apply(fullProfile(), kNoFwmark, {}, error), error.c_str());
        } // the helper dies: no rollback
        QVERIFY(QFile::exists(journalPath()));
        QVERIFY(fake.snapshot() != before);

        FakeIpHelper& os = fake; // the next helper start, same host
        os.calls.clear();
        const UndoReport report = rollbackWindowsLeftovers(os, stateDir());
        QVERIFY2(report.ok(), report.summary.c_str());
        QCOMPARE(report.undone, std::size_t(10));
        QCOMPARE(QString::fromStdString(os.snapshot()), QString::fromStdString(before));
        QVERIFY(!QFile::exists(journalPath()));
    }

    void leftoversOfAGoneAdapter() {
        // The usual crash on Windows: Wintun removed the adapter with the process, taking its
        // addresses, routes and settings; what lives elsewhere (the endpoint pin on the
        // physical interface, DNS under the GUID, NRPT) must still go, and a new adapter that
        // got the same LUID must not be touched.
        FakeIpHelper fake;
        const std::string before = fake.snapshot();
        {
            auto c = make(fake);
            std::string error;
            QVERIFY2(c->apply(fullProfile(), kNoFwmark, {}, error), error.c_str());
        }
        fake.guids[kTunLuid] = "{99999999-9999-9999-9999-999999999999}"; // another adapter
        fake.calls.clear();
        const UndoReport report = rollbackWindowsLeftovers(fake, stateDir());
        QVERIFY2(report.ok(), report.summary.c_str());
        const std::string g = kTunGuid;
        const std::vector<std::string> expected{
            "clearInterfaceDns " + g + " v4",
            "deleteRoute 7 198.51.100.7/32 via 192.168.1.1 metric 0",
        };
        QCOMPARE(qlist(fake.changes()), qlist(expected));
        QVERIFY(!fake.routes.contains("7 198.51.100.7/32 via 192.168.1.1 metric 0"));
        QVERIFY(fake.dns.empty());
        QVERIFY(!QFile::exists(journalPath()));
    }

    void rollbackTwiceIsHarmless() {
        FakeIpHelper fake;
        const std::string before = fake.snapshot();
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        QVERIFY(c->rollback().ok());
        fake.calls.clear();
        const UndoReport again = c->rollback();
        QVERIFY2(again.ok(), again.summary.c_str());
        QCOMPARE(again.undone, std::size_t(0));
        QVERIFY(fake.changes().empty());
        QCOMPARE(QString::fromStdString(fake.snapshot()), QString::fromStdString(before));
        // And the free function finds nothing either.
        QVERIFY(rollbackWindowsLeftovers(fake, stateDir()).ok());
        QVERIFY(fake.changes().empty());
    }

    void undoOfWhatIsGoneCountsAsDone() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        // Someone removed routes and the NRPT rule behind our back.
        fake.routes.clear();
        fake.nrpt.clear();
        const UndoReport report = c->rollback();
        QVERIFY2(report.ok(), report.summary.c_str());
        QCOMPARE(report.undone, std::size_t(9));
    }

    void failedUndoStaysJournaled() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        fake.failOp = "deleteRoute";
        fake.failNth = 1;
        const UndoReport first = c->rollback();
        QVERIFY(!first.ok());
        QCOMPARE(first.failures.size(), std::size_t(1));
        QVERIFY2(first.failures.front().find("route 10.8.0.0/16") == 0,
                 first.failures.front().c_str());
        QCOMPARE(first.undone, std::size_t(8)); // the rest went on regardless
        QVERIFY(QFile::exists(journalPath()));
        fake.calls.clear();
        const UndoReport second = c->rollback();
        QVERIFY2(second.ok(), second.summary.c_str());
        QCOMPARE(qlist(fake.changes()),
                 QStringList{QStringLiteral("deleteRoute 42 10.8.0.0/16 via 0.0.0.0 metric 0")});
        QVERIFY(!QFile::exists(journalPath()));
    }

    void journalOfAnotherBootIsDiscarded() {
        FakeIpHelper fake;
        {
            WindowsJournal journal(stateDir(), "netconfig-cn0.json");
            std::string error;
            QVERIFY(journal.begin("cn0", kTunLuid, kTunGuid, kBootTime - 86400, error));
            QVERIFY(journal.record(AddressAdded{kTunLuid, *net::IpPrefix::parse("10.7.0.2/24")},
                                   error));
            QVERIFY(journal.record(
                RouteAdded{RouteSpec{kPhysicalLuid, *net::IpPrefix::parse("198.51.100.7/32"),
                                     ip("192.168.1.1"), 0}},
                error));
            QVERIFY(
                journal.record(RouteAdded{RouteSpec{kTunLuid, *net::IpPrefix::parse("0.0.0.0/1"),
                                                    ip("0.0.0.0"), 0}},
                               error));
        }
        // Someone else's identical route in this boot must survive.
        fake.routes.insert("7 198.51.100.7/32 via 192.168.1.1 metric 0");
        const UndoReport report = rollbackWindowsLeftovers(fake, stateDir());
        QVERIFY2(report.ok(), report.summary.c_str());
        QVERIFY(fake.calls.empty());
        QVERIFY(fake.routes.contains("7 198.51.100.7/32 via 192.168.1.1 metric 0"));
        QVERIFY(!QFile::exists(journalPath()));
        QVERIFY2(report.summary.find("reboot") != std::string::npos, report.summary.c_str());
    }

    void anotherBootStillUndoesRegistryChanges() {
        // DNS settings under the adapter's GUID and NRPT keys live in the registry and outlive
        // a reboot; only those are undone from an old journal.
        FakeIpHelper fake;
        fake.dns[std::string(kTunGuid) + "v4"] = "10.7.0.1|corp.example";
        fake.nrpt["Calnet-cn0-0"] = ".corp.example -> 10.7.0.1";
        {
            WindowsJournal journal(stateDir(), "netconfig-cn0.json");
            std::string error;
            QVERIFY(journal.begin("cn0", kTunLuid, kTunGuid, kBootTime - 86400, error));
            QVERIFY(journal.record(AddressAdded{kTunLuid, *net::IpPrefix::parse("10.7.0.2/24")},
                                   error));
            QVERIFY(journal.record(DnsSet{kTunGuid, net::Family::V4}, error));
            QVERIFY(journal.record(NrptRuleAdded{"Calnet-cn0-0"}, error));
        }
        const UndoReport report = rollbackWindowsLeftovers(fake, stateDir());
        QVERIFY2(report.ok(), report.summary.c_str());
        const std::string g = kTunGuid;
        const std::vector<std::string> expected{"deleteNrptRule Calnet-cn0-0",
                                                "clearInterfaceDns " + g + " v4", "refreshDns"};
        QCOMPARE(qlist(fake.calls), qlist(expected));
        QVERIFY(fake.dns.empty());
        QVERIFY(fake.nrpt.empty());
    }

    void damagedJournalIsSalvaged() {
        FakeIpHelper fake;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        c.reset();
        // Cut the file in the middle of its last entry line (a torn write on a bad disk).
        QFile file(journalPath());
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray data = file.readAll();
        data.truncate(data.lastIndexOf("{\"op\":\"nrpt\"") + 5);
        QVERIFY(file.resize(0));
        QVERIFY(file.write(data) == data.size());
        file.close();
        const UndoReport report = rollbackWindowsLeftovers(fake, stateDir());
        QVERIFY2(report.ok(), report.summary.c_str());
        QCOMPARE(report.undone, std::size_t(8)); // all but the torn line
        QVERIFY(fake.addresses.empty());
        QVERIFY(fake.routes.empty());
        QVERIFY(!QFile::exists(journalPath()));
    }

    void ipv6NotBound() {
        FakeIpHelper fake;
        fake.interfaces.erase({kTunLuid, net::Family::V6});
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        QVERIFY(c->ipv6Disabled());
        QCOMPARE(c->warnings().size(), std::size_t(1));
        QVERIFY(c->warnings().front().find("IPv6 is not enabled on cn0") == 0);
        for (const auto& call : fake.calls)
            QVERIFY2(call.find("fd00:") == std::string::npos &&
                         call.find(" v6 ") == std::string::npos,
                     call.c_str());
    }

    void applyFirstUndoesLeftovers() {
        FakeIpHelper fake;
        {
            auto c = make(fake);
            std::string error;
            QVERIFY2(c->apply(fullProfile(), kNoFwmark, {}, error), error.c_str());
        }
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        // Only the split profile's routes remain: the old halves and the pin are gone.
        QCOMPARE(fake.routes.size(), std::size_t(3));
        QVERIFY(c->rollback().ok());
        QVERIFY(fake.routes.empty());
    }

    void nrptFailureIsAWarning() {
        FakeIpHelper fake;
        fake.failOp = "addNrptRule";
        fake.failNth = 1;
        const std::string before = fake.snapshot();
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        QCOMPARE(c->warnings().size(), std::size_t(1));
        QVERIFY(c->warnings().front().find("NRPT rule Calnet-cn0-0 not written") == 0);
        QVERIFY(c->rollback().ok());
        QCOMPARE(QString::fromStdString(fake.snapshot()), QString::fromStdString(before));
    }

    void registryFallbackIsAWarning() {
        FakeIpHelper fake;
        fake.dnsMethod = DnsMethod::Registry;
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(splitProfile(), kNoFwmark, {}, error), error.c_str());
        QCOMPARE(c->warnings().size(), std::size_t(1));
        QVERIFY(c->warnings().front().find("written to the registry") != std::string::npos);
    }

    void manySearchDomainsMakeSeveralRules() {
        FakeIpHelper fake;
        std::string dnsLine = "DNS = 10.7.0.1";
        for (int i = 0; i < 60; ++i)
            dnsLine += ", d" + std::to_string(i) + ".example";
        auto c = make(fake);
        std::string error;
        QVERIFY2(c->apply(profile("Address = 10.7.0.2/24\n" + dnsLine + "\n" + kPeer +
                                  "AllowedIPs = 10.7.0.0/24\n"),
                          kNoFwmark, {}, error),
                 error.c_str());
        QCOMPARE(fake.nrpt.size(), std::size_t(2));
        QVERIFY(fake.nrpt.contains("Calnet-cn0-1"));
        QVERIFY(c->rollback().ok());
        QVERIFY(fake.nrpt.empty());
    }

    void createRejectsUnknownInterface() {
        FakeIpHelper fake;
        std::string error;
        QVERIFY(!WindowsNetworkConfigurator::create(fake, "cn0", 99, stateDir(), error));
        QVERIFY2(error.find("interface cn0 (index 99)") == 0, error.c_str());
        QVERIFY(!WindowsNetworkConfigurator::create(fake, "a\\b", kTunIndex, stateDir(), error));
    }
};

QTEST_GUILESS_MAIN(TestWinNetConfig)
#include "tst_winnetconfig.moc"
