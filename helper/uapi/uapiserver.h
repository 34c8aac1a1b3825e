// UapiServer: listens on /var/run/wireguard/IFNAME.sock (mode 0600, directory 0755, as
// wireguard-go; Windows: the pipe \\.\pipe\ProtectedPrefix\Administrators\WireGuard\IFNAME) and
// answers the UAPI text protocol with a UapiHandler. One thread; a client is served at a time with
// a receive timeout, which is enough because only root can connect.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "helper/uapi/uapihandler.h"

namespace calnet::helper {

class UapiServer {
public:
    explicit UapiServer(DeviceHost& host);
    ~UapiServer();
    UapiServer(const UapiServer&) = delete;
    UapiServer& operator=(const UapiServer&) = delete;

    static std::string socketPathFor(const std::string& interfaceName);

    // Binds the socket; fails if another live process already serves it.
    bool listen(const std::string& path, std::string& error);
    void start();
    // Stops the thread and removes the socket file.
    void stop();

private:
    // The listening socket or pipe, and what stops the thread: each OS's own
    // (platform/posix/uapiserver_posix.cpp: a Unix socket and an eventfd;
    // platform/windows/uapiserver_windows.cpp: a named pipe served with overlapped I/O).
    struct Endpoint;

    void run();

    UapiHandler handler_;
    std::string path_;
    std::unique_ptr<Endpoint> endpoint_;
    std::atomic<bool> running_{false};
    std::thread thread_;
};

} // namespace calnet::helper
