// UapiServer: listens on /var/run/wireguard/IFNAME.sock (mode 0600, directory 0755, as
// wireguard-go; Windows: the pipe \\.\pipe\ProtectedPrefix\Administrators\WireGuard\IFNAME) and
// answers the UAPI text protocol with a UapiHandler. One thread; a client is served at a time with
// a receive timeout, which is enough because only root can connect.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "helper/uapi/uapihandler.h"

namespace calnet::helper {

class UapiServer {
public:
    explicit UapiServer(DeviceHost& host) : handler_(host) {}
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
    void run();

    UapiHandler handler_;
    std::string path_;
#if defined(_WIN32)
    // platform/windows/uapiserver_windows.cpp: a named pipe, served with overlapped I/O.
    void serve(void* pipe);
    void* pipe_ = nullptr; // the one instance, made in listen()
    void* stopEvent_ = nullptr;
    bool listening_ = false;
#else
    // platform/posix/uapiserver_posix.cpp: a Unix socket and an eventfd that stops the thread.
    void serve(int client);
    int fd_ = -1;
    int stopFd_ = -1;
#endif
    std::atomic<bool> running_{false};
    std::thread thread_;
};

} // namespace calnet::helper
