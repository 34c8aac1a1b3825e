// The IPC endpoint on Windows: a named pipe.
#pragma once

#include <QLatin1StringView>

namespace calnet::ipc {

inline constexpr QLatin1StringView kDefaultEndpoint{"\\\\.\\pipe\\calnetd"};

} // namespace calnet::ipc
