#include "helper/platform/windows/processuser.h"

#include <memory>
#include <vector>

#include <windows.h>
// sddl.h needs windows.h's types first.
#include <sddl.h>

namespace calnet::platform::windows {

namespace {

struct HandleCloser {
    void operator()(void* h) const {
        if (h && h != INVALID_HANDLE_VALUE)
            ::CloseHandle(h);
    }
};
using Handle = std::unique_ptr<void, HandleCloser>;

QString userSidOf(HANDLE process) {
    HANDLE rawToken = nullptr;
    if (!::OpenProcessToken(process, TOKEN_QUERY, &rawToken))
        return {};
    const Handle token(rawToken);
    DWORD size = 0;
    ::GetTokenInformation(rawToken, TokenUser, nullptr, 0, &size);
    if (size == 0)
        return {};
    std::vector<unsigned char> buffer(size);
    if (!::GetTokenInformation(rawToken, TokenUser, buffer.data(), size, &size))
        return {};
    const auto* user = reinterpret_cast<const TOKEN_USER*>(buffer.data());
    wchar_t* text = nullptr;
    if (!::IsValidSid(user->User.Sid) || !::ConvertSidToStringSidW(user->User.Sid, &text))
        return {};
    const QString sid = QString::fromWCharArray(text);
    ::LocalFree(text);
    return sid;
}

} // namespace

QString processUserSid(unsigned long pid) {
    const Handle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, DWORD(pid)));
    return process ? userSidOf(process.get()) : QString();
}

QString currentUserSid() {
    return userSidOf(::GetCurrentProcess());
}

unsigned long pipeServerProcessId(void* pipe) {
    ULONG pid = 0;
    if (!pipe || pipe == INVALID_HANDLE_VALUE || !::GetNamedPipeServerProcessId(pipe, &pid))
        return 0;
    return pid;
}

} // namespace calnet::platform::windows
