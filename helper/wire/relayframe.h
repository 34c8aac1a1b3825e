// The relay's binary frames (docs/protocol.md "Relay"), shared by calnet-server's RelayHub and
// calnetd's RelayClient. After the JSON challenge/hello/ready, every WebSocket binary message
// is one frame: a type byte, a node key, and (for packets) the packet.
#pragma once

#include <cstddef>
#include <cstdint>

namespace calnet::wire {

inline constexpr std::uint8_t kRelaySend = 0x01;    // node -> relay: destination key | packet
inline constexpr std::uint8_t kRelayReceive = 0x02; // relay -> node: source key | packet
inline constexpr std::uint8_t kRelayNotHere = 0x03; // relay -> node: key (not connected here)
inline constexpr std::size_t kRelayKeySize = 32;
inline constexpr std::size_t kRelayHeaderSize = 1 + kRelayKeySize;
// A whole frame, header included, is at most this (a WireGuard datagram fits easily).
inline constexpr std::size_t kRelayMaxFrame = 64 * 1024;

} // namespace calnet::wire
