// Tunnel: one WireGuard interface at run time — the sans-I/O wireguard::Device plus the TUN
// device, the UDP bind and the threads that move packets between them. The device and the bind
// come from a Platform (platform/platform.h): the OS's, or fakes in tests.
//
// Threads (none runs a Qt event loop):
//   outbound   TUN -> read a batch -> route + reserve counters [lock] -> seal [workers]
//              -> send the batch in order
//   inbound    UDP -> receive a batch -> transport: find keypairs [lock] -> open [workers]
//              -> replay/roaming/source checks [lock] -> write to TUN in batch order;
//              handshake messages -> handshake queue
//   handshake  pops the handshake queue; "under load" when it is 1/8 full (or was within the
//              last second), which turns on cookies and per-source rate limits
//   timers     sleeps until the Device's next deadline, then tick()s it
//
// Lock order: configMutex_ before socketLock_; mutex_ (the Device) is never held while taking
// either, and socketLock_ is taken (shared) only after mutex_ has been released.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "core/wireguard/device.h"
#include "helper/datapath/pathtable.h"
#include "helper/datapath/workerpool.h"
#include "helper/platform/platform.h"
#include "helper/uapi/devicehost.h"

namespace calnet::helper {

// Steady clock plus wall clock, read once per batch.
wireguard::Now currentTime();

class Tunnel final : public DeviceHost {
public:
    struct Stats {
        std::array<std::atomic<std::uint64_t>, wireguard::kDropReasonCount> drops{};
        std::atomic<std::uint64_t> tunReadErrors{0};
        std::atomic<std::uint64_t> handshakeQueueFull{0};
    };

    explicit Tunnel(Platform& platform = Platform::system());
    ~Tunnel() override;
    Tunnel(const Tunnel&) = delete;
    Tunnel& operator=(const Tunnel&) = delete;

    struct Options {
        // The UDP port to bind before anything can be sent (0 = a free port, as wireguard-go
        // does until `listen-port` is set). Every packet, the first handshake initiation
        // included, leaves from the port bound here or moved to by setListenPort().
        std::uint16_t listenPort = 0;
        std::uint32_t fwmark = 0;
    };

    // Creates the TUN interface (MTU 1420, as wireguard-go), binds the UDP socket and starts
    // the threads. Fails if the port is taken.
    bool start(const std::string& interfaceName, const Options& options, std::string& error);
    // Stops every thread, closes the socket and removes the interface. Idempotent. The relay
    // (deliverRelayed) must have stopped first.
    void stop();
    // Set once the TUN device failed for good (e.g. the interface was deleted).
    [[nodiscard]] bool failed() const noexcept { return failed_.load(); }

    // Runs fn with the Device locked; handshakes/keepalives it queues in Actions are sent and
    // the timer thread is re-armed afterwards. All configuration goes through here.
    void withDevice(const std::function<void(wireguard::Device&, wireguard::Now,
                                             wireguard::Actions&)>& fn) override;

    [[nodiscard]] std::uint16_t listenPort() const noexcept override { return listenPort_.load(); }
    bool setListenPort(std::uint16_t port, std::string& error) override;
    [[nodiscard]] std::uint32_t fwmark() const noexcept override { return fwmark_.load(); }
    bool setFwmark(std::uint32_t mark, std::string& error) override;

    // Where mesh peers' packets go (see PathTable); unused by plain WireGuard profiles.
    PathTable& paths() noexcept { return paths_; }
    // Sends one datagram from the WireGuard socket as it is (disco, STUN): the mapping a NAT
    // gives these is the one WireGuard traffic gets. false if it could not be sent.
    bool sendRaw(const net::SocketAddress& to, std::span<const std::uint8_t> bytes);

    // WireGuard datagrams that arrived through the relay, from the node named in each. They
    // are processed (in place) as if they came from that node's handle. One context per
    // calling thread (its buffers), from makeInboundContext().
    struct Relayed {
        std::uint8_t* data = nullptr;
        std::size_t length = 0;
        crypto::PublicKey node{};
        net::SocketAddress from; // filled in: the node's handle
    };
    struct InboundContext;
    [[nodiscard]] std::unique_ptr<InboundContext, void (*)(InboundContext*)> makeInboundContext();
    void deliverRelayed(InboundContext& context, std::span<Relayed> packets);

    [[nodiscard]] const std::string& interfaceName() const noexcept { return interfaceName_; }
    [[nodiscard]] int ifindex() const { return tun_ ? tun_->ifindex() : 0; }
    // The running interface (for its network configurator); null when stopped.
    [[nodiscard]] const TunDevice* tunDevice() const noexcept { return tun_.get(); }
    Stats& stats() noexcept { return stats_; }

private:
    struct HandshakeItem {
        std::vector<std::uint8_t> bytes;
        net::SocketAddress from;
    };

    struct Slots;
    void outboundLoop();
    void inboundLoop(Bind& bind);
    // Decrypts, checks and writes to the TUN device the transport packets in context.packets.
    void processInbound(InboundContext& context, const wireguard::Now& now);
    void handshakeLoop();
    void timerLoop();
    void sendActions(wireguard::Actions& actions);
    void queueHandshake(std::span<const std::uint8_t> bytes, const net::SocketAddress& from);
    void countDrop(wireguard::DropReason reason) noexcept;
    void rearmTimer(wireguard::Instant hint);
    // The inbound thread receives on the current bind until stopInbound() closes that bind.
    void startInbound();
    void stopInbound(Bind& bind);

    Platform& platform_;
    std::string interfaceName_;
    std::unique_ptr<TunDevice> tun_;
    std::unique_ptr<Bind> udp_;
    PathTable paths_;
    std::unique_ptr<WorkerPool> outboundPool_;
    std::unique_ptr<WorkerPool> inboundPool_;

    std::mutex mutex_; // guards device_
    wireguard::Device device_;

    // Guards which Bind udp_ is: senders hold it shared, a rebind (listen port) swaps the
    // pointer under it exclusively. configMutex_ serialises rebinds.
    std::shared_mutex socketLock_;
    std::mutex configMutex_;
    std::atomic<std::uint16_t> listenPort_{0};
    std::atomic<std::uint32_t> fwmark_{0};

    std::mutex handshakeMutex_; // guards handshakeQueue_, lastUnderLoad_
    std::condition_variable handshakeReady_;
    std::deque<HandshakeItem> handshakeQueue_;
    std::chrono::steady_clock::time_point lastUnderLoad_{};

    std::mutex timerMutex_; // guards timerDeadline_
    std::condition_variable timerWake_;
    wireguard::Instant timerDeadline_ = wireguard::kNever;

    std::atomic<bool> running_{false};
    std::atomic<bool> inboundRunning_{false};
    std::atomic<bool> failed_{false};
    bool started_ = false; // start() succeeded and stop() has not run
    std::thread outbound_;
    std::thread inbound_;
    std::thread handshake_;
    std::thread timer_;
    Stats stats_;
};

} // namespace calnet::helper
