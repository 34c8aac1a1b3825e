#include "helper/platform/windows/winerror.h"

#include "helper/platform/windows/systemerror.h"

namespace calnet::helper::windows {

std::string systemErrorText(unsigned long code) {
    // Winsock codes (100xx) are in the same system message table as the Win32 ones.
    return platform::windows::systemErrorText(code).toStdString();
}

} // namespace calnet::helper::windows
