#include "helper/service/relayregions.h"

#include <QHostAddress>
#include <QHostInfo>
#include <QUrl>

#include "helper/datapath/pathmanager.h"

namespace calnet::helper {

namespace {

constexpr int kTickMs = 2'000;
constexpr int kReapEveryTicks = 5;
constexpr auto kIdleRegion = std::chrono::seconds(60);
constexpr auto kMinGain = std::chrono::milliseconds(10);
// A home region that cannot be connected to for this long is avoided for kAvoidFor (its STUN
// may still answer, as when only the relay process died).
constexpr auto kHomeDownFor = std::chrono::seconds(10);
constexpr auto kAvoidFor = std::chrono::minutes(2);

} // namespace

std::string pickHomeRegion(const std::vector<std::string>& regions, const std::string& current,
                           const std::map<std::string, std::chrono::microseconds>& latency) {
    if (regions.empty())
        return {};
    const bool currentExists = std::find(regions.begin(), regions.end(), current) != regions.end();
    std::optional<std::pair<std::string, std::chrono::microseconds>> best;
    for (const std::string& r : regions)
        if (auto it = latency.find(r); it != latency.end() && (!best || it->second < best->second))
            best = std::make_pair(r, it->second);
    if (!best)
        return currentExists ? current : regions.front();
    const auto now = latency.find(current);
    if (!currentExists || now == latency.end())
        return best->first;
    const bool muchFaster =
        now->second - best->second >= kMinGain && best->second * 3 <= now->second * 2;
    return muchFaster ? best->first : current;
}

std::optional<RelaySet::Region> relayTarget(const QString& serverUrl, const RelayRegion& region) {
    const QUrl url(region.url.isEmpty() ? serverUrl : region.url);
    const QString scheme = url.scheme();
    const bool tls = scheme == QLatin1String("https") || scheme == QLatin1String("wss");
    if ((!tls && scheme != QLatin1String("http") && scheme != QLatin1String("ws")) ||
        url.host().isEmpty())
        return std::nullopt;
    RelaySet::Region r;
    r.name = region.name.toStdString();
    r.target.name = r.name;
    r.target.host = url.host().toStdString();
    r.target.port = std::uint16_t(url.port(tls ? 443 : 80));
    r.target.tls = tls;
    // The coordination server's own relay is at /api/v1/relay under its URL; a relay-only
    // process's URL names the process, and the relay sits at the same path under it.
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    r.target.path = (path + QStringLiteral("/api/v1/relay")).toStdString();
    return r;
}

RelayRegions::RelayRegions(QString serverUrl, std::shared_ptr<RelaySet> relays, PathManager* paths,
                           QObject* parent)
    : QObject(parent), serverUrl_(std::move(serverUrl)), relays_(std::move(relays)), paths_(paths) {
    timer_.setInterval(kTickMs);
    connect(&timer_, &QTimer::timeout, this, [this] {
        chooseHome();
        if (++ticks_ % kReapEveryTicks == 0)
            relays_->reapIdle(kIdleRegion);
    });
    timer_.start();
}

void RelayRegions::update(const NetworkMap& map) {
    std::map<crypto::PublicKey, std::string> homes;
    for (const auto& [id, node] : map.peers())
        if (const auto key = node.publicKey())
            homes.emplace(*key, node.relay.toStdString()); // "" = not reported
    relays_->setPeerHomes(std::move(homes));
    if (map.relays() == regions_)
        return;
    regions_ = map.relays();
    std::vector<RelaySet::Region> targets;
    names_.clear();
    for (const RelayRegion& r : regions_)
        if (auto t = relayTarget(serverUrl_, r)) {
            names_.push_back(t->name);
            targets.push_back(std::move(*t));
        } else
            qWarning("calnetd: relay region %s has an unusable URL %s", qPrintable(r.name),
                     qPrintable(r.url));
    relays_->setRegions(std::move(targets));
    resolveStun(regions_);
    chooseHome();
}

std::map<std::string, std::chrono::microseconds> RelayRegions::latencies() const {
    std::map<std::string, std::chrono::microseconds> out;
    const auto measured = paths_->stunLatencies();
    for (const auto& [region, server] : stunOf_)
        if (auto it = measured.find(server); it != measured.end())
            out.emplace(region, it->second);
    return out;
}

void RelayRegions::chooseHome() {
    const std::string current = relays_->home();
    const auto now = std::chrono::steady_clock::now();
    if (current != reported_)
        homeDownSince_.reset(); // a new home gets its own 10 s
    bool homeDown = false;
    for (const RelaySet::RegionStatus& s : relays_->status())
        if (s.home)
            homeDown = !s.connected && !s.error.empty();
    if (!homeDown || current.empty()) {
        homeDownSince_.reset();
    } else if (!homeDownSince_) {
        homeDownSince_ = now;
    } else if (now - *homeDownSince_ >= kHomeDownFor) {
        qWarning(
            "calnetd: home relay %s unreachable for %lld s; choosing another", current.c_str(),
            qint64(
                std::chrono::duration_cast<std::chrono::seconds>(now - *homeDownSince_).count()));
        avoidUntil_[current] = now + kAvoidFor;
        homeDownSince_.reset();
    }
    std::vector<std::string> usable;
    for (const std::string& name : names_)
        if (auto it = avoidUntil_.find(name); it == avoidUntil_.end() || it->second <= now)
            usable.push_back(name);
    const std::string next = pickHomeRegion(usable.empty() ? names_ : usable, current, latencies());
    if (!next.empty())
        relays_->setHome(next); // may wait for the new region to connect: reported once it has
    const std::string home = relays_->home();
    if (home == reported_)
        return;
    qInfo("calnetd: home relay: %s%s%s", home.c_str(), reported_.empty() ? "" : " (was ",
          reported_.empty() ? "" : (reported_ + ")").c_str());
    reported_ = home;
    homeDownSince_.reset();
    emit homeChanged(QString::fromStdString(home));
}

void RelayRegions::resolveStun(const std::vector<RelayRegion>& regions) {
    struct Wanted {
        std::string region;
        QString host;
        int port;
        bool primary;
    };
    std::vector<Wanted> wanted;
    for (const RelayRegion& r : regions) {
        const QString host =
            r.stunHost.isEmpty() ? QUrl(r.url.isEmpty() ? serverUrl_ : r.url).host() : r.stunHost;
        if (r.stunPort > 0)
            wanted.push_back({r.name.toStdString(), host, r.stunPort, true});
        if (r.stunAltPort > 0)
            wanted.push_back({r.name.toStdString(), host, r.stunAltPort, false});
    }
    const int generation = ++lookup_;
    struct Result {
        std::vector<net::SocketAddress> servers;
        std::map<std::string, net::SocketAddress> primary;
        int left = 0;
    };
    auto result = std::make_shared<Result>();
    result->left = int(wanted.size());
    auto finish = [this, generation, result] {
        if (generation != lookup_)
            return;
        stunOf_ = result->primary;
        paths_->setStunServers(result->servers);
    };
    if (wanted.empty()) {
        finish();
        return;
    }
    for (const Wanted& w : wanted) {
        auto add = [result, w](const QHostAddress& a) {
            const QString text = a.protocol() == QAbstractSocket::IPv6Protocol
                                     ? QStringLiteral("[%1]:%2").arg(a.toString()).arg(w.port)
                                     : QStringLiteral("%1:%2").arg(a.toString()).arg(w.port);
            if (auto s = net::SocketAddress::parse(text.toStdString())) {
                result->servers.push_back(*s);
                if (w.primary)
                    result->primary.emplace(w.region, *s);
            }
        };
        if (QHostAddress literal(w.host); !literal.isNull()) {
            add(literal);
            if (--result->left == 0)
                finish();
            continue;
        }
        QHostInfo::lookupHost(w.host, this, [add, result, finish](const QHostInfo& info) {
            for (const QHostAddress& a : info.addresses())
                if (a.protocol() == QAbstractSocket::IPv4Protocol) {
                    add(a); // one address per server: v4 where there is one
                    break;
                }
            if (--result->left == 0)
                finish();
        });
    }
}

} // namespace calnet::helper
