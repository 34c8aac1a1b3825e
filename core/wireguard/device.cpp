#include "core/wireguard/device.h"

#include <algorithm>
#include <cstring>

#include <sodium/randombytes.h>

namespace calnet::wireguard {

namespace {

using crypto::Bytes;

Bytes identifierBytes() {
    return Bytes(reinterpret_cast<const std::uint8_t*>(kIdentifier), sizeof(kIdentifier) - 1);
}

// Inner packet header facts the engine needs: which address family, the source and destination
// address bytes, and the length the IP header claims (padding is trimmed to it).
struct InnerHeader {
    net::Family family;
    const std::uint8_t* source;
    const std::uint8_t* destination;
    std::size_t totalLength;
};

std::optional<InnerHeader> parseInner(std::span<const std::uint8_t> p) {
    if (p.empty())
        return std::nullopt;
    const unsigned version = p[0] >> 4;
    if (version == 4 && p.size() >= 20) {
        const std::size_t total = std::size_t(p[2]) << 8 | p[3];
        if (total < 20 || total > p.size())
            return std::nullopt;
        return InnerHeader{net::Family::V4, p.data() + 12, p.data() + 16, total};
    }
    if (version == 6 && p.size() >= 40) {
        const std::size_t total = (std::size_t(p[4]) << 8 | p[5]) + 40;
        if (total > p.size())
            return std::nullopt;
        return InnerHeader{net::Family::V6, p.data() + 8, p.data() + 24, total};
    }
    return std::nullopt;
}

bool reservedZero(std::span<const std::uint8_t> d) {
    return d[1] == 0 && d[2] == 0 && d[3] == 0;
}

} // namespace

const char* toString(DropReason reason) noexcept {
    switch (reason) {
    case DropReason::None:
        return "none";
    case DropReason::NoPrivateKey:
        return "no_private_key";
    case DropReason::InvalidIpPacket:
        return "invalid_ip_packet";
    case DropReason::NoRoute:
        return "no_route";
    case DropReason::NoEndpoint:
        return "no_endpoint";
    case DropReason::StagedQueueFull:
        return "staged_queue_full";
    case DropReason::BadMessage:
        return "bad_message";
    case DropReason::InvalidMac1:
        return "invalid_mac1";
    case DropReason::CookieReplySent:
        return "cookie_reply_sent";
    case DropReason::RateLimited:
        return "rate_limited";
    case DropReason::HandshakeFailed:
        return "handshake_failed";
    case DropReason::UnknownPeer:
        return "unknown_peer";
    case DropReason::ReplayedInitiation:
        return "replayed_initiation";
    case DropReason::InitiationFlood:
        return "initiation_flood";
    case DropReason::CrossingInitiation:
        return "crossing_initiation";
    case DropReason::UnexpectedMessage:
        return "unexpected_message";
    case DropReason::UnknownIndex:
        return "unknown_index";
    case DropReason::KeypairExpired:
        return "keypair_expired";
    case DropReason::DecryptFailed:
        return "decrypt_failed";
    case DropReason::Replayed:
        return "replayed";
    case DropReason::SourceNotAllowed:
        return "source_not_allowed";
    case DropReason::Count:
        break;
    }
    return "unknown";
}

const char* toString(HandshakeState state) noexcept {
    switch (state) {
    case HandshakeState::Zeroed:
        return "zeroed";
    case HandshakeState::InitiationCreated:
        return "initiation_created";
    case HandshakeState::InitiationConsumed:
        return "initiation_consumed";
    case HandshakeState::ResponseCreated:
        return "response_created";
    case HandshakeState::ResponseConsumed:
        return "response_consumed";
    }
    return "unknown";
}

std::size_t paddedLength(std::size_t packetLength, std::size_t mtu) noexcept {
    const std::size_t rounded = (packetLength + kPaddingMultiple - 1) & ~(kPaddingMultiple - 1);
    if (packetLength > mtu)
        return packetLength;
    return std::min(rounded, mtu);
}

std::optional<MessageType> messageType(std::span<const std::uint8_t> d) {
    if (d.size() < 4 || !reservedZero(d))
        return std::nullopt;
    switch (d[0]) {
    case 1:
        return d.size() == sizeof(MessageInitiation)
                   ? std::optional(MessageType::HandshakeInitiation)
                   : std::nullopt;
    case 2:
        return d.size() == sizeof(MessageResponse) ? std::optional(MessageType::HandshakeResponse)
                                                   : std::nullopt;
    case 3:
        return d.size() == sizeof(MessageCookieReply) ? std::optional(MessageType::CookieReply)
                                                      : std::nullopt;
    case 4:
        return d.size() >= kTransportOverhead ? std::optional(MessageType::TransportData)
                                              : std::nullopt;
    default:
        return std::nullopt;
    }
}

Device::Device() = default;

Device::~Device() {
    removeAllPeers();
}

// ---- configuration -----------------------------------------------------------------------------

void Device::setPrivateKey(const crypto::PrivateKey& key) {
    crypto::PublicKey pub = crypto::publicKeyOf(key);
    if (hasKey_ && pub == publicKey_)
        return;
    privateKey_ = key;
    publicKey_ = pub;
    hasKey_ = true;
    cookieChecker_.setLocalPublicKey(publicKey_);
    if (Peer* self = findPeer(publicKey_))
        removePeer(self);
    // Sessions were made with the old identity: drop them, as wireguard-go does.
    for (Peer* p : order_) {
        zeroKeyMaterial(*p);
        p->handshake.latestTimestamp = {};
    }
}

void Device::clearPrivateKey() {
    for (Peer* p : order_)
        zeroKeyMaterial(*p);
    privateKey_.wipe();
    publicKey_ = {};
    hasKey_ = false;
}

Peer* Device::addPeer(const crypto::PublicKey& publicKey) {
    if (hasKey_ && publicKey == publicKey_)
        return nullptr;
    auto [it, inserted] = peersByKey_.try_emplace(publicKey, nullptr);
    if (inserted) {
        it->second = std::make_unique<Peer>(publicKey, timing_);
        order_.push_back(it->second.get());
    }
    return it->second.get();
}

Peer* Device::findPeer(const crypto::PublicKey& publicKey) noexcept {
    auto it = peersByKey_.find(publicKey);
    return it == peersByKey_.end() ? nullptr : it->second.get();
}

void Device::removePeer(Peer* peer) {
    if (!peer)
        return;
    zeroKeyMaterial(*peer);
    peer->timers.stopAll();
    allowedIps_.removeValue(peer);
    std::erase(order_, peer);
    peersByKey_.erase(peer->publicKey());
}

void Device::removeAllPeers() {
    while (!order_.empty())
        removePeer(order_.back());
}

void Device::setPersistentKeepalive(Peer& peer, std::uint16_t seconds, Now now, Actions& actions) {
    const bool turnedOn = seconds > 0 && peer.timers.persistentKeepalive() == 0;
    peer.timers.setPersistentKeepalive(seconds, now.mono);
    if (turnedOn && hasKey_ && peer.endpoint)
        sendKeepalive(peer, now, actions);
    touch(peer);
}

void Device::setEndpoint(Peer& peer, const net::SocketAddress& endpoint) {
    peer.endpoint = endpoint;
}

// ---- indices and key material ------------------------------------------------------------------

std::uint32_t Device::allocateIndex(Peer* peer) {
    for (;;) {
        std::uint32_t index = 0;
        randombytes_buf(&index, sizeof index);
        if (index == 0)
            continue;
        if (indices_.try_emplace(index, IndexEntry{peer, nullptr}).second)
            return index;
    }
}

void Device::releaseIndex(std::uint32_t index) {
    if (index != 0)
        indices_.erase(index);
}

void Device::releaseKeypairs(std::vector<KeypairPtr>& dropped) {
    for (KeypairPtr& kp : dropped) {
        auto it = indices_.find(kp->localIndex());
        if (it != indices_.end() && it->second.keypair == kp)
            indices_.erase(it);
        kp->peer = nullptr;
    }
    dropped.clear();
}

void Device::zeroHandshake(Peer& peer) {
    Handshake& hs = peer.handshake;
    if (hs.localIndex != 0) {
        auto it = indices_.find(hs.localIndex);
        if (it != indices_.end() && !it->second.keypair)
            indices_.erase(it);
    }
    hs.noise.reset();
    hs.state = HandshakeState::Zeroed;
    hs.localIndex = 0;
    hs.remoteIndex = 0;
}

void Device::zeroKeyMaterial(Peer& peer) {
    std::vector<KeypairPtr> dropped;
    peer.keypairs.clear(dropped);
    releaseKeypairs(dropped);
    zeroHandshake(peer);
}

void Device::touch(const Peer& peer) noexcept {
    deadlineHint_ = std::min(deadlineHint_, peer.timers.nextDeadline());
}

// ---- handshake: sending ------------------------------------------------------------------------

void Device::sendInitiation(Peer& peer, Now now, bool isRetry, Actions& actions) {
    if (!isRetry)
        peer.timers.handshakeAttempts = 0;
    Handshake& hs = peer.handshake;
    // At most one initiation per REKEY_TIMEOUT (whitepaper §6.1), retries included.
    if (hs.lastSentInitiation != kNever && now.mono - hs.lastSentInitiation < timing_.rekeyTimeout)
        return;
    if (!hasKey_ || !peer.endpoint)
        return;

    zeroHandshake(peer);
    MessageInitiation msg{};
    storeType(msg.type, MessageType::HandshakeInitiation);
    hs.localIndex = allocateIndex(&peer);
    storeLe32(msg.sender, hs.localIndex);

    NoiseIkPsk2 noise(kConstruction, identifierBytes(), privateKey_, publicKey_, peer.publicKey());
    const crypto::Tai64n timestamp = crypto::tai64n(now.wall);
    // e, es, s, ss, {timestamp}: the 108 bytes from the ephemeral to the end of the timestamp.
    auto body =
        std::span(reinterpret_cast<std::uint8_t*>(&msg) + offsetof(MessageInitiation, ephemeral),
                  kInitiationMac1Offset - offsetof(MessageInitiation, ephemeral));
    if (!noise.writeMessageA(body, crypto::generatePrivateKey(), timestamp)) {
        zeroHandshake(peer);
        return;
    }
    hs.noise = std::move(noise);
    hs.state = HandshakeState::InitiationCreated;
    hs.lastSentInitiation = now.mono;

    auto bytes = std::span(reinterpret_cast<std::uint8_t*>(&msg), sizeof msg);
    peer.cookies.addMacs(bytes, kInitiationMac1Offset, kInitiationMac2Offset, now.mono);
    actions.transmits.push_back({*peer.endpoint, {bytes.begin(), bytes.end()}});
    peer.txBytes += sizeof msg;

    peer.timers.onAnyAuthenticatedPacketTraversal(now.mono);
    peer.timers.onAnyAuthenticatedPacketSent();
    peer.timers.onHandshakeInitiated(now.mono);
    touch(peer);
}

void Device::beginSession(Peer& peer, Now now, bool initiator) {
    Handshake& hs = peer.handshake;
    crypto::AeadKey sending;
    crypto::AeadKey receiving;
    hs.noise->split(sending, receiving);
    auto keypair = std::make_shared<Keypair>(std::move(sending), std::move(receiving),
                                             hs.localIndex, hs.remoteIndex, now.mono, initiator);
    keypair->peer = &peer;
    // The handshake's index now names the keypair.
    indices_[hs.localIndex] = IndexEntry{&peer, keypair};
    hs.localIndex = 0;
    hs.noise.reset();
    hs.state = HandshakeState::Zeroed;

    std::vector<KeypairPtr> dropped;
    peer.keypairs.install(std::move(keypair), dropped);
    releaseKeypairs(dropped);
    peer.timers.onSessionDerived(now.mono);
}

void Device::sendKeepalive(Peer& peer, Now now, Actions& actions) {
    if (peer.staged.empty())
        peer.staged.emplace_back(); // an empty packet is a keepalive
    flushStaged(peer, now, actions);
}

void Device::flushStaged(Peer& peer, Now now, Actions& actions) {
    const KeypairPtr& kp = peer.keypairs.current;
    if (!kp || !kp->usable(now.mono, timing_.rejectAfterTime) || !peer.endpoint) {
        sendInitiation(peer, now, false, actions);
        return;
    }
    while (!peer.staged.empty()) {
        const std::uint64_t counter = kp->nextCounter();
        if (counter >= kRejectAfterMessages) {
            sendInitiation(peer, now, false, actions);
            return;
        }
        std::vector<std::uint8_t>& packet = peer.staged.front();
        const std::size_t padded = paddedLength(packet.size(), mtu_);
        std::vector<std::uint8_t> datagram(padded + kTransportOverhead, 0);
        std::copy(packet.begin(), packet.end(), datagram.begin() + kTransportHeaderLen);
        kp->seal(counter, datagram.data(), padded);
        if (!packet.empty())
            peer.timers.onDataSent(now.mono);
        peer.timers.onAnyAuthenticatedPacketTraversal(now.mono);
        peer.timers.onAnyAuthenticatedPacketSent();
        peer.txBytes += datagram.size();
        actions.transmits.push_back({*peer.endpoint, std::move(datagram)});
        peer.staged.pop_front();
    }
    keepKeyFreshSending(peer, now, actions);
    touch(peer);
}

void Device::keepKeyFreshSending(Peer& peer, Now now, Actions& actions) {
    const KeypairPtr& kp = peer.keypairs.current;
    if (!kp)
        return;
    // Only the initiator rekeys on age, so the two sides do not both start at once (§6.2).
    if (kp->sentCount() > kRekeyAfterMessages ||
        (kp->isInitiator() && now.mono - kp->created() > timing_.rekeyAfterTime))
        sendInitiation(peer, now, false, actions);
}

void Device::keepKeyFreshReceiving(Peer& peer, Now now, Actions& actions) {
    if (peer.timers.sentLastMinuteHandshake)
        return;
    const KeypairPtr& kp = peer.keypairs.current;
    // The initiator's keys are about to be rejected and it has not rekeyed (no data sent):
    // one last handshake (§6.2, REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT).
    if (kp && kp->isInitiator() &&
        now.mono - kp->created() >
            timing_.rejectAfterTime - timing_.keepaliveTimeout - timing_.rekeyTimeout) {
        peer.timers.sentLastMinuteHandshake = true;
        sendInitiation(peer, now, false, actions);
    }
}

// ---- outbound data -----------------------------------------------------------------------------

OutboundResult Device::prepareOutbound(std::span<const std::uint8_t> packet, Now now,
                                       SendTicket& ticket, DropReason& reason, Actions& actions) {
    if (!hasKey_) {
        reason = DropReason::NoPrivateKey;
        return OutboundResult::Dropped;
    }
    auto inner = parseInner(packet);
    if (!inner) {
        reason = DropReason::InvalidIpPacket;
        return OutboundResult::Dropped;
    }
    Peer* peer = allowedIps_.lookup(inner->family, inner->destination);
    if (!peer) {
        reason = DropReason::NoRoute;
        return OutboundResult::Dropped;
    }
    if (!peer->endpoint) {
        reason = DropReason::NoEndpoint;
        return OutboundResult::Dropped;
    }
    const KeypairPtr& kp = peer->keypairs.current;
    if (kp && kp->usable(now.mono, timing_.rejectAfterTime)) {
        const std::uint64_t counter = kp->nextCounter();
        if (counter < kRejectAfterMessages) {
            ticket.keypair = kp;
            ticket.counter = counter;
            ticket.to = *peer->endpoint;
            ticket.paddedLength = paddedLength(packet.size(), mtu_);
            peer->txBytes += ticket.paddedLength + kTransportOverhead;
            peer->timers.onDataSent(now.mono);
            peer->timers.onAnyAuthenticatedPacketTraversal(now.mono);
            peer->timers.onAnyAuthenticatedPacketSent();
            keepKeyFreshSending(*peer, now, actions);
            touch(*peer);
            return OutboundResult::Send;
        }
    }
    // No session: hold the packet and start a handshake.
    reason = DropReason::None;
    if (peer->staged.size() >= kMaxStagedPackets) {
        peer->staged.pop_front();
        reason = DropReason::StagedQueueFull;
    }
    peer->staged.emplace_back(packet.begin(), packet.end());
    sendInitiation(*peer, now, false, actions);
    return OutboundResult::Staged;
}

// ---- inbound data ------------------------------------------------------------------------------

DropReason Device::prepareInbound(std::span<const std::uint8_t> datagram, Now now,
                                  RecvTicket& ticket) {
    if (datagram.size() < kTransportOverhead || datagram[0] != 4 || !reservedZero(datagram))
        return DropReason::BadMessage;
    auto it = indices_.find(loadLe32(datagram.data() + 4));
    if (it == indices_.end() || !it->second.keypair)
        return DropReason::UnknownIndex;
    const KeypairPtr& kp = it->second.keypair;
    if (now.mono - kp->created() >= timing_.rejectAfterTime)
        return DropReason::KeypairExpired;
    ticket.keypair = kp;
    return DropReason::None;
}

InboundResult Device::completeInbound(const RecvTicket& ticket, std::span<std::uint8_t> datagram,
                                      const net::SocketAddress& from, Now now,
                                      std::size_t& innerLength, DropReason& reason,
                                      Actions& actions) {
    const KeypairPtr& kp = ticket.keypair;
    Peer* peer = kp->peer;
    if (!peer) {
        reason = DropReason::UnknownIndex; // peer removed while the packet was decrypting
        return InboundResult::Dropped;
    }
    if (!kp->replay.accept(loadLe64(datagram.data() + 8))) {
        reason = DropReason::Replayed;
        return InboundResult::Dropped;
    }
    // Roaming: the last authenticated packet tells where the peer is (whitepaper §2.1).
    if (!peer->pinnedEndpoint)
        peer->endpoint = from;

    std::vector<KeypairPtr> dropped;
    if (peer->keypairs.receivedWith(kp, dropped)) {
        releaseKeypairs(dropped);
        // First packet under keys we derived as responder: the handshake is confirmed.
        peer->timers.onHandshakeComplete();
        peer->lastHandshake = now.wall;
        flushStaged(*peer, now, actions);
    }
    keepKeyFreshReceiving(*peer, now, actions);
    peer->timers.onAnyAuthenticatedPacketTraversal(now.mono);
    peer->timers.onAnyAuthenticatedPacketReceived();
    peer->rxBytes += datagram.size();

    const auto plain = datagram.subspan(kTransportHeaderLen, datagram.size() - kTransportOverhead);
    if (plain.empty()) {
        touch(*peer);
        return InboundResult::Keepalive;
    }
    peer->timers.onDataReceived(now.mono);
    touch(*peer);

    auto inner = parseInner(plain);
    if (!inner) {
        reason = DropReason::InvalidIpPacket;
        return InboundResult::Dropped;
    }
    // Cryptokey routing, inbound half: the inner source must be one of the peer's allowed IPs.
    if (allowedIps_.lookup(inner->family, inner->source) != peer) {
        reason = DropReason::SourceNotAllowed;
        return InboundResult::Dropped;
    }
    innerLength = inner->totalLength;
    return InboundResult::WriteToTun;
}

// ---- inbound handshake messages ----------------------------------------------------------------

DropReason Device::handleHandshake(std::span<const std::uint8_t> datagram,
                                   const net::SocketAddress& from, Now now, bool underLoad,
                                   Actions& actions) {
    const auto type = messageType(datagram);
    if (!type || *type == MessageType::TransportData)
        return DropReason::BadMessage;
    if (!hasKey_)
        return DropReason::NoPrivateKey;
    if (*type == MessageType::CookieReply)
        return consumeCookieReply(datagram, now);

    const bool initiation = *type == MessageType::HandshakeInitiation;
    const std::size_t mac1Offset = initiation ? kInitiationMac1Offset : kResponseMac1Offset;
    const std::size_t mac2Offset = initiation ? kInitiationMac2Offset : kResponseMac2Offset;
    if (!cookieChecker_.checkMac1(datagram, mac1Offset))
        return DropReason::InvalidMac1;
    // Under load, handshake work is only done for senders that prove they own their source
    // address (a valid mac2), and then only at a bounded rate per source (whitepaper §5.3).
    if (underLoad) {
        if (!cookieChecker_.checkMac2(datagram, mac2Offset, from, now.mono)) {
            MessageCookieReply reply{};
            const std::uint32_t sender = loadLe32(datagram.data() + 4);
            cookieChecker_.createReply(reply, datagram, mac1Offset, sender, from, now.mono);
            const auto* b = reinterpret_cast<const std::uint8_t*>(&reply);
            actions.transmits.push_back({from, {b, b + sizeof reply}});
            return DropReason::CookieReplySent;
        }
        if (!rateLimiter_.allow(from.address, now.mono))
            return DropReason::RateLimited;
    }
    return initiation ? consumeInitiation(datagram, from, now, actions)
                      : consumeResponse(datagram, from, now, actions);
}

DropReason Device::consumeInitiation(std::span<const std::uint8_t> datagram,
                                     const net::SocketAddress& from, Now now, Actions& actions) {
    MessageInitiation msg;
    std::memcpy(&msg, datagram.data(), sizeof msg);

    NoiseIkPsk2 noise(kConstruction, identifierBytes(), privateKey_, publicKey_, std::nullopt);
    crypto::Tai64n timestamp{};
    auto body = datagram.subspan(offsetof(MessageInitiation, ephemeral),
                                 kInitiationMac1Offset - offsetof(MessageInitiation, ephemeral));
    if (!noise.readMessageA(timestamp, body))
        return DropReason::HandshakeFailed;
    Peer* peer = findPeer(*noise.remoteStatic());
    if (!peer)
        return DropReason::UnknownPeer;

    Handshake& hs = peer->handshake;
    // A replayed initiation carries an old timestamp; a flood of fresh ones is capped at 50/s.
    if (!crypto::tai64nAfter(timestamp, hs.latestTimestamp))
        return DropReason::ReplayedInitiation;
    if (hs.lastInitiationConsumed != kNever &&
        now.mono - hs.lastInitiationConsumed <= timing_.initiationInterval)
        return DropReason::InitiationFlood;
    // Two Calnet mesh nodes add each other at the same moment and both greet: their initiations
    // cross. WireGuard lets each side's copy of the other's initiation replace its own handshake,
    // after which both responses are refused and nothing works until the 5 s retry. For mesh
    // peers (pinned endpoints: both sides are Calnet) the side with the smaller public key keeps
    // its own initiation in flight and ignores the other's; the other side answers ours. Plain
    // WireGuard peers keep the protocol's behaviour.
    if (peer->pinnedEndpoint && hs.state == HandshakeState::InitiationCreated &&
        hs.lastSentInitiation != kNever &&
        now.mono - hs.lastSentInitiation < timing_.rekeyTimeout && publicKey_ < peer->publicKey())
        return DropReason::CrossingInitiation;

    zeroHandshake(*peer);
    hs.noise = std::move(noise);
    hs.remoteIndex = loadLe32(msg.sender);
    hs.latestTimestamp = timestamp;
    hs.lastInitiationConsumed = now.mono;
    hs.state = HandshakeState::InitiationConsumed;

    if (!peer->pinnedEndpoint)
        peer->endpoint = from;
    peer->rxBytes += datagram.size();
    peer->timers.onAnyAuthenticatedPacketTraversal(now.mono);
    peer->timers.onAnyAuthenticatedPacketReceived();

    // Respond: e, ee, se, psk, {}.
    MessageResponse resp{};
    storeType(resp.type, MessageType::HandshakeResponse);
    hs.localIndex = allocateIndex(peer);
    storeLe32(resp.sender, hs.localIndex);
    storeLe32(resp.receiver, hs.remoteIndex);
    auto respBody =
        std::span(reinterpret_cast<std::uint8_t*>(&resp) + offsetof(MessageResponse, ephemeral),
                  kResponseMac1Offset - offsetof(MessageResponse, ephemeral));
    if (!hs.noise->writeMessageB(respBody, crypto::generatePrivateKey(), peer->presharedKey, {})) {
        zeroHandshake(*peer);
        return DropReason::HandshakeFailed;
    }
    hs.state = HandshakeState::ResponseCreated;
    auto bytes = std::span(reinterpret_cast<std::uint8_t*>(&resp), sizeof resp);
    peer->cookies.addMacs(bytes, kResponseMac1Offset, kResponseMac2Offset, now.mono);

    beginSession(*peer, now, false);
    actions.transmits.push_back({from, {bytes.begin(), bytes.end()}});
    peer->txBytes += sizeof resp;
    peer->timers.onAnyAuthenticatedPacketTraversal(now.mono);
    peer->timers.onAnyAuthenticatedPacketSent();
    touch(*peer);
    return DropReason::None;
}

DropReason Device::consumeResponse(std::span<const std::uint8_t> datagram,
                                   const net::SocketAddress& from, Now now, Actions& actions) {
    MessageResponse msg;
    std::memcpy(&msg, datagram.data(), sizeof msg);
    const std::uint32_t receiver = loadLe32(msg.receiver);
    auto it = indices_.find(receiver);
    if (it == indices_.end() || it->second.keypair)
        return DropReason::UnexpectedMessage;
    Peer* peer = it->second.peer;
    Handshake& hs = peer->handshake;
    if (hs.state != HandshakeState::InitiationCreated || hs.localIndex != receiver)
        return DropReason::UnexpectedMessage;

    // Work on a copy so a forged response cannot spoil the handshake we are waiting on.
    NoiseIkPsk2 noise = *hs.noise;
    auto body = datagram.subspan(offsetof(MessageResponse, ephemeral),
                                 kResponseMac1Offset - offsetof(MessageResponse, ephemeral));
    if (!noise.readMessageB({}, body, peer->presharedKey))
        return DropReason::HandshakeFailed;
    hs.noise = std::move(noise);
    hs.remoteIndex = loadLe32(msg.sender);
    hs.state = HandshakeState::ResponseConsumed;

    if (!peer->pinnedEndpoint)
        peer->endpoint = from;
    peer->rxBytes += datagram.size();
    peer->timers.onAnyAuthenticatedPacketTraversal(now.mono);
    peer->timers.onAnyAuthenticatedPacketReceived();
    beginSession(*peer, now, true);
    peer->timers.onHandshakeComplete();
    peer->lastHandshake = now.wall;
    // Confirm the session to the responder at once: staged data, or a keepalive.
    sendKeepalive(*peer, now, actions);
    touch(*peer);
    return DropReason::None;
}

DropReason Device::consumeCookieReply(std::span<const std::uint8_t> datagram, Now now) {
    MessageCookieReply reply;
    std::memcpy(&reply, datagram.data(), sizeof reply);
    auto it = indices_.find(loadLe32(reply.receiver));
    if (it == indices_.end())
        return DropReason::UnexpectedMessage;
    if (!it->second.peer->cookies.consumeReply(reply, now.mono))
        return DropReason::HandshakeFailed;
    return DropReason::None;
}

// ---- timers ------------------------------------------------------------------------------------

Instant Device::tick(Now now, Actions& actions) {
    Instant next = kNever;
    for (Peer* peer : order_) {
        const std::uint8_t fired = peer->timers.expire(now.mono);
        if (fired & Timers::RetransmitHandshake) {
            if (peer->timers.handshakeAttempts > kMaxHandshakeAttempts) {
                // Give up (REKEY_ATTEMPT_TIME passed): drop what waited, forget keys later.
                peer->staged.clear();
                peer->timers.armZeroKeyMaterialIfIdle(now.mono);
            } else {
                ++peer->timers.handshakeAttempts;
                sendInitiation(*peer, now, true, actions);
            }
        }
        if (fired & Timers::SendKeepalive) {
            sendKeepalive(*peer, now, actions);
            if (peer->timers.needAnotherKeepalive) {
                peer->timers.needAnotherKeepalive = false;
                peer->timers.armSendKeepalive(now.mono);
            }
        }
        if (fired & Timers::NewHandshake) // we sent data and heard nothing back for 15 s
            sendInitiation(*peer, now, false, actions);
        if (fired & Timers::ZeroKeyMaterial)
            zeroKeyMaterial(*peer);
        if ((fired & Timers::PersistentKeepalive) && peer->timers.persistentKeepalive() > 0)
            sendKeepalive(*peer, now, actions);
        next = std::min(next, peer->timers.nextDeadline());
    }
    rateLimiter_.collectGarbage(now.mono);
    deadlineHint_ = next;
    return next;
}

} // namespace calnet::wireguard
