#include "helper/platform/fake/fakeplatform.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace calnet::helper::fake {

namespace {

net::SocketAddress loopback(std::uint16_t port) {
    return *net::SocketAddress::parse("127.0.0.1:" + std::to_string(port));
}

} // namespace

// ---- FakeNetwork -------------------------------------------------------------------------------

void FakeNetwork::setBlackhole(bool on) {
    std::lock_guard lock(mutex_);
    blackhole_ = on;
}

std::uint64_t FakeNetwork::delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
}

FakeBind* FakeNetwork::bindAt(std::uint16_t port) const {
    std::lock_guard lock(mutex_);
    const auto it = binds_.find(port);
    return it == binds_.end() ? nullptr : it->second;
}

bool FakeNetwork::attach(std::uint16_t& port, FakeBind* bind) {
    std::lock_guard lock(mutex_);
    if (port == 0) {
        while (binds_.count(nextPort_))
            ++nextPort_;
        port = nextPort_++;
    }
    return binds_.emplace(port, bind).second;
}

void FakeNetwork::detach(std::uint16_t port, FakeBind* bind) {
    std::lock_guard lock(mutex_);
    const auto it = binds_.find(port);
    if (it != binds_.end() && it->second == bind)
        binds_.erase(it);
}

bool FakeNetwork::deliver(std::uint16_t from, const net::SocketAddress& to,
                          const std::uint8_t* data, std::size_t length) {
    // The lock is held while queueing, so a bind cannot be detached and destroyed meanwhile.
    std::lock_guard lock(mutex_);
    if (blackhole_)
        return true; // sent, then lost
    const auto it = binds_.find(to.port);
    if (it == binds_.end())
        return true; // nobody listens: lost, as UDP
    it->second->push(loopback(from), data, length);
    ++delivered_;
    return true;
}

// ---- FakeBind ----------------------------------------------------------------------------------

FakeBind::FakeBind(FakeNetwork& network) : network_(network) {}

FakeBind::~FakeBind() {
    network_.detach(port_, this);
}

bool FakeBind::setFwmark(std::uint32_t mark) {
    std::lock_guard lock(mutex_);
    fwmark_ = mark;
    return true;
}

std::uint32_t FakeBind::fwmark() const {
    std::lock_guard lock(mutex_);
    return fwmark_;
}

void FakeBind::push(const net::SocketAddress& from, const std::uint8_t* data, std::size_t length) {
    std::lock_guard lock(mutex_);
    if (closed_)
        return;
    queue_.emplace_back(from, Bytes(data, data + length));
    ready_.notify_one();
}

int FakeBind::receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); });
    if (closed_)
        return kClosed;
    int got = 0;
    while (std::size_t(got) < batch.size() && !queue_.empty()) {
        Datagram& d = batch[std::size_t(got)];
        auto& [from, bytes] = queue_.front();
        if (bytes.size() > d.capacity) {
            queue_.pop_front(); // truncated datagrams are dropped, as the kernel reports them
            continue;
        }
        std::memcpy(d.data, bytes.data(), bytes.size());
        d.length = bytes.size();
        d.peer = from;
        d.segmentSize = 0;
        queue_.pop_front();
        ++got;
    }
    return got;
}

int FakeBind::send(std::span<const Datagram> batch) noexcept {
    int sent = 0;
    for (const Datagram& d : batch)
        sent += sendOne(d.peer, d.data, d.length) ? 1 : 0;
    return sent;
}

bool FakeBind::sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                       std::size_t length) noexcept {
    return network_.deliver(port_, to, data, length);
}

void FakeBind::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
}

// ---- FakeTunDevice -----------------------------------------------------------------------------

FakeTunDevice::FakeTunDevice(std::string name, int ifindex, FakePlatform* owner)
    : name_(std::move(name)), ifindex_(ifindex), owner_(owner) {}

FakeTunDevice::~FakeTunDevice() {
    if (owner_) {
        std::lock_guard lock(owner_->mutex_);
        const auto it = owner_->tuns_.find(name_);
        if (it != owner_->tuns_.end() && it->second == this)
            owner_->tuns_.erase(it);
    }
}

int FakeTunDevice::ifindex() const {
    std::lock_guard lock(mutex_);
    return gone_ ? 0 : ifindex_;
}

int FakeTunDevice::mtu() const {
    std::lock_guard lock(mutex_);
    return gone_ ? 0 : mtu_;
}

bool FakeTunDevice::setMtu(int mtu) {
    std::lock_guard lock(mutex_);
    mtu_ = mtu;
    return !gone_;
}

TunDevice::ReadResult FakeTunDevice::read(std::span<std::uint8_t*> buffers,
                                          std::span<std::size_t> sizes, std::size_t capacity,
                                          std::chrono::milliseconds timeout) {
    ReadResult result;
    std::unique_lock lock(mutex_);
    readable_.wait_for(lock, timeout, [&] { return closed_ || gone_ || !toTunnel_.empty(); });
    if (closed_) {
        result.gone = true;
        return result;
    }
    if (gone_) {
        result.gone = true;
        result.error = EBADF;
        return result;
    }
    std::size_t n = 0;
    while (n < buffers.size() && !toTunnel_.empty()) {
        Bytes& packet = toTunnel_.front();
        if (packet.empty() || packet.size() > capacity) {
            ++result.malformed;
        } else {
            // The headroom is the device's to use: scribble on it, as a real device may.
            std::memset(buffers[n] - kHeadroom, 0xa5, kHeadroom);
            std::memcpy(buffers[n], packet.data(), packet.size());
            sizes[n++] = packet.size();
        }
        toTunnel_.pop_front();
    }
    result.packets = n;
    return result;
}

void FakeTunDevice::write(std::span<const Packet> packets) {
    std::lock_guard lock(mutex_);
    if (closed_ || gone_)
        return;
    for (const Packet& p : packets) {
        fromTunnel_.emplace_back(p.data, p.data + p.length);
        std::memset(p.data - kHeadroom, 0x5a, kHeadroom); // as a virtio header would
    }
    written_.notify_all();
}

void FakeTunDevice::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    readable_.notify_all();
}

bool FakeTunDevice::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

void FakeTunDevice::inject(Bytes packet) {
    std::lock_guard lock(mutex_);
    toTunnel_.push_back(std::move(packet));
    readable_.notify_one();
}

std::vector<Bytes> FakeTunDevice::takeWritten(std::size_t count,
                                              std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    written_.wait_for(lock, timeout, [&] { return fromTunnel_.size() >= count; });
    std::vector<Bytes> out;
    while (out.size() < count && !fromTunnel_.empty()) {
        out.push_back(std::move(fromTunnel_.front()));
        fromTunnel_.pop_front();
    }
    return out;
}

void FakeTunDevice::remove() {
    std::lock_guard lock(mutex_);
    gone_ = true;
    readable_.notify_all();
}

// ---- FakeConfigurator --------------------------------------------------------------------------

FakeConfigurator::FakeConfigurator(std::string ifname, std::shared_ptr<Log> log,
                                   std::optional<std::string> failWith,
                                   std::optional<std::uint32_t> fwmark)
    : ifname_(std::move(ifname)), log_(std::move(log)), failWith_(std::move(failWith)),
      fwmark_(fwmark) {}

bool FakeConfigurator::apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
                             const Options&, std::string& error) {
    if (failWith_) {
        error = *failWith_;
        return false;
    }
    if (fwmark_ && !setFwmark(*fwmark_, error))
        return false;
    log_->applied.push_back(ifname_);
    log_->fwmark = fwmark_.value_or(0);
    log_->addresses.clear();
    for (const auto& a : config.interface.addresses)
        log_->addresses.push_back(a.toString());
    log_->routes.clear();
    for (const auto& peer : config.peers)
        for (const auto& prefix : peer.allowedIps)
            log_->routes.push_back(prefix.masked().toString());
    log_->dns.clear();
    for (const auto& server : config.interface.dnsServers)
        log_->dns.push_back(server.toString());
    applied_ = true;
    return true;
}

UndoReport FakeConfigurator::rollback() {
    UndoReport report;
    if (applied_) {
        ++log_->rollbacks;
        report.undone = log_->addresses.size() + log_->routes.size();
        applied_ = false;
    }
    return report;
}

// ---- FakePlatform ------------------------------------------------------------------------------

std::unique_ptr<TunDevice> FakePlatform::createTun(const std::string& name, std::string& error) {
    std::lock_guard lock(mutex_);
    if (name.empty() || name.size() > 15) {
        error = "interface name must be 1 to 15 bytes";
        return nullptr;
    }
    if (tuns_.count(name)) {
        error = "TUNSETIFF " + name + ": Device or resource busy";
        return nullptr;
    }
    auto tun = std::make_unique<FakeTunDevice>(name, nextIfindex_++, this);
    tuns_[name] = tun.get();
    return tun;
}

std::unique_ptr<Bind> FakePlatform::openBind(std::uint16_t port, std::uint32_t fwmark,
                                             std::string& error) {
    auto bind = std::unique_ptr<FakeBind>(new FakeBind(network_));
    std::uint16_t chosen = port;
    if (!network_.attach(chosen, bind.get())) {
        error = "bind port " + std::to_string(port) + ": Address already in use";
        return nullptr;
    }
    bind->port_ = chosen;
    if (fwmark != 0)
        bind->setFwmark(fwmark);
    std::lock_guard lock(mutex_);
    opened_.push_back(chosen);
    return bind;
}

std::unique_ptr<NetworkConfigurator> FakePlatform::configurator(const TunDevice& tun,
                                                                const std::string&, std::string&) {
    std::lock_guard lock(mutex_);
    return std::make_unique<FakeConfigurator>(tun.name(), log_, failApply_, fwmark_);
}

UndoReport FakePlatform::rollbackLeftovers(const std::string& stateDir) {
    std::lock_guard lock(mutex_);
    leftoverCalls_.push_back(stateDir);
    return leftovers_;
}

void FakePlatform::setLeftovers(UndoReport report) {
    std::lock_guard lock(mutex_);
    leftovers_ = std::move(report);
}

std::vector<std::uint16_t> FakePlatform::bindsOpened() const {
    std::lock_guard lock(mutex_);
    return opened_;
}

FakeBind* FakePlatform::bind(std::uint16_t port) const {
    return network_.bindAt(port);
}

std::optional<net::SocketAddress> FakePlatform::resolve(const std::string& host, std::uint16_t port,
                                                        std::string& error) {
    std::lock_guard lock(mutex_);
    const auto it = hosts_.find(host);
    if (it == hosts_.end()) {
        error = "cannot resolve " + host + ": Name or service not known";
        return std::nullopt;
    }
    net::SocketAddress out = it->second;
    out.port = port;
    return out;
}

FakeTunDevice* FakePlatform::tun(const std::string& name) const {
    std::lock_guard lock(mutex_);
    const auto it = tuns_.find(name);
    return it == tuns_.end() ? nullptr : it->second;
}

std::size_t FakePlatform::liveTuns() const {
    std::lock_guard lock(mutex_);
    return tuns_.size();
}

void FakePlatform::addHost(const std::string& host, const net::SocketAddress& address) {
    std::lock_guard lock(mutex_);
    hosts_[host] = address;
}

std::vector<std::string> FakePlatform::leftoverCalls() const {
    std::lock_guard lock(mutex_);
    return leftoverCalls_;
}

} // namespace calnet::helper::fake
