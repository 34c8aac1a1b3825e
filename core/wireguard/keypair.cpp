#include "core/wireguard/keypair.h"

#include <vector>

#include "core/crypto/aeadimpl.h"

namespace calnet::wireguard {

void Keypair::seal(std::uint64_t counter, std::uint8_t* datagram,
                   std::size_t plainLen) const noexcept {
    storeType(datagram, MessageType::TransportData);
    storeLe32(datagram + 4, remoteIndex_);
    storeLe64(datagram + 8, counter);
    std::uint8_t* body = datagram + kTransportHeaderLen;
    crypto::transportSeal(std::span(body, plainLen + kTagLen), sendKey_,
                          crypto::counterNonce(counter),
                          std::span<const std::uint8_t>(body, plainLen));
}

bool Keypair::open(std::uint8_t* datagram, std::size_t size) const noexcept {
    if (size < kTransportOverhead)
        return false;
    const std::uint64_t counter = loadLe64(datagram + 8);
    std::uint8_t* body = datagram + kTransportHeaderLen;
    const std::size_t bodyLen = size - kTransportHeaderLen;
    return crypto::transportOpen(std::span(body, bodyLen - kTagLen), recvKey_,
                                 crypto::counterNonce(counter),
                                 std::span<const std::uint8_t>(body, bodyLen));
}

void KeypairSet::install(KeypairPtr keypair, std::vector<KeypairPtr>& dropped) {
    if (keypair->isInitiator()) {
        // We initiated: the responder already holds these keys, so they are usable at once.
        if (next) {
            // An unconfirmed responder-side keypair becomes previous; the old current goes.
            if (previous)
                dropped.push_back(std::move(previous));
            previous = std::move(next);
            if (current)
                dropped.push_back(std::move(current));
        } else {
            if (previous)
                dropped.push_back(std::move(previous));
            previous = std::move(current);
        }
        current = std::move(keypair);
    } else {
        // We responded: wait for the initiator's first packet before sending with it.
        if (next)
            dropped.push_back(std::move(next));
        next = std::move(keypair);
        if (previous)
            dropped.push_back(std::move(previous));
    }
}

bool KeypairSet::receivedWith(const KeypairPtr& keypair, std::vector<KeypairPtr>& dropped) {
    if (!next || next != keypair)
        return false;
    if (previous)
        dropped.push_back(std::move(previous));
    previous = std::move(current);
    current = std::move(next);
    next.reset();
    return true;
}

void KeypairSet::clear(std::vector<KeypairPtr>& dropped) {
    for (KeypairPtr* k : {&current, &previous, &next})
        if (*k)
            dropped.push_back(std::move(*k));
}

} // namespace calnet::wireguard
