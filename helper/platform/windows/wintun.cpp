#include "helper/platform/windows/wintun.h"

// winsock2.h before windows.h (which would pull in the old winsock.h), and both before the IP
// Helper API, which needs their types.
#include <winsock2.h>

#include <windows.h>

#include <ws2ipdef.h>

#include <iphlpapi.h>
#include <netioapi.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/crypto/blake2s.h"
#include "helper/platform/windows/winerror.h"

namespace calnet::helper {

using windows::systemErrorText;

namespace {

static_assert(sizeof(void*) == 8, "Wintun's WINAPI functions are declared for x86-64/ARM64 only");
static_assert(sizeof(NET_LUID) == sizeof(std::uint64_t));
static_assert(sizeof(GUID) == 16);

// Wintun refuses larger packets (WINTUN_MAX_IP_PACKET_SIZE).
constexpr std::size_t kMaxPacket = 0xFFFF;
// IPv6 needs at least this link MTU (RFC 8200 §5); Windows refuses less on an IPv6 interface.
constexpr int kMinIpv6Mtu = 1280;

std::wstring widen(const std::string& utf8) {
    if (utf8.empty())
        return {};
    const int len = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(),
                                          int(utf8.size()), nullptr, 0);
    if (len <= 0)
        return {};
    std::wstring out(std::size_t(len), L'\0');
    ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), int(utf8.size()), out.data(),
                          len);
    return out;
}

// GetProcAddress hands back a generic function pointer; void (*)() is the type GCC lets any
// function pointer pass through without -Wcast-function-type.
template <typename F> bool resolve(HMODULE module, const char* name, F& out) {
    const FARPROC proc = ::GetProcAddress(module, name);
    if (!proc)
        return false;
    out = reinterpret_cast<F>(reinterpret_cast<void (*)()>(proc));
    return true;
}

// The key GetIpInterfaceEntry reads; it fills in the rest. Zeroed rather than through
// InitializeIpInterfaceEntry: only the key matters for a read, and Wine lacks that function.
MIB_IPINTERFACE_ROW ipInterfaceRow(ADDRESS_FAMILY family, std::uint64_t luid) {
    MIB_IPINTERFACE_ROW row{};
    row.Family = family;
    row.InterfaceLuid.Value = luid;
    return row;
}

DWORD waitTimeout(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0)
        return 0;
    return DWORD(std::min<std::chrono::milliseconds::rep>(timeout.count(), INFINITE - 1));
}

} // namespace

namespace wintun {

bool load(Api& api, std::string& error, const wchar_t* path) {
    api = {};
    // Only calnetd.exe's own folder and System32: a service running as LocalSystem must never
    // pick up a wintun.dll planted in the current directory or on PATH.
    const HMODULE module =
        path ? ::LoadLibraryExW(path, nullptr,
                                LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32)
             : ::LoadLibraryExW(L"wintun.dll", nullptr,
                                LOAD_LIBRARY_SEARCH_APPLICATION_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (!module) {
        const DWORD code = ::GetLastError();
        if (code == ERROR_MOD_NOT_FOUND || code == ERROR_FILE_NOT_FOUND ||
            code == ERROR_PATH_NOT_FOUND)
            error = "wintun.dll not found: put wintun.dll from https://www.wintun.net (the build "
                    "for this machine's architecture) next to calnetd.exe; the Calnet installer "
                    "ships it when it was built with it (" +
                    systemErrorText(code) + ")";
        else
            error = "wintun.dll could not be loaded: " + systemErrorText(code);
        return false;
    }
    api.module = module;
    // Every function calnetd uses, so an old or foreign wintun.dll fails here, with its name,
    // rather than in the middle of a connection.
    const char* missing = nullptr;
    const auto need = [&](const char* name, auto& fn) {
        if (!missing && !resolve(module, name, fn))
            missing = name;
    };
    need("WintunCreateAdapter", api.createAdapter);
    need("WintunOpenAdapter", api.openAdapter);
    need("WintunCloseAdapter", api.closeAdapter);
    need("WintunGetAdapterLUID", api.getAdapterLuid);
    need("WintunStartSession", api.startSession);
    need("WintunEndSession", api.endSession);
    need("WintunGetReadWaitEvent", api.getReadWaitEvent);
    need("WintunReceivePacket", api.receivePacket);
    need("WintunReleaseReceivePacket", api.releaseReceivePacket);
    need("WintunAllocateSendPacket", api.allocateSendPacket);
    need("WintunSendPacket", api.sendPacket);
    if (missing) {
        error = std::string("wintun.dll has no export ") + missing +
                " (Calnet needs Wintun 0.14 or later: https://www.wintun.net)";
        unload(api);
        return false;
    }
    return true;
}

void unload(Api& api) {
    if (api.module)
        ::FreeLibrary(static_cast<HMODULE>(api.module));
    api = {};
}

std::array<std::uint8_t, 16> adapterGuid(const std::string& name) {
    // A versioned label keeps these GUIDs apart from any other name-derived ones.
    static constexpr std::string_view kLabel = "calnet wintun adapter guid v1\n";
    std::string input(kLabel);
    input += name;
    std::array<std::uint8_t, 16> u{};
    crypto::blake2s(u, {reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
    // RFC 9562 layout: version 8 (custom, name-based) and the RFC variant.
    u[6] = std::uint8_t((u[6] & 0x0f) | 0x80);
    u[8] = std::uint8_t((u[8] & 0x3f) | 0x80);
    // A GUID in memory stores its first three fields little-endian.
    return {u[3], u[2], u[1],  u[0],  u[5],  u[4],  u[7],  u[6],
            u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]};
}

} // namespace wintun

std::unique_ptr<TunDevice> WintunDevice::create(const std::string& name, std::string& error) {
    return createWithLibrary(name, nullptr, error);
}

std::unique_ptr<WintunDevice> WintunDevice::createWithLibrary(const std::string& name,
                                                              const wchar_t* libraryPath,
                                                              std::string& error) {
    std::unique_ptr<WintunDevice> tun(new WintunDevice);
    if (!tun->open(name, libraryPath, error))
        return nullptr;
    return tun;
}

bool WintunDevice::open(const std::string& name, const wchar_t* libraryPath, std::string& error) {
    const std::wstring wideName = widen(name);
    // MAX_ADAPTER_NAME (128) UTF-16 units with the terminating zero.
    if (wideName.empty() || wideName.size() > 127) {
        error = "interface name must be 1 to 127 characters of valid UTF-8";
        return false;
    }
    if (!wintun::load(api_, error, libraryPath))
        return false;
    const auto guid = wintun::adapterGuid(name);
    adapter_ = api_.createAdapter(wideName.c_str(), kTunnelType, guid.data());
    if (!adapter_) {
        // An adapter of that name owned by another program (a WireGuard tunnel, say) is not
        // taken over: the user has to pick another interface name.
        error = "WintunCreateAdapter " + name + ": " + systemErrorText(::GetLastError());
        return false;
    }
    api_.getAdapterLuid(adapter_, &luid_);
    session_ = api_.startSession(adapter_, kRingCapacity);
    if (!session_) {
        error = "WintunStartSession " + name + ": " + systemErrorText(::GetLastError());
        return false;
    }
    readEvent_ = api_.getReadWaitEvent(session_);
    // Manual reset: once closed, every later wait sees it.
    closeEvent_ = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!readEvent_ || !closeEvent_) {
        error = "Wintun read events: " + systemErrorText(::GetLastError());
        return false;
    }
    name_ = name;
    return true;
}

WintunDevice::~WintunDevice() {
    // The reader has returned by now (the owner joins it first): the rings can go.
    if (session_)
        api_.endSession(session_);
    if (adapter_)
        api_.closeAdapter(adapter_); // removes the adapter
    if (closeEvent_)
        ::CloseHandle(closeEvent_);
    wintun::unload(api_);
}

void WintunDevice::close() {
    closed_ = true;
    if (closeEvent_)
        ::SetEvent(closeEvent_);
}

int WintunDevice::ifindex() const {
    NET_LUID luid;
    luid.Value = luid_;
    NET_IFINDEX index = 0;
    return ::ConvertInterfaceLuidToIndex(&luid, &index) == NO_ERROR ? int(index) : 0;
}

int WintunDevice::mtu() const {
    for (const ADDRESS_FAMILY family : {AF_INET, AF_INET6}) {
        MIB_IPINTERFACE_ROW row = ipInterfaceRow(family, luid_);
        if (::GetIpInterfaceEntry(&row) == NO_ERROR)
            return int(row.NlMtu);
    }
    return 0;
}

bool WintunDevice::setMtu(int mtu) {
    if (mtu <= 0)
        return false;
    bool any = false;
    bool ok = true;
    for (const ADDRESS_FAMILY family : {AF_INET, AF_INET6}) {
        MIB_IPINTERFACE_ROW row = ipInterfaceRow(family, luid_);
        if (::GetIpInterfaceEntry(&row) != NO_ERROR)
            continue; // that protocol is not bound to the adapter
        any = true;
        row.NlMtu = ULONG(mtu);
        // GetIpInterfaceEntry fills in SitePrefixLength, but SetIpInterfaceEntry rejects any
        // value other than 0 for IPv4 (ERROR_INVALID_PARAMETER).
        if (family == AF_INET)
            row.SitePrefixLength = 0;
        const bool set = ::SetIpInterfaceEntry(&row) == NO_ERROR;
        // Below 1280 IPv6 cannot run on the link anyway; the IPv4 MTU is what counts then.
        if (!set && !(family == AF_INET6 && mtu < kMinIpv6Mtu))
            ok = false;
    }
    return any && ok;
}

TunDevice::ReadResult WintunDevice::read(std::span<std::uint8_t*> buffers,
                                         std::span<std::size_t> sizes, std::size_t capacity,
                                         std::chrono::milliseconds timeout) {
    ReadResult result;
    if (closed_ || !session_) {
        result.gone = true;
        return result;
    }
    std::size_t n = 0;
    bool waited = false;
    for (;;) {
        while (n < buffers.size()) {
            std::uint32_t size = 0;
            std::uint8_t* packet = api_.receivePacket(session_, &size);
            if (!packet) {
                const DWORD code = ::GetLastError();
                if (code == ERROR_NO_MORE_ITEMS)
                    break;
                // ERROR_HANDLE_EOF: the adapter is going away; ERROR_INVALID_DATA: the ring is
                // corrupt. Neither recovers.
                result.error = int(code);
                result.gone = code == ERROR_HANDLE_EOF || code == ERROR_INVALID_DATA;
                result.packets = n;
                return result;
            }
            if (size > capacity) {
                ++result.malformed; // larger than any MTU we set: not ours to forward
            } else {
                std::memcpy(buffers[n], packet, size);
                sizes[n++] = size;
            }
            // Every received packet is released, also the dropped ones, or the ring stalls.
            api_.releaseReceivePacket(session_, packet);
        }
        if (n > 0 || waited || buffers.empty())
            break;
        // The ring was empty: WintunReceivePacket has marked it so that the driver signals the
        // read-wait event on the next packet. Trying first and waiting second never misses a
        // packet that arrived before the wait.
        HANDLE events[2] = {closeEvent_, readEvent_};
        const DWORD woke = ::WaitForMultipleObjects(2, events, FALSE, waitTimeout(timeout));
        if (woke == WAIT_OBJECT_0 || closed_) {
            result.gone = true;
            return result;
        }
        if (woke != WAIT_OBJECT_0 + 1)
            return result; // timeout (or a failed wait: the caller polls again)
        waited = true;
    }
    result.packets = n;
    return result;
}

void WintunDevice::write(std::span<const Packet> packets) {
    std::lock_guard lock(writeMutex_);
    for (const Packet& p : packets) {
        if (p.length == 0 || p.length > kMaxPacket)
            continue;
        std::uint8_t* out = api_.allocateSendPacket(session_, DWORD(p.length));
        if (!out) {
            // ERROR_HANDLE_EOF: the adapter is going away, reads will say so. Anything else
            // (ERROR_BUFFER_OVERFLOW: the ring is full because Windows is not taking packets):
            // drop, as a full TUN queue does on Linux.
            if (::GetLastError() == ERROR_HANDLE_EOF)
                return;
            sendRingDrops_.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        std::memcpy(out, p.data, p.length);
        api_.sendPacket(session_, out);
    }
}

} // namespace calnet::helper
