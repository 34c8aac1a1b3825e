// A kernel object's HANDLE owned by a unique_ptr: closed once, when the owner goes. Null and
// INVALID_HANDLE_VALUE (what failing Create* calls return) both mean "none".
#pragma once

#include <memory>

#include <windows.h>

namespace calnet::platform::windows {

struct HandleCloser {
    void operator()(HANDLE h) const {
        if (h && h != INVALID_HANDLE_VALUE)
            ::CloseHandle(h);
    }
};
using UniqueHandle = std::unique_ptr<void, HandleCloser>;

// Takes what a Create* call returned; INVALID_HANDLE_VALUE becomes an empty owner.
inline UniqueHandle ownHandle(HANDLE h) {
    return UniqueHandle(h == INVALID_HANDLE_VALUE ? nullptr : h);
}

} // namespace calnet::platform::windows
