// PathManager: the live side of path finding for one mesh connection. It owns the sans-I/O
// disco::PathFinder and does its I/O: disco datagrams on the WireGuard socket (Tunnel::sendRaw)
// and through the relay, the routes of the PathTable the data path reads, STUN requests from
// the WireGuard socket (so the reflexive address learned is the one WireGuard traffic gets),
// and a thread for timers (probes, heartbeats, STUN every 30 s, activity from the PathTable).
//
// Entry points are called from any thread (the Tunnel's inbound thread, the relay thread, the
// Qt thread); each runs the PathFinder under one mutex and does the resulting I/O after
// releasing it. Callbacks (paths changed, endpoints changed) come from those threads too: the
// owner posts them to its own event loop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/disco/pathfinder.h"
#include "core/net/stun.h"
#include "helper/datapath/pathtable.h"

namespace calnet::helper {

class Tunnel;

class PathManager final : public DatagramSink {
public:
    struct Options {
        crypto::PublicKey nodeKey{};
        crypto::PrivateKey discoKey;
        std::vector<net::SocketAddress> stunServers;
        disco::Timings timings;
        std::chrono::milliseconds stunInterval{
            23'000}; // under the 30 s a NAT keeps an idle UDP mapping
        // This host's interface addresses with the listen port (called on the manager thread).
        std::function<std::vector<net::SocketAddress>()> localEndpoints;
        std::function<void()> pathsChanged;
        std::function<void()> endpointsChanged; // the reflexive address changed
    };

    // What `calnetctl netcheck` shows.
    struct Netcheck {
        bool stunConfigured = false;
        std::optional<bool> udp; // nullopt until the first STUN round ended
        std::optional<net::SocketAddress> reflexive;
        std::optional<bool> mappingVariesByDestination;
        std::vector<net::SocketAddress> localEndpoints;
    };

    struct PeerView {
        disco::PeerPath path;
        std::int64_t sinceMs = 0; // wall clock, ms since the epoch
        std::string relayName;
    };

    PathManager(Tunnel& tunnel, Options options);
    ~PathManager() override;
    PathManager(const PathManager&) = delete;
    PathManager& operator=(const PathManager&) = delete;

    void start(std::shared_ptr<RelaySender> relay);
    void stop();

    void setPeers(const std::vector<disco::PeerSpec>& peers);
    // Where STUN requests go (resolved by the owner); a round starts at once.
    void setStunServers(const std::vector<net::SocketAddress>& servers);
    void setRelayConnected(bool connected);
    void relayDisco(const crypto::PublicKey& from, std::span<const std::uint8_t> message);
    void relayNotHere(const crypto::PublicKey& node);
    // Local addresses changed (rtnetlink): STUN again now, tell peers.
    void networkChanged();
    // UDP datagram on the WireGuard socket that is not WireGuard: disco or STUN.
    void receive(std::span<const std::uint8_t> datagram, const net::SocketAddress& from) override;

    // Disco pings to every candidate and through the relay; each pong is reported to `onPong`
    // (on some thread) until `until`.
    using PongHandler = std::function<void(const disco::Outbox::Pong&)>;
    bool ping(const crypto::PublicKey& peer, PongHandler onPong);
    void stopPing();

    [[nodiscard]] std::optional<PeerView> peer(const crypto::PublicKey& key) const;
    [[nodiscard]] Netcheck netcheck() const;
    // The smoothed round trip to each STUN server that answered within the last three rounds
    // (what the home relay is chosen by).
    [[nodiscard]] std::map<net::SocketAddress, std::chrono::microseconds> stunLatencies() const;
    // The STUN-reflexive endpoint, to report to the server alongside the local ones.
    [[nodiscard]] std::optional<net::SocketAddress> reflexive() const;

private:
    void run();
    void handleStun(std::span<const std::uint8_t> datagram, const net::SocketAddress& from);
    void refreshLocal(disco::Outbox& out);
    [[nodiscard]] std::uint8_t natFlags() const;

    // Entry points run on the callers' threads; stop() waits for those in flight, and none
    // starts (or calls a callback) after it.
    struct Call;
    std::atomic<bool> stopped_{false};
    std::atomic<int> inflight_{0};

    Tunnel& tunnel_;
    Options options_;
    std::shared_ptr<RelaySender> relay_;

    mutable std::mutex mutex_; // guards everything below
    disco::PathFinder finder_;
    std::condition_variable wake_;
    bool running_ = false;
    bool stunNow_ = true;
    std::map<stun::TransactionId,
             std::pair<net::SocketAddress, std::chrono::steady_clock::time_point>>
        stunPending_;
    std::chrono::steady_clock::time_point stunRoundStarted_{};
    bool stunRoundAnswered_ = false;
    int stunFailedRounds_ = 0;
    std::optional<bool> udpWorks_;
    std::map<net::SocketAddress, net::SocketAddress> mapped_; // STUN server -> what it saw
    std::map<net::SocketAddress,
             std::pair<std::chrono::microseconds, std::chrono::steady_clock::time_point>>
        stunLatency_;                      // STUN server -> smoothed round trip, last answer
    std::set<net::SocketAddress> relearn_; // servers whose next answer replaces the smoothed value
    std::optional<bool> varies_;
    std::vector<net::SocketAddress> local_;
    std::map<crypto::PublicKey, std::int64_t> lastActivity_;
    std::map<crypto::PublicKey, std::pair<disco::PeerPath, std::int64_t>> published_;
    PongHandler onPong_;
    std::thread thread_;
};

} // namespace calnet::helper
