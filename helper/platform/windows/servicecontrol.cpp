#include "helper/platform/windows/servicecontrol.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <QString>

#include <windows.h>

#include "helper/platform/windows/systemerror.h"

namespace calnet::helper::service_control {

namespace {

struct ServiceCloser {
    void operator()(SC_HANDLE h) const {
        if (h)
            ::CloseServiceHandle(h);
    }
};
using ServiceHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ServiceCloser>;

std::string failure(const char* what) {
    const DWORD code = ::GetLastError();
    return std::string(what) + ": " +
           calnet::platform::windows::systemErrorText(code).toStdString();
}

std::wstring thisExecutable() {
    std::vector<wchar_t> path(MAX_PATH);
    for (;;) {
        const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), DWORD(path.size()));
        if (n == 0)
            return {};
        if (n < path.size())
            return std::wstring(path.data(), n);
        path.resize(path.size() * 2);
    }
}

// Waits up to `timeout` for the service to reach `state`.
bool waitForState(SC_HANDLE service, DWORD state, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        SERVICE_STATUS status{};
        if (!::QueryServiceStatus(service, &status))
            return false;
        if (status.dwCurrentState == state)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::wstring commandLine(const std::wstring& exe) {
    return L"\"" + exe + L"\" --service";
}

// Restart after 2 s, 5 s, then 30 s; the failure count resets after a day. Also when the
// service stops itself with an error, not only when it crashes.
bool setRecoveryActions(SC_HANDLE service, std::string& error) {
    SC_ACTION actions[] = {
        {SC_ACTION_RESTART, 2000}, {SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 30000}};
    SERVICE_FAILURE_ACTIONSW failureActions{};
    failureActions.dwResetPeriod = 24 * 60 * 60;
    failureActions.cActions = DWORD(std::size(actions));
    failureActions.lpsaActions = actions;
    if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failureActions)) {
        error = failure("cannot set the Calnet service's recovery actions");
        return false;
    }
    SERVICE_FAILURE_ACTIONS_FLAG flag{TRUE};
    ::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag);
    return true;
}

} // namespace

bool reconcile(std::string& error) {
    const ServiceHandle manager(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    const ServiceHandle service(
        manager ? ::OpenServiceW(manager.get(), kServiceName,
                                 SERVICE_QUERY_CONFIG | SERVICE_CHANGE_CONFIG | SERVICE_START)
                : nullptr);
    if (!service) {
        error = failure("cannot open the Calnet service");
        return false;
    }
    DWORD size = 0;
    ::QueryServiceConfigW(service.get(), nullptr, 0, &size);
    std::vector<unsigned char> buffer(size);
    auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
    if (size == 0 || !::QueryServiceConfigW(service.get(), config, size, &size)) {
        error = failure("cannot read the Calnet service's configuration");
        return false;
    }
    // Only an unquoted path to this executable is rewritten; its arguments stay.
    const std::wstring registered = config->lpBinaryPathName ? config->lpBinaryPathName : L"";
    const std::wstring exe = thisExecutable();
    const bool unquoted = !exe.empty() && registered.size() >= exe.size() &&
                          ::CompareStringOrdinal(registered.c_str(), int(exe.size()), exe.c_str(),
                                                 int(exe.size()), TRUE) == CSTR_EQUAL;
    const std::wstring wanted = L"\"" + exe + L"\"" + registered.substr(unquoted ? exe.size() : 0);
    if (unquoted && !::ChangeServiceConfigW(service.get(), SERVICE_NO_CHANGE, SERVICE_NO_CHANGE,
                                            SERVICE_NO_CHANGE, wanted.c_str(), nullptr, nullptr,
                                            nullptr, nullptr, nullptr, nullptr)) {
        error = failure("cannot correct the Calnet service's command line");
        return false;
    }
    if (unquoted)
        std::fprintf(stderr, "calnetd: the service's command line is now %ls\n", wanted.c_str());
    return setRecoveryActions(service.get(), error);
}

bool install(std::string& error) {
    const ServiceHandle manager(
        ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
    if (!manager) {
        error = failure("cannot open the service control manager");
        return false;
    }
    const std::wstring exe = thisExecutable();
    if (exe.empty()) {
        error = failure("cannot find calnetd.exe's own path");
        return false;
    }
    const std::wstring command = commandLine(exe);
    ServiceHandle service(::OpenServiceW(manager.get(), kServiceName, SERVICE_ALL_ACCESS));
    if (service) {
        // An upgrade: the same service, pointed at this executable again.
        if (!::ChangeServiceConfigW(service.get(), SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                    SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr,
                                    L"Nsi\0Tcpip\0", nullptr, nullptr, kDisplayName)) {
            error = failure("cannot update the Calnet service");
            return false;
        }
    } else {
        // Nsi and Tcpip: the network stack the service configures must be up first.
        service.reset(::CreateServiceW(manager.get(), kServiceName, kDisplayName,
                                       SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                                       SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, command.c_str(),
                                       nullptr, nullptr, L"Nsi\0Tcpip\0", nullptr, nullptr));
        if (!service) {
            error = failure("cannot create the Calnet service");
            return false;
        }
    }
    SERVICE_DESCRIPTIONW description{const_cast<wchar_t*>(
        L"Keeps Calnet's WireGuard tunnels, routes and DNS, and answers the Calnet app.")};
    ::ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &description);
    if (!setRecoveryActions(service.get(), error))
        return false;
    if (!::StartServiceW(service.get(), 0, nullptr) &&
        ::GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
        error = failure("the Calnet service was registered but did not start");
        return false;
    }
    return true;
}

bool uninstall(std::string& error, unsigned stopTimeout) {
    const ServiceHandle manager(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (!manager) {
        error = failure("cannot open the service control manager");
        return false;
    }
    const ServiceHandle service(
        ::OpenServiceW(manager.get(), kServiceName, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
    if (!service) {
        if (::GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST)
            return true;
        error = failure("cannot open the Calnet service");
        return false;
    }
    // Stopped by us, or already stopping (an MSI's StopServices, say): either way it is
    // restoring the network, and its files must not go before it is done.
    SERVICE_STATUS status{};
    const bool stopping = ::ControlService(service.get(), SERVICE_CONTROL_STOP, &status) ||
                          ::GetLastError() == ERROR_SERVICE_CANNOT_ACCEPT_CTRL;
    if (stopping &&
        !waitForState(service.get(), SERVICE_STOPPED, std::chrono::seconds(stopTimeout))) {
        error = "the Calnet service did not stop within " + std::to_string(stopTimeout) + " s";
        return false;
    }
    if (!::DeleteService(service.get()) && ::GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) {
        error = failure("cannot delete the Calnet service");
        return false;
    }
    return true;
}

} // namespace calnet::helper::service_control
