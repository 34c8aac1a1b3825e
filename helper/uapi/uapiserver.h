// UapiServer: listens on /var/run/wireguard/IFNAME.sock (mode 0600, directory 0755, as
// wireguard-go) and answers the UAPI text protocol with a UapiHandler. One thread; a client is
// served at a time with a receive timeout, which is enough because only root can connect.
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
    void serve(int client);

    UapiHandler handler_;
    std::string path_;
    int fd_ = -1;
    int stopFd_ = -1;
    std::atomic<bool> running_{false};
    std::thread thread_;
};

} // namespace calnet::helper
