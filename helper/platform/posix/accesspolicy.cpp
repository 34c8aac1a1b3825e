#include "helper/platform/posix/accesspolicy.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <vector>

namespace calnet::helper {

ipc::Role AccessPolicy::roleFor(const PeerCredentials& caller) const {
    if (caller.uid == 0 || (operatorUid_ && caller.uid == *operatorUid_) || inAdminGroup(caller))
        return ipc::Role::Admin;
    return ipc::Role::Reader;
}

bool AccessPolicy::inAdminGroup(const PeerCredentials& caller) const {
    std::vector<char> buffer(16384);
    group grp{};
    group* found = nullptr;
    if (::getgrnam_r(adminGroup_.c_str(), &grp, buffer.data(), buffer.size(), &found) != 0 ||
        !found)
        return false; // no such group: nobody is admin through it
    const gid_t adminGid = grp.gr_gid;
    if (caller.gid == adminGid)
        return true;
    passwd pw{};
    passwd* user = nullptr;
    std::vector<char> pwBuffer(16384);
    if (::getpwuid_r(caller.uid, &pw, pwBuffer.data(), pwBuffer.size(), &user) != 0 || !user)
        return false;
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &count) < 0) {
        groups.resize(std::size_t(count));
        if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &count) < 0)
            return false;
    }
    groups.resize(std::size_t(count));
    for (gid_t g : groups)
        if (g == adminGid)
            return true;
    return false;
}

} // namespace calnet::helper
