// Keypair: the transport keys of one completed handshake (whitepaper §5.4.5), and KeypairSet,
// a peer's current / previous / next keypairs with WireGuard's rotation rules.
//
// Thread model: the keys, indices and creation time are immutable after construction, so seal()
// and open() run lock-free on crypto workers that hold a shared_ptr. sendCounter is atomic (the
// routing stage reserves counters). The replay filter and `peer` are touched only by the
// in-order stages that hold the device lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/crypto/aead.h"
#include "core/wireguard/clock.h"
#include "core/wireguard/messages.h"
#include "core/wireguard/replayfilter.h"

namespace calnet::wireguard {

class Peer;

class Keypair {
public:
    Keypair(crypto::AeadKey sending, crypto::AeadKey receiving, std::uint32_t localIndex,
            std::uint32_t remoteIndex, Instant created, bool initiator) noexcept
        : sendKey_(std::move(sending)), recvKey_(std::move(receiving)), localIndex_(localIndex),
          remoteIndex_(remoteIndex), created_(created), initiator_(initiator) {}

    // Writes the transport header for `counter` into datagram[0..16) and seals
    // datagram[16 .. 16+plainLen) in place, appending the tag. datagram must hold
    // plainLen + kTransportOverhead bytes. Thread-safe.
    void seal(std::uint64_t counter, std::uint8_t* datagram, std::size_t plainLen) const noexcept;
    // Opens a transport datagram in place; on success the plaintext is at datagram + 16 and is
    // size - kTransportOverhead bytes long. Thread-safe.
    [[nodiscard]] bool open(std::uint8_t* datagram, std::size_t size) const noexcept;

    // Reserves the next sending counter; returns kRejectAfterMessages once exhausted.
    [[nodiscard]] std::uint64_t nextCounter() noexcept {
        std::uint64_t c = sendCounter_.fetch_add(1, std::memory_order_relaxed);
        return c < kRejectAfterMessages ? c : kRejectAfterMessages;
    }
    [[nodiscard]] std::uint64_t sentCount() const noexcept {
        return sendCounter_.load(std::memory_order_relaxed);
    }
    // Usable for sending/receiving: younger than REJECT_AFTER_TIME, counter not exhausted.
    [[nodiscard]] bool usable(Instant now, Instant rejectAfterTime) const noexcept {
        return now - created_ < rejectAfterTime && sentCount() < kRejectAfterMessages;
    }

    [[nodiscard]] std::uint32_t localIndex() const noexcept { return localIndex_; }
    [[nodiscard]] std::uint32_t remoteIndex() const noexcept { return remoteIndex_; }
    [[nodiscard]] Instant created() const noexcept { return created_; }
    [[nodiscard]] bool isInitiator() const noexcept { return initiator_; }

    ReplayFilter replay;  // guarded by the device lock
    Peer* peer = nullptr; // guarded by the device lock; nullptr once the peer is removed

private:
    crypto::AeadKey sendKey_;
    crypto::AeadKey recvKey_;
    std::uint32_t localIndex_;
    std::uint32_t remoteIndex_;
    Instant created_;
    bool initiator_;
    std::atomic<std::uint64_t> sendCounter_{0};
};

using KeypairPtr = std::shared_ptr<Keypair>;

// current: the keypair we send with. previous: the one before it, still accepted for receiving.
// next: a keypair we derived as responder that the initiator has not yet confirmed by sending
// with it; it becomes current on the first packet received under it (whitepaper §5.4.5 and
// wireguard-go's keypairs rotation).
struct KeypairSet {
    KeypairPtr current;
    KeypairPtr previous;
    KeypairPtr next;

    // Installs a freshly derived keypair. Returns the keypairs that were dropped, so the caller
    // can release their indices.
    void install(KeypairPtr keypair, std::vector<KeypairPtr>& dropped);
    // Called when a packet was authenticated under `keypair`: promotes next to current.
    // Returns true if that happened (the handshake is then complete for the responder).
    bool receivedWith(const KeypairPtr& keypair, std::vector<KeypairPtr>& dropped);
    void clear(std::vector<KeypairPtr>& dropped);
};

} // namespace calnet::wireguard
