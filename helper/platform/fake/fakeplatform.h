// Fakes of the platform interfaces (as wireguard-go's tuntest and bindtest), so the data path
// and the service logic run in tests without root, a TUN device or the host's routes:
//
//   FakeNetwork       a switch: every FakeBind on it has a port; a datagram sent to any address
//                     with that port arrives at that bind, from 127.0.0.1:<sender's port>
//   FakeTunDevice     the OS side of a TUN: inject() hands the tunnel a packet as if an
//                     application sent it, takeWritten() returns what the tunnel wrote back
//   FakeConfigurator  records apply()/rollback() and can be told to fail
//   FakePlatform      makes the three, and records what was asked of it
//
// Thread-safe where the real ones are: the tunnel's threads read, write, send and receive
// while the test injects and inspects.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "helper/platform/platform.h"

namespace calnet::helper::fake {

using Bytes = std::vector<std::uint8_t>;

class FakeBind;
class FakePlatform;

class FakeNetwork {
public:
    // Drops every datagram while set (a path that went down).
    void setBlackhole(bool on);
    [[nodiscard]] std::uint64_t delivered() const;

private:
    friend class FakeBind;
    friend class FakePlatform;
    FakeBind* bindAt(std::uint16_t port) const;
    bool attach(std::uint16_t& port, FakeBind* bind); // 0: picks a free port
    void detach(std::uint16_t port, FakeBind* bind);
    bool deliver(std::uint16_t from, const net::SocketAddress& to, const std::uint8_t* data,
                 std::size_t length);

    mutable std::mutex mutex_;
    std::map<std::uint16_t, FakeBind*> binds_;
    std::uint16_t nextPort_ = 40000;
    bool blackhole_ = false;
    std::uint64_t delivered_ = 0;
};

class FakeBind final : public Bind {
public:
    ~FakeBind() override;

    [[nodiscard]] std::uint16_t port() const override { return port_; }
    bool setFwmark(std::uint32_t mark) override;
    int receive(std::span<Datagram> batch, std::chrono::milliseconds timeout) noexcept override;
    int send(std::span<const Datagram> batch) noexcept override;
    bool sendOne(const net::SocketAddress& to, const std::uint8_t* data,
                 std::size_t length) noexcept override;
    void close() override;

    [[nodiscard]] std::uint32_t fwmark() const;
    // Queues a datagram as if it arrived from `from`.
    void push(const net::SocketAddress& from, const std::uint8_t* data, std::size_t length);

private:
    friend class FakePlatform; // binds it to a port of the network
    explicit FakeBind(FakeNetwork& network);

    FakeNetwork& network_;
    std::uint16_t port_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::pair<net::SocketAddress, Bytes>> queue_;
    bool closed_ = false;
    std::uint32_t fwmark_ = 0;
};

class FakeTunDevice final : public TunDevice {
public:
    // owner: the platform that lists it while it lives (may be null).
    FakeTunDevice(std::string name, int ifindex, FakePlatform* owner = nullptr);
    ~FakeTunDevice() override;

    [[nodiscard]] const std::string& name() const override { return name_; }
    [[nodiscard]] int ifindex() const override;
    [[nodiscard]] int mtu() const override;
    bool setMtu(int mtu) override;
    [[nodiscard]] std::size_t minBuffersPerRead() const override { return 1; }
    ReadResult read(std::span<std::uint8_t*> buffers, std::span<std::size_t> sizes,
                    std::size_t capacity, std::chrono::milliseconds timeout) override;
    void write(std::span<const Packet> packets) override;
    void close() override;

    // The OS side.
    void inject(Bytes packet);
    // Waits up to `timeout` for `count` written packets and returns what there is (at most
    // count), oldest first.
    std::vector<Bytes> takeWritten(std::size_t count, std::chrono::milliseconds timeout);
    // The interface disappears (as `ip link del`): the next read fails for good.
    void remove();
    [[nodiscard]] bool closed() const;

private:
    const std::string name_;
    const int ifindex_;
    FakePlatform* owner_;
    mutable std::mutex mutex_;
    std::condition_variable readable_;
    std::condition_variable written_;
    std::deque<Bytes> toTunnel_;
    std::deque<Bytes> fromTunnel_;
    int mtu_ = 1500;
    bool closed_ = false;
    bool gone_ = false;
};

class FakeConfigurator final : public NetworkConfigurator {
public:
    struct Log {
        std::vector<std::string> applied;   // interface name, per successful apply()
        std::vector<std::string> addresses; // of the last apply()
        std::vector<std::string> routes;    // allowed IPs of the last apply()
        std::vector<std::string> dns;       // DNS servers of the last apply()
        int rollbacks = 0;
        std::uint32_t fwmark = 0; // handed to setFwmark, if any
    };

    FakeConfigurator(std::string ifname, std::shared_ptr<Log> log,
                     std::optional<std::string> failWith, std::optional<std::uint32_t> fwmark);

    bool apply(const config::WgQuickConfig& config, const SetFwmark& setFwmark,
               const Options& options, std::string& error) override;
    UndoReport rollback() override;
    [[nodiscard]] bool ipv6Disabled() const override { return false; }
    [[nodiscard]] std::vector<std::string> warnings() const override { return {}; }

private:
    std::string ifname_;
    std::shared_ptr<Log> log_;
    std::optional<std::string> failWith_;
    std::optional<std::uint32_t> fwmark_;
    bool applied_ = false;
};

class FakePlatform final : public Platform {
public:
    explicit FakePlatform(FakeNetwork& network) : network_(network) {}

    std::unique_ptr<TunDevice> createTun(const std::string& name, std::string& error) override;
    std::unique_ptr<Bind> openBind(std::uint16_t port, std::uint32_t fwmark,
                                   std::string& error) override;
    std::unique_ptr<NetworkConfigurator>
    configurator(const TunDevice& tun, const std::string& stateDir, std::string& error) override;
    UndoReport rollbackLeftovers(const std::string& stateDir) override;
    std::optional<net::SocketAddress> resolve(const std::string& host, std::uint16_t port,
                                              std::string& error) override;

    // What the tests steer and look at.
    FakeTunDevice* tun(const std::string& name) const; // the live device of that name, or null
    [[nodiscard]] std::size_t liveTuns() const;
    void failApplyWith(std::optional<std::string> error) { failApply_ = std::move(error); }
    // apply() hands this mark to the tunnel (as a full tunnel's policy routing does).
    void markTunnelSocket(std::optional<std::uint32_t> mark) { fwmark_ = mark; }
    void addHost(const std::string& host, const net::SocketAddress& address);
    [[nodiscard]] std::shared_ptr<FakeConfigurator::Log> log() const { return log_; }
    [[nodiscard]] std::vector<std::string> leftoverCalls() const;
    // What rollbackLeftovers() reports (default: nothing was left).
    void setLeftovers(UndoReport report);
    // The live bind on `port` (null if none), and every port a bind was opened on, in order.
    [[nodiscard]] FakeBind* bind(std::uint16_t port) const;
    [[nodiscard]] std::vector<std::uint16_t> bindsOpened() const;

private:
    friend class FakeTunDevice;
    FakeNetwork& network_;
    mutable std::mutex mutex_;
    std::map<std::string, FakeTunDevice*> tuns_;
    int nextIfindex_ = 100;
    std::optional<std::string> failApply_;
    std::optional<std::uint32_t> fwmark_;
    std::map<std::string, net::SocketAddress> hosts_;
    std::shared_ptr<FakeConfigurator::Log> log_ = std::make_shared<FakeConfigurator::Log>();
    std::vector<std::string> leftoverCalls_;
    UndoReport leftovers_;
    std::vector<std::uint16_t> opened_;
};

} // namespace calnet::helper::fake
