#include "helper/platform/windows/accesspolicy.h"

#include <memory>
#include <vector>

#include <windows.h>
// sddl.h needs windows.h's types first.
#include <sddl.h>

#include "helper/platform/windows/handle.h"
#include "helper/platform/windows/processuser.h"

namespace calnet::helper {

using calnet::platform::windows::sidText;
using calnet::platform::windows::tokenInformation;
using calnet::platform::windows::UniqueHandle;

std::optional<PeerCredentials> peerCredentials(qintptr socketDescriptor) {
    const auto pipe = reinterpret_cast<HANDLE>(socketDescriptor);
    ULONG pid = 0;
    if (!pipe || pipe == INVALID_HANDLE_VALUE || !::GetNamedPipeClientProcessId(pipe, &pid))
        return std::nullopt;
    const UniqueHandle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
    if (!process)
        return std::nullopt;
    HANDLE rawToken = nullptr;
    if (!::OpenProcessToken(process.get(), TOKEN_QUERY, &rawToken))
        return std::nullopt;
    const UniqueHandle token(rawToken);
    PeerCredentials out;
    out.pid = pid;
    const auto user = tokenInformation(rawToken, TokenUser);
    if (user.empty())
        return std::nullopt;
    out.userSid = sidText(reinterpret_cast<const TOKEN_USER*>(user.data())->User.Sid);
    if (out.userSid.isEmpty())
        return std::nullopt;
    const auto groups = tokenInformation(rawToken, TokenGroups);
    if (!groups.empty()) {
        const auto* list = reinterpret_cast<const TOKEN_GROUPS*>(groups.data());
        for (DWORD i = 0; i < list->GroupCount; ++i) {
            const DWORD attributes = list->Groups[i].Attributes;
            if ((attributes & SE_GROUP_ENABLED) && !(attributes & SE_GROUP_USE_FOR_DENY_ONLY))
                out.enabledSids << sidText(list->Groups[i].Sid);
        }
    }
    // The process we opened must still be the one at the other end: while its end of the pipe
    // is open it cannot have exited, so its id cannot have been reused.
    DWORD available = 0;
    if (!::PeekNamedPipe(pipe, nullptr, 0, nullptr, &available, nullptr))
        return std::nullopt;
    return out;
}

QString AccessPolicy::sidOfAccount(const QString& name) {
    if (name.isEmpty())
        return {};
    // This machine's account database only ("COMPUTER\name"), and only a local group: on a
    // domain-joined machine an unqualified name would also find a domain's group or user.
    wchar_t computer[MAX_COMPUTERNAME_LENGTH + 1];
    DWORD computerLength = MAX_COMPUTERNAME_LENGTH + 1;
    if (!::GetComputerNameW(computer, &computerLength))
        return {};
    const std::wstring wide = std::wstring(computer, computerLength) + L"\\" + name.toStdWString();
    DWORD sidSize = 0;
    DWORD domainSize = 0;
    SID_NAME_USE use{};
    ::LookupAccountNameW(nullptr, wide.c_str(), nullptr, &sidSize, nullptr, &domainSize, &use);
    if (sidSize == 0)
        return {};
    std::vector<unsigned char> sid(sidSize);
    std::vector<wchar_t> domain(domainSize + 1);
    if (!::LookupAccountNameW(nullptr, wide.c_str(), sid.data(), &sidSize, domain.data(),
                              &domainSize, &use) ||
        use != SidTypeAlias)
        return {};
    return sidText(sid.data());
}

ipc::Role AccessPolicy::roleFor(const PeerCredentials& caller) const {
    if (caller.userSid == kLocalSystemSid || caller.enabledSids.contains(kAdministratorsSid))
        return ipc::Role::Admin;
    const QString operators = sidOfAccount(operatorsGroup_);
    if (!operators.isEmpty() && caller.enabledSids.contains(operators))
        return ipc::Role::Admin;
    return ipc::Role::Reader;
}

} // namespace calnet::helper
