// WintunDevice: TunDevice on a Wintun adapter (https://www.wintun.net), the layer-3 TUN driver
// WireGuard for Windows uses. wintun.dll is loaded at run time, from calnetd.exe's folder or
// System32 only (never the current directory or PATH: calnetd runs as LocalSystem), so a
// machine without it still runs everything but the tunnel and says what is missing.
//
// Packets move through the session's two shared-memory rings (4 MiB each): read() copies them
// out of the receive ring, write() copies them into the send ring. Wintun has no offload, so
// every packet is a plain IP packet and the headroom goes unused.
//
// The adapter exists as long as the object does (Wintun removes it when its handle closes).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "helper/platform/tundevice.h"

namespace calnet::helper {

namespace wintun {

// Wintun's C API (wintun.h of the Wintun SDK), declared here from its documentation; handles
// are opaque pointers and every function is WINAPI (the only convention on x86-64).
using AdapterHandle = void*;
using SessionHandle = void*;

// wintun.dll's entry points, resolved once per device. Apart so that tests can load a stand-in
// DLL and check how a missing library or export is reported.
struct Api {
    void* module = nullptr; // HMODULE
    AdapterHandle (*createAdapter)(const wchar_t* name, const wchar_t* tunnelType,
                                   const void* requestedGuid) = nullptr;
    AdapterHandle (*openAdapter)(const wchar_t* name) = nullptr;
    void (*closeAdapter)(AdapterHandle adapter) = nullptr;
    void (*getAdapterLuid)(AdapterHandle adapter, std::uint64_t* luid) = nullptr;
    SessionHandle (*startSession)(AdapterHandle adapter, std::uint32_t capacity) = nullptr;
    void (*endSession)(SessionHandle session) = nullptr;
    void* (*getReadWaitEvent)(SessionHandle session) = nullptr; // HANDLE
    std::uint8_t* (*receivePacket)(SessionHandle session, std::uint32_t* size) = nullptr;
    void (*releaseReceivePacket)(SessionHandle session, const std::uint8_t* packet) = nullptr;
    std::uint8_t* (*allocateSendPacket)(SessionHandle session, std::uint32_t size) = nullptr;
    void (*sendPacket)(SessionHandle session, const std::uint8_t* packet) = nullptr;
};

// Loads wintun.dll (calnetd.exe's folder, then System32) or, for tests, the DLL at `path`
// (UTF-16, absolute), and resolves every export. false and error on failure: "wintun.dll not
// found: ..." when there is no such DLL, "wintun.dll has no export WintunXxx ..." when it lacks
// one. On success the caller owns api.module (unload()).
bool load(Api& api, std::string& error, const wchar_t* path = nullptr);
void unload(Api& api);

// The adapter GUID calnetd asks for: a name-based UUID (BLAKE2s of the interface name), the
// same on every start, so Windows keeps the adapter's identity (its network profile, firewall
// category and settings) across restarts instead of seeing a new network each time.
// The 16 bytes of a Windows GUID in memory (Data1..3 little-endian).
[[nodiscard]] std::array<std::uint8_t, 16> adapterGuid(const std::string& name);

} // namespace wintun

class WintunDevice final : public TunDevice {
public:
    // Ring size of the session, each direction (a power of two, 128 KiB to 64 MiB).
    static constexpr std::uint32_t kRingCapacity = 0x400000;
    // Tunnel type shown by Windows for the adapter (Device Manager, Get-NetAdapter).
    static constexpr const wchar_t* kTunnelType = L"Calnet";

    // Creates the adapter `name` (UTF-8, at most 127 characters) and starts its session.
    static std::unique_ptr<TunDevice> create(const std::string& name, std::string& error);
    // The same with the wintun.dll at `libraryPath` (UTF-16, absolute): for tests, which drive
    // the data path through a stand-in DLL because the real driver needs administrator rights.
    static std::unique_ptr<WintunDevice>
    createWithLibrary(const std::string& name, const wchar_t* libraryPath, std::string& error);
    ~WintunDevice() override;
    WintunDevice(const WintunDevice&) = delete;
    WintunDevice& operator=(const WintunDevice&) = delete;

    [[nodiscard]] const std::string& name() const override { return name_; }
    [[nodiscard]] int ifindex() const override; // ConvertInterfaceLuidToIndex
    [[nodiscard]] int mtu() const override;     // the IPv4 (else IPv6) interface's NlMtu
    bool setMtu(int mtu) override;              // both families' NlMtu
    [[nodiscard]] std::size_t minBuffersPerRead() const override { return 1; }
    ReadResult read(std::span<std::uint8_t*> buffers, std::span<std::size_t> sizes,
                    std::size_t capacity, std::chrono::milliseconds timeout) override;
    void write(std::span<const Packet> packets) override;
    void close() override;

    // Packets write() dropped because the send ring was full (the OS is not reading).
    [[nodiscard]] std::uint64_t sendRingDrops() const noexcept {
        return sendRingDrops_.load(std::memory_order_relaxed);
    }

private:
    WintunDevice() = default;
    bool open(const std::string& name, const wchar_t* libraryPath, std::string& error);

    wintun::Api api_;
    wintun::AdapterHandle adapter_ = nullptr;
    wintun::SessionHandle session_ = nullptr;
    void* readEvent_ = nullptr;  // the session's; Wintun closes it
    void* closeEvent_ = nullptr; // ours: close() wakes a waiting read
    std::uint64_t luid_ = 0;     // NET_LUID
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> sendRingDrops_{0};
    std::mutex writeMutex_; // keeps one write()'s packets together and in order
    std::string name_;
};

} // namespace calnet::helper
