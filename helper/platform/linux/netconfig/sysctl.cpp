#include "helper/platform/linux/netconfig/sysctl.h"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

namespace calnet::helper::netconfig {

namespace {

std::string pathOf(std::string_view name) {
    std::string path = "/proc/sys/";
    for (const char c : name)
        path += c == '.' ? '/' : c;
    return path;
}

} // namespace

bool isManagedSysctl(std::string_view name) {
    return name == kSrcValidMark;
}

int readSysctl(std::string_view name, std::string& value) {
    if (!isManagedSysctl(name))
        return EPERM;
    const int fd = ::open(pathOf(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    char buffer[64];
    ssize_t n;
    do {
        n = ::read(fd, buffer, sizeof buffer);
    } while (n < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (n < 0)
        return err;
    value.assign(buffer, static_cast<std::size_t>(n));
    while (!value.empty() && (value.back() == '\n' || value.back() == ' '))
        value.pop_back();
    return 0;
}

int writeSysctl(std::string_view name, std::string_view value) {
    if (!isManagedSysctl(name))
        return EPERM;
    const int fd = ::open(pathOf(name).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    const std::string text = std::string(value) + "\n";
    ssize_t n;
    do {
        n = ::write(fd, text.data(), text.size());
    } while (n < 0 && errno == EINTR);
    const int err = errno;
    ::close(fd);
    if (n < 0)
        return err;
    return static_cast<std::size_t>(n) == text.size() ? 0 : EIO;
}

} // namespace calnet::helper::netconfig
