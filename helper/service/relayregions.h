// RelayRegions: the relay regions of one mesh session (docs/protocol.md "Several relays"): turns
// the map's `relays` into RelaySet targets, resolves each region's STUN servers for the
// PathManager, and picks the home region by the STUN round trips it measures (every 2 s, with
// hysteresis: pickHomeRegion()). Regions other than home that carried nothing for a minute are
// disconnected. A home region whose relay cannot be reached for 10 s is avoided for two minutes
// (the next best takes over). Runs on the Qt thread of the session.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <QObject>
#include <QTimer>

#include "core/net/ipaddress.h"
#include "helper/datapath/relayset.h"
#include "helper/service/networkmap.h"

namespace calnet::helper {

class PathManager;

// The home region given the current one and the measured round trips (regions without one are
// left out): the first region while nothing is measured; the fastest once the current one has
// no measurement, or when the fastest is both 10 ms and a third faster than the current one
// (so that two similar relays do not make a node flap between them).
std::string pickHomeRegion(const std::vector<std::string>& regions, const std::string& current,
                           const std::map<std::string, std::chrono::microseconds>& latency);

// A region's relay: its URL, or the coordination server's own listener (`serverUrl`,
// /api/v1/relay) when it has none; nullopt for a URL that is not http(s)/ws(s) with a host.
std::optional<RelaySet::Region> relayTarget(const QString& serverUrl, const RelayRegion& region);

class RelayRegions : public QObject {
    Q_OBJECT
public:
    RelayRegions(QString serverUrl, std::shared_ptr<RelaySet> relays, PathManager* paths,
                 QObject* parent = nullptr);

    // The map changed: its regions and every peer's home region.
    void update(const NetworkMap& map);
    [[nodiscard]] const std::shared_ptr<RelaySet>& relays() const { return relays_; }
    // Each region's STUN round trip (regions measured within the last three rounds).
    [[nodiscard]] std::map<std::string, std::chrono::microseconds> latencies() const;

signals:
    void homeChanged(const QString& region);

private:
    void resolveStun(const std::vector<RelayRegion>& regions);
    void chooseHome();

    QString serverUrl_;
    std::shared_ptr<RelaySet> relays_;
    PathManager* paths_;
    std::vector<RelayRegion> regions_;
    std::vector<std::string> names_;
    // Each region's first STUN server (the one whose round trip counts), once resolved.
    std::map<std::string, net::SocketAddress> stunOf_;
    int lookup_ = 0; // the generation of the latest lookup
    QTimer timer_;
    int ticks_ = 0;
    std::string reported_; // the home last announced (homeChanged)
    std::optional<std::chrono::steady_clock::time_point> homeDownSince_;
    std::map<std::string, std::chrono::steady_clock::time_point> avoidUntil_;
};

} // namespace calnet::helper
