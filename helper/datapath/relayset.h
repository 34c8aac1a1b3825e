// RelaySet: this node's connections to the relays of its network (docs/protocol.md "Several
// relays"), one RelayClient per region in use, as the single RelaySender of the data path.
//
//   home region: always connected; this node receives there, and reports its name to the
//     coordination server (the owner chooses it by latency, setHome())
//   sendTo(node): through the node's home region (from the map); a map peer that reports none
//     is on the first region (the coordination server's own, kept connected for it); else the
//     region the node was last heard from, else our own home. A region not connected yet is
//     connected on a connector thread of the set (never the data path's; that packet is
//     dropped), and the latest handshake initiation to each of its nodes is sent again once up
//   reapIdle(): a region other than home that carried nothing for a while is disconnected
//
// Packets received through any region go to the Tunnel and disco as before; a "not here"
// notice counts only from the region the node is reached through.
//
// Thread-safe: sendTo() runs on the data path's threads, the rest on the owner's; callbacks
// come from the clients' threads and are never made with the set's lock held (homeState is
// made under a mutex of its own: it must not call back into the set). Retired clients are
// stopped on a thread of their own, never the owner's.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "helper/datapath/relayclient.h"

namespace calnet::helper {

class RelaySet final : public RelaySender {
public:
    struct Region {
        std::string name;
        RelayClient::Target target;
    };
    struct Callbacks {
        std::function<void(bool connected)> homeState; // the home region's connection
        std::function<void(const crypto::PublicKey& from, std::span<const std::uint8_t> message)>
            disco;
        std::function<void(const crypto::PublicKey& node)> notHere;
    };
    struct RegionStatus {
        std::string name;
        bool home = false;
        bool connected = false;
        std::int64_t latencyUs = -1; // WebSocket ping round trip; -1 unknown
        std::string error;
    };

    RelaySet(Tunnel& tunnel, const crypto::PrivateKey& nodeKey, Callbacks callbacks);
    ~RelaySet() override;
    RelaySet(const RelaySet&) = delete;
    RelaySet& operator=(const RelaySet&) = delete;

    // The regions of the map (kept clients stay connected; gone ones are closed).
    void setRegions(std::vector<Region> regions);
    // Makes `name` the home region; false if there is no such region. While the current home is
    // connected and `name` is not yet, the switch waits until it is (home() changes then).
    bool setHome(const std::string& name);
    // Every peer of the map and the region it receives on ("" = not reported: it is reached on
    // the first region, which then stays connected).
    void setPeerHomes(std::map<crypto::PublicKey, std::string> homes);
    // Disconnects regions other than home that sent and received nothing for `idle`.
    void reapIdle(std::chrono::steady_clock::duration idle);
    // Closes every connection (the mesh session ended).
    void stop();

    bool sendTo(const crypto::PublicKey& node, std::span<const std::uint8_t> packet) override;
    [[nodiscard]] std::string regionFor(const crypto::PublicKey& node) const override;

    [[nodiscard]] std::string home() const;
    [[nodiscard]] bool homeConnected() const;
    [[nodiscard]] std::vector<RegionStatus> status() const;

private:
    struct Live;
    std::shared_ptr<Live> liveFor(const std::string& region); // connects on demand
    // Under mutex_: the region packets to `node` go through ("" before there is a home).
    const std::string& regionLocked(const crypto::PublicKey& node) const;
    void connectLoop();
    void onState(const std::string& region, bool up);
    void notifyHome();
    void keepFallback();
    void retire(std::vector<std::shared_ptr<Live>> gone);

    Tunnel& tunnel_;
    crypto::PrivateKey nodeKey_;
    Callbacks callbacks_;
    std::mutex notifyMutex_;          // serialises homeState calls (taken before mutex_)
    mutable std::shared_mutex mutex_; // guards everything below
    std::vector<Region> regions_;
    std::map<std::string, std::shared_ptr<Live>> live_;
    std::string home_;
    std::string pendingHome_;
    struct Reaper {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Reaper> reapers_; // stopping retired clients; joined when done, or by stop()
    std::map<crypto::PublicKey, std::string> peerHomes_;
    std::map<crypto::PublicKey, std::string> heardFrom_; // region a node's disco came through
    bool stopped_ = false;
    // Regions the data path asked for, connected on the connector thread (taken after mutex_).
    std::mutex connectMutex_;
    std::condition_variable connectWake_;
    std::vector<std::string> connectQueue_;
    bool connectStop_ = false;
    std::thread connector_; // last: started when everything above exists
};

} // namespace calnet::helper
