// A stand-in wintun.dll for tst_wintun: it exports WintunCreateAdapter and nothing else, so
// loading it must fail on the first export Calnet needs beyond that one.
#include <windows.h>

extern "C" __declspec(dllexport) void* WINAPI
    WintunCreateAdapter(const wchar_t*, const wchar_t*, const void*) {
    ::SetLastError(ERROR_NOT_SUPPORTED);
    return nullptr;
}
