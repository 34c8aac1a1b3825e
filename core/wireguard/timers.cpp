#include "core/wireguard/timers.h"

#include <algorithm>

#include <sodium/randombytes.h>


namespace calnet::wireguard {

Instant rekeyJitter(Instant max) noexcept {
    const Instant unit = max >= std::chrono::milliseconds(100) ? Instant(std::chrono::milliseconds(1))
                                                               : Instant(std::chrono::microseconds(1));
    const auto units = std::uint32_t(max / unit);
    return units == 0 ? Instant{} : unit * randombytes_uniform(units);
}

void Timers::onDataSent(Instant now) {
    if (newHandshake_ == kNever)
        newHandshake_ = now + timing_->keepaliveTimeout + timing_->rekeyTimeout +
                        rekeyJitter(timing_->jitterMax);
}

void Timers::onDataReceived(Instant now) {
    if (sendKeepalive_ == kNever)
        sendKeepalive_ = now + timing_->keepaliveTimeout;
    else
        needAnotherKeepalive = true;
}

void Timers::onAnyAuthenticatedPacketSent() {
    sendKeepalive_ = kNever;
}

void Timers::onAnyAuthenticatedPacketReceived() {
    newHandshake_ = kNever;
}

void Timers::onAnyAuthenticatedPacketTraversal(Instant now) {
    if (keepaliveInterval_ > 0)
        persistentKeepalive_ = now + std::chrono::seconds(keepaliveInterval_);
}

void Timers::onHandshakeInitiated(Instant now) {
    retransmitHandshake_ = now + timing_->rekeyTimeout + rekeyJitter(timing_->jitterMax);
}

void Timers::onHandshakeComplete() {
    retransmitHandshake_ = kNever;
    handshakeAttempts = 0;
    sentLastMinuteHandshake = false;
}

void Timers::onSessionDerived(Instant now) {
    zeroKeyMaterial_ = now + timing_->zeroKeysAfter;
}

void Timers::setPersistentKeepalive(std::uint16_t seconds, Instant now) {
    keepaliveInterval_ = seconds;
    persistentKeepalive_ = seconds ? now + std::chrono::seconds(seconds) : kNever;
}

void Timers::armZeroKeyMaterialIfIdle(Instant now) {
    if (zeroKeyMaterial_ == kNever)
        zeroKeyMaterial_ = now + timing_->zeroKeysAfter;
}

std::uint8_t Timers::expire(Instant now) {
    std::uint8_t fired = 0;
    auto check = [&](Instant& deadline, Fired bit) {
        if (deadline != kNever && deadline <= now) {
            deadline = kNever;
            fired |= bit;
        }
    };
    check(retransmitHandshake_, RetransmitHandshake);
    check(sendKeepalive_, SendKeepalive);
    check(newHandshake_, NewHandshake);
    check(zeroKeyMaterial_, ZeroKeyMaterial);
    check(persistentKeepalive_, PersistentKeepalive);
    return fired;
}

Instant Timers::nextDeadline() const noexcept {
    return std::min({retransmitHandshake_, sendKeepalive_, newHandshake_, zeroKeyMaterial_,
                     persistentKeepalive_});
}

void Timers::stopAll() noexcept {
    retransmitHandshake_ = sendKeepalive_ = newHandshake_ = zeroKeyMaterial_ =
        persistentKeepalive_ = kNever;
    handshakeAttempts = 0;
    sentLastMinuteHandshake = false;
    needAnotherKeepalive = false;
}

} // namespace calnet::wireguard
