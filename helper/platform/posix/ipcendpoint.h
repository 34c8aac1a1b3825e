// The IPC endpoint on POSIX: a Unix socket in calnetd.service's RuntimeDirectory.
#pragma once

#include <QLatin1StringView>

namespace calnet::ipc {

inline constexpr QLatin1StringView kDefaultEndpoint{"/run/calnet/calnetd.sock"};

} // namespace calnet::ipc
