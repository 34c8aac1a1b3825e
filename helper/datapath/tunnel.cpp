#include "helper/datapath/tunnel.h"

#include "helper/crypto/aeadselect.h"
#include "helper/datapath/offload.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

void signal(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(fd, &one, sizeof one);
}

void drain(int fd) {
    std::uint64_t v;
    [[maybe_unused]] auto r = ::read(fd, &v, sizeof v);
}

// With TUN offload one read becomes at most TunDevice::kMaxGsoSegments segments (the kernel is
// told so through IFLA_GSO_MAX_SEGS, whatever MSS the peer advertises), so the outbound side
// keeps twice the slots and stops reading when fewer than that plus one are free.
constexpr std::size_t kMaxSegmentsPerRead = TunDevice::kMaxGsoSegments;
constexpr std::size_t kOutboundSlots = kBatch + kMaxSegmentsPerRead + 1;
constexpr std::size_t kScratchBuffers = 16; // super-packets built per inbound batch

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
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    now.wall = {std::int64_t(ts.tv_sec), std::uint32_t(ts.tv_nsec)};
    return now;
}

Tunnel::Tunnel() {
    paths_.setUdpSender(
        [this](const net::SocketAddress& to, std::span<const std::uint8_t> b) { sendRaw(to, b); });
}

Tunnel::~Tunnel() {
    stop();
}

bool Tunnel::start(const std::string& interfaceName, const Options& options, std::string& error) {
    ensureTransportAeadSelected(); // once per process, before the first packet
    stopFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    inboundStopFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stopFd_ < 0 || inboundStopFd_ < 0) {
        error = std::string("eventfd: ") + std::strerror(errno);
        return false;
    }
    if (!tun_.open(interfaceName, !std::getenv("CALNET_NO_TUN_OFFLOAD"), error))
        return false;
    tun_.setMtu(kDefaultMtu);
    device_.setMtu(kDefaultMtu);
    if (!udp_.open(options.listenPort, options.fwmark, error)) {
        tun_.close();
        return false;
    }
    listenPort_ = udp_.port();
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
    if (stopFd_ < 0)
        return;
    running_ = false;
    signal(stopFd_);
    stopInbound();
    handshakeReady_.notify_all();
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
    udp_.close();
    tun_.close();
    ::close(stopFd_);
    ::close(inboundStopFd_);
    stopFd_ = inboundStopFd_ = -1;
}

void Tunnel::startInbound() {
    drain(inboundStopFd_);
    inboundRunning_ = true;
    inbound_ = std::thread([this] { inboundLoop(); });
}

void Tunnel::stopInbound() {
    inboundRunning_ = false;
    signal(inboundStopFd_);
    if (inbound_.joinable())
        inbound_.join();
}

bool Tunnel::waitReadable(int fd, int wakeFd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wakeFd, POLLIN, 0}};
    const int r = ::poll(fds, 2, 1000);
    if (r <= 0 || (fds[1].revents & POLLIN))
        return false;
    return (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
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
        if (paths_.resolveOne(t.to, t.bytes))
            udp_.sendOne(t.to, t.bytes.data(), t.bytes.size());
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
    if (port != 0 && port == listenPort_)
        return true;
    UdpSocket fresh;
    if (!fresh.open(port, fwmark_, error))
        return false;
    stopInbound();
    {
        std::unique_lock lock(socketLock_);
        udp_.swap(fresh);
        listenPort_ = udp_.port();
    }
    fresh.close();
    startInbound();
    return true;
}

bool Tunnel::setFwmark(std::uint32_t mark, std::string& error) {
    std::lock_guard config(configMutex_);
    std::shared_lock lock(socketLock_);
    if (!udp_.setFwmark(mark)) {
        error = std::string("SO_MARK: ") + std::strerror(errno);
        return false;
    }
    fwmark_ = mark;
    return true;
}

// ---- outbound: TUN -> UDP ----------------------------------------------------------------------

std::size_t Tunnel::readTun(Slots& slots, std::span<std::size_t> slotOf,
                            std::span<std::size_t> lengths) {
    const bool vnet = tun_.offload();
    std::size_t n = 0;    // packets
    std::size_t used = 0; // slots
    while (used + (vnet ? kMaxSegmentsPerRead + 1 : 1) <= slots.storage.size() / kSlotSize) {
        std::uint8_t* slot = slots.at(used);
        // The inner packet must land at slot + 16 (room for the transport header); with
        // offload the 10-byte virtio header sits right before it.
        const std::size_t headroom =
            vnet ? wg::kTransportHeaderLen - offload::kVirtioNetHdrLen : wg::kTransportHeaderLen;
        const long len = tun_.read(slot + headroom, kMaxInner);
        if (len == 0)
            break;
        if (len < 0) {
            stats_.tunReadErrors.fetch_add(1, std::memory_order_relaxed);
            if (len == -EBADFD || len == -EIO || len == -ENODEV) {
                failed_ = true; // the interface went away
                running_ = false;
            }
            break;
        }
        if (!vnet) {
            slotOf[n] = used++;
            lengths[n++] = std::size_t(len);
            continue;
        }
        if (std::size_t(len) < offload::kVirtioNetHdrLen) {
            countDrop(wg::DropReason::InvalidIpPacket);
            continue;
        }
        const auto hdr = offload::VirtioNetHdr::decode(slot + headroom);
        const auto packet = std::span<std::uint8_t>(slot + wg::kTransportHeaderLen,
                                                    std::size_t(len) - offload::kVirtioNetHdrLen);
        if (hdr.gsoType == offload::kVirtioNetHdrGsoNone) {
            if (!offload::completeChecksum(hdr, packet)) {
                countDrop(wg::DropReason::InvalidIpPacket);
                continue;
            }
            slotOf[n] = used++;
            lengths[n++] = packet.size();
            continue;
        }
        // A TSO super-packet: cut it into MTU-sized segments in the following slots.
        const int count = offload::segmentCount(hdr, packet);
        if (count <= 0 || std::size_t(count) > kMaxSegmentsPerRead) {
            countDrop(wg::DropReason::InvalidIpPacket);
            continue;
        }
        std::array<std::uint8_t*, kMaxSegmentsPerRead> out;
        std::array<std::size_t, kMaxSegmentsPerRead> outLengths;
        for (int k = 0; k < count; ++k)
            out[std::size_t(k)] = slots.at(used + 1 + std::size_t(k)) + wg::kTransportHeaderLen;
        const int made =
            offload::segment(hdr, packet, std::span(out.data(), std::size_t(count)), kMaxInner,
                             std::span(outLengths.data(), std::size_t(count)));
        if (made <= 0) {
            countDrop(wg::DropReason::InvalidIpPacket);
            continue;
        }
        for (int k = 0; k < made; ++k) {
            slotOf[n] = used + 1 + std::size_t(k);
            lengths[n++] = outLengths[std::size_t(k)];
        }
        used += 1 + std::size_t(made);
    }
    return n;
}

void Tunnel::outboundLoop() {
    Slots slots(kOutboundSlots);
    std::array<std::size_t, kOutboundSlots> slotOf{};
    std::array<std::size_t, kOutboundSlots> lengths{};
    std::array<wg::SendTicket, kOutboundSlots> tickets;
    std::array<std::size_t, kOutboundSlots> sendable{};
    std::array<Datagram, kOutboundSlots> datagrams;
    wg::Actions actions;

    while (running_) {
        if (!waitReadable(tun_.fd(), stopFd_))
            continue;
        const std::size_t n = readTun(slots, slotOf, lengths);
        if (n == 0)
            continue;

        const wg::Now now = currentTime();
        std::size_t m = 0;
        wg::Instant hint;
        {
            std::lock_guard lock(mutex_);
            for (std::size_t i = 0; i < n; ++i) {
                wg::DropReason reason = wg::DropReason::None;
                const auto packet = std::span<const std::uint8_t>(
                    slots.at(slotOf[i]) + wg::kTransportHeaderLen, lengths[i]);
                if (device_.prepareOutbound(packet, now, tickets[i], reason, actions) ==
                    wg::OutboundResult::Send)
                    sendable[m++] = i;
                countDrop(reason);
            }
            hint = device_.deadlineHint();
        }

        outboundPool_->parallelFor(m, [&](std::size_t k) {
            const std::size_t i = sendable[k];
            std::uint8_t* slot = slots.at(slotOf[i]);
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
            udp_.send(std::span(datagrams.data(), out));
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
    Slots scratch{kScratchBuffers};
    std::array<std::uint8_t*, kScratchBuffers> scratchBuffers{};
    offload::TcpCoalescer coalescer{kBatch * 64};
    std::vector<offload::TcpCoalescer::Input> toTun;
    std::vector<offload::TcpCoalescer::Output> writes;
    std::vector<Packet> packets;
    wg::Actions actions;
    WorkerPool* pool = nullptr; // the UDP thread's crypto workers; null = decrypt inline

    InboundContext() {
        for (std::size_t i = 0; i < kScratchBuffers; ++i)
            scratchBuffers[i] = scratch.at(i);
        toTun.reserve(kBatch * 64);
        writes.reserve(kBatch * 64);
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
    return udp_.sendOne(to, bytes.data(), bytes.size());
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

void Tunnel::inboundLoop() {
    Slots slots(kBatch);
    InboundContext ctx;
    ctx.pool = inboundPool_.get();
    std::array<Datagram, kBatch> datagrams;
    for (std::size_t i = 0; i < kBatch; ++i)
        datagrams[i] = Datagram{slots.at(i), kSlotSize, 0, {}, 0};

    while (inboundRunning_) {
        int fd;
        {
            std::shared_lock lock(socketLock_);
            fd = udp_.fd();
        }
        if (!waitReadable(fd, inboundStopFd_))
            continue;
        int got;
        {
            std::shared_lock lock(socketLock_);
            got = udp_.receive(std::span(datagrams.data(), kBatch));
        }
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
    if (tun_.offload()) {
        // Merge runs of one TCP flow into super-packets: one write and one pass through
        // the kernel's TCP receive path instead of dozens.
        ctx.toTun.clear();
        for (auto& p : packets)
            if (p.innerLength > 0)
                ctx.toTun.push_back({p.data + wg::kTransportHeaderLen, p.innerLength});
        for (std::size_t done = 0; done < ctx.toTun.size();) {
            done += ctx.coalescer.build(std::span(ctx.toTun).subspan(done), ctx.scratchBuffers,
                                        ctx.writes);
            for (const auto& w : ctx.writes)
                tun_.write(w.data, w.length);
        }
    } else {
        for (auto& p : packets)
            if (p.innerLength > 0)
                tun_.write(p.data + wg::kTransportHeaderLen, p.innerLength);
    }
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
        const int mtu = tun_.mtu();
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
