// TUN offload packet surgery: checksums, TSO split, TCP coalescing. See offload.h for the flow
// and the contracts. Header layouts: IPv4 RFC 791 §3.1, IPv6 RFC 8200 §3, TCP RFC 9293 §3.1.
#include "helper/platform/linux/offload.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

namespace calnet::helper::offload {

namespace {

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kProtoIcmpv6 = 58;
constexpr std::uint8_t kProtoNoNextHeader = 59;

constexpr std::size_t kIpv4MinHdrLen = 20;
constexpr std::size_t kIpv6HdrLen = 40;
constexpr std::size_t kTcpMinHdrLen = 20;
constexpr std::size_t kTcpCsumOffset = 16;

// IPv4 header byte offsets.
constexpr std::size_t kIpv4TotalLength = 2;
constexpr std::size_t kIpv4Id = 4;
constexpr std::size_t kIpv4FlagsFragment = 6; // 3 flag bits, 13 bits of fragment offset
constexpr std::size_t kIpv4Ttl = 8;
constexpr std::size_t kIpv4Protocol = 9;
constexpr std::size_t kIpv4Checksum = 10;
constexpr std::size_t kIpv4Src = 12;
constexpr std::uint16_t kIpv4MoreFragments = 0x2000;
constexpr std::uint16_t kIpv4FragmentOffsetMask = 0x1fff;

// IPv6 header byte offsets.
constexpr std::size_t kIpv6PayloadLength = 4;
constexpr std::size_t kIpv6NextHeader = 6;
constexpr std::size_t kIpv6HopLimit = 7;
constexpr std::size_t kIpv6Src = 8;

// TCP header byte offsets and flags.
constexpr std::size_t kTcpSeq = 4;
constexpr std::size_t kTcpAckNumber = 8;
constexpr std::size_t kTcpDataOffset = 12; // data offset << 4 | reserved (incl. AE)
constexpr std::size_t kTcpFlags = 13;
constexpr std::size_t kTcpWindow = 14;
constexpr std::size_t kTcpUrgent = 18;
constexpr std::uint8_t kTcpFlagFin = 0x01;
constexpr std::uint8_t kTcpFlagSyn = 0x02;
constexpr std::uint8_t kTcpFlagRst = 0x04;
constexpr std::uint8_t kTcpFlagPsh = 0x08;
constexpr std::uint8_t kTcpFlagAck = 0x10;
constexpr std::uint8_t kTcpFlagCwr = 0x80;

std::uint16_t load16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t load32(const std::uint8_t* p) noexcept {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
void store16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void store32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t foldTo32(std::uint64_t sum) noexcept {
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return static_cast<std::uint32_t>(sum);
}

std::uint16_t complemented(std::uint32_t sum) noexcept {
    return static_cast<std::uint16_t>(~checksumFold(sum));
}

std::size_t addrLen(bool v6) noexcept {
    return v6 ? 16 : 4;
}
std::size_t srcOffset(bool v6) noexcept {
    return v6 ? kIpv6Src : kIpv4Src;
}

// IPv4 header checksum and TCP checksum (with pseudo-header) of a packet whose IP header is
// ipHdrLen bytes long. A valid ones'-complement sum folds to 0xFFFF.
bool checksumsValid(const std::uint8_t* p, std::size_t n, bool v6, std::size_t ipHdrLen) noexcept {
    if (!v6 && checksumFold(checksumAdd({p, ipHdrLen})) != 0xffff)
        return false;
    const std::uint8_t* src = p + srcOffset(v6);
    const std::uint32_t pseudo = pseudoHeaderSum(v6, src, src + addrLen(v6), kProtoTcp,
                                                 static_cast<std::uint32_t>(n - ipHdrLen));
    return checksumFold(checksumAdd({p + ipHdrLen, n - ipHdrLen}, pseudo)) == 0xffff;
}

// ---- TSO ---------------------------------------------------------------------------------------

struct GsoLayout {
    bool v6 = false;
    std::size_t ipHdrLen = 0;
    std::size_t tcpHdrLen = 0;
    std::size_t payload = 0;
    std::size_t count = 0;
};

// Validates a GSO_TCPV4/6 read against the packet's own headers.
std::optional<GsoLayout> parseGso(const VirtioNetHdr& hdr,
                                  std::span<const std::uint8_t> packet) noexcept {
    const auto type = static_cast<std::uint8_t>(hdr.gsoType & ~kVirtioNetHdrGsoEcn);
    if (type != kVirtioNetHdrGsoTcpv4 && type != kVirtioNetHdrGsoTcpv6)
        return std::nullopt;
    if (hdr.gsoSize == 0)
        return std::nullopt;
    const std::uint8_t* p = packet.data();
    const std::size_t n = packet.size();
    GsoLayout l;
    l.v6 = type == kVirtioNetHdrGsoTcpv6;
    if (!l.v6) {
        if (n < kIpv4MinHdrLen || p[0] >> 4 != 4)
            return std::nullopt;
        l.ipHdrLen = std::size_t(p[0] & 0x0f) * 4;
        if (l.ipHdrLen < kIpv4MinHdrLen || n < l.ipHdrLen || load16(p + kIpv4TotalLength) != n)
            return std::nullopt;
        if (load16(p + kIpv4FlagsFragment) & (kIpv4MoreFragments | kIpv4FragmentOffsetMask))
            return std::nullopt;
        if (p[kIpv4Protocol] != kProtoTcp)
            return std::nullopt;
    } else {
        if (n < kIpv6HdrLen || p[0] >> 4 != 6)
            return std::nullopt;
        l.ipHdrLen = kIpv6HdrLen;
        // Extension headers (and so jumbograms) are refused: TCP must follow directly.
        if (std::size_t(load16(p + kIpv6PayloadLength)) + kIpv6HdrLen != n ||
            p[kIpv6NextHeader] != kProtoTcp)
            return std::nullopt;
    }
    if ((hdr.flags & kVirtioNetHdrFNeedsCsum) &&
        (hdr.csumStart != l.ipHdrLen || hdr.csumOffset != kTcpCsumOffset))
        return std::nullopt;
    if (n < l.ipHdrLen + kTcpMinHdrLen)
        return std::nullopt;
    const std::uint8_t* tcp = p + l.ipHdrLen;
    l.tcpHdrLen = std::size_t(tcp[kTcpDataOffset] >> 4) * 4;
    if (l.tcpHdrLen < kTcpMinHdrLen || n <= l.ipHdrLen + l.tcpHdrLen)
        return std::nullopt; // also refuses a GSO packet without payload
    // The kernel never sends SYN or RST through TSO; splitting one would repeat the flag.
    if (tcp[kTcpFlags] & (kTcpFlagSyn | kTcpFlagRst))
        return std::nullopt;
    l.payload = n - l.ipHdrLen - l.tcpHdrLen;
    l.count = (l.payload + hdr.gsoSize - 1) / hdr.gsoSize;
    return l;
}

// ---- Coalescing --------------------------------------------------------------------------------

struct Candidate {
    bool v6 = false;
    std::size_t ipHdrLen = 0;
    std::size_t tcpHdrLen = 0;
    std::size_t payload = 0;
    std::uint32_t seq = 0;
    bool psh = false;
};

// A packet that may join a run: see the list in offload.h.
std::optional<Candidate> parseCandidate(const std::uint8_t* p, std::size_t n) noexcept {
    if (n < kIpv4MinHdrLen + kTcpMinHdrLen || n > kMaxPacketLen)
        return std::nullopt;
    Candidate c;
    if (p[0] == 0x45) { // IPv4, IHL 5: no options
        if (load16(p + kIpv4TotalLength) != n || p[kIpv4Protocol] != kProtoTcp)
            return std::nullopt;
        if (load16(p + kIpv4FlagsFragment) & (kIpv4MoreFragments | kIpv4FragmentOffsetMask))
            return std::nullopt;
        c.ipHdrLen = kIpv4MinHdrLen;
    } else if (p[0] >> 4 == 6) {
        if (n < kIpv6HdrLen + kTcpMinHdrLen ||
            std::size_t(load16(p + kIpv6PayloadLength)) + kIpv6HdrLen != n ||
            p[kIpv6NextHeader] != kProtoTcp)
            return std::nullopt;
        c.v6 = true;
        c.ipHdrLen = kIpv6HdrLen;
    } else {
        return std::nullopt;
    }
    const std::uint8_t* tcp = p + c.ipHdrLen;
    if (tcp[kTcpDataOffset] & 0x0f) // reserved bits or AccECN's AE: leave to the kernel
        return std::nullopt;
    c.tcpHdrLen = std::size_t(tcp[kTcpDataOffset] >> 4) * 4;
    if (c.tcpHdrLen < kTcpMinHdrLen || c.ipHdrLen + c.tcpHdrLen >= n)
        return std::nullopt; // no payload: pure ACKs are never merged
    const std::uint8_t flags = tcp[kTcpFlags];
    if (flags != kTcpFlagAck && flags != (kTcpFlagAck | kTcpFlagPsh))
        return std::nullopt;
    c.payload = n - c.ipHdrLen - c.tcpHdrLen;
    c.seq = load32(tcp + kTcpSeq);
    c.psh = flags & kTcpFlagPsh;
    return c;
}

// True if lead and p (same flow) agree on every header field the super-packet keeps from
// lead: what would be lost otherwise. Mirrors the kernel's tcp_gro_receive/inet_gro_receive.
bool sameHeaders(const std::uint8_t* lead, const std::uint8_t* p, bool v6, std::size_t ipHdrLen,
                 std::size_t tcpHdrLen) noexcept {
    if (v6) {
        // version, traffic class, flow label; hop limit
        if (std::memcmp(lead, p, 4) != 0 || lead[kIpv6HopLimit] != p[kIpv6HopLimit])
            return false;
    } else {
        // TOS (incl. ECN), DF and reserved bits, TTL
        if (lead[1] != p[1] ||
            (lead[kIpv4FlagsFragment] & 0xe0) != (p[kIpv4FlagsFragment] & 0xe0) ||
            lead[kIpv4Ttl] != p[kIpv4Ttl])
            return false;
    }
    const std::uint8_t* a = lead + ipHdrLen;
    const std::uint8_t* b = p + ipHdrLen;
    return std::memcmp(a + kTcpAckNumber, b + kTcpAckNumber, 4) == 0 &&
           std::memcmp(a + kTcpWindow, b + kTcpWindow, 2) == 0 &&
           std::memcmp(a + kTcpUrgent, b + kTcpUrgent, 2) == 0 &&
           std::memcmp(a + kTcpMinHdrLen, b + kTcpMinHdrLen, tcpHdrLen - kTcpMinHdrLen) == 0;
}

} // namespace

// ---- virtio_net_hdr ----------------------------------------------------------------------------

VirtioNetHdr VirtioNetHdr::decode(const std::uint8_t* p) noexcept {
    VirtioNetHdr h;
    h.flags = p[0];
    h.gsoType = p[1];
    std::memcpy(&h.hdrLen, p + 2, 2); // host byte order: legacy virtio layout
    std::memcpy(&h.gsoSize, p + 4, 2);
    std::memcpy(&h.csumStart, p + 6, 2);
    std::memcpy(&h.csumOffset, p + 8, 2);
    return h;
}

void VirtioNetHdr::encode(std::uint8_t* p) const noexcept {
    p[0] = flags;
    p[1] = gsoType;
    std::memcpy(p + 2, &hdrLen, 2);
    std::memcpy(p + 4, &gsoSize, 2);
    std::memcpy(p + 6, &csumStart, 2);
    std::memcpy(p + 8, &csumOffset, 2);
}

// ---- Internet checksum -------------------------------------------------------------------------

std::uint32_t checksumAdd(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
    // Sum native-order 32-bit loads: each is w0 + w1 * 2^16, which is w0 + w1 modulo 2^16 - 1,
    // so this is the ones'-complement sum of native 16-bit words. The byte order is fixed after
    // folding, since swapping commutes with the sum (RFC 1071 §2(B)). A 64-bit accumulator
    // takes 2^32 such loads without overflow.
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    std::uint64_t acc = 0;
    while (n >= 16) {
        std::uint32_t w[4];
        std::memcpy(w, p, 16);
        acc += std::uint64_t(w[0]) + w[1] + w[2] + w[3];
        p += 16;
        n -= 16;
    }
    while (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        acc += w;
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        acc += w;
        p += 2;
        n -= 2;
    }
    if (n == 1) { // pad with a zero byte (RFC 1071 §4.1)
        const std::uint8_t last[2] = {*p, 0};
        std::uint16_t w;
        std::memcpy(&w, last, 2);
        acc += w;
    }
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    auto folded = static_cast<std::uint16_t>(acc);
    if constexpr (std::endian::native == std::endian::little)
        folded = static_cast<std::uint16_t>(folded << 8 | folded >> 8);
    return foldTo32(std::uint64_t(sum) + folded);
}

std::uint16_t checksumFold(std::uint32_t sum) noexcept {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::uint32_t pseudoHeaderSum(bool ipv6, const std::uint8_t* src, const std::uint8_t* dst,
                              std::uint8_t proto, std::uint32_t length) noexcept {
    const std::uint32_t sum = checksumAdd({dst, addrLen(ipv6)}, checksumAdd({src, addrLen(ipv6)}));
    // IPv4: zero, protocol, 16-bit length. IPv6: 32-bit length, three zero bytes, next header.
    // Either way the words add up to proto + length's two halves.
    return foldTo32(std::uint64_t(sum) + proto + (length >> 16) + (length & 0xffff));
}

// ---- Outbound ----------------------------------------------------------------------------------

bool completeChecksum(const VirtioNetHdr& hdr, std::span<std::uint8_t> packet) noexcept {
    if (!(hdr.flags & kVirtioNetHdrFNeedsCsum))
        return true;
    const std::size_t start = hdr.csumStart;
    const std::size_t at = start + hdr.csumOffset;
    // An odd offset would put the field across word boundaries; no transport does that.
    if (hdr.csumOffset % 2 != 0 || at + 2 > packet.size())
        return false;
    std::uint16_t check = complemented(checksumAdd(packet.subspan(start)));
    if (check == 0)
        check = 0xffff; // CSUM_MANGLED_0: for UDP, 0 means "no checksum"
    store16(packet.data() + at, check);
    return true;
}

int segmentCount(const VirtioNetHdr& hdr, std::span<const std::uint8_t> packet) noexcept {
    if (hdr.gsoType == kVirtioNetHdrGsoNone) {
        if (packet.empty())
            return -1;
        if (hdr.flags & kVirtioNetHdrFNeedsCsum) {
            const std::size_t at = std::size_t(hdr.csumStart) + hdr.csumOffset;
            if (hdr.csumOffset % 2 != 0 || at + 2 > packet.size())
                return -1;
        }
        return 1;
    }
    const auto layout = parseGso(hdr, packet);
    return layout ? static_cast<int>(layout->count) : -1;
}

int segment(const VirtioNetHdr& hdr, std::span<const std::uint8_t> packet,
            std::span<std::uint8_t* const> out, std::size_t outCapacity,
            std::span<std::size_t> lengths) noexcept {
    if (hdr.gsoType == kVirtioNetHdrGsoNone) {
        if (packet.empty() || out.empty() || lengths.empty() || packet.size() > outCapacity)
            return -1;
        std::memcpy(out[0], packet.data(), packet.size());
        if (!completeChecksum(hdr, {out[0], packet.size()}))
            return -1;
        lengths[0] = packet.size();
        return 1;
    }

    const auto layout = parseGso(hdr, packet);
    if (!layout)
        return -1;
    const bool v6 = layout->v6;
    const std::size_t ipLen = layout->ipHdrLen;
    const std::size_t headers = ipLen + layout->tcpHdrLen;
    const std::size_t count = layout->count;
    if (count > out.size() || count > lengths.size() ||
        headers + std::min<std::size_t>(hdr.gsoSize, layout->payload) > outCapacity)
        return -1;

    const std::uint8_t* in = packet.data();
    const std::uint8_t* src = in + srcOffset(v6);
    const std::uint8_t* dst = src + addrLen(v6);
    const std::uint16_t firstId = v6 ? 0 : load16(in + kIpv4Id);
    const std::uint32_t firstSeq = load32(in + ipLen + kTcpSeq);
    const std::uint8_t flags = in[ipLen + kTcpFlags];

    std::size_t offset = 0; // payload bytes already emitted
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t len = std::min<std::size_t>(hdr.gsoSize, layout->payload - offset);
        const std::size_t total = headers + len;
        std::uint8_t* o = out[i];
        std::memcpy(o, in, headers);
        std::memcpy(o + headers, in + headers + offset, len);

        if (!v6) {
            store16(o + kIpv4TotalLength, static_cast<std::uint16_t>(total));
            // The ID advances per segment as the kernel's inet_gso_segment does; wraps mod 2^16.
            store16(o + kIpv4Id, static_cast<std::uint16_t>(firstId + i));
            store16(o + kIpv4Checksum, 0);
            store16(o + kIpv4Checksum, complemented(checksumAdd({o, ipLen})));
        } else {
            store16(o + kIpv6PayloadLength, static_cast<std::uint16_t>(total - ipLen));
        }

        std::uint8_t* tcp = o + ipLen;
        store32(tcp + kTcpSeq, firstSeq + static_cast<std::uint32_t>(offset));
        std::uint8_t f = flags;
        if (i + 1 != count)
            f &= static_cast<std::uint8_t>(~(kTcpFlagFin | kTcpFlagPsh)); // end of the burst only
        if (i != 0)
            f &= static_cast<std::uint8_t>(~kTcpFlagCwr); // RFC 3168 §6.1.2: CWR once
        tcp[kTcpFlags] = f;
        const auto tcpLen = static_cast<std::uint32_t>(total - ipLen);
        store16(tcp + kTcpCsumOffset, 0);
        store16(tcp + kTcpCsumOffset,
                complemented(
                    checksumAdd({tcp, tcpLen}, pseudoHeaderSum(v6, src, dst, kProtoTcp, tcpLen))));
        lengths[i] = total;
        offset += len;
    }
    return static_cast<int>(count);
}

// ---- Inbound -----------------------------------------------------------------------------------

TcpCoalescer::TcpCoalescer(std::size_t expectedBatch) {
    role_.reserve(expectedBatch);
    runs_.reserve(expectedBatch);
}

bool TcpCoalescer::runMatches(const Run& run, const FlowId& flow) const noexcept {
    if (run.v6 != flow.v6 || std::memcmp(run.addrs.data(), flow.addrs, 2 * addrLen(flow.v6)) != 0)
        return false;
    return !flow.portsKnown || (run.srcPort == flow.srcPort && run.dstPort == flow.dstPort);
}

void TcpCoalescer::closeFlow(const FlowId& flow) noexcept {
    for (std::size_t slot = 0; slot < openCount_;) {
        if (runMatches(runs_[open_[slot]], flow))
            closeRun(slot); // moves the last slot here
        else
            ++slot;
    }
}

void TcpCoalescer::closeRun(std::size_t slot) noexcept {
    open_[slot] = open_[--openCount_];
}

void TcpCoalescer::openRun(std::uint32_t index) noexcept {
    if (openCount_ == kMaxOpenFlows) {
        std::size_t oldest = 0;
        for (std::size_t slot = 1; slot < openCount_; ++slot) {
            if (runs_[open_[slot]].lastUse < runs_[open_[oldest]].lastUse)
                oldest = slot;
        }
        closeRun(oldest);
    }
    open_[openCount_++] = index;
}

std::size_t TcpCoalescer::build(std::span<const Input> batch,
                                std::span<std::uint8_t* const> scratch,
                                std::vector<Output>& outputs) {
    outputs.clear();
    role_.assign(batch.size(), kPassThrough);
    runs_.clear();
    openCount_ = 0;
    std::size_t scratchUsed = 0;
    std::size_t end = batch.size(); // packets planned in this call

    // Pass 1: assign every packet to a run (leader or member) or to pass-through, copying
    // members into their run's scratch buffer as they join.
    for (std::size_t i = 0; i < end; ++i) {
        const std::uint8_t* p = batch[i].packet;
        const std::size_t n = batch[i].length;
        const auto c = parseCandidate(p, n);
        if (!c) {
            // Not mergeable, but if it is TCP it may belong to an open run's flow; that run
            // must end here or its later packets would overtake this one.
            FlowId flow;
            if (n >= kIpv4MinHdrLen && p[0] >> 4 == 4) {
                const std::size_t ihl = std::size_t(p[0] & 0x0f) * 4;
                if (ihl < kIpv4MinHdrLen || ihl > n || p[kIpv4Protocol] != kProtoTcp)
                    continue;
                flow.addrs = p + kIpv4Src;
                flow.portsKnown =
                    (load16(p + kIpv4FlagsFragment) & kIpv4FragmentOffsetMask) == 0 && ihl + 4 <= n;
                if (flow.portsKnown) {
                    flow.srcPort = load16(p + ihl);
                    flow.dstPort = load16(p + ihl + 2);
                }
            } else if (n >= kIpv6HdrLen && p[0] >> 4 == 6) {
                const std::uint8_t next = p[kIpv6NextHeader];
                if (next == kProtoUdp || next == kProtoIcmpv6 || next == kProtoNoNextHeader)
                    continue;
                flow.v6 = true;
                flow.addrs = p + kIpv6Src;
                // With extension headers the TCP header (if any) is somewhere further on.
                flow.portsKnown = next == kProtoTcp && n >= kIpv6HdrLen + 4;
                if (flow.portsKnown) {
                    flow.srcPort = load16(p + kIpv6HdrLen);
                    flow.dstPort = load16(p + kIpv6HdrLen + 2);
                }
            } else {
                continue;
            }
            closeFlow(flow);
            continue;
        }

        const std::uint8_t* tcp = p + c->ipHdrLen;
        const FlowId flow{c->v6, p + srcOffset(c->v6), true, load16(tcp), load16(tcp + 2)};
        std::size_t slot = 0;
        while (slot < openCount_ && !runMatches(runs_[open_[slot]], flow))
            ++slot;

        if (slot < openCount_) {
            Run& run = runs_[open_[slot]];
            const std::uint8_t* lead = batch[run.first].packet;
            const bool fits = c->tcpHdrLen == run.tcpHdrLen && c->seq == run.nextSeq &&
                              c->payload <= run.gsoSize &&
                              run.length + c->payload <= kMaxPacketLen &&
                              sameHeaders(lead, p, c->v6, c->ipHdrLen, c->tcpHdrLen);
            bool joined = false;
            bool packetBad = false;
            if (fits && run.count == 1 && scratchUsed == scratch.size()) {
                // Every super-packet buffer is taken: stop here; the caller writes what was
                // planned and calls again with the rest (a burst of many flows in one batch
                // must not fall back to packet-by-packet writes).
                end = i;
                break;
            }
            if (fits) {
                // Checksums are verified only once a packet is about to be merged: the
                // super-packet goes up as CHECKSUM_PARTIAL and is never verified again.
                if (run.count == 1) {
                    const std::size_t leadLen = batch[run.first].length;
                    if (scratchUsed < scratch.size() &&
                        checksumsValid(lead, leadLen, run.v6, run.ipHdrLen)) {
                        packetBad = !checksumsValid(p, n, c->v6, c->ipHdrLen);
                        if (!packetBad) {
                            std::memcpy(scratch[scratchUsed] + kVirtioNetHdrLen, lead, leadLen);
                            run.scratch = static_cast<std::int32_t>(scratchUsed++);
                            joined = true;
                        }
                    }
                } else {
                    packetBad = !checksumsValid(p, n, c->v6, c->ipHdrLen);
                    joined = !packetBad;
                }
            }
            if (joined) {
                std::uint8_t* super = scratch[static_cast<std::size_t>(run.scratch)];
                std::memcpy(super + kVirtioNetHdrLen + run.length, p + c->ipHdrLen + c->tcpHdrLen,
                            c->payload);
                run.length += static_cast<std::uint32_t>(c->payload);
                run.nextSeq += static_cast<std::uint32_t>(c->payload);
                run.count++;
                run.lastUse = static_cast<std::uint32_t>(i);
                run.psh = c->psh;
                role_[i] = kMember;
                // PSH ends a GRO run; so does a short segment, since every segment but the
                // last must carry exactly gsoSize bytes for the kernel to re-split it.
                if (c->psh || c->payload < run.gsoSize)
                    closeRun(slot);
                continue;
            }
            closeRun(slot);
            if (packetBad)
                continue; // pass it through alone; the kernel will drop it
        }

        if (c->psh)
            continue; // nothing may follow it in a run
        Run run;
        std::memcpy(run.addrs.data(), flow.addrs, 2 * addrLen(c->v6));
        run.srcPort = flow.srcPort;
        run.dstPort = flow.dstPort;
        run.v6 = c->v6;
        run.ipHdrLen = static_cast<std::uint8_t>(c->ipHdrLen);
        run.tcpHdrLen = static_cast<std::uint8_t>(c->tcpHdrLen);
        run.gsoSize = static_cast<std::uint16_t>(c->payload);
        run.first = static_cast<std::uint32_t>(i);
        run.count = 1;
        run.length = static_cast<std::uint32_t>(n);
        run.nextSeq = c->seq + static_cast<std::uint32_t>(c->payload);
        run.lastUse = static_cast<std::uint32_t>(i);
        const auto index = static_cast<std::uint32_t>(runs_.size());
        runs_.push_back(run);
        role_[i] = static_cast<std::int32_t>(index);
        openRun(index);
    }

    // Pass 2: emit in batch order of each output's first packet.
    for (std::size_t i = 0; i < end; ++i) {
        const std::int32_t role = role_[i];
        if (role == kMember)
            continue;
        if (role >= 0 && runs_[static_cast<std::size_t>(role)].count >= 2) {
            const Run& run = runs_[static_cast<std::size_t>(role)];
            std::uint8_t* out = scratch[static_cast<std::size_t>(run.scratch)];
            std::uint8_t* pkt = out + kVirtioNetHdrLen;
            const std::size_t ipLen = run.ipHdrLen;
            if (!run.v6) {
                store16(pkt + kIpv4TotalLength, static_cast<std::uint16_t>(run.length));
                store16(pkt + kIpv4Checksum, 0);
                store16(pkt + kIpv4Checksum, complemented(checksumAdd({pkt, ipLen})));
            } else {
                store16(pkt + kIpv6PayloadLength, static_cast<std::uint16_t>(run.length - ipLen));
            }
            std::uint8_t* tcp = pkt + ipLen;
            if (run.psh)
                tcp[kTcpFlags] |= kTcpFlagPsh;
            // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, uncomplemented
            // (what __tcp_v4_send_check leaves for the device to finish).
            const std::uint8_t* src = pkt + srcOffset(run.v6);
            store16(tcp + kTcpCsumOffset,
                    checksumFold(pseudoHeaderSum(run.v6, src, src + addrLen(run.v6), kProtoTcp,
                                                 static_cast<std::uint32_t>(run.length - ipLen))));
            VirtioNetHdr hdr;
            hdr.flags = kVirtioNetHdrFNeedsCsum;
            hdr.gsoType = run.v6 ? kVirtioNetHdrGsoTcpv6 : kVirtioNetHdrGsoTcpv4;
            hdr.hdrLen = static_cast<std::uint16_t>(ipLen + run.tcpHdrLen);
            hdr.gsoSize = run.gsoSize;
            hdr.csumStart = static_cast<std::uint16_t>(ipLen);
            hdr.csumOffset = kTcpCsumOffset;
            hdr.encode(out);
            outputs.push_back({out, kVirtioNetHdrLen + run.length});
        } else {
            std::uint8_t* head = batch[i].packet - kVirtioNetHdrLen;
            std::memset(head, 0, kVirtioNetHdrLen);
            outputs.push_back({head, kVirtioNetHdrLen + batch[i].length});
        }
    }
    return end;
}

} // namespace calnet::helper::offload
