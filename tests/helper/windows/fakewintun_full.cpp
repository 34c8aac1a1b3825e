// A stand-in wintun.dll with every export Calnet uses, for tst_wintun's data-path tests: an
// in-memory adapter whose receive side is fed by FakeWintunInject() and whose send side is read
// back with FakeWintunTakeSent(). The FakeWintun* exports steer it (a full send ring, an adapter
// that is going away) and report what Calnet asked for. One adapter and one session at a time.
#include <windows.h>

#include <cstring>

namespace {

constexpr DWORD kSlots = 64;
constexpr DWORD kSlotBytes = 0x10000;

struct Queue {
    BYTE data[kSlots][kSlotBytes];
    DWORD size[kSlots];
    DWORD head = 0, count = 0;

    BYTE* push(DWORD n) {
        if (count == kSlots)
            return nullptr;
        const DWORD at = (head + count++) % kSlots;
        size[at] = n;
        return data[at];
    }
};

CRITICAL_SECTION lock;
Queue toCalnet;   // packets WintunReceivePacket hands out
Queue fromCalnet; // packets WintunSendPacket took
HANDLE readEvent = nullptr;
BOOL ringFull = FALSE;
BOOL eof = FALSE;
BYTE pending[kSlotBytes]; // the packet between WintunAllocateSendPacket and WintunSendPacket
DWORD pendingSize = 0;
wchar_t createdName[256];
wchar_t createdType[256];
GUID createdGuid;
DWORD sessionCapacity = 0;
LONG adaptersOpen = 0;
LONG sessionsOpen = 0;
LONG receivedNotReleased = 0;
int adapterToken = 0;
int sessionToken = 0;

struct Lock {
    Lock() { ::EnterCriticalSection(&lock); }
    ~Lock() { ::LeaveCriticalSection(&lock); }
};

} // namespace

extern "C" {

BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID) {
    if (reason == DLL_PROCESS_ATTACH)
        ::InitializeCriticalSection(&lock);
    return TRUE;
}

__declspec(dllexport) void* WINAPI
    WintunCreateAdapter(const wchar_t* name, const wchar_t* type, const GUID* guid) {
    Lock l;
    ::lstrcpynW(createdName, name, 256);
    ::lstrcpynW(createdType, type, 256);
    createdGuid = guid ? *guid : GUID{};
    ++adaptersOpen;
    return &adapterToken;
}
__declspec(dllexport) void* WINAPI WintunOpenAdapter(const wchar_t*) {
    ::SetLastError(ERROR_FILE_NOT_FOUND);
    return nullptr;
}
__declspec(dllexport) void WINAPI WintunCloseAdapter(void*) {
    Lock l;
    --adaptersOpen;
}
__declspec(dllexport) void WINAPI WintunGetAdapterLUID(void*, ULONG64* luid) {
    *luid = 0x0123456789abcdefULL;
}
__declspec(dllexport) void* WINAPI WintunStartSession(void*, DWORD capacity) {
    Lock l;
    sessionCapacity = capacity;
    toCalnet.head = toCalnet.count = fromCalnet.head = fromCalnet.count = 0;
    ringFull = eof = FALSE;
    readEvent = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
    ++sessionsOpen;
    return &sessionToken;
}
__declspec(dllexport) void WINAPI WintunEndSession(void*) {
    Lock l;
    ::CloseHandle(readEvent);
    readEvent = nullptr;
    --sessionsOpen;
}
__declspec(dllexport) HANDLE WINAPI WintunGetReadWaitEvent(void*) {
    return readEvent;
}
__declspec(dllexport) BYTE* WINAPI WintunReceivePacket(void*, DWORD* size) {
    Lock l;
    if (eof) {
        ::SetLastError(ERROR_HANDLE_EOF);
        return nullptr;
    }
    if (toCalnet.count == 0) {
        ::SetLastError(ERROR_NO_MORE_ITEMS);
        return nullptr;
    }
    const DWORD at = toCalnet.head;
    toCalnet.head = (toCalnet.head + 1) % kSlots;
    --toCalnet.count;
    *size = toCalnet.size[at];
    ++receivedNotReleased;
    return toCalnet.data[at];
}
__declspec(dllexport) void WINAPI WintunReleaseReceivePacket(void*, const BYTE*) {
    Lock l;
    --receivedNotReleased;
}
__declspec(dllexport) BYTE* WINAPI WintunAllocateSendPacket(void*, DWORD size) {
    ::EnterCriticalSection(&lock); // held until WintunSendPacket, like the real ring's order
    if (eof || ringFull || fromCalnet.count == kSlots) {
        ::SetLastError(eof ? ERROR_HANDLE_EOF : ERROR_BUFFER_OVERFLOW);
        ::LeaveCriticalSection(&lock);
        return nullptr;
    }
    pendingSize = size;
    return pending;
}
__declspec(dllexport) void WINAPI WintunSendPacket(void*, const BYTE* packet) {
    if (BYTE* slot = fromCalnet.push(pendingSize))
        std::memcpy(slot, packet, pendingSize);
    ::LeaveCriticalSection(&lock);
}

// ---- Steering and inspection, for the test only ----

__declspec(dllexport) BOOL WINAPI FakeWintunInject(const BYTE* packet, DWORD size) {
    Lock l;
    BYTE* slot = toCalnet.push(size);
    if (!slot)
        return FALSE;
    std::memcpy(slot, packet, size);
    ::SetEvent(readEvent);
    return TRUE;
}
__declspec(dllexport) DWORD WINAPI FakeWintunTakeSent(BYTE* out, DWORD capacity) {
    Lock l;
    if (fromCalnet.count == 0)
        return 0;
    const DWORD at = fromCalnet.head;
    fromCalnet.head = (fromCalnet.head + 1) % kSlots;
    --fromCalnet.count;
    const DWORD n = fromCalnet.size[at] < capacity ? fromCalnet.size[at] : capacity;
    std::memcpy(out, fromCalnet.data[at], n);
    return n;
}
__declspec(dllexport) void WINAPI FakeWintunSetRingFull(BOOL full) {
    Lock l;
    ringFull = full;
}
__declspec(dllexport) void WINAPI FakeWintunSetEof(BOOL gone) {
    Lock l;
    eof = gone;
    if (readEvent)
        ::SetEvent(readEvent);
}
// What WintunCreateAdapter and WintunStartSession were given, and what is still open.
__declspec(dllexport) void WINAPI
    FakeWintunState(wchar_t* name, wchar_t* type, GUID* guid, DWORD* capacity, LONG* adapters,
                    LONG* sessions, LONG* unreleased) {
    Lock l;
    ::lstrcpynW(name, createdName, 256);
    ::lstrcpynW(type, createdType, 256);
    *guid = createdGuid;
    *capacity = sessionCapacity;
    *adapters = adaptersOpen;
    *sessions = sessionsOpen;
    *unreleased = receivedNotReleased;
}

} // extern "C"
