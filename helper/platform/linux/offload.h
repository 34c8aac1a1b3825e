// TUN offload packet surgery: the virtio_net_hdr that IFF_VNET_HDR puts in front of every TUN
// read/write, TSO splitting of the super-packets the kernel hands us (outbound), and GRO-style
// TCP coalescing of decrypted packets before we write them back (inbound). No I/O, no locks,
// no allocation on the per-packet path: callers own every buffer.
//
//   outbound  TUN read = [virtio_net_hdr | IP packet, up to 64 KiB]
//             -> VirtioNetHdr::decode -> segment() -> N MTU-sized IP packets -> seal
//   inbound   open -> batch of inner IP packets (each with >= kVirtioNetHdrLen headroom)
//             -> TcpCoalescer::build -> [virtio_net_hdr | packet or super-packet] per TUN write
//
// Byte order. virtio_net_hdr's 16-bit fields are in host byte order: TUN uses the "legacy"
// virtio layout (native endianness) unless TUNSETVNETLE/TUNSETVNETBE changed it, so do not
// issue those ioctls. Everything inside the IP packet is network byte order as usual.
//
// Changes from the first sketch of this API (all additive or narrowing):
//   - completeChecksum(): the GSO_NONE case of segment() done in place, so the common
//     non-GSO read can be sealed without a copy.
//   - segmentCount(): validates like segment() and says how many output buffers it will need.
//   - GSO_ECN (0x80) is accepted on TCPV4/TCPV6: segment() always leaves CWR on the first
//     segment only, which is exactly what SKB_GSO_TCP_ECN asks of a segmenter.
//   - TcpCoalescer takes the expected batch size in its constructor (reserves its bookkeeping
//     once); build() plans a prefix of the batch — up to the point where its super-packet
//     buffers run out — and returns how many packets it consumed.
//   - Packets are only merged if their TCP checksum (and IPv4 header checksum) verify: a
//     super-packet is written as CHECKSUM_PARTIAL, which the kernel never re-verifies, so
//     merging would otherwise launder a corrupted segment into the receiving socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace calnet::helper::offload {

// ---- virtio_net_hdr (include/uapi/linux/virtio_net.h) ----------------------------------------
//
//   0       1          2         4          6            8             10
//   | flags | gso_type | hdr_len | gso_size | csum_start | csum_offset |
//
// hdr_len: IP + TCP header bytes; gso_size: payload bytes per segment; csum_start: where the
// checksummed region begins (the transport header); csum_offset: where in it the checksum
// field sits (16 for TCP, 6 for UDP). TUN has no Ethernet header, so offsets are IP-relative.
inline constexpr std::size_t kVirtioNetHdrLen = 10;

inline constexpr std::uint8_t kVirtioNetHdrFNeedsCsum = 1; // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVirtioNetHdrFDataValid = 2; // VIRTIO_NET_HDR_F_DATA_VALID

inline constexpr std::uint8_t kVirtioNetHdrGsoNone = 0;   // VIRTIO_NET_HDR_GSO_NONE
inline constexpr std::uint8_t kVirtioNetHdrGsoTcpv4 = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr std::uint8_t kVirtioNetHdrGsoUdp = 3;    // VIRTIO_NET_HDR_GSO_UDP (UFO)
inline constexpr std::uint8_t kVirtioNetHdrGsoTcpv6 = 4;  // VIRTIO_NET_HDR_GSO_TCPV6
inline constexpr std::uint8_t kVirtioNetHdrGsoUdpL4 = 5;  // VIRTIO_NET_HDR_GSO_UDP_L4 (USO)
inline constexpr std::uint8_t kVirtioNetHdrGsoEcn = 0x80; // VIRTIO_NET_HDR_GSO_ECN

// The largest IP packet either direction handles (IPv4 total length / what fits a TUN write
// without BIG TCP); a super-packet scratch buffer is this plus the virtio header.
inline constexpr std::size_t kMaxPacketLen = 65535;
inline constexpr std::size_t kScratchLen = kMaxPacketLen + kVirtioNetHdrLen;

struct VirtioNetHdr {
    std::uint8_t flags = 0;
    std::uint8_t gsoType = 0;
    std::uint16_t hdrLen = 0, gsoSize = 0, csumStart = 0, csumOffset = 0;

    // p points at kVirtioNetHdrLen bytes; no alignment required.
    static VirtioNetHdr decode(const std::uint8_t* p) noexcept;
    void encode(std::uint8_t* p) const noexcept;

    friend bool operator==(const VirtioNetHdr&, const VirtioNetHdr&) = default;
};

// ---- Internet checksum (RFC 1071) -------------------------------------------------------------
// checksumAdd() returns an unfolded ones'-complement accumulation, congruent to the sum of the
// big-endian 16-bit words of data plus `sum`. Chain calls over consecutive pieces as long as
// every piece but the last has even length (an odd piece shifts the word boundaries).
std::uint32_t checksumAdd(std::span<const std::uint8_t> data, std::uint32_t sum = 0) noexcept;
// Folds to 16 bits with end-around carry; not complemented. The checksum to store is ~fold.
std::uint16_t checksumFold(std::uint32_t sum) noexcept;
// Sum of the TCP/UDP pseudo-header (RFC 793 §3.1 for IPv4, RFC 8200 §8.1 for IPv6): the two
// addresses (4 or 16 bytes each), the protocol and the upper-layer length.
std::uint32_t pseudoHeaderSum(bool ipv6, const std::uint8_t* src, const std::uint8_t* dst,
                              std::uint8_t proto, std::uint32_t length) noexcept;

// ---- Outbound: TUN read -> segments ------------------------------------------------------------

// For a GSO_NONE read with NEEDS_CSUM: the 16-bit field at csumStart + csumOffset holds the
// folded pseudo-header sum (CHECKSUM_PARTIAL); sums [csumStart, end) and stores the complement,
// 0 written as 0xFFFF as skb_checksum_help() does (a 0 UDP checksum would mean "none").
// Without NEEDS_CSUM it does nothing. Returns false if the offsets do not fit in packet.
bool completeChecksum(const VirtioNetHdr& hdr, std::span<std::uint8_t> packet) noexcept;

// How many packets segment() would produce for this read (1 for GSO_NONE), or -1 if segment()
// would refuse it for reasons other than the caller's buffers.
int segmentCount(const VirtioNetHdr& hdr, std::span<const std::uint8_t> packet) noexcept;

// Splits one TUN read (`packet` is what followed the virtio header) into out[0..n), setting
// lengths[i]; returns n, or -1 with nothing promised about out.
//   - GSO_NONE: out[0] = packet, checksum completed as in completeChecksum().
//   - GSO_TCPV4 / GSO_TCPV6 (optionally | GSO_ECN): segments of at most gsoSize payload bytes,
//     each with its own IP header (IPv4: total length, ID + i, header checksum; IPv6: payload
//     length) and TCP header (seq advanced by the payload offset, FIN/PSH on the last segment
//     only, CWR on the first only, full checksum). Header lengths come from IHL / the fixed
//     IPv6 header / TCP data offset, never from hdrLen (which the kernel does not guarantee);
//     with NEEDS_CSUM, csumStart must equal the IP header length and csumOffset 16.
//   - -1 for UDP GSO, unknown types, gsoSize 0, an IPv6 extension header, a fragment, IP length
//     fields that disagree with packet.size(), SYN/RST in a GSO packet, no payload, or when the
//     output would not fit (fewer than n buffers or lengths, or a segment > outCapacity).
// out[i] may point anywhere in a larger buffer (e.g. after the transport header's headroom);
// outCapacity is the usable room at each out[i]; no out[i] may overlap packet. DATA_VALID is
// ignored (the packet is complete either way).
int segment(const VirtioNetHdr& hdr, std::span<const std::uint8_t> packet,
            std::span<std::uint8_t* const> out, std::size_t outCapacity,
            std::span<std::size_t> lengths) noexcept;

// ---- Inbound: decrypted packets -> TUN writes --------------------------------------------------
//
// Merges runs of one TCP flow into a super-packet the kernel treats as already received by
// GRO: virtio header {NEEDS_CSUM, GSO_TCPV4/6, hdrLen = IP+TCP header, gsoSize = first
// payload, csumStart = IP header, csumOffset = 16}, IP lengths updated, TCP checksum field =
// folded, uncomplemented pseudo-header sum of the super-packet (what a CHECKSUM_PARTIAL skb
// carries). Everything else is written as-is behind an all-zero virtio header.
//
// A packet is a merge candidate when it is IPv4 without options or fragmentation, or IPv6
// whose next header is TCP; its lengths agree with the buffer; its TCP flags are ACK or
// ACK|PSH with no reserved bits; and it carries payload. It joins its flow's open run when:
//   - same addresses and ports (the flow), IP version, TOS/traffic class + flow label, TTL/hop
//     limit, IPv4 DF/reserved bits;
//   - same TCP header length, ACK number, window, urgent pointer and option bytes;
//   - seq == the run's next expected seq, payload <= the run's gsoSize, IP length stays
//     <= kMaxPacketLen;
//   - both its checksums verify (and the run's first packet's, checked when the run starts).
// A run closes after a PSH packet, after a payload shorter than gsoSize, when any other packet
// of the same flow (a pure ACK, FIN, a packet that does not fit) passes by, or when more than
// kMaxOpenFlows flows are open (least recently used first).
//
// Order: each output takes the batch position of its first packet; a flow's packets are never
// reordered, different flows may interleave differently (as GRO does).
//
// Not thread-safe; one per inbound thread.
class TcpCoalescer {
public:
    struct Input {
        std::uint8_t* packet; // kVirtioNetHdrLen writable bytes must precede it
        std::size_t length;
    };
    struct Output {
        const std::uint8_t* data; // virtio header + packet: hand straight to write()
        std::size_t length;
    };

    static constexpr std::size_t kMaxOpenFlows = 8;

    explicit TcpCoalescer(std::size_t expectedBatch = 128);

    // Plans and writes a prefix of the batch. Non-merged packets get a zero virtio header
    // written into their headroom (packet - kVirtioNetHdrLen) and point there; super-packets
    // are built in scratch[k] (kScratchLen bytes each, one per super-packet). When a run needs
    // a buffer and every one is taken, planning stops before that packet: the call returns how
    // many packets it consumed (at least one, for a non-empty batch); write the outputs out
    // and call again with the rest. Member packets' buffers are read only. outputs is cleared
    // and refilled; reserve it to the batch size to keep the call allocation-free. Output
    // pointers stay valid until the packet buffers or scratch buffers are reused.
    std::size_t build(std::span<const Input> batch, std::span<std::uint8_t* const> scratch,
                      std::vector<Output>& outputs);

private:
    struct Run {
        std::array<std::uint8_t, 32> addrs{}; // src then dst (IPv4: the first 8 bytes)
        std::uint16_t srcPort = 0, dstPort = 0;
        bool v6 = false;
        bool psh = false;
        std::uint8_t ipHdrLen = 0, tcpHdrLen = 0;
        std::uint16_t gsoSize = 0;
        std::uint32_t first = 0;   // batch index of the run's first packet
        std::uint32_t count = 0;   // packets merged so far
        std::uint32_t length = 0;  // IP length of the super-packet so far
        std::uint32_t nextSeq = 0; // seq the next packet must carry
        std::uint32_t lastUse = 0; // batch index of the last packet that touched the run
        std::int32_t scratch = -1; // scratch buffer holding the super-packet, once count >= 2
    };

    // Where a TCP packet's flow identity sits. Ports are unknown for non-first IPv4 fragments
    // and for IPv6 packets whose extension headers might hide a TCP header.
    struct FlowId {
        bool v6 = false;
        const std::uint8_t* addrs = nullptr; // src then dst, 4 or 16 bytes each
        bool portsKnown = false;
        std::uint16_t srcPort = 0, dstPort = 0;
    };

    [[nodiscard]] bool runMatches(const Run& run, const FlowId& flow) const noexcept;
    // Closes every open run of flow (all runs between its two addresses if ports are unknown).
    void closeFlow(const FlowId& flow) noexcept;
    void closeRun(std::size_t slot) noexcept;
    // Adds runs_[index] to the open table, closing the least recently used run if it is full.
    void openRun(std::uint32_t index) noexcept;

    static constexpr std::int32_t kPassThrough = -1;
    static constexpr std::int32_t kMember = -2;

    std::vector<std::int32_t> role_; // per batch packet: run index (leader) or kPassThrough/kMember
    std::vector<Run> runs_;
    std::array<std::uint32_t, kMaxOpenFlows> open_{}; // indices into runs_
    std::size_t openCount_ = 0;
};

} // namespace calnet::helper::offload
