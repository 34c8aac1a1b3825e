#include "helper/platform/windows/winsock.h"

#include <winsock2.h>

#include "helper/platform/windows/systemerror.h"

namespace calnet::helper::windows {

bool startWinsock(std::string& error) {
    static const int rc = [] {
        WSADATA data{};
        return ::WSAStartup(MAKEWORD(2, 2), &data);
    }();
    if (rc != 0)
        error =
            "WSAStartup: " + calnet::platform::windows::systemErrorText(DWORD(rc)).toStdString();
    return rc == 0;
}

} // namespace calnet::helper::windows
