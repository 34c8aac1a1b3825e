// Timers: the per-peer timer state machine of the whitepaper (§6.2-6.5), as named events.
//
// The five timers and their formulas (jitter is uniform in [0, 334 ms)):
//   retransmitHandshake  armed when an initiation is sent: now + REKEY_TIMEOUT (5 s) + jitter.
//                        Fires: retry the initiation, or give up after MAX_HANDSHAKE_ATTEMPTS
//                        (90 s / 5 s = 18) retries, dropping staged packets.
//   sendKeepalive        armed when data is received and not already armed: now + KEEPALIVE (10 s).
//                        Cancelled by any authenticated packet we send. Fires: send a keepalive.
//   newHandshake         armed when data is sent and not already armed:
//                        now + KEEPALIVE (10 s) + REKEY_TIMEOUT (5 s) + jitter. Cancelled by any
//                        authenticated packet received. Fires: the peer went quiet, re-handshake.
//   zeroKeyMaterial      armed (re-armed) when a session is derived: now + 3 * REJECT_AFTER_TIME
//                        (540 s). Fires: wipe every keypair and the handshake state.
//   persistentKeepalive  re-armed by any authenticated packet in either direction when the
//                        interval is non-zero: now + interval. Fires: send a keepalive.
//
// Timers only keeps deadlines and flags; Device acts on what fired. Time is passed in.
#pragma once

#include <cstdint>

#include "core/wireguard/clock.h"
#include "core/wireguard/timing.h"

namespace calnet::wireguard {

class Timers {
public:
    // The durations come from `timing` (the owning Device's; spec() for real interfaces).
    explicit Timers(const Timing& timing = Timing::spec()) noexcept : timing_(&timing) {}

    enum Fired : std::uint8_t {
        RetransmitHandshake = 1 << 0,
        SendKeepalive = 1 << 1,
        NewHandshake = 1 << 2,
        ZeroKeyMaterial = 1 << 3,
        PersistentKeepalive = 1 << 4,
    };

    // An authenticated data packet (not a keepalive) was sent.
    void onDataSent(Instant now);
    // An authenticated data packet (not a keepalive) was received.
    void onDataReceived(Instant now);
    // Any authenticated packet (data, keepalive, handshake) was sent.
    void onAnyAuthenticatedPacketSent();
    // Any authenticated packet was received.
    void onAnyAuthenticatedPacketReceived();
    // Any authenticated packet went either way: re-arms the persistent keepalive.
    void onAnyAuthenticatedPacketTraversal(Instant now);
    // We sent a handshake initiation.
    void onHandshakeInitiated(Instant now);
    // A handshake completed (initiator: response consumed; responder: first packet on new keys).
    void onHandshakeComplete();
    // Transport keys were derived (either role).
    void onSessionDerived(Instant now);

    // The persistent keepalive interval in seconds, 0 = off.
    void setPersistentKeepalive(std::uint16_t seconds, Instant now);
    [[nodiscard]] std::uint16_t persistentKeepalive() const noexcept { return keepaliveInterval_; }

    // Returns the timers whose deadline is <= now and disarms them.
    [[nodiscard]] std::uint8_t expire(Instant now);
    // The earliest armed deadline, or kNever.
    [[nodiscard]] Instant nextDeadline() const noexcept;
    // Disarms everything (peer removed, device down).
    void stopAll() noexcept;

    // Handshake retry bookkeeping.
    int handshakeAttempts = 0;
    bool sentLastMinuteHandshake = false;
    bool needAnotherKeepalive = false;

    // Arms the zero-key timer if it is not armed (used when giving up on a handshake).
    void armZeroKeyMaterialIfIdle(Instant now);
    void armSendKeepalive(Instant now) { sendKeepalive_ = now + timing_->keepaliveTimeout; }

private:
    const Timing* timing_;
    Instant retransmitHandshake_ = kNever;
    Instant sendKeepalive_ = kNever;
    Instant newHandshake_ = kNever;
    Instant zeroKeyMaterial_ = kNever;
    Instant persistentKeepalive_ = kNever;
    std::uint16_t keepaliveInterval_ = 0;
};

// Uniform jitter in [0, max): in whole milliseconds as the kernel and wireguard-go use, or in
// microseconds for a scaled-down Timing whose jitter is under 100 ms.
[[nodiscard]] Instant rekeyJitter(Instant max) noexcept;

} // namespace calnet::wireguard
