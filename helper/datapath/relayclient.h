// RelayClient: this node's connection to a Calnet relay (docs/protocol.md "Relay"): a WebSocket
// over TCP on its own thread, because it is a packet path (no Qt event loop). The protocol is
// here; the socket and TLS under it are the OS's RelayStream (datapath/relaystream.h).
//
//   connect -> HTTP Upgrade (Sec-WebSocket-Accept checked) -> challenge -> hello with
//   crypto_box(challenge) made with the node's private key -> ready -> binary frames
//
// Sending (any thread): sendTo() frames and masks the packet into a bounded buffer (4 MiB; a
// packet that does not fit is dropped, as UDP would) and wakes the thread. Receiving: every
// read is parsed into whole frames; WireGuard packets of one read go to the Tunnel in one batch
// (deliverRelayed), disco messages and "not here" notices to the callbacks. Lost connections
// are retried after 250 ms, doubling to 10 s; no data for 45 s (the relay pings every 15 s)
// counts as lost.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/x25519.h"
#include "helper/datapath/pathtable.h"
#include "helper/datapath/relaystream.h"

namespace calnet::helper {

class Tunnel;

class RelayClient final : public RelaySender {
public:
    struct Target {
        std::string host; // name or literal address
        std::uint16_t port = 0;
        std::string path = "/api/v1/relay";
        std::string name; // the relay's name, for logs and status
        // wss: TLS (1.2 or later) with the system's trusted CAs and the host name (or IP
        // address) checked against the certificate, as for the server's https:// URL.
        bool tls = false;
    };
    struct Callbacks {
        std::function<void(bool connected)> state;
        std::function<void(const crypto::PublicKey& from, std::span<const std::uint8_t> message)>
            disco;
        std::function<void(const crypto::PublicKey& node)> notHere;
    };
    struct Stats {
        std::atomic<std::uint64_t> sentPackets{0};
        std::atomic<std::uint64_t> sentBytes{0};
        std::atomic<std::uint64_t> receivedPackets{0};
        std::atomic<std::uint64_t> receivedBytes{0};
        std::atomic<std::uint64_t> dropped{0}; // not connected, or the send buffer was full
        std::atomic<std::uint64_t> connects{0};
    };

    RelayClient(Tunnel& tunnel, Target target, const crypto::PrivateKey& nodeKey,
                Callbacks callbacks);
    ~RelayClient() override;
    RelayClient(const RelayClient&) = delete;
    RelayClient& operator=(const RelayClient&) = delete;

    void start();
    void stop();

    bool sendTo(const crypto::PublicKey& node, std::span<const std::uint8_t> packet) override;
    [[nodiscard]] std::string regionFor(const crypto::PublicKey&) const override {
        return target_.name;
    }

    [[nodiscard]] bool connected() const noexcept { return connected_.load(); }
    // The last round trip of a WebSocket ping to the relay (sent every 5 s), in microseconds;
    // -1 before the first.
    [[nodiscard]] std::int64_t latencyUs() const noexcept { return latencyUs_.load(); }
    [[nodiscard]] const Target& target() const noexcept { return target_; }
    // The last reason the connection failed, for status ("" when connected).
    [[nodiscard]] std::string lastError() const;
    Stats& stats() noexcept { return stats_; }

private:
    void run();
    bool handshake(std::vector<std::uint8_t>& rbuf, std::string& error);
    void serve(std::vector<std::uint8_t>& rbuf);
    // Readable (or failed) now or within timeoutMs.
    bool readable(int timeoutMs);
    bool writeAll(std::span<const std::uint8_t> bytes, int timeoutMs);
    void appendFrame(std::vector<std::uint8_t>& out, std::uint8_t opcode,
                     std::span<const std::uint8_t> head, std::span<const std::uint8_t> body);
    void setError(std::string error);

    Tunnel& tunnel_;
    Target target_;
    std::unique_ptr<RelayStream> stream_; // the OS's socket (and TLS), for the object's life
    crypto::PrivateKey nodeKey_;
    crypto::PublicKey nodePublic_;
    Callbacks callbacks_;

    std::mutex sendMutex_; // guards pending_
    std::vector<std::uint8_t> pending_;
    std::atomic<bool> running_{false};
    std::atomic<bool> connected_{false};
    std::atomic<std::int64_t> latencyUs_{-1};
    std::thread thread_;
    mutable std::mutex errorMutex_;
    std::string lastError_;
    Stats stats_;
};

} // namespace calnet::helper
