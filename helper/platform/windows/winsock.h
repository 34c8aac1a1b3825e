// Winsock is started once per process and left running (WSAStartup counts its callers, so
// this does not disturb Qt's or anyone else's use of it).
#pragma once

#include <string>

namespace calnet::helper::windows {

// true once Winsock 2.2 is up; false and the reason when WSAStartup failed.
bool startWinsock(std::string& error);

} // namespace calnet::helper::windows
