#include "helper/datapath/relayset.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "helper/datapath/tunnel.h"

namespace calnet::helper {

struct RelaySet::Live {
    std::shared_ptr<RelayClient> client;
    std::uint64_t lastCount = 0; // packets sent and received at the last reapIdle()
    std::chrono::steady_clock::time_point lastChange = std::chrono::steady_clock::now();
};

RelaySet::RelaySet(Tunnel& tunnel, const crypto::PrivateKey& nodeKey, Callbacks callbacks)
    : tunnel_(tunnel), nodeKey_(nodeKey), callbacks_(std::move(callbacks)),
      connector_([this] { connectLoop(); }) {}

RelaySet::~RelaySet() {
    stop();
}

void RelaySet::stop() {
    {
        std::lock_guard want(connectMutex_);
        connectStop_ = true;
        connectWake_.notify_all();
    }
    if (connector_.joinable())
        connector_.join();
    std::map<std::string, std::shared_ptr<Live>> gone;
    std::vector<Reaper> reapers;
    {
        std::unique_lock lock(mutex_);
        stopped_ = true;
        gone.swap(live_);
        reapers.swap(reapers_);
    }
    for (auto& [name, live] : gone)
        live->client->stop();
    for (Reaper& r : reapers)
        r.thread.join();
}

void RelaySet::retire(std::vector<std::shared_ptr<Live>> gone) {
    // Stopping joins the client's thread, which may sit in getaddrinfo() for seconds: never on
    // the owner's (Qt) thread. stop() joins these.
    if (gone.empty())
        return;
    std::unique_lock lock(mutex_);
    for (auto it = reapers_.begin(); it != reapers_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = reapers_.erase(it);
        } else {
            ++it;
        }
    }
    Reaper r;
    r.done = std::make_shared<std::atomic<bool>>(false);
    r.thread = std::thread([gone = std::move(gone), done = r.done] {
        for (const auto& live : gone)
            live->client->stop();
        done->store(true);
    });
    reapers_.push_back(std::move(r));
}

std::shared_ptr<RelaySet::Live> RelaySet::liveFor(const std::string& region) {
    {
        std::shared_lock lock(mutex_);
        if (auto it = live_.find(region); it != live_.end())
            return it->second;
        if (stopped_)
            return nullptr;
    }
    std::unique_lock lock(mutex_);
    if (auto it = live_.find(region); it != live_.end())
        return it->second;
    const auto r = std::find_if(regions_.begin(), regions_.end(),
                                [&](const Region& x) { return x.name == region; });
    if (stopped_ || r == regions_.end())
        return nullptr;
    RelayClient::Callbacks cb;
    cb.state = [this, region](bool up) { onState(region, up); };
    cb.disco = [this, region](const crypto::PublicKey& from, std::span<const std::uint8_t> m) {
        bool known = false;
        {
            std::shared_lock l(mutex_);
            const auto it = heardFrom_.find(from);
            known = it != heardFrom_.end() && it->second == region;
        }
        if (!known) {
            std::unique_lock l(mutex_);
            heardFrom_[from] = region;
        }
        if (callbacks_.disco)
            callbacks_.disco(from, m);
    };
    cb.notHere = [this, region](const crypto::PublicKey& node) {
        if (regionFor(node) == region && callbacks_.notHere)
            callbacks_.notHere(node);
    };
    auto live = std::make_shared<Live>();
    live->client = std::make_shared<RelayClient>(tunnel_, r->target, nodeKey_, std::move(cb));
    live_.emplace(region, live);
    live->client->start();
    return live;
}

void RelaySet::onState(const std::string& region, bool up) {
    std::vector<crypto::PublicKey> waiting;
    bool isHome = false;
    if (up) {
        std::unique_lock lock(mutex_);
        if (region == pendingHome_) { // connected: now it can be home
            home_ = region;
            pendingHome_.clear();
        }
    }
    {
        std::shared_lock lock(mutex_);
        isHome = region == home_;
        if (up) {
            for (const auto& [node, home] : peerHomes_)
                if (regionLocked(node) == region)
                    waiting.push_back(node);
            for (const auto& [node, from] : heardFrom_)
                if (!peerHomes_.contains(node) && regionLocked(node) == region)
                    waiting.push_back(node);
        }
    }
    // Handshakes that went out while this region was still connecting were dropped.
    for (const auto& node : waiting)
        tunnel_.paths().resendHeld(node);
    if (isHome)
        notifyHome();
}

void RelaySet::notifyHome() {
    // Serialised, and the state read inside: of two racing calls (a client thread's state
    // change, setHome() on the owner's), the last one made tells the truth.
    std::lock_guard notify(notifyMutex_);
    const bool up = homeConnected();
    if (callbacks_.homeState)
        callbacks_.homeState(up);
}

void RelaySet::setRegions(std::vector<Region> regions) {
    std::vector<std::shared_ptr<Live>> gone;
    {
        std::unique_lock lock(mutex_);
        if (std::none_of(regions.begin(), regions.end(),
                         [&](const Region& x) { return x.name == pendingHome_; }))
            pendingHome_.clear();
        for (auto it = live_.begin(); it != live_.end();) {
            const auto r = std::find_if(regions.begin(), regions.end(),
                                        [&](const Region& x) { return x.name == it->first; });
            const bool same = r != regions.end() &&
                              r->target.host == it->second->client->target().host &&
                              r->target.port == it->second->client->target().port &&
                              r->target.tls == it->second->client->target().tls &&
                              r->target.path == it->second->client->target().path;
            if (same) {
                ++it;
            } else {
                gone.push_back(it->second);
                it = live_.erase(it);
            }
        }
        regions_ = std::move(regions);
    }
    retire(std::move(gone));
    std::string home;
    {
        std::shared_lock lock(mutex_);
        home = home_;
    }
    if (!home.empty())
        liveFor(home); // reconnects the home region if its address changed
    keepFallback();
}

bool RelaySet::setHome(const std::string& name) {
    {
        std::shared_lock lock(mutex_);
        if (std::none_of(regions_.begin(), regions_.end(),
                         [&](const Region& r) { return r.name == name; }))
            return false;
        if (home_ == name && pendingHome_.empty())
            return true;
    }
    const auto live = liveFor(name);
    {
        std::unique_lock lock(mutex_);
        const auto current = live_.find(home_);
        const bool currentUp = current != live_.end() && current->second->client->connected();
        // Move at once when the new one is up, or the current one is of no use; else keep
        // receiving on the current one until the new one is connected (onState).
        if (name == home_ || !currentUp || (live && live->client->connected())) {
            home_ = name;
            pendingHome_.clear();
        } else {
            pendingHome_ = name;
            return true;
        }
    }
    notifyHome();
    return true;
}

void RelaySet::setPeerHomes(std::map<crypto::PublicKey, std::string> homes) {
    {
        std::unique_lock lock(mutex_);
        peerHomes_ = std::move(homes);
        // Only peers of the map without a reported home are looked up by where they were heard.
        for (auto it = heardFrom_.begin(); it != heardFrom_.end();) {
            const auto home = peerHomes_.find(it->first);
            it = home == peerHomes_.end() || !home->second.empty() ? heardFrom_.erase(it)
                                                                   : std::next(it);
        }
    }
    keepFallback();
}

void RelaySet::keepFallback() {
    // Peers that report no home (older versions, or not yet) are on the first region, the
    // coordination server's own: stay connected there to hear them too.
    std::string first;
    {
        std::shared_lock lock(mutex_);
        const bool needed = std::any_of(peerHomes_.begin(), peerHomes_.end(),
                                        [](const auto& p) { return p.second.empty(); });
        if (!needed || regions_.empty() || stopped_)
            return;
        first = regions_.front().name;
    }
    liveFor(first);
}

void RelaySet::reapIdle(std::chrono::steady_clock::duration idle) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<Live>> gone;
    {
        std::unique_lock lock(mutex_);
        for (auto it = live_.begin(); it != live_.end();) {
            Live& l = *it->second;
            auto& st = l.client->stats();
            const std::uint64_t count = st.sentPackets.load() + st.receivedPackets.load();
            if (count != l.lastCount) {
                l.lastCount = count;
                l.lastChange = now;
            }
            const bool fallback = !regions_.empty() && it->first == regions_.front().name &&
                                  std::any_of(peerHomes_.begin(), peerHomes_.end(),
                                              [](const auto& p) { return p.second.empty(); });
            if (it->first != home_ && it->first != pendingHome_ && !fallback &&
                now - l.lastChange >= idle) {
                gone.push_back(it->second);
                it = live_.erase(it);
            } else {
                ++it;
            }
        }
    }
    retire(std::move(gone));
}

const std::string& RelaySet::regionLocked(const crypto::PublicKey& node) const {
    const auto exists = [this](const std::string& name) {
        return std::any_of(regions_.begin(), regions_.end(),
                           [&](const Region& r) { return r.name == name; });
    };
    const auto home = peerHomes_.find(node);
    if (home != peerHomes_.end() && exists(home->second))
        return home->second;
    if (auto it = heardFrom_.find(node); it != heardFrom_.end() && exists(it->second))
        return it->second;
    // A peer that reported no home (or one we do not know) is on the coordination server's
    // own region, where every node starts; a node not in the map at all, on ours.
    if (home != peerHomes_.end() && !regions_.empty())
        return regions_.front().name;
    return home_;
}

std::string RelaySet::regionFor(const crypto::PublicKey& node) const {
    std::shared_lock lock(mutex_);
    return regionLocked(node);
}

bool RelaySet::sendTo(const crypto::PublicKey& node, std::span<const std::uint8_t> packet) {
    // The data path: one shared lock, two lookups, no allocation. A region not connected yet is
    // handed to the connector thread (a client means a TLS context read from disk and a thread
    // of its own: not work for a packet), and this packet is dropped as UDP would drop it.
    std::shared_ptr<RelayClient> client;
    {
        std::shared_lock lock(mutex_);
        const std::string& region = regionLocked(node);
        if (const auto it = live_.find(region); it != live_.end()) {
            client = it->second->client;
        } else if (!region.empty() && !stopped_) {
            std::lock_guard want(connectMutex_);
            if (std::find(connectQueue_.begin(), connectQueue_.end(), region) ==
                connectQueue_.end())
                connectQueue_.push_back(region);
            connectWake_.notify_one();
        }
    }
    return client && client->sendTo(node, packet);
}

void RelaySet::connectLoop() {
    std::unique_lock lock(connectMutex_);
    while (true) {
        connectWake_.wait(lock, [this] { return connectStop_ || !connectQueue_.empty(); });
        if (connectStop_)
            return;
        const std::string region = connectQueue_.front();
        connectQueue_.erase(connectQueue_.begin());
        lock.unlock();
        liveFor(region);
        lock.lock();
    }
}

std::string RelaySet::home() const {
    std::shared_lock lock(mutex_);
    return home_;
}

bool RelaySet::homeConnected() const {
    std::shared_lock lock(mutex_);
    const auto it = live_.find(home_);
    return it != live_.end() && it->second->client->connected();
}

std::vector<RelaySet::RegionStatus> RelaySet::status() const {
    std::shared_lock lock(mutex_);
    std::vector<RegionStatus> out;
    for (const Region& r : regions_) {
        RegionStatus s;
        s.name = r.name;
        s.home = r.name == home_;
        if (auto it = live_.find(r.name); it != live_.end()) {
            const RelayClient& c = *it->second->client;
            s.connected = c.connected();
            s.latencyUs = s.connected ? c.latencyUs() : -1;
            s.error = s.connected ? std::string() : c.lastError();
        }
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace calnet::helper
