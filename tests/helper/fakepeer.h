// What the tests on the fake platform share: IPv4 packets to inject, and a Tunnel on the fake
// network that plays the other end of a profile.
#pragma once

#include <QTest>

#include <cstring>
#include <memory>
#include <string>

#include "core/crypto/x25519.h"
#include "core/net/ipaddress.h"
#include "helper/datapath/tunnel.h"
#include "helper/platform/fake/fakeplatform.h"

namespace calnet::testing {

// An IPv4/UDP packet from src to dst, with a valid header checksum, whose payload is `tag`
// repeated to `size` bytes.
inline helper::fake::Bytes ipv4(const char* src, const char* dst, std::size_t size,
                                std::uint32_t tag) {
    helper::fake::Bytes p(20 + 8 + size);
    p[0] = 0x45;
    p[2] = std::uint8_t(p.size() >> 8);
    p[3] = std::uint8_t(p.size());
    p[8] = 64;
    p[9] = 17;
    std::memcpy(&p[12], net::IpAddress::parse(src)->bytes.data(), 4);
    std::memcpy(&p[16], net::IpAddress::parse(dst)->bytes.data(), 4);
    std::uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += std::uint32_t(p[std::size_t(i)] << 8 | p[std::size_t(i) + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    p[10] = std::uint8_t(~sum >> 8);
    p[11] = std::uint8_t(~sum);
    p[20 + 4] = std::uint8_t((8 + size) >> 8);
    p[20 + 5] = std::uint8_t(8 + size);
    for (std::size_t i = 0; i < size; ++i)
        p[28 + i] = std::uint8_t(tag >> (8 * (i % 4)));
    return p;
}

// A running Tunnel "fake-peer" with private key `key` that knows one peer, `self`, sending
// from `selfAddress` (a /32); it learns self's endpoint from the handshake. Null (and a test
// failure) if it does not start.
inline std::unique_ptr<helper::Tunnel> startPeer(helper::Platform& platform,
                                                 const crypto::PrivateKey& key,
                                                 const crypto::PublicKey& self,
                                                 const char* selfAddress) {
    auto peer = std::make_unique<helper::Tunnel>(platform);
    std::string error;
    if (!peer->start("fake-peer", {}, error)) {
        QTest::qFail(error.c_str(), __FILE__, __LINE__);
        return nullptr;
    }
    peer->withDevice([&](wireguard::Device& device, wireguard::Now, wireguard::Actions&) {
        device.setPrivateKey(key);
        wireguard::Peer* p = device.addPeer(self);
        device.allowedIps().insert(net::IpPrefix::parse(selfAddress)->masked(), p);
    });
    return peer;
}

} // namespace calnet::testing
