// libFuzzer target for disco (core/disco): what anyone can send to a node's WireGuard port and
// what a relay can hand it. The first byte picks the input: a payload for decodePayload (what
// decodes re-encodes to the same bytes), a datagram for PathFinder::receiveUdp, or a relayed
// message for receiveRelay. Datagrams whose sender key is a map peer's are also sealed
// properly with the fuzzed payload, so the decrypted side is reached too; nothing may crash and
// the path finder's state stays consistent (a path is direct only to an address it pinged).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/disco/pathfinder.h"
#include "fuzzcheck.h"

using namespace calnet;

namespace {

struct Fixture {
    crypto::PrivateKey ourDisco = crypto::generatePrivateKey();
    crypto::PrivateKey peerDisco = crypto::generatePrivateKey();
    crypto::PublicKey ourNode{};
    crypto::PublicKey peerNode{};
    disco::SharedKey peerToUs;
    Fixture() {
        ourNode.fill(1);
        peerNode.fill(2);
        peerToUs = disco::SharedKey(peerDisco, crypto::publicKeyOf(ourDisco));
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture f;
    if (size < 1)
        return 0;
    const std::span<const std::uint8_t> in(data + 1, size - 1);
    if (const auto m = disco::decodePayload(in)) {
        const auto again = disco::encodePayload(*m);
        CHECK(std::equal(again.begin(), again.end(), in.begin(), in.end()));
    }
    disco::PathFinder pf(f.ourNode, f.ourDisco);
    disco::Outbox out;
    disco::Instant now = std::chrono::hours(1);
    const net::SocketAddress from = *net::SocketAddress::parse("192.0.2.7:41641");
    pf.setRelayConnected(true, now, out);
    pf.setPeers({{f.peerNode, crypto::publicKeyOf(f.peerDisco), {from}}}, now, out);
    out.clear();
    switch (data[0] % 3) {
    case 0:
        pf.receiveUdp(in, from, now, out);
        break;
    case 1:
        pf.receiveRelay(f.peerNode, in, now, out);
        break;
    default: {
        // A genuine box around the fuzzed payload (decoded or not).
        if (const auto m = disco::decodePayload(in)) {
            const auto sealed = f.peerToUs.seal(crypto::publicKeyOf(f.peerDisco), *m);
            pf.receiveUdp(sealed, from, now, out);
            pf.receiveRelay(f.peerNode, sealed, now, out);
        }
    }
    }
    for (const auto& u : out.udp)
        CHECK(u.bytes.size() <= disco::kMaxDatagram);
    now += std::chrono::seconds(1);
    pf.tick(now, out);
    const disco::PeerPath* path = pf.path(f.peerNode);
    CHECK(path != nullptr);
    // Nothing we did not ping can have answered: no direct path from fuzzed input alone.
    CHECK(path->kind != disco::PathKind::Direct);
    return 0;
}
