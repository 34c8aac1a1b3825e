#include "helper/datapath/tunnel.h"

#include "helper/crypto/aeadselect.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace calnet::helper {

namespace wg = calnet::wireguard;

namespace {

constexpr std::size_t kBatch = 64;
// One slot holds the largest datagram: 16-byte header, inner packet up to 64 KiB, padding, tag.
constexpr std::size_t kSlotSize = 65536 + 64;
constexpr std::size_t kMaxInner = kSlotSize - wg::kTransportOverhead - wg::kPaddingMultiple;
constexpr std::size_t kHandshakeQueueMax = 1024;
constexpr std::size_t kUnderLoadThreshold = kHandshakeQueueMax / 8;
constexpr auto kUnderLoadHold = std::chrono::seconds(1);
constexpr int kDefaultMtu = 1420;
// How long a data-path thread blocks in a read before it looks at its running flag again
// (close() wakes it at once; this only bounds the wait if a wake-up were ever lost).
constexpr auto kPollInterval = std::chrono::milliseconds(1000);

std::chrono::steady_clock::time_point toTimePoint(wg::Instant t) {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(t));
}

unsigned cryptoThreads() {
    if (const char* env = std::getenv("CALNET_CRYPTO_THREADS"))
        return unsigned(std::strtoul(env, nullptr, 10));
    const unsigned n = std::thread::hardware_concurrency();
    return n > 1 ? n - 1 : 0;
}

} // namespace

// Fixed packet buffers of one thread, kSlotSize each.
struct Tunnel::Slots {
    explicit Slots(std::size_t count) : storage(count * kSlotSize) {}
    std::vector<std::uint8_t> storage;
    std::uint8_t* at(std::size_t i) { return storage.data() + i * kSlotSize; }
};

wg::Now currentTime() {
    wg::Now now;
    now.mono = std::chrono::duration_cast<wg::Instant>(
        std::chrono::steady_clock::now().time_since_epoch());
    const auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    now.wall = {std::int64_t(wall.count() / 1000000000), std::uint32_t(wall.count() % 1000000000)};
    return now;
}

Tunnel::Tunnel(Platform& platform) : platform_(platform) {
    paths_.setUdpSender(
        [this](const net::SocketAddress& to, std::span<const std::uint8_t> b) { sendRaw(to, b); });
}

Tunnel::~Tunnel() {
    stop();
}

bool Tunnel::start(const std::string& interfaceName, const Options& options, std::string& error) {
    ensureTransportAeadSelected(); // once per process, before the first packet
    if (started_)
        stop();
    interfaceName_ = interfaceName;
    tun_ = platform_.createTun(interfaceName, error);
    if (!tun_)
        return false;
    tun_->setMtu(kDefaultMtu);
    device_.setMtu(kDefaultMtu);
    udp_ = platform_.openBind(options.listenPort, options.fwmark, error);
    if (!udp_) {
        tun_.reset();
        return false;
    }
    started_ = true;
    listenPort_ = udp_->port();
    fwmark_ = options.fwmark;
    const unsigned threads = cryptoThreads();
    outboundPool_ = std::make_unique<WorkerPool>(threads);
    inboundPool_ = std::make_unique<WorkerPool>(threads);
    running_ = true;
    outbound_ = std::thread([this] { outboundLoop(); });
    handshake_ = std::thread([this] { handshakeLoop(); });
    timer_ = std::thread([this] { timerLoop(); });
    startInbound();
    return true;
}

void Tunnel::stop() {
    if (!started_)
        return;
    started_ = false;
    running_ = false;
    tun_->close();
    stopInbound(*udp_);
    {
        std::lock_guard lock(handshakeMutex_); // no wake-up lost between its check and its wait
        handshakeReady_.notify_all();
    }
    {
        std::lock_guard lock(timerMutex_);
        timerWake_.notify_all();
    }
    for (std::thread* t : {&outbound_, &handshake_, &timer_})
        if (t->joinable())
            t->join();
    outboundPool_.reset();
    inboundPool_.reset();
    {
        std::lock_guard lock(mutex_);
        device_.removeAllPeers();
        device_.clearPrivateKey();
    }
    {
        std::unique_lock lock(socketLock_);
        udp_.reset();
    }
    listenPort_ = 0;
    tun_.reset();
}

void Tunnel::startInbound() {
    inboundRunning_ = true;
    inbound_ = std::thread([this, bind = udp_.get()] { inboundLoop(*bind); });
}

void Tunnel::stopInbound(Bind& bind) {
    inboundRunning_ = false;
    bind.close();
    if (inbound_.joinable())
        inbound_.join();
}

void Tunnel::countDrop(wg::DropReason reason) noexcept {
    if (reason != wg::DropReason::None)
        stats_.drops[std::size_t(reason)].fetch_add(1, std::memory_order_relaxed);
}

void Tunnel::rearmTimer(wg::Instant hint) {
    std::lock_guard lock(timerMutex_);
    if (hint < timerDeadline_) {
        timerDeadline_ = hint;
        timerWake_.notify_one();
    }
}

void Tunnel::sendActions(wg::Actions& actions) {
    if (actions.transmits.empty())
        return;
    std::shared_lock lock(socketLock_);
    for (auto& t : actions.transmits)
        if (udp_ && paths_.resolveOne(t.to, t.bytes))
            udp_->sendOne(t.to, t.bytes.data(), t.bytes.size());
    actions.transmits.clear();
}

void Tunnel::withDevice(const std::function<void(wg::Device&, wg::Now, wg::Actions&)>& fn) {
    const wg::Now now = currentTime();
    wg::Actions actions;
    wg::Instant hint;
    {
        std::lock_guard lock(mutex_);
        fn(device_, now, actions);
        hint = device_.deadlineHint();
    }
    sendActions(actions);
    rearmTimer(hint);
}

bool Tunnel::setListenPort(std::uint16_t port, std::string& error) {
    std::lock_guard config(configMutex_);
    if (!started_) {
        error = "the interface is not running";
        return false;
    }
    if (port != 0 && port == listenPort_)
        return true;
    std::unique_ptr<Bind> fresh = platform_.openBind(port, fwmark_, error);
    if (!fresh)
        return false;
    // Senders move to the new socket at once; the old one is closed (which ends its receiving
    // thread) and destroyed only after that thread returned.
    {
        std::unique_lock lock(socketLock_);
        std::swap(udp_, fresh);
        listenPort_ = udp_->port();
    }
    stopInbound(*fresh);
    startInbound();
    return true;
}

bool Tunnel::setFwmark(std::uint32_t mark, std::string& error) {
    std::lock_guard config(configMutex_);
    std::shared_lock lock(socketLock_);
    if (!udp_) {
        error = "the interface is not running";
        return false;
    }
    if (!udp_->setFwmark(mark)) {
        error = std::string("SO_MARK: ") + std::strerror(errno);
        return false;
    }
    fwmark_ = mark;
    return true;
}

// ---- outbound: TUN -> UDP ----------------------------------------------------------------------

void Tunnel::outboundLoop() {
    const std::size_t slotCount = kBatch + tun_->minBuffersPerRead();
    Slots slots(slotCount);
    std::vector<std::uint8_t*> packets(slotCount); // where packet i sits; the TUN may reorder
    std::vector<std::size_t> lengths(slotCount);
    std::vector<wg::SendTicket> tickets(slotCount);
    std::vector<std::size_t> sendable(slotCount);
    std::vector<Datagram> datagrams(slotCount);
    wg::Actions actions;

    while (running_) {
        // The inner packet lands at slot + 16: room for the transport header, and the TUN
        // device's headroom.
        for (std::size_t i = 0; i < slotCount; ++i)
            packets[i] = slots.at(i) + wg::kTransportHeaderLen;
        const TunDevice::ReadResult read = tun_->read(packets, lengths, kMaxInner, kPollInterval);
        if (read.malformed)
            stats_.drops[std::size_t(wg::DropReason::InvalidIpPacket)].fetch_add(
                read.malformed, std::memory_order_relaxed);
        if (read.error) {
            stats_.tunReadErrors.fetch_add(1, std::memory_order_relaxed);
            if (read.gone) {
                failed_ = true; // the interface went away
                running_ = false;
            }
        }
        const std::size_t n = read.packets;
        if (n == 0)
            continue;

        const wg::Now now = currentTime();
        std::size_t m = 0;
        wg::Instant hint;
        {
            std::lock_guard lock(mutex_);
            for (std::size_t i = 0; i < n; ++i) {
                wg::DropReason reason = wg::DropReason::None;
                const auto packet = std::span<const std::uint8_t>(packets[i], lengths[i]);
                if (device_.prepareOutbound(packet, now, tickets[i], reason, actions) ==
                    wg::OutboundResult::Send)
                    sendable[m++] = i;
                countDrop(reason);
            }
            hint = device_.deadlineHint();
        }

        outboundPool_->parallelFor(m, [&](std::size_t k) {
            const std::size_t i = sendable[k];
            std::uint8_t* slot = packets[i] - wg::kTransportHeaderLen;
            const wg::SendTicket& t = tickets[i];
            std::memset(slot + wg::kTransportHeaderLen + lengths[i], 0,
                        t.paddedLength - lengths[i]);
            t.keypair->seal(t.counter, slot, t.paddedLength);
            datagrams[k] =
                Datagram{slot, kSlotSize, t.paddedLength + wg::kTransportOverhead, t.to, 0};
        });
        std::size_t out = m;
        if (paths_.active()) {
            // Mesh peers: the handle becomes the chosen path's address, or the datagram goes
            // through the relay.
            std::uint64_t noPath = 0;
            out = paths_.resolve(std::span(datagrams.data(), m), noPath);
            if (noPath)
                stats_.drops[std::size_t(wg::DropReason::NoEndpoint)].fetch_add(
                    noPath, std::memory_order_relaxed);
        }
        {
            std::shared_lock lock(socketLock_);
            udp_->send(std::span(datagrams.data(), out));
        }
        for (std::size_t k = 0; k < m; ++k)
            tickets[sendable[k]].keypair.reset();
        sendActions(actions);
        rearmTimer(hint);
    }
}

// ---- inbound: UDP -> TUN -----------------------------------------------------------------------

// The buffers of one thread that feeds transport packets to processInbound().
struct Tunnel::InboundContext {
    struct Packet {
        std::uint8_t* data;
        std::size_t length;
        const net::SocketAddress* from;
        wg::RecvTicket ticket;
        bool opened;
        std::size_t innerLength;
    };
    std::vector<TunDevice::Packet> toTun;
    std::vector<Packet> packets;
    wg::Actions actions;
    WorkerPool* pool = nullptr; // the UDP thread's crypto workers; null = decrypt inline

    InboundContext() {
        toTun.reserve(kBatch * 64);
        packets.reserve(kBatch * 64);
    }
};

std::unique_ptr<Tunnel::InboundContext, void (*)(Tunnel::InboundContext*)>
Tunnel::makeInboundContext() {
    return {new InboundContext, [](InboundContext* c) { delete c; }};
}

bool Tunnel::sendRaw(const net::SocketAddress& to, std::span<const std::uint8_t> bytes) {
    if (PathTable::isHandle(to))
        return false;
    std::shared_lock lock(socketLock_);
    return udp_ && udp_->sendOne(to, bytes.data(), bytes.size());
}

void Tunnel::deliverRelayed(InboundContext& ctx, std::span<Relayed> relayed) {
    if (!running_)
        return;
    ctx.packets.clear();
    for (Relayed& r : relayed) {
        const auto handle = paths_.handleOf(r.node);
        if (!handle) {
            countDrop(wg::DropReason::BadMessage);
            continue;
        }
        r.from = *handle;
        const auto bytes = std::span<std::uint8_t>(r.data, r.length);
        const auto type = wg::messageType(bytes);
        if (!type)
            countDrop(wg::DropReason::BadMessage);
        else if (*type == wg::MessageType::TransportData)
            ctx.packets.push_back({r.data, r.length, &r.from, {}, false, 0});
        else
            queueHandshake(bytes, r.from);
    }
    if (!ctx.packets.empty())
        processInbound(ctx, currentTime());
}

void Tunnel::inboundLoop(Bind& bind) {
    Slots slots(kBatch);
    InboundContext ctx;
    ctx.pool = inboundPool_.get();
    std::array<Datagram, kBatch> datagrams;
    for (std::size_t i = 0; i < kBatch; ++i)
        datagrams[i] = Datagram{slots.at(i), kSlotSize, 0, {}, 0};

    // This thread owns `bind` until it is closed (stop or a rebind); the socket lock only
    // guards which Bind the senders use.
    while (inboundRunning_) {
        const int got = bind.receive(std::span(datagrams.data(), kBatch), kPollInterval);
        if (got == Bind::kClosed)
            break;
        if (got <= 0)
            continue;

        ctx.packets.clear();
        for (int i = 0; i < got; ++i) {
            const Datagram& d = datagrams[i];
            const std::size_t step = d.segmentSize ? d.segmentSize : d.length;
            for (std::size_t off = 0; off < d.length; off += step) {
                const auto bytes =
                    std::span<std::uint8_t>(d.data + off, std::min(step, d.length - off));
                const auto type = wg::messageType(bytes);
                if (!type) {
                    // Disco and STUN share the socket; anything else is noise.
                    if (!paths_.deliverOther(bytes, d.peer))
                        countDrop(wg::DropReason::BadMessage);
                } else if (*type == wg::MessageType::TransportData) {
                    ctx.packets.push_back({bytes.data(), bytes.size(), &d.peer, {}, false, 0});
                } else {
                    queueHandshake(bytes, d.peer);
                }
            }
        }
        if (!ctx.packets.empty())
            processInbound(ctx, currentTime());
    }
}

void Tunnel::processInbound(InboundContext& ctx, const wg::Now& now) {
    auto& packets = ctx.packets;
    {
        std::lock_guard lock(mutex_);
        for (auto& p : packets) {
            const auto r = device_.prepareInbound({p.data, p.length}, now, p.ticket);
            p.opened = r == wg::DropReason::None;
            countDrop(r);
        }
    }
    auto open = [&](std::size_t k) {
        auto& p = packets[k];
        if (p.opened) {
            p.opened = p.ticket.keypair->open(p.data, p.length);
            if (!p.opened)
                countDrop(wg::DropReason::DecryptFailed);
        }
    };
    if (ctx.pool) {
        ctx.pool->parallelFor(packets.size(), open);
    } else {
        for (std::size_t k = 0; k < packets.size(); ++k)
            open(k);
    }
    wg::Instant hint;
    {
        std::lock_guard lock(mutex_);
        for (auto& p : packets) {
            p.innerLength = 0;
            if (!p.opened)
                continue;
            wg::DropReason reason = wg::DropReason::None;
            std::size_t inner = 0;
            if (device_.completeInbound(p.ticket, {p.data, p.length}, *p.from, now, inner, reason,
                                        ctx.actions) == wg::InboundResult::WriteToTun)
                p.innerLength = inner;
            countDrop(reason);
        }
        hint = device_.deadlineHint();
    }
    // The transport header before each inner packet is the TUN device's headroom.
    ctx.toTun.clear();
    for (auto& p : packets)
        if (p.innerLength > 0)
            ctx.toTun.push_back({p.data + wg::kTransportHeaderLen, p.innerLength});
    if (!ctx.toTun.empty())
        tun_->write(ctx.toTun);
    for (auto& p : packets)
        p.ticket.keypair.reset();
    sendActions(ctx.actions);
    rearmTimer(hint);
}

void Tunnel::queueHandshake(std::span<const std::uint8_t> bytes, const net::SocketAddress& from) {
    std::lock_guard lock(handshakeMutex_);
    if (handshakeQueue_.size() >= kHandshakeQueueMax) {
        stats_.handshakeQueueFull.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    handshakeQueue_.push_back({{bytes.begin(), bytes.end()}, from});
    handshakeReady_.notify_one();
}

// ---- handshakes --------------------------------------------------------------------------------

void Tunnel::handshakeLoop() {
    wg::Actions actions;
    while (running_) {
        HandshakeItem item;
        bool underLoad;
        {
            std::unique_lock lock(handshakeMutex_);
            handshakeReady_.wait_for(lock, std::chrono::milliseconds(500),
                                     [&] { return !running_ || !handshakeQueue_.empty(); });
            if (!running_ || handshakeQueue_.empty())
                continue;
            const auto steadyNow = std::chrono::steady_clock::now();
            if (handshakeQueue_.size() >= kUnderLoadThreshold)
                lastUnderLoad_ = steadyNow;
            underLoad = steadyNow - lastUnderLoad_ < kUnderLoadHold;
            item = std::move(handshakeQueue_.front());
            handshakeQueue_.pop_front();
        }
        const wg::Now now = currentTime();
        wg::Instant hint;
        {
            std::lock_guard lock(mutex_);
            countDrop(device_.handleHandshake(item.bytes, item.from, now, underLoad, actions));
            hint = device_.deadlineHint();
        }
        sendActions(actions);
        rearmTimer(hint);
    }
}

// ---- timers ------------------------------------------------------------------------------------

void Tunnel::timerLoop() {
    wg::Actions actions;
    while (running_) {
        const wg::Now now = currentTime();
        wg::Instant next;
        const int mtu = tun_->mtu();
        {
            std::lock_guard lock(mutex_);
            if (mtu > 0)
                device_.setMtu(std::size_t(mtu));
            next = device_.tick(now, actions);
        }
        sendActions(actions);
        std::unique_lock lock(timerMutex_);
        timerDeadline_ = next;
        const wg::Instant wakeAt = std::min(next, now.mono + std::chrono::seconds(1));
        timerWake_.wait_until(lock, toTimePoint(wakeAt),
                              [&] { return !running_ || timerDeadline_ < wakeAt; });
    }
}

} // namespace calnet::helper
