// An AccessPolicy under which the test process itself may change things over the IPC, without
// root: on POSIX its own uid is the operator; on Windows the default policy admits an elevated
// administrator, which is what Wine runs every program as (on a real Windows the test needs an
// elevated prompt).
#pragma once

#include "helper/platform/accesspolicy.h"

#if defined(_WIN32)
inline calnet::helper::AccessPolicy selfAdminPolicy() {
    return calnet::helper::AccessPolicy();
}
#else
#include <unistd.h>

inline calnet::helper::AccessPolicy selfAdminPolicy() {
    return calnet::helper::AccessPolicy(::getuid());
}
#endif
