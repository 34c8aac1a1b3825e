#include "helper/platform/linux/netconfig/dnsconfigurator.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <regex>

#include <QByteArray>
#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QList>
#include <QString>
#include <QThread>
#include <QVariant>

#include <sys/socket.h>
#include <sys/stat.h>

#include "helper/platform/linux/netconfig/program.h"

// D-Bus structures of org.freedesktop.resolve1.Manager (resolvectl(1),
// org.freedesktop.resolve1(5)).
namespace calnet::helper::netconfig::resolve1 {

struct LinkAddress { // (iay): AF_INET/AF_INET6 and the address bytes
    qint32 family = 0;
    QByteArray address;
};
struct LinkDomain { // (sb): a domain, and whether it only routes queries (a "~" domain)
    QString domain;
    bool routingOnly = false;
};

QDBusArgument& operator<<(QDBusArgument& arg, const LinkAddress& a) {
    arg.beginStructure();
    arg << a.family << a.address;
    arg.endStructure();
    return arg;
}
const QDBusArgument& operator>>(const QDBusArgument& arg, LinkAddress& a) {
    arg.beginStructure();
    arg >> a.family >> a.address;
    arg.endStructure();
    return arg;
}
QDBusArgument& operator<<(QDBusArgument& arg, const LinkDomain& d) {
    arg.beginStructure();
    arg << d.domain << d.routingOnly;
    arg.endStructure();
    return arg;
}
const QDBusArgument& operator>>(const QDBusArgument& arg, LinkDomain& d) {
    arg.beginStructure();
    arg >> d.domain >> d.routingOnly;
    arg.endStructure();
    return arg;
}

} // namespace calnet::helper::netconfig::resolve1

Q_DECLARE_METATYPE(calnet::helper::netconfig::resolve1::LinkAddress)
Q_DECLARE_METATYPE(calnet::helper::netconfig::resolve1::LinkDomain)

namespace calnet::helper::netconfig {

namespace {

constexpr const char* kResolvedService = "org.freedesktop.resolve1";
constexpr const char* kResolvedPath = "/org/freedesktop/resolve1";
constexpr const char* kResolvedManager = "org.freedesktop.resolve1.Manager";
// The error resolved returns for a link it does not know (e.g. because it is gone).
constexpr const char* kNoSuchLink = "org.freedesktop.resolve1.NoSuchLink";
constexpr int kNoSuchLinkRetries = 20;
constexpr unsigned long kNoSuchLinkRetryMs = 100;

void registerTypes() {
    static const bool once = [] {
        qDBusRegisterMetaType<resolve1::LinkAddress>();
        qDBusRegisterMetaType<QList<resolve1::LinkAddress>>();
        qDBusRegisterMetaType<resolve1::LinkDomain>();
        qDBusRegisterMetaType<QList<resolve1::LinkDomain>>();
        return true;
    }();
    (void)once;
}

std::string replyError(const QDBusMessage& reply) {
    return (reply.errorName() + QStringLiteral(": ") + reply.errorMessage()).toStdString();
}

} // namespace

const char* toString(DnsBackend backend) {
    switch (backend) {
    case DnsBackend::Resolved:
        return "systemd-resolved";
    case DnsBackend::Resolvconf:
        return "resolvconf";
    }
    return "?";
}

// The bus connection, opened on first use. A private connection for an explicit address, the
// shared system bus connection otherwise.
struct DnsConfigurator::Bus {
    QString name; // connectToBus() name when busAddress is set
    bool opened = false;
};

DnsConfigurator::Options DnsConfigurator::defaultOptions() {
    return Options{};
}

DnsConfigurator::DnsConfigurator() : DnsConfigurator(defaultOptions()) {}

DnsConfigurator::DnsConfigurator(Options options)
    : options_(std::move(options)), bus_(std::make_unique<Bus>()) {
    // Unique per object: QtDBus keeps named connections process-wide.
    static std::atomic<unsigned> counter{0};
    bus_->name = QStringLiteral("calnet-netconfig-%1").arg(++counter);
}

DnsConfigurator::~DnsConfigurator() {
    if (bus_->opened && !options_.busAddress.empty())
        QDBusConnection::disconnectFromBus(bus_->name);
}

namespace {

QDBusConnection connectionFor(const DnsConfigurator::Options& options, const QString& name,
                              bool& opened) {
    opened = true;
    if (options.busAddress.empty())
        return QDBusConnection::systemBus();
    return QDBusConnection::connectToBus(QString::fromStdString(options.busAddress), name);
}

} // namespace

DnsBackend DnsConfigurator::detect() {
    if (!options_.useResolved)
        return DnsBackend::Resolvconf;
    if (options_.busAddress.empty()) {
        // Without the system bus socket QtDBus would only fail more slowly (and warn).
        const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
        struct stat st {};
        if ((!address || !*address) && ::stat("/run/dbus/system_bus_socket", &st) != 0 &&
            ::stat("/var/run/dbus/system_bus_socket", &st) != 0)
            return DnsBackend::Resolvconf;
    }
    QDBusConnection bus = connectionFor(options_, bus_->name, bus_->opened);
    if (!bus.isConnected())
        return DnsBackend::Resolvconf;
    // NameHasOwner, not a call to resolved itself: that could start it by bus activation,
    // and a resolver that was not running is not the one in charge of /etc/resolv.conf.
    QDBusMessage m = QDBusMessage::createMethodCall(
        QStringLiteral("org.freedesktop.DBus"), QStringLiteral("/org/freedesktop/DBus"),
        QStringLiteral("org.freedesktop.DBus"), QStringLiteral("NameHasOwner"));
    m << QString::fromLatin1(kResolvedService);
    const QDBusMessage reply = bus.call(m, QDBus::Block, options_.timeoutMs);
    if (reply.type() == QDBusMessage::ReplyMessage && !reply.arguments().isEmpty() &&
        reply.arguments().constFirst().toBool())
        return DnsBackend::Resolved;
    return DnsBackend::Resolvconf;
}

bool DnsConfigurator::setResolved(const LinkRef& link, const DnsSettings& settings,
                                  std::string& error) {
    registerTypes();
    QDBusConnection bus = connectionFor(options_, bus_->name, bus_->opened);
    if (!bus.isConnected()) {
        error = "systemd-resolved: no bus connection";
        return false;
    }
    QList<resolve1::LinkAddress> servers;
    for (const auto& s : settings.servers)
        servers.push_back({s.family == net::Family::V4 ? AF_INET : AF_INET6,
                           QByteArray(reinterpret_cast<const char*>(s.bytes.data()),
                                      static_cast<qsizetype>(s.byteLength()))});
    QList<resolve1::LinkDomain> domains;
    for (const auto& d : settings.searchDomains)
        domains.push_back({QString::fromStdString(d), false});
    domains.push_back({QStringLiteral("."), true}); // "~.": all queries go to these servers

    const auto call = [&](const char* method, const QVariant& argument) {
        QDBusMessage m = QDBusMessage::createMethodCall(
            QString::fromLatin1(kResolvedService), QString::fromLatin1(kResolvedPath),
            QString::fromLatin1(kResolvedManager), QString::fromLatin1(method));
        m << static_cast<qint32>(link.ifindex) << argument;
        // resolved learns about links from its own rtnetlink monitor: a link created moments
        // ago may not be known to it yet, so NoSuchLink is retried for a short while.
        for (int attempt = 0;; ++attempt) {
            const QDBusMessage reply = bus.call(m, QDBus::Block, options_.timeoutMs);
            if (reply.type() == QDBusMessage::ReplyMessage)
                return true;
            if (reply.errorName() == QLatin1String(kNoSuchLink) && attempt < kNoSuchLinkRetries) {
                QThread::msleep(kNoSuchLinkRetryMs);
                continue;
            }
            error = std::string("systemd-resolved ") + method + ": " + replyError(reply);
            return false;
        }
    };
    return call("SetLinkDNS", QVariant::fromValue(servers)) &&
           call("SetLinkDomains", QVariant::fromValue(domains));
}

bool DnsConfigurator::revertResolved(const LinkRef& link, std::string& error) {
    QDBusConnection bus = connectionFor(options_, bus_->name, bus_->opened);
    if (!bus.isConnected())
        return true; // no bus, no resolved: its per-link settings went with it
    QDBusMessage m = QDBusMessage::createMethodCall(
        QString::fromLatin1(kResolvedService), QString::fromLatin1(kResolvedPath),
        QString::fromLatin1(kResolvedManager), QStringLiteral("RevertLink"));
    m << static_cast<qint32>(link.ifindex);
    const QDBusMessage reply = bus.call(m, QDBus::Block, options_.timeoutMs);
    if (reply.type() == QDBusMessage::ReplyMessage)
        return true;
    const QString name = reply.errorName();
    // Forgotten link, or resolved not running any more: nothing of ours is left there.
    if (name == QLatin1String(kNoSuchLink) ||
        name == QLatin1String("org.freedesktop.DBus.Error.ServiceUnknown") ||
        name == QLatin1String("org.freedesktop.DBus.Error.NameHasNoOwner"))
        return true;
    error = "systemd-resolved RevertLink: " + replyError(reply);
    return false;
}

std::string DnsConfigurator::resolvconfRecord(const std::string& ifname) const {
    // Debian's resolvconf (not openresolv, not resolved's shim, which are installed as
    // symlinks) sorts records by interface-order; wg-quick names its record after the first
    // plain "NAME*" pattern there ("tun*" -> "tun.wg0") so the tunnel's servers come first.
    std::ifstream order(options_.interfaceOrder);
    if (!order)
        return ifname;
    const std::string program = findProgram(options_.resolvconf);
    struct stat st {};
    if (program.empty() || ::lstat(program.c_str(), &st) != 0 || S_ISLNK(st.st_mode))
        return ifname;
    static const std::regex pattern("^([A-Za-z0-9-]+)\\*$");
    std::string line;
    std::smatch m;
    while (std::getline(order, line))
        if (std::regex_match(line, m, pattern))
            return m[1].str() + "." + ifname;
    return ifname;
}

std::string DnsConfigurator::resolvconfText(const DnsSettings& settings) {
    std::string text;
    for (const auto& s : settings.servers)
        text += "nameserver " + s.toString() + "\n";
    if (!settings.searchDomains.empty()) {
        text += "search";
        for (const auto& d : settings.searchDomains)
            text += " " + d;
        text += "\n";
    }
    return text;
}

DnsConfigurator::RunResult DnsConfigurator::setResolvconf(const std::string& record,
                                                          const DnsSettings& settings,
                                                          std::string& error) {
    return runResolvconf({"-a", record}, resolvconfText(settings), error);
}

DnsConfigurator::RunResult DnsConfigurator::removeResolvconf(const std::string& record,
                                                             std::string& error) {
    return runResolvconf({"-d", record}, {}, error);
}

DnsConfigurator::RunResult DnsConfigurator::runResolvconf(const std::vector<std::string>& args,
                                                          const std::string& input,
                                                          std::string& error) {
    const ProgramResult r = runProgram(options_.resolvconf, args, input, options_.timeoutMs);
    if (r.ok())
        return RunResult::Ok;
    std::string command = options_.resolvconf;
    for (const auto& a : args)
        command += " " + a;
    error = command + ": " + r.describe();
    return r.spawnError != 0 ? RunResult::NotStarted : RunResult::Failed;
}

} // namespace calnet::helper::netconfig
