// UapiServer on a named pipe (Windows), where wireguard-go's Windows build serves wg.exe:
// \\.\pipe\ProtectedPrefix\Administrators\WireGuard\IFNAME. Only a process running as an
// administrator may create a pipe under ProtectedPrefix\Administrators, so a client knows the
// server is privileged; the pipe's own DACL lets only SYSTEM and Administrators connect.
// One instance, one client at a time, each read and write bounded by kClientTimeout.
#include "helper/uapi/uapiserver.h"

#include <cstdio>
#include <memory>
#include <string_view>

#include <QString>

#include <windows.h>
// sddl.h needs windows.h's types first.
#include <sddl.h>

#include "helper/platform/windows/handle.h"
#include "helper/platform/windows/systemerror.h"

namespace calnet::helper {

namespace {

constexpr char kPipePrefix[] = R"(\\.\pipe\ProtectedPrefix\Administrators\WireGuard\)";
constexpr std::size_t kMaxRequest = 16 << 20; // a set with thousands of peers still fits
constexpr DWORD kClientTimeout = 5000;        // ms
constexpr DWORD kBufferSize = 64 * 1024;

std::string errorText(const char* what) {
    return std::string(what) + ": " +
           calnet::platform::windows::systemErrorText(::GetLastError()).toStdString();
}

using Event = calnet::platform::windows::UniqueHandle;

// Runs one overlapped ReadFile/WriteFile/ConnectNamedPipe to completion, or cancels it when
// `stop` is signalled or `timeout` passes. The transferred byte count, or -1.
long long finish(HANDLE pipe, OVERLAPPED& overlapped, BOOL started, HANDLE stop, DWORD timeout) {
    if (!started) {
        const DWORD code = ::GetLastError();
        if (code == ERROR_PIPE_CONNECTED)
            return 0; // the client connected between CreateNamedPipe and ConnectNamedPipe
        if (code != ERROR_IO_PENDING)
            return -1;
        HANDLE waits[] = {overlapped.hEvent, stop};
        if (::WaitForMultipleObjects(2, waits, FALSE, timeout) != WAIT_OBJECT_0) {
            ::CancelIoEx(pipe, &overlapped);
            DWORD ignored = 0;
            ::GetOverlappedResult(pipe, &overlapped, &ignored, TRUE);
            return -1;
        }
    }
    DWORD n = 0;
    if (!::GetOverlappedResult(pipe, &overlapped, &n, FALSE))
        return -1;
    return n;
}

// Answers one client's requests until it disconnects, errs, times out or `stop` is signalled.
void serveClient(UapiHandler& handler, HANDLE pipe, HANDLE stop) {
    const Event event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
    auto io = [&](bool write, char* data, DWORD length) -> long long {
        OVERLAPPED overlapped{};
        overlapped.hEvent = event.get();
        ::ResetEvent(event.get());
        const BOOL started = write ? ::WriteFile(pipe, data, length, nullptr, &overlapped)
                                   : ::ReadFile(pipe, data, length, nullptr, &overlapped);
        return finish(pipe, overlapped, started, stop, kClientTimeout);
    };
    // A connection may carry several requests; each ends with an empty line.
    std::string buffer;
    char chunk[4096];
    for (;;) {
        std::size_t end;
        while ((end = buffer.find("\n\n")) == std::string::npos) {
            const long long n = io(false, chunk, sizeof chunk);
            if (n <= 0 || buffer.size() + std::size_t(n) > kMaxRequest)
                return;
            buffer.append(chunk, std::size_t(n));
        }
        std::string response = handler.handle(std::string_view(buffer).substr(0, end + 2));
        if (!handler.lastError().empty())
            std::fprintf(stderr, "calnetd: UAPI: %s\n", handler.lastError().c_str());
        buffer.erase(0, end + 2);
        std::size_t off = 0;
        while (off < response.size()) {
            const long long n = io(true, response.data() + off, DWORD(response.size() - off));
            if (n <= 0)
                return;
            off += std::size_t(n);
        }
    }
}

} // namespace

struct UapiServer::Endpoint {
    HANDLE pipe = nullptr; // the one instance, made in listen()
    HANDLE stopEvent = nullptr;
    bool listening = false;
};

UapiServer::UapiServer(DeviceHost& host)
    : handler_(host), endpoint_(std::make_unique<Endpoint>()) {}

std::string UapiServer::socketPathFor(const std::string& interfaceName) {
    return kPipePrefix + interfaceName;
}

UapiServer::~UapiServer() {
    stop();
}

bool UapiServer::listen(const std::string& path, std::string& error) {
    // SYSTEM and Administrators: full access; nobody else may open the pipe. No owner is
    // named: only SYSTEM may name SYSTEM the owner, and the interface mode also runs in an
    // administrator's console (the owner is then that administrator).
    PSECURITY_DESCRIPTOR sd = nullptr;
    if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;GA;;;SY)(A;;GA;;;BA)",
                                                                SDDL_REVISION_1, &sd, nullptr)) {
        error = errorText("ConvertStringSecurityDescriptor");
        return false;
    }
    SECURITY_ATTRIBUTES attributes{sizeof attributes, sd, FALSE};
    const std::wstring name = QString::fromStdString(path).toStdWString();
    // FILE_FLAG_FIRST_PIPE_INSTANCE: fails when another process already serves the name.
    const HANDLE pipe = ::CreateNamedPipeW(
        name.c_str(), PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
        kBufferSize, kBufferSize, 0, &attributes);
    const DWORD code = ::GetLastError();
    ::LocalFree(sd);
    if (pipe == INVALID_HANDLE_VALUE) {
        error = code == ERROR_ACCESS_DENIED || code == ERROR_PIPE_BUSY
                    ? "UAPI pipe in use: " + path
                    : "CreateNamedPipe " + path + ": " +
                          calnet::platform::windows::systemErrorText(code).toStdString();
        return false;
    }
    endpoint_->stopEvent = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!endpoint_->stopEvent) {
        error = errorText("CreateEvent");
        ::CloseHandle(pipe);
        return false;
    }
    endpoint_->pipe = pipe;
    path_ = path;
    endpoint_->listening = true;
    return true;
}

void UapiServer::start() {
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void UapiServer::stop() {
    if (!endpoint_->listening)
        return;
    running_ = false;
    ::SetEvent(endpoint_->stopEvent);
    if (thread_.joinable())
        thread_.join();
    ::CloseHandle(endpoint_->pipe);
    ::CloseHandle(endpoint_->stopEvent);
    endpoint_->pipe = endpoint_->stopEvent = nullptr;
    endpoint_->listening = false;
}

void UapiServer::run() {
    const HANDLE pipe = endpoint_->pipe;
    const Event event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
    while (running_) {
        OVERLAPPED overlapped{};
        overlapped.hEvent = event.get();
        const BOOL started = ::ConnectNamedPipe(pipe, &overlapped);
        if (finish(pipe, overlapped, started, endpoint_->stopEvent, INFINITE) < 0) {
            if (running_)
                ::Sleep(100); // a client that gave up half way: take the next one
            ::DisconnectNamedPipe(pipe);
            continue;
        }
        serveClient(handler_, pipe, endpoint_->stopEvent);
        // Not FlushFileBuffers: it waits for the client to read everything, and a client that
        // stopped reading would hold this thread.
        ::DisconnectNamedPipe(pipe);
    }
}

} // namespace calnet::helper
