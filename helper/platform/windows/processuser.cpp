#include "helper/platform/windows/processuser.h"

#include <memory>
#include <vector>

#include <windows.h>
// sddl.h needs windows.h's types first.
#include <sddl.h>

#include "helper/platform/windows/handle.h"

namespace calnet::platform::windows {

QString sidText(void* sid) {
    wchar_t* text = nullptr;
    if (!sid || !::IsValidSid(sid) || !::ConvertSidToStringSidW(sid, &text))
        return {};
    const QString out = QString::fromWCharArray(text);
    ::LocalFree(text);
    return out;
}

std::vector<unsigned char> tokenInformation(void* token, int what) {
    DWORD size = 0;
    const auto cls = TOKEN_INFORMATION_CLASS(what);
    ::GetTokenInformation(token, cls, nullptr, 0, &size);
    if (size == 0)
        return {};
    std::vector<unsigned char> buffer(size);
    if (!::GetTokenInformation(token, cls, buffer.data(), size, &size))
        return {};
    return buffer;
}

namespace {

QString userSidOf(HANDLE process) {
    HANDLE rawToken = nullptr;
    if (!::OpenProcessToken(process, TOKEN_QUERY, &rawToken))
        return {};
    const UniqueHandle token(rawToken);
    const auto user = tokenInformation(rawToken, TokenUser);
    return user.empty() ? QString()
                        : sidText(reinterpret_cast<const TOKEN_USER*>(user.data())->User.Sid);
}

} // namespace

QString processUserSid(unsigned long pid) {
    const UniqueHandle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, DWORD(pid)));
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
