// helper/netconfig against the real kernel, inside a private network namespace.
//
// main() unshare()s CLONE_NEWNET before anything else runs (so every thread Qt starts later is
// in it too): the interfaces, addresses, routes, rules and the src_valid_mark sysctl the tests
// touch are this process's own and vanish with it. Without the privilege to do that (not
// root), the kernel tests skip and only the pure ones run. IPv6 duplicate address detection is
// turned off in that namespace so that snapshots never catch an address half-way through it.
//
// State is observed with ip(8) (-j), not with our own Rtnetlink dumps, so the code under test
// is checked against an independent reader. "Identical to before" means the same links (name,
// MTU, flags), addresses, routes of every table, rules of both families and src_valid_mark.
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

#include <QAtomicInt>
#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusVirtualObject>
#include <QMutex>
#include <QThread>

#include <functional>
#include <memory>

#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/config/wgquick.h"
#include "helper/platform/linux/linuxtun.h"
#include "helper/platform/linux/netconfig/dnsconfigurator.h"
#include "helper/platform/linux/netconfig/journal.h"
#include "helper/platform/linux/netconfig/networksetup.h"
#include "helper/platform/linux/netconfig/program.h"
#include "helper/platform/linux/netconfig/rollback.h"
#include "helper/platform/linux/netconfig/routeplan.h"
#include "helper/platform/linux/netconfig/rtnetlink.h"
#include "helper/platform/linux/netconfig/sysctl.h"
#include "skip.h"

using namespace calnet;
using namespace calnet::helper;
using namespace calnet::helper::netconfig;

namespace {

bool g_isolated = false; // set by main() when unshare(CLONE_NEWNET) worked

#define REQUIRE_NETNS()                                                                            \
    do {                                                                                           \
        if (!g_isolated)                                                                           \
            CALNET_ENVIRONMENT_SKIP("needs a private network namespace (run as root)");            \
    } while (0)

constexpr const char* kPrivateKey = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
constexpr const char* kPublicKey = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

config::WgQuickConfig profile(const QString& interfaceLines, const QString& allowedIps,
                              const QString& endpoint = QStringLiteral("203.0.113.1:51820")) {
    const QString text = QStringLiteral("[Interface]\nPrivateKey = %1\n%2\n[Peer]\nPublicKey = "
                                        "%3\nAllowedIPs = %4\nEndpoint = %5\n")
                             .arg(QLatin1String(kPrivateKey), interfaceLines,
                                  QLatin1String(kPublicKey), allowedIps, endpoint);
    auto parsed = config::parseWgQuick(text.toStdString());
    if (!parsed.config) {
        for (const auto& e : parsed.errors)
            qWarning("profile line %d: %s", e.line, e.reason.c_str());
        qFatal("test profile does not parse");
    }
    return *parsed.config;
}

QByteArray run(const QString& program, const QStringList& args) {
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(10000))
        qFatal("%s did not finish", qPrintable(program));
    return p.readAllStandardOutput();
}

QJsonArray ipJson(const QStringList& args) {
    return QJsonDocument::fromJson(run(QStringLiteral("ip"), QStringList{"-j"} + args)).array();
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString srcValidMark() {
    std::string value;
    readSysctl(kSrcValidMark, value);
    return QString::fromStdString(value);
}

// `nft list ruleset` of the namespace, one trimmed line each (empty when nft is missing).
QStringList nftRuleset() {
    QProcess p;
    p.start(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("ruleset")});
    if (!p.waitForFinished(5000))
        return {QStringLiteral("nft did not answer")};
    QStringList out;
    for (const QString& line : QString::fromUtf8(p.readAllStandardOutput()).split('\n'))
        if (!line.trimmed().isEmpty())
            out << line.trimmed();
    return out;
}

QString nftTable(const QString& family, const QString& name) {
    QProcess p;
    p.start(QStringLiteral("nft"), {QStringLiteral("list"), QStringLiteral("table"), family, name});
    if (!p.waitForFinished(5000) || p.exitCode() != 0)
        return {};
    return QString::fromUtf8(p.readAllStandardOutput());
}

// Everything the network setup may touch, normalised and sorted.
QStringList snapshot() {
    QStringList out;
    for (const auto& v : ipJson({"link", "show"})) {
        const auto o = v.toObject();
        QStringList flags;
        for (const auto& f : o["flags"].toArray())
            flags << f.toString();
        out << QStringLiteral("link %1 mtu %2 flags %3")
                   .arg(o["ifname"].toString())
                   .arg(o["mtu"].toInt())
                   .arg(flags.join(','));
        const auto addresses = ipJson({"address", "show", "dev", o["ifname"].toString()});
        for (const auto& a : addresses)
            for (const auto& info : a.toObject()["addr_info"].toArray())
                out << QStringLiteral("address %1 %2/%3")
                           .arg(o["ifname"].toString(), info.toObject()["local"].toString())
                           .arg(info.toObject()["prefixlen"].toInt());
    }
    for (const QString family : {"-4", "-6"}) {
        for (const auto& r : ipJson({family, "route", "show", "table", "all"}))
            out << family + " route " + compact(r.toObject());
        for (const auto& r : ipJson({family, "rule", "show"}))
            out << family + " rule " + compact(r.toObject());
    }
    out << "src_valid_mark " + srcValidMark();
    for (const QString& line : nftRuleset())
        out << "nft " + line;
    out.sort();
    return out;
}

// QCOMPARE of two snapshots that, on failure, says which lines differ.
#define COMPARE_SNAPSHOT(actual, expected)                                                         \
    do {                                                                                           \
        const QStringList a_ = (actual), e_ = (expected);                                          \
        if (a_ != e_) {                                                                            \
            for (const auto& line : a_)                                                            \
                if (!e_.contains(line))                                                            \
                    qWarning("unexpected: %s", qPrintable(line));                                  \
            for (const auto& line : e_)                                                            \
                if (!a_.contains(line))                                                            \
                    qWarning("missing:    %s", qPrintable(line));                                  \
        }                                                                                          \
        QCOMPARE(a_, e_);                                                                          \
    } while (0)

QJsonArray routes(const QString& family, const QString& table) {
    return ipJson({family, "route", "show", "table", table});
}

bool hasRoute(const QString& family, const QString& table, const QString& dst, const QString& dev) {
    for (const auto& r : routes(family, table))
        if (r.toObject()["dst"].toString() == dst && r.toObject()["dev"].toString() == dev)
            return true;
    return false;
}

QJsonArray rules(const QString& family) {
    return ipJson({family, "rule", "show"});
}

// The interface `ip route get` picks for dst (optionally as a packet with fwmark `mark`).
QString routeDevice(const QString& dst, std::uint32_t mark = 0) {
    QStringList args{"route", "get", dst};
    if (mark != 0)
        args << "mark" << QString::number(mark);
    const auto result = ipJson(args);
    return result.isEmpty() ? QString() : result.first().toObject()["dev"].toString();
}

QStringList addressesOf(const QString& dev) {
    QStringList out;
    for (const auto& a : ipJson({"address", "show", "dev", dev}))
        for (const auto& info : a.toObject()["addr_info"].toArray())
            if (info.toObject()["scope"].toString() != QLatin1String("link"))
                out << QStringLiteral("%1/%2")
                           .arg(info.toObject()["local"].toString())
                           .arg(info.toObject()["prefixlen"].toInt());
    out.sort();
    return out;
}

// The kernel adds the local routes of an up link's IPv6 addresses from a work queue, a moment
// later: wait for them (the link-local one, and `address` if given) before a snapshot.
bool ipv6Settled(const QString& dev, const QString& address = {}) {
    return QTest::qWaitFor(
        [&] {
            bool global = address.isEmpty(), linkLocal = false;
            for (const auto& r : ipJson({"-6", "route", "show", "table", "local", "dev", dev})) {
                const QString dst = r.toObject()["dst"].toString();
                global |= dst == address;
                linkLocal |= dst.startsWith(QLatin1String("fe80:"));
            }
            return global && linkLocal;
        },
        5000);
}

// A fake resolvconf(8) that records each call's arguments and stdin in `dir`.
QString writeFakeResolvconf(const QString& dir, int exitStatus = 0) {
    const QString path = dir + "/resolvconf";
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(QStringLiteral("#!/bin/sh\n"
                           "n=$(ls '%1' | grep -c '^call-.*\\.args$')\n"
                           "printf '%s\\n' \"$@\" > \"%1/call-$n.args\"\n"
                           "cat > \"%1/call-$n.stdin\"\n"
                           "exit %2\n")
                .arg(dir)
                .arg(exitStatus)
                .toUtf8());
    f.close();
    f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    return path;
}

QString readText(const QString& path) {
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}

// systemd-resolved's Manager as far as we use it: records calls, answers every one.
class FakeResolved : public QDBusVirtualObject {
public:
    QString introspect(const QString&) const override { return {}; }
    bool handleMessage(const QDBusMessage& m, const QDBusConnection& connection) override {
        QString call = m.member();
        const auto args = m.arguments();
        if (!args.isEmpty())
            call += ' ' + QString::number(args.first().toInt());
        if (args.size() > 1) {
            const QDBusArgument a = args.at(1).value<QDBusArgument>();
            a.beginArray();
            while (!a.atEnd()) {
                a.beginStructure();
                if (m.member() == QLatin1String("SetLinkDNS")) {
                    qint32 family = 0;
                    QByteArray bytes;
                    a >> family >> bytes;
                    call += QStringLiteral(" %1:%2").arg(family).arg(
                        QString::fromLatin1(bytes.toHex()));
                } else {
                    QString domain;
                    bool routing = false;
                    a >> domain >> routing;
                    call += QStringLiteral(" %1%2").arg(routing ? "~" : "", domain);
                }
                a.endStructure();
            }
            a.endArray();
        }
        {
            QMutexLocker lock(&mutex);
            calls << call;
        }
        if (noSuchLink.fetchAndAddRelaxed(-1) > 0)
            connection.send(
                m.createErrorReply(QStringLiteral("org.freedesktop.resolve1.NoSuchLink"),
                                   QStringLiteral("Link not known")));
        else
            connection.send(m.createReply());
        return true;
    }
    QAtomicInt noSuchLink; // answer this many calls with NoSuchLink (a link resolved has not seen)
    QStringList takeCalls() {
        QMutexLocker lock(&mutex);
        return std::exchange(calls, {});
    }

private:
    QMutex mutex; // guards calls
    QStringList calls;
};

} // namespace

class tst_NetConfig : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    // Pure: no kernel state.
    void routePlan_data();
    void routePlan();
    void tableNames();
    void journalRoundTrip();
    void journalDamaged_data();
    void journalDamaged();
    void programTimeout();
    void filterScript();

    // Kernel, in the private namespace.
    void rtnetlinkErrors();
    void splitTunnelIpv4();
    void splitTunnelIpv6();
    void fullTunnelIpv4();
    void fullTunnelDualStack();
    void fullTunnelSkipsBusyTable();
    void fullTunnelProfileFwmark();
    void fullTunnelWithoutNft();
    void ipv6DisabledOnHost();
    void tableOff();
    void tableNumeric();
    void automaticMtu();
    void failureRollsBack();
    void crashRecoveryInterfaceGone();
    void crashRecoveryInterfaceAlive();
    void truncatedJournal();
    void journalFromPreviousBoot();

    // DNS.
    void resolvconfAddDelete();
    void resolvconfRecordPrefix();
    void resolvconfMissing();
    void resolvedFallback();
    void resolvedBackend();

private:
    struct Link {
        std::unique_ptr<LinuxTunDevice> tun;
        LinkRef ref;
    };
    Link makeTun(const std::string& name);
    void addUplink(std::uint32_t mtu = 1500);
    DnsConfigurator::Options dnsOptions();
    // Applies `config` to a fresh cn0, checks `check` while connected, rolls back and checks
    // that the state is as before.
    void connectAndCheck(const config::WgQuickConfig& config,
                         const std::function<void(NetworkSetup&)>& check);

    std::unique_ptr<QTemporaryDir> temp_;
    QString stateDir_;
    Rtnetlink rtnl_;
    std::vector<Link> links_;
    std::vector<std::uint32_t> marks_; // what the fwmark setter was given
};

void tst_NetConfig::init() {
    temp_ = std::make_unique<QTemporaryDir>();
    QVERIFY(temp_->isValid());
    stateDir_ = temp_->path() + "/state";
    marks_.clear();
    if (g_isolated)
        QCOMPARE(rtnl_.open(), 0);
}

void tst_NetConfig::cleanup() {
    if (!g_isolated)
        return;
    // A failed test may have left changes; its journals know which.
    DnsConfigurator dns(dnsOptions());
    rollbackLeftoverJournals(stateDir_.toStdString(), rtnl_, dns);
    links_.clear();
    writeSysctl(kSrcValidMark, "0");
    rtnl_.close();
}

tst_NetConfig::Link tst_NetConfig::makeTun(const std::string& name) {
    Link link;
    std::string error;
    link.tun = LinuxTunDevice::create(name, false, error);
    if (!link.tun)
        qFatal("TUN %s: %s", name.c_str(), error.c_str());
    link.ref = LinkRef{link.tun->ifindex(), name};
    return link;
}

// up0: the "physical" uplink, with the main table's default routes through it.
void tst_NetConfig::addUplink(std::uint32_t mtu) {
    links_.push_back(makeTun("up0"));
    const int index = links_.back().ref.ifindex;
    QCOMPARE(rtnl_.setMtu(index, mtu), 0);
    QCOMPARE(rtnl_.addAddress(index, *net::IpPrefix::parse("192.0.2.2/24")), 0);
    QCOMPARE(rtnl_.addAddress(index, *net::IpPrefix::parse("2001:db8:1::2/64")), 0);
    QCOMPARE(rtnl_.setLinkUp(index, true), 0);
    QCOMPARE(rtnl_.addRoute({*net::IpPrefix::parse("0.0.0.0/0"), index, kTableMain, 0}), 0);
    QCOMPARE(rtnl_.addRoute({*net::IpPrefix::parse("::/0"), index, kTableMain, 0}), 0);
    QVERIFY(ipv6Settled("up0", QStringLiteral("2001:db8:1::2")));
}

DnsConfigurator::Options tst_NetConfig::dnsOptions() {
    // Never the real resolved: it lives in the host namespace and would apply our ifindex to
    // whatever interface has that index there.
    DnsConfigurator::Options o;
    o.useResolved = false;
    o.resolvconf = (temp_->path() + "/no-resolvconf").toStdString();
    return o;
}

void tst_NetConfig::connectAndCheck(const config::WgQuickConfig& config,
                                    const std::function<void(NetworkSetup&)>& check) {
    links_.push_back(makeTun("cn0"));
    const LinkRef link = links_.back().ref;
    const QStringList before = snapshot();
    Journal journal(Journal::pathFor(stateDir_.toStdString(), link.name));
    DnsConfigurator dns(dnsOptions());
    NetworkSetup setup(link, journal, rtnl_, dns);
    std::string error;
    const bool ok = setup.apply(
        config,
        [&](std::uint32_t mark, std::string&) {
            marks_.push_back(mark);
            return true;
        },
        error);
    QVERIFY2(ok, error.c_str());
    QVERIFY(QFile::exists(QString::fromStdString(journal.path())));
    check(setup);
    if (QTest::currentTestFailed())
        return;
    const RollbackResult undone = setup.rollback();
    QVERIFY2(undone.ok(), undone.summary().c_str());
    QVERIFY(!QFile::exists(QString::fromStdString(journal.path())));
    COMPARE_SNAPSHOT(snapshot(), before);
    // Idempotent: a second rollback has nothing to do and changes nothing.
    QVERIFY(setup.rollback().ok());
    COMPARE_SNAPSHOT(snapshot(), before);
}

// --- pure ----------------------------------------------------------------------------------

void tst_NetConfig::routePlan_data() {
    QTest::addColumn<QString>("table");
    QTest::addColumn<QString>("allowedIps");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QStringList>("prefixes");
    QTest::addColumn<bool>("v4");
    QTest::addColumn<bool>("v6");

    // Longest first across families, as wg-quick's `sort -nr -k 2 -t /`.
    QTest::newRow("split, masked, unique, longest first")
        << ""
        << "10.1.2.3/16, 192.168.5.7/32, 10.1.0.0/16, fd00::1/64"
        << "auto" << QStringList{"fd00::/64", "192.168.5.7/32", "10.1.0.0/16"} << false << false;
    QTest::newRow("full v4") << "auto"
                             << "0.0.0.0/0, 10.0.0.0/8"
                             << "auto" << QStringList{"10.0.0.0/8", "0.0.0.0/0"} << true << false;
    QTest::newRow("full dual stack") << ""
                                     << "::/0, 0.0.0.0/0"
                                     << "auto" << QStringList{"0.0.0.0/0", "::/0"} << true << true;
    QTest::newRow("off") << "off"
                         << "0.0.0.0/0"
                         << "off" << QStringList{} << false << false;
    QTest::newRow("numeric keeps /0 as a route")
        << "1234"
        << "0.0.0.0/0, 10.0.0.0/8"
        << "explicit" << QStringList{"10.0.0.0/8", "0.0.0.0/0"} << false << false;
    QTest::newRow("main by name") << "main"
                                  << "::/0"
                                  << "explicit" << QStringList{"::/0"} << false << false;
}

void tst_NetConfig::routePlan() {
    QFETCH(QString, table);
    QFETCH(QString, allowedIps);
    QFETCH(QString, mode);
    QFETCH(QStringList, prefixes);
    QFETCH(bool, v4);
    QFETCH(bool, v6);
    const QString lines = "Address = 10.0.0.2/24\n" + (table.isEmpty() ? "" : "Table = " + table);
    std::string error;
    const auto plan = planRoutes(profile(lines, allowedIps), error, {});
    QVERIFY2(plan, error.c_str());
    QCOMPARE(QString(toString(plan->table.mode)), mode);
    QStringList got;
    for (const auto& p : plan->prefixes)
        got << QString::fromStdString(p.toString());
    QCOMPARE(got, prefixes);
    QCOMPARE(plan->defaultV4, v4);
    QCOMPARE(plan->defaultV6, v6);
}

void tst_NetConfig::tableNames() {
    const QString file = temp_->path() + "/rt_tables";
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("# comment\n255\tlocal\n100 vpn # trailing comment\n0x20 hexa\n");
    f.close();
    const std::vector<std::string> files{file.toStdString(), "/nonexistent/rt_tables"};
    std::string error;
    QVERIFY(parseTableSetting(std::string("vpn"), files, error) ==
            (TableSetting{TableMode::Explicit, 100}));
    QVERIFY(parseTableSetting(std::string("hexa"), files, error) ==
            (TableSetting{TableMode::Explicit, 32}));
    QVERIFY(parseTableSetting(std::string("main"), {}, error) ==
            (TableSetting{TableMode::Explicit, kTableMain}));
    QVERIFY(parseTableSetting(std::nullopt, {}, error) == (TableSetting{TableMode::Auto, 0}));
    QVERIFY(!parseTableSetting(std::string("nosuch"), files, error));
    QVERIFY(!parseTableSetting(std::string("0"), files, error));
}

void tst_NetConfig::journalRoundTrip() {
    const std::string path = Journal::pathFor(stateDir_.toStdString(), "cn0");
    QVERIFY(Journal::pathFor(stateDir_.toStdString(), "../x").empty());
    const LinkRef link{7, "cn0"};
    const std::vector<JournalEntry> entries{
        AddressAdded{link, *net::IpPrefix::parse("10.0.0.2/24")},
        MtuChanged{link, 1420, 1380},
        LinkBroughtUp{link},
        RuleAdded{RuleSpec{net::Family::V6, 32765, 51820, 51820, true, std::nullopt}},
        RuleAdded{RuleSpec{net::Family::V4, 32764, kTableMain, std::nullopt, false, 0}},
        RouteAdded{link, RouteSpec{*net::IpPrefix::parse("::/0"), 7, 51820, 0}},
        SysctlChanged{std::string(kSrcValidMark), "0", "1"},
        ResolvedDnsSet{link},
        ResolvconfDnsSet{"tun.cn0"},
        FilterTableAdded{net::Family::V6, "calnet-cn0"},
    };
    std::string error;
    Journal journal(path);
    QVERIFY2(journal.begin("cn0", error), error.c_str());
    QVERIFY2(journal.record(entries, error), error.c_str());
    QVERIFY(journal.record(AddressAdded{link, *net::IpPrefix::parse("fd00::2/64")}, error));
    QVERIFY(journal.forget(AddressAdded{link, *net::IpPrefix::parse("fd00::2/64")}, error));

    // Nothing but the journal itself is left in the directory (no temp file), mode 0600.
    QCOMPARE(QDir(stateDir_).entryList(QDir::Files), QStringList{"netconfig-cn0.json"});
    struct stat st {};
    QCOMPARE(::stat(path.c_str(), &st), 0);
    QCOMPARE(st.st_mode & 07777, 0600u);
    // Valid JSON as a whole.
    QVERIFY(QJsonDocument::fromJson(readText(QString::fromStdString(path)).toUtf8()).isObject());

    Journal reread(path); // as the next helper would after kill -9
    const auto loaded = reread.load();
    QVERIFY(loaded.existed && loaded.intact);
    QCOMPARE(loaded.unreadable, std::size_t(0));
    QVERIFY(reread.entries() == entries);
    QCOMPARE(reread.header().interface, std::string("cn0"));
    QVERIFY(reread.origin() == Journal::Origin::Here);
    QCOMPARE(Journal::findAll(stateDir_.toStdString()), std::vector<std::string>{path});
    QVERIFY(reread.discard(error));
    QVERIFY(Journal::findAll(stateDir_.toStdString()).empty());
}

void tst_NetConfig::journalDamaged_data() {
    QTest::addColumn<int>("cut");          // keep this many bytes of the good file (-1: all)
    QTest::addColumn<QByteArray>("extra"); // then append this
    QTest::addColumn<int>("entries");      // entries still readable
    QTest::addColumn<bool>("header");      // header still readable

    // The good file has a header line and three entry lines of a known length.
    QTest::newRow("intact") << -1 << QByteArray() << 3 << true;
    QTest::newRow("cut in the last entry") << -20 << QByteArray() << 2 << true;
    QTest::newRow("closing brace lost") << -2 << QByteArray() << 3 << true;
    QTest::newRow("cut in the header") << 30 << QByteArray() << 0 << false;
    QTest::newRow("empty") << 0 << QByteArray() << 0 << false;
    QTest::newRow("garbage line") << -4 << QByteArray("\n\x01\xff{{{\n") << 3 << true;
    QTest::newRow("binary") << 0 << QByteArray("\x00\x01\x02\x03", 4) << 0 << false;
    QTest::newRow("unknown op") << 0 << QByteArray("{\"op\":\"format-disk\"}\n") << 0 << false;
    QTest::newRow("entry with bad field")
        << 0 << QByteArray("{\"op\":\"rule\",\"family\":5,\"priority\":1,\"table\":1}\n") << 0
        << false;
    QTest::newRow("selector-less rule refused")
        << 0 << QByteArray("{\"op\":\"rule\",\"family\":4,\"priority\":100,\"table\":254}\n") << 0
        << false;
    // Only calnet-<ifname> tables: a damaged or forged journal never deletes another
    // program's firewall.
    QTest::newRow("foreign nft table refused")
        << 0 << QByteArray("{\"op\":\"nft-table\",\"family\":4,\"table\":\"filter\"}\n") << 0
        << false;
    QTest::newRow("nft table name with a space refused")
        << 0 << QByteArray("{\"op\":\"nft-table\",\"family\":4,\"table\":\"calnet-a b\"}\n") << 0
        << false;
}

void tst_NetConfig::journalDamaged() {
    QFETCH(int, cut);
    QFETCH(QByteArray, extra);
    QFETCH(int, entries);
    QFETCH(bool, header);
    const std::string path = Journal::pathFor(stateDir_.toStdString(), "cn0");
    const LinkRef link{7, "cn0"};
    std::string error;
    {
        Journal journal(path);
        QVERIFY(journal.begin("cn0", error));
        QVERIFY(journal.record(
            std::vector<JournalEntry>{
                AddressAdded{link, *net::IpPrefix::parse("10.0.0.2/24")},
                RuleAdded{RuleSpec{net::Family::V4, 32765, 51820, 51820, true, std::nullopt}},
                RouteAdded{link, RouteSpec{*net::IpPrefix::parse("0.0.0.0/0"), 7, 51820, 0}}},
            error));
    }
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray data = f.readAll();
    f.close();
    if (cut >= 0)
        data.truncate(cut);
    else if (cut < -1)
        data.chop(-cut);
    // "cut after the first entry" leaves the entries but loses the closing "]}".
    data += extra;
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(data);
    f.close();

    Journal journal(path);
    const auto loaded = journal.load();
    QVERIFY(loaded.existed);
    QCOMPARE(int(journal.entries().size()), entries);
    QCOMPARE(journal.origin() != Journal::Origin::Unknown, header);
    // The readable entries come in their original order.
    if (entries >= 1)
        QVERIFY(std::holds_alternative<AddressAdded>(journal.entries()[0]));
    if (entries >= 2)
        QVERIFY(std::holds_alternative<RuleAdded>(journal.entries()[1]));
}

void tst_NetConfig::filterScript() {
    QCOMPARE(filterTableName("cn0"), std::string("calnet-cn0"));
    QCOMPARE(filterTableName("a b"), std::string());
    QCOMPARE(filterTableName("x\"y"), std::string());
    QCOMPARE(filterTableName("0123456789abcdef"), std::string()); // longer than IFNAMSIZ-1
    const TunnelFilter v4{net::Family::V4,
                          "cn0",
                          0xca6c,
                          {*net::IpAddress::parse("10.0.0.2"), *net::IpAddress::parse("fd00::2"),
                           *net::IpAddress::parse("10.0.1.2")}};
    const QString script = QString::fromStdString(tunnelFilterScript(v4));
    // One transaction that replaces whatever table of that name exists.
    QVERIFY(script.startsWith("table ip calnet-cn0 {}\ndelete table ip calnet-cn0\n"));
    QVERIFY(script.contains("iifname != \"cn0\" ip daddr 10.0.0.2 fib saddr type != local drop\n"));
    QVERIFY(script.contains("iifname != \"cn0\" ip daddr 10.0.1.2 fib saddr type != local drop\n"));
    QVERIFY(!script.contains("fd00::2")); // the other family's table has it
    QVERIFY(script.contains("type filter hook prerouting priority -300;"));
    QVERIFY(script.contains("meta l4proto udp meta mark set ct mark\n"));
    QVERIFY(script.contains("meta l4proto udp meta mark 51820 ct mark set meta mark\n"));
    TunnelFilter v6 = v4;
    v6.family = net::Family::V6;
    const QString script6 = QString::fromStdString(tunnelFilterScript(v6));
    QVERIFY(script6.contains("table ip6 calnet-cn0 {"));
    QVERIFY(script6.contains("ip6 daddr fd00::2 fib saddr type != local drop"));
    QVERIFY(!script6.contains("10.0.0.2"));
    TunnelFilter bad = v4;
    bad.ifname = "a b";
    QVERIFY(tunnelFilterScript(bad).empty());
}

void tst_NetConfig::programTimeout() {
    const auto slow = runProgram("sleep", {"5"}, {}, 200);
    QVERIFY(slow.timedOut);
    const auto missing = runProgram("/nonexistent/program", {}, {}, 1000);
    QCOMPARE(missing.spawnError, ENOENT);
    // A stop signal for calnetd's process group does not kill the program half-way.
    const auto stopped = runProgram(
        "sh", {"-c", "kill -TERM $$; kill -INT $$; kill -HUP $$; echo survived"}, {}, 5000);
    QVERIFY2(stopped.ok(), stopped.describe().c_str());
    QCOMPARE(stopped.output, std::string("survived\n"));
    const auto echo = runProgram("sh", {"-c", "cat; echo err >&2; exit 3"}, "in\n", 5000);
    QCOMPARE(echo.exitStatus, 3);
    QCOMPARE(QString::fromStdString(echo.output), QStringLiteral("in\nerr\n"));
}

// --- kernel --------------------------------------------------------------------------------

void tst_NetConfig::rtnetlinkErrors() {
    REQUIRE_NETNS();
    links_.push_back(makeTun("cn0"));
    const int index = links_.back().ref.ifindex;
    // A route through a link that is down: refused, with the kernel's reason.
    QCOMPARE(rtnl_.addRoute({*net::IpPrefix::parse("10.9.0.0/16"), index, kTableMain, 0}),
             ENETDOWN);
    QVERIFY(!rtnl_.lastErrorMessage().empty());
    QCOMPARE(rtnl_.delRule({net::Family::V4, 1234, 4321, 4321u, true, std::nullopt}), ENOENT);
    QCOMPARE(rtnl_.delRoute({*net::IpPrefix::parse("10.9.0.0/16"), index, kTableMain, 0}), ESRCH);
    QCOMPARE(rtnl_.delAddress(index, *net::IpPrefix::parse("10.9.0.1/16")), EADDRNOTAVAIL);
    LinkInfo info;
    QCOMPARE(rtnl_.getLink(999999, info), ENODEV);
    QCOMPARE(rtnl_.getLink(index, info), 0);
    QCOMPARE(info.name, std::string("cn0"));
    QCOMPARE(rtnl_.addAddress(index, *net::IpPrefix::parse("10.9.0.1/16")), 0);
    QCOMPARE(rtnl_.addAddress(index, *net::IpPrefix::parse("10.9.0.1/16")), EEXIST);
}

void tst_NetConfig::splitTunnelIpv4() {
    REQUIRE_NETNS();
    connectAndCheck(
        profile("Address = 10.0.0.2/24\nMTU = 1380",
                "10.0.0.0/24, 10.1.0.0/16, 192.168.5.7/32, 10.1.2.0/24"),
        [&](NetworkSetup& setup) {
            QCOMPARE(addressesOf("cn0"), QStringList{"10.0.0.2/24"});
            QCOMPARE(setup.mtu(), 1380u);
            QVERIFY(snapshot().indexOf(QRegularExpression("^link cn0 mtu 1380 .*UP")) >= 0);
            QVERIFY(hasRoute("-4", "main", "10.1.0.0/16", "cn0"));
            QVERIFY(hasRoute("-4", "main", "10.1.2.0/24", "cn0"));
            QVERIFY(hasRoute("-4", "main", "192.168.5.7", "cn0"));
            // 10.0.0.0/24 is the kernel's prefix route of the address: covered, not added.
            int covering = 0;
            for (const auto& r : routes("-4", "main"))
                covering += r.toObject()["dst"].toString() == QLatin1String("10.0.0.0/24");
            QCOMPARE(covering, 1);
            QCOMPARE(rules("-4").size(), 3); // local, main, default: no policy routing
            QCOMPARE(srcValidMark(), QStringLiteral("0"));
            QCOMPARE(setup.fwmark(), 0u);
            QVERIFY(marks_.empty());
        });
}

void tst_NetConfig::splitTunnelIpv6() {
    REQUIRE_NETNS();
    connectAndCheck(profile("Address = fd00::2/64, 10.0.0.2/32", "fd00::/64, fd01:2::/48"),
                    [&](NetworkSetup&) {
                        QCOMPARE(addressesOf("cn0"), (QStringList{"10.0.0.2/32", "fd00::2/64"}));
                        QVERIFY(hasRoute("-6", "main", "fd01:2::/48", "cn0"));
                        QVERIFY(hasRoute("-6", "main", "fd00::/64", "cn0"));
                        QCOMPARE(rules("-6").size(), 2); // local, main
                    });
}

void tst_NetConfig::fullTunnelIpv4() {
    REQUIRE_NETNS();
    addUplink();
    connectAndCheck(profile("Address = 10.0.0.2/32", "0.0.0.0/0"), [&](NetworkSetup& setup) {
        QCOMPARE(setup.fwmark(), kFirstAutoTable);
        QCOMPARE(setup.policyTable(), std::optional<std::uint32_t>(kFirstAutoTable));
        QCOMPARE(marks_, std::vector<std::uint32_t>{kFirstAutoTable});
        QVERIFY(hasRoute("-4", "51820", "default", "cn0"));
        // wg-quick's pair of rules, the suppress rule first.
        const auto r = rules("-4");
        QCOMPARE(r.size(), 5);
        QCOMPARE(compact(r[1].toObject()),
                 QStringLiteral("{\"priority\":32764,\"src\":\"all\",\"suppress_prefixlen\":0,"
                                "\"table\":\"main\"}"));
        QCOMPARE(compact(r[2].toObject()),
                 QStringLiteral("{\"fwmark\":\"0xca6c\",\"not\":null,\"priority\":32765,\"src\":"
                                "\"all\",\"table\":\"51820\"}"));
        QCOMPARE(srcValidMark(), QStringLiteral("1"));
        QCOMPARE(rules("-6").size(), 2); // IPv6 untouched
        // wg-quick's nftables rules: the tunnel address guarded against spoofing, the fwmark
        // kept in conntrack for strict rp_filter. (Traffic through them: integration.service.)
        const QString table = nftTable("ip", "calnet-cn0");
        QVERIFY2(
            table.contains("iifname != \"cn0\" ip daddr 10.0.0.2 fib saddr type != local drop"),
            qPrintable(table));
        QVERIFY2(table.contains("meta mark set ct mark"), qPrintable(table));
        QVERIFY2(table.contains("meta mark 0x0000ca6c ct mark set meta mark"), qPrintable(table));
        QVERIFY(nftTable("ip6", "calnet-cn0").isEmpty());
        QVERIFY(setup.warnings().empty());
        // Unmarked traffic takes the tunnel; WireGuard's marked packets and the main table's
        // more specific routes (here the uplink's LAN) do not.
        QCOMPARE(routeDevice("198.51.100.7"), QStringLiteral("cn0"));
        QCOMPARE(routeDevice("198.51.100.7", kFirstAutoTable), QStringLiteral("up0"));
        QCOMPARE(routeDevice("192.0.2.9"), QStringLiteral("up0"));
    });
}

void tst_NetConfig::fullTunnelDualStack() {
    REQUIRE_NETNS();
    addUplink();
    connectAndCheck(
        profile("Address = 10.0.0.2/32, fd00::2/128", "0.0.0.0/0, ::/0, 10.20.0.0/16"),
        [&](NetworkSetup&) {
            QVERIFY(hasRoute("-4", "51820", "default", "cn0"));
            QVERIFY(hasRoute("-6", "51820", "default", "cn0"));
            QVERIFY(hasRoute("-4", "main", "10.20.0.0/16", "cn0")); // not /0: main table
            QCOMPARE(rules("-4").size(), 5);
            QCOMPARE(rules("-6").size(), 4);
            QCOMPARE(marks_, std::vector<std::uint32_t>{kFirstAutoTable}); // once for both
            QCOMPARE(routeDevice("2001:db8:ffff::1"), QStringLiteral("cn0"));
            QCOMPARE(routeDevice("2001:db8:ffff::1", kFirstAutoTable), QStringLiteral("up0"));
            QVERIFY(nftTable("ip", "calnet-cn0").contains("ip daddr 10.0.0.2 "));
            const QString table6 = nftTable("ip6", "calnet-cn0");
            QVERIFY2(table6.contains("ip6 daddr fd00::2 fib saddr type != local drop"),
                     qPrintable(table6));
            QVERIFY(!table6.contains("10.0.0.2"));
        });
}

void tst_NetConfig::fullTunnelSkipsBusyTable() {
    REQUIRE_NETNS();
    addUplink();
    // Someone else's route in table 51820: wg-quick moves on to 51821.
    const int up = links_.back().ref.ifindex;
    QCOMPARE(rtnl_.addRoute({*net::IpPrefix::parse("203.0.113.0/24"), up, 51820, 0}), 0);
    connectAndCheck(profile("Address = 10.0.0.2/32", "0.0.0.0/0"), [&](NetworkSetup& setup) {
        QCOMPARE(setup.fwmark(), 51821u);
        QVERIFY(hasRoute("-4", "51821", "default", "cn0"));
        QVERIFY(hasRoute("-4", "51820", "203.0.113.0/24", "up0"));
    });
}

void tst_NetConfig::fullTunnelProfileFwmark() {
    REQUIRE_NETNS();
    // The profile's FwMark is both the socket mark and the table.
    connectAndCheck(profile("Address = 10.0.0.2/32\nFwMark = 0x1234", "0.0.0.0/0"),
                    [&](NetworkSetup& setup) {
                        QCOMPARE(setup.fwmark(), 0x1234u);
                        QCOMPARE(marks_, std::vector<std::uint32_t>{0x1234});
                        QVERIFY(hasRoute("-4", "4660", "default", "cn0"));
                    });
}

// Without nft the full tunnel still comes up, with a warning and no journal entry for rules
// that were never made.
void tst_NetConfig::fullTunnelWithoutNft() {
    REQUIRE_NETNS();
    addUplink();
    links_.push_back(makeTun("cn0"));
    const QStringList before = snapshot();
    Journal journal(Journal::pathFor(stateDir_.toStdString(), "cn0"));
    DnsConfigurator dns(dnsOptions());
    PacketFilter missing(PacketFilter::Options{(temp_->path() + "/no-nft").toStdString(), 1000});
    NetworkSetup setup(links_.back().ref, journal, rtnl_, dns, missing);
    std::string error;
    QVERIFY2(setup.apply(
                 profile("Address = 10.0.0.2/32", "0.0.0.0/0"),
                 [](std::uint32_t, std::string&) { return true; }, error),
             error.c_str());
    QCOMPARE(setup.warnings().size(), std::size_t(1));
    QVERIFY2(QString::fromStdString(setup.warnings().front()).contains("rp_filter"),
             setup.warnings().front().c_str());
    QVERIFY(nftTable("ip", "calnet-cn0").isEmpty());
    for (const auto& e : journal.entries())
        QVERIFY(!std::holds_alternative<FilterTableAdded>(e));
    QVERIFY(setup.rollback().ok());
    COMPARE_SNAPSHOT(snapshot(), before);
}

// Hosts with IPv6 switched off (net.ipv6.conf.all.disable_ipv6=1, common on managed machines):
// a dual-stack profile (every mesh profile is one) connects with IPv4 alone and a warning; an
// IPv6-only one fails as before.
void tst_NetConfig::ipv6DisabledOnHost() {
    REQUIRE_NETNS();
    addUplink();
    const auto setDisabled = [](const char* value) {
        for (const char* which : {"all", "default"}) {
            QFile f(QStringLiteral("/proc/sys/net/ipv6/conf/%1/disable_ipv6")
                        .arg(QLatin1String(which)));
            if (!f.open(QIODevice::WriteOnly) || f.write(value) != 1)
                return false;
        }
        return true;
    };
    QVERIFY(setDisabled("1"));
    auto restore = qScopeGuard([&] { setDisabled("0"); });
    connectAndCheck(
        profile("Address = 10.0.0.2/32, fd00::2/128", "10.20.0.0/16, fd01::/64, 0.0.0.0/0, ::/0"),
        [&](NetworkSetup& setup) {
            QCOMPARE(addressesOf("cn0"), QStringList{"10.0.0.2/32"});
            QVERIFY(hasRoute("-4", "main", "10.20.0.0/16", "cn0"));
            QVERIFY(hasRoute("-4", "51820", "default", "cn0"));
            QVERIFY(!hasRoute("-6", "main", "fd01::/64", "cn0"));
            QCOMPARE(rules("-6").size(), 2); // no IPv6 policy routing
            QVERIFY(nftTable("ip6", "calnet-cn0").isEmpty());
            QVERIFY(!nftTable("ip", "calnet-cn0").isEmpty());
            QCOMPARE(setup.warnings().size(), std::size_t(1));
            QVERIFY2(QString::fromStdString(setup.warnings()[0]).contains("IPv4 only"),
                     setup.warnings()[0].c_str());
        });
    if (QTest::currentTestFailed())
        return;
    links_.clear();

    // Nothing to fall back to: the IPv6-only profile fails and leaves nothing behind.
    links_.push_back(makeTun("cn1"));
    const LinkRef link = links_.back().ref;
    const QStringList before = snapshot();
    Journal journal(Journal::pathFor(stateDir_.toStdString(), link.name));
    DnsConfigurator dns(dnsOptions());
    NetworkSetup setup(link, journal, rtnl_, dns);
    std::string error;
    QVERIFY(!setup.apply(profile("Address = fd00::2/128", "fd01::/64"), {}, error));
    QVERIFY2(QString::fromStdString(error).contains("fd00::2"), error.c_str());
    COMPARE_SNAPSHOT(snapshot(), before);
}

void tst_NetConfig::tableOff() {
    REQUIRE_NETNS();
    connectAndCheck(profile("Address = 10.0.0.2/24\nTable = off", "0.0.0.0/0, 10.5.0.0/16"),
                    [&](NetworkSetup& setup) {
                        QCOMPARE(addressesOf("cn0"), QStringList{"10.0.0.2/24"});
                        QVERIFY(!hasRoute("-4", "main", "10.5.0.0/16", "cn0"));
                        QCOMPARE(rules("-4").size(), 3);
                        QCOMPARE(setup.fwmark(), 0u);
                        QCOMPARE(srcValidMark(), QStringLiteral("0"));
                    });
}

void tst_NetConfig::tableNumeric() {
    REQUIRE_NETNS();
    connectAndCheck(profile("Address = 10.0.0.2/24\nTable = 1234", "0.0.0.0/0, 10.5.0.0/16"),
                    [&](NetworkSetup& setup) {
                        QVERIFY(hasRoute("-4", "1234", "default", "cn0"));
                        QVERIFY(hasRoute("-4", "1234", "10.5.0.0/16", "cn0"));
                        QVERIFY(!hasRoute("-4", "main", "10.5.0.0/16", "cn0"));
                        QCOMPARE(rules("-4").size(), 3);
                        QCOMPARE(setup.fwmark(), 0u);
                        QVERIFY(marks_.empty());
                        QCOMPARE(srcValidMark(), QStringLiteral("0"));
                    });
}

void tst_NetConfig::automaticMtu() {
    REQUIRE_NETNS();
    // No uplink: nothing to measure, 1500 - 80.
    connectAndCheck(profile("Address = 10.0.0.2/32", "10.5.0.0/16"),
                    [&](NetworkSetup& setup) { QCOMPARE(setup.mtu(), 1420u); });
    links_.clear();
    // The route to the endpoint leaves through a 1400-byte uplink.
    addUplink(1400);
    connectAndCheck(profile("Address = 10.0.0.2/32", "10.5.0.0/16", "192.0.2.1:51820"),
                    [&](NetworkSetup& setup) { QCOMPARE(setup.mtu(), 1320u); });
}

void tst_NetConfig::failureRollsBack() {
    REQUIRE_NETNS();
    addUplink();
    // Table 51820 already sends everything elsewhere and the profile's FwMark insists on that
    // table: connecting must fail at the default route, after addresses, MTU, main-table
    // routes and rules are in place, and undo all of them.
    QCOMPARE(
        rtnl_.addRoute({*net::IpPrefix::parse("0.0.0.0/0"), links_.back().ref.ifindex, 51820, 0}),
        0);
    links_.push_back(makeTun("cn0"));
    const QStringList before = snapshot();
    Journal journal(Journal::pathFor(stateDir_.toStdString(), "cn0"));
    DnsConfigurator dns(dnsOptions());
    NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
    std::string error;
    QVERIFY(!setup.apply(
        profile("Address = 10.0.0.2/32\nFwMark = 51820", "0.0.0.0/0, 10.5.0.0/16"),
        [](std::uint32_t, std::string&) { return true; }, error));
    QVERIFY2(error.find("0.0.0.0/0") != std::string::npos, error.c_str());
    COMPARE_SNAPSHOT(snapshot(), before);
    QVERIFY(!QFile::exists(QString::fromStdString(journal.path())));
}

void tst_NetConfig::crashRecoveryInterfaceGone() {
    REQUIRE_NETNS();
    addUplink();
    const QStringList before = snapshot(); // before cn0 exists
    links_.push_back(makeTun("cn0"));
    {
        Journal journal(Journal::pathFor(stateDir_.toStdString(), "cn0"));
        DnsConfigurator dns(dnsOptions());
        NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
        std::string error;
        QVERIFY2(setup.apply(
                     profile("Address = 10.0.0.2/32, fd00::2/128", "0.0.0.0/0, ::/0"),
                     [](std::uint32_t, std::string&) { return true; }, error),
                 error.c_str());
        // kill -9: no rollback; the TUN fd closes with the process, the interface (and its
        // addresses and routes) vanish, the rules and the sysctl stay.
    }
    links_.pop_back();
    QVERIFY(snapshot() != before);
    QCOMPARE(rules("-4").size(), 5);

    // A journal write the kill interrupted left its temporary file (and one of the older
    // naming); the profiles' temporary files are not the rollback's to remove.
    const std::string dir = stateDir_.toStdString();
    for (const char* name :
         {"/.netconfig-cn0.json.tmp-a1b2c3", "/netconfig-cn0.json.tmp", "/.office.conf.tmp-a1b2c3"})
        std::ofstream(dir + name) << "{";

    // The next start.
    DnsConfigurator dns(dnsOptions());
    const RollbackResult r = rollbackLeftoverJournals(dir, rtnl_, dns);
    QVERIFY2(r.ok(), r.summary().c_str());
    COMPARE_SNAPSHOT(snapshot(), before);
    QVERIFY(Journal::findAll(dir).empty());
    QVERIFY(!std::filesystem::exists(dir + "/.netconfig-cn0.json.tmp-a1b2c3"));
    QVERIFY(!std::filesystem::exists(dir + "/netconfig-cn0.json.tmp"));
    QVERIFY(std::filesystem::exists(dir + "/.office.conf.tmp-a1b2c3"));
}

void tst_NetConfig::crashRecoveryInterfaceAlive() {
    REQUIRE_NETNS();
    addUplink();
    links_.push_back(makeTun("cn0"));
    const QStringList before = snapshot();
    {
        Journal journal(Journal::pathFor(stateDir_.toStdString(), "cn0"));
        DnsConfigurator dns(dnsOptions());
        NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
        std::string error;
        QVERIFY2(setup.apply(
                     profile("Address = 10.0.0.2/24\nMTU = 1300", "0.0.0.0/0, 10.7.0.0/16"),
                     [](std::uint32_t, std::string&) { return true; }, error),
                 error.c_str());
    }
    // A new Journal object read from the file, as after kill -9, while the link still exists.
    Journal journal(Journal::pathFor(stateDir_.toStdString(), "cn0"));
    QVERIFY(journal.load().intact);
    QVERIFY(!journal.empty());
    DnsConfigurator dns(dnsOptions());
    const RollbackResult r = rollbackJournal(journal, rtnl_, dns);
    QVERIFY2(r.ok(), r.summary().c_str());
    COMPARE_SNAPSHOT(snapshot(), before);
}

void tst_NetConfig::truncatedJournal() {
    REQUIRE_NETNS();
    links_.push_back(makeTun("cn0"));
    const QStringList before = snapshot();
    const std::string path = Journal::pathFor(stateDir_.toStdString(), "cn0");
    {
        Journal journal(path);
        DnsConfigurator dns(dnsOptions());
        NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
        std::string error;
        QVERIFY2(setup.apply(
                     profile("Address = 10.0.0.2/32", "0.0.0.0/0, 10.7.0.0/16"),
                     [](std::uint32_t, std::string&) { return true; }, error),
                 error.c_str());
    }
    // Lose the end of the file from the middle of the suppress rule's entry on: that rule,
    // the default route, the nftables table and the sysctl are no longer in the journal.
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadWrite));
    const int cut = f.readAll().indexOf("suppressPrefixLength");
    QVERIFY(cut > 0);
    QVERIFY(f.resize(cut));
    f.close();

    DnsConfigurator dns(dnsOptions());
    const RollbackResult r = rollbackLeftoverJournals(stateDir_.toStdString(), rtnl_, dns);
    QVERIFY2(r.ok(), r.summary().c_str());
    QVERIFY(!r.notes.empty()); // the damage is reported
    QVERIFY(Journal::findAll(stateDir_.toStdString()).empty());
    // Everything still readable was undone (the fwmark rule, the main-table route, the
    // address, MTU and link state); what the lost entries described is still there.
    const auto left = rules("-4");
    QCOMPARE(left.size(), 4);
    QCOMPARE(left[1].toObject()["suppress_prefixlen"].toInt(-1), 0);
    QCOMPARE(srcValidMark(), QStringLiteral("1"));
    QCOMPARE(addressesOf("cn0"), QStringList{});
    // Removing those by hand gives back the state from before.
    QCOMPARE(rtnl_.delRule({net::Family::V4, 32764, kTableMain, std::nullopt, false, 0}), 0);
    QCOMPARE(writeSysctl(kSrcValidMark, "0"), 0);
    QVERIFY(!nftTable("ip", "calnet-cn0").isEmpty());
    QCOMPARE(QProcess::execute("nft", {"delete", "table", "ip", "calnet-cn0"}), 0);
    COMPARE_SNAPSHOT(snapshot(), before);
}

void tst_NetConfig::journalFromPreviousBoot() {
    REQUIRE_NETNS();
    links_.push_back(makeTun("cn0"));
    const std::string path = Journal::pathFor(stateDir_.toStdString(), "cn0");
    {
        Journal journal(path);
        DnsConfigurator dns(dnsOptions());
        NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
        std::string error;
        QVERIFY(setup.apply(
            profile("Address = 10.0.0.2/32", "10.7.0.0/16"),
            [](std::uint32_t, std::string&) { return true; }, error));
    }
    QVERIFY(ipv6Settled("cn0"));
    const QString original = readText(QString::fromStdString(path));
    const QString boot = QString::fromStdString(currentBootId());
    QVERIFY(!boot.isEmpty());
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(QString(original).replace(boot, "00000000-0000-0000-0000-000000000000").toUtf8());
    f.close();
    const QStringList connected = snapshot();

    // From another boot: none of it can exist any more, so nothing is touched.
    Journal stale(path);
    stale.load();
    QVERIFY(stale.origin() == Journal::Origin::PreviousBoot);
    DnsConfigurator dns(dnsOptions());
    QVERIFY(rollbackJournal(stale, rtnl_, dns).ok());
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
    COMPARE_SNAPSHOT(snapshot(), connected);

    // Put the real one back so cleanup() undoes it.
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(original.toUtf8());
    f.close();
}

// --- DNS -----------------------------------------------------------------------------------

void tst_NetConfig::resolvconfAddDelete() {
    REQUIRE_NETNS();
    const QString log = temp_->path() + "/log";
    QVERIFY(QDir().mkpath(log));
    const QString fake = writeFakeResolvconf(log);
    // The helper's default is resolvconf from PATH; no environment variable names another
    // program for the root helper to run.
    qputenv("CALNET_RESOLVCONF", fake.toUtf8());
    DnsConfigurator::Options options = DnsConfigurator::defaultOptions();
    qunsetenv("CALNET_RESOLVCONF");
    QCOMPARE(QString::fromStdString(options.resolvconf), QStringLiteral("resolvconf"));
    options.resolvconf = fake.toStdString();
    options.useResolved = false;
    options.interfaceOrder = "/nonexistent";

    links_.push_back(makeTun("cn0"));
    const std::string path = Journal::pathFor(stateDir_.toStdString(), "cn0");
    {
        Journal journal(path);
        DnsConfigurator dns(options);
        NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
        std::string error;
        QVERIFY2(setup.apply(
                     profile("Address = 10.0.0.2/32\nDNS = 10.0.0.1, fd00::1, "
                             "corp.example, example.org",
                             "10.0.0.0/24"),
                     [](std::uint32_t, std::string&) { return true; }, error),
                 error.c_str());
        QCOMPARE(setup.dnsBackend(), std::optional<DnsBackend>(DnsBackend::Resolvconf));
        QCOMPARE(readText(log + "/call-0.args"), QStringLiteral("-a\ncn0\n"));
        QCOMPARE(readText(log + "/call-0.stdin"),
                 QStringLiteral("nameserver 10.0.0.1\nnameserver fd00::1\n"
                                "search corp.example example.org\n"));
        // Crash: no rollback here.
    }
    Journal journal(path);
    journal.load();
    DnsConfigurator dns(options);
    const RollbackResult r = rollbackJournal(journal, rtnl_, dns);
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(readText(log + "/call-1.args"), QStringLiteral("-d\ncn0\n"));
    QCOMPARE(readText(log + "/call-1.stdin"), QString());
    QVERIFY(!QFile::exists(log + "/call-2.args"));

    // Without DNS servers resolvconf is not called at all (search domains alone are ignored,
    // as by wg-quick).
    {
        Journal j(path);
        NetworkSetup setup(links_.back().ref, j, rtnl_, dns);
        std::string error;
        QVERIFY(setup.apply(profile("Address = 10.0.0.2/32\nDNS = corp.example", "10.0.0.0/24"), {},
                            error));
        QVERIFY(setup.rollback().ok());
    }
    QVERIFY(!QFile::exists(log + "/call-2.args"));
}

void tst_NetConfig::resolvconfRecordPrefix() {
    const QString log = temp_->path() + "/log";
    QVERIFY(QDir().mkpath(log));
    const QString order = temp_->path() + "/interface-order";
    QFile f(order);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("lo.inet6\nlo.inet\nlo.@(dnsmasq|pdnsd)\nlo\ntun*\ntap*\n");
    f.close();
    DnsConfigurator::Options options;
    options.useResolved = false;
    options.resolvconf = writeFakeResolvconf(log).toStdString();
    options.interfaceOrder = order.toStdString();
    QCOMPARE(DnsConfigurator(options).resolvconfRecord("cn0"), std::string("tun.cn0"));
    // A symlinked resolvconf is openresolv or resolved's shim: no prefix.
    const QString link = temp_->path() + "/resolvconf-link";
    QVERIFY(QFile::link(QString::fromStdString(options.resolvconf), link));
    options.resolvconf = link.toStdString();
    QCOMPARE(DnsConfigurator(options).resolvconfRecord("cn0"), std::string("cn0"));
}

void tst_NetConfig::resolvconfMissing() {
    REQUIRE_NETNS();
    links_.push_back(makeTun("cn0"));
    const QStringList before = snapshot();
    Journal journal(Journal::pathFor(stateDir_.toStdString(), "cn0"));
    DnsConfigurator dns(dnsOptions()); // points at a program that does not exist
    NetworkSetup setup(links_.back().ref, journal, rtnl_, dns);
    std::string error;
    QVERIFY(
        !setup.apply(profile("Address = 10.0.0.2/32\nDNS = 10.0.0.1", "10.0.0.0/24"), {}, error));
    QVERIFY2(error.find("no DNS backend") != std::string::npos, error.c_str());
    COMPARE_SNAPSHOT(snapshot(), before);
    QVERIFY(!QFile::exists(QString::fromStdString(journal.path())));
}

void tst_NetConfig::resolvedFallback() {
    // This VM has no system bus: resolvconf, quickly and quietly.
    DnsConfigurator::Options options;
    QCOMPARE(DnsConfigurator(options).detect(), DnsBackend::Resolvconf);
    // A bus address that does not answer.
    options.busAddress = "unix:path=" + (temp_->path() + "/nobus").toStdString();
    QCOMPARE(DnsConfigurator(options).detect(), DnsBackend::Resolvconf);
    // Explicitly off.
    options.useResolved = false;
    QCOMPARE(DnsConfigurator(options).detect(), DnsBackend::Resolvconf);
}

void tst_NetConfig::resolvedBackend() {
    REQUIRE_NETNS();
    // A private bus (dbus-daemon with the stock session policy, ours, killed at the end) with
    // a fake resolved on it.
    QProcess daemon;
    daemon.start("dbus-daemon", {"--session", "--nofork", "--print-address=1",
                                 "--address=unix:path=" + temp_->path() + "/bus"});
    if (!daemon.waitForStarted(5000))
        CALNET_ENVIRONMENT_SKIP("dbus-daemon is not installed");
    QVERIFY(daemon.waitForReadyRead(5000));
    const QString address = QString::fromUtf8(daemon.readLine()).trimmed();
    QVERIFY(!address.isEmpty());
    const auto stopDaemon = qScopeGuard([&] {
        daemon.kill();
        daemon.waitForFinished(5000);
    });

    DnsConfigurator::Options options;
    options.busAddress = address.toStdString();
    options.timeoutMs = 5000;
    // On the bus but no resolved yet: resolvconf.
    QCOMPARE(DnsConfigurator(options).detect(), DnsBackend::Resolvconf);

    QThread serviceThread; // the fake answers from its own thread while we block in calls
    serviceThread.start();
    const auto stopThread = qScopeGuard([&] {
        serviceThread.quit();
        serviceThread.wait();
    });
    FakeResolved fake;
    fake.moveToThread(&serviceThread);
    QDBusConnection service = QDBusConnection::connectToBus(address, "fake-resolved");
    QVERIFY(service.isConnected());
    QVERIFY(service.registerVirtualObject("/org/freedesktop/resolve1", &fake));
    QVERIFY(service.registerService("org.freedesktop.resolve1"));
    const auto unregister = qScopeGuard([&] {
        service.unregisterObject("/org/freedesktop/resolve1");
        QDBusConnection::disconnectFromBus("fake-resolved");
    });

    links_.push_back(makeTun("cn0"));
    const LinkRef link = links_.back().ref;
    const std::string path = Journal::pathFor(stateDir_.toStdString(), "cn0");
    {
        Journal journal(path);
        DnsConfigurator dns(options);
        NetworkSetup setup(link, journal, rtnl_, dns);
        std::string error;
        fake.noSuchLink = 1; // resolved has not noticed the new link yet: retried
        QVERIFY2(setup.apply(profile("Address = 10.0.0.2/32\nDNS = 10.0.0.1, fd00::1, "
                                     "corp.example",
                                     "10.0.0.0/24"),
                             {}, error),
                 error.c_str());
        QCOMPARE(setup.dnsBackend(), std::optional<DnsBackend>(DnsBackend::Resolved));
        const QString index = QString::number(link.ifindex);
        const QString dns4and6 = " 2:0a000001 10:fd000000000000000000000000000001";
        QCOMPARE(fake.takeCalls(),
                 (QStringList{"SetLinkDNS " + index + dns4and6, "SetLinkDNS " + index + dns4and6,
                              "SetLinkDomains " + index + " corp.example ~."}));
        // Crash, then the next start reverts the link.
    }
    Journal journal(path);
    journal.load();
    DnsConfigurator dns(options);
    const RollbackResult r = rollbackJournal(journal, rtnl_, dns);
    QVERIFY2(r.ok(), r.summary().c_str());
    QCOMPARE(fake.takeCalls(), QStringList{"RevertLink " + QString::number(link.ifindex)});

    // A link resolved no longer knows counts as reverted.
    {
        Journal j(path);
        NetworkSetup setup(link, j, rtnl_, dns);
        std::string error;
        QVERIFY(setup.apply(profile("Address = 10.0.0.2/32\nDNS = 10.0.0.1", "10.0.0.0/24"), {},
                            error));
        fake.takeCalls();
        fake.noSuchLink = 1;
        const RollbackResult again = setup.rollback();
        QVERIFY2(again.ok(), again.summary().c_str());
        QCOMPARE(fake.takeCalls(), QStringList{"RevertLink " + QString::number(link.ifindex)});
    }
}

int main(int argc, char** argv) {
    // Before QCoreApplication starts any thread: every thread of the process shares it.
    g_isolated = ::unshare(CLONE_NEWNET) == 0;
    if (g_isolated) {
        // No IPv6 duplicate address detection in this namespace: an address's local route
        // would otherwise appear a moment after the address, in the middle of a snapshot.
        for (const char* path : {"/proc/sys/net/ipv6/conf/all/accept_dad",
                                 "/proc/sys/net/ipv6/conf/default/accept_dad"}) {
            QFile f(QString::fromLatin1(path));
            if (f.open(QIODevice::WriteOnly))
                f.write("0\n");
        }
    }
    QCoreApplication app(argc, argv);
    tst_NetConfig test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_netconfig.moc"
