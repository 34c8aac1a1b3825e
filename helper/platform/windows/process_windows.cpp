// calnetd as a Windows process (helper/platform/process.h).
//
// The service: when the SCM started us (our parent is services.exe), StartServiceCtrlDispatcherW
// connects this process to it (on a thread of its own, since it blocks until the service
// stops) and the SCM's stop and shutdown controls quit the event loop, as SIGTERM does on
// Linux; serviceFinished() reports SERVICE_STOPPED with the exit code once routes and DNS are
// restored. Started from a console instead, Ctrl+C, Ctrl+Break and closing the console stop
// it. The parent is asked rather than the dispatcher tried, because the dispatcher may take
// its time to refuse a process the SCM did not start (Wine waits half a minute).
//
// The interface mode has no fork on Windows: it stays in the console (wireguard-go does the
// same), Ctrl+C stops it and Ctrl+Break asks for the drop counters, SIGUSR1's job on Linux.
#include "helper/platform/process.h"

#include <atomic>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>

#include <QCoreApplication>
#include <QDir>
#include <QMetaObject>
#include <QPointer>

#include <fcntl.h>
#include <io.h>
#include <windows.h>
// tlhelp32.h needs windows.h's types first.
#include <tlhelp32.h>

#include "helper/platform/statefile.h"
#include "helper/platform/windows/servicecontrol.h"
#include "helper/platform/windows/systemerror.h"

namespace calnet::helper::process {

namespace {

// How long the console handler holds a closing console open for the shutdown.
constexpr DWORD kConsoleCloseGraceMs = 4500;

// Interface mode: the console's requests, taken by waitForRequest().
HANDLE requestEvent = nullptr;
std::atomic<int> pendingRequest{int(Request::None)};

// Service mode.
std::mutex appMutex;
QPointer<QCoreApplication> serviceApp;
// Set by ServiceMain on the dispatcher's thread, read by the SCM's controls and the main thread.
std::atomic<SERVICE_STATUS_HANDLE> statusHandle{nullptr};
std::thread dispatcher;
std::promise<bool> underScm; // set once: true in ServiceMain, false when not started by the SCM

void quitApp() {
    const std::lock_guard lock(appMutex);
    if (serviceApp)
        QMetaObject::invokeMethod(serviceApp.data(), &QCoreApplication::quit, Qt::QueuedConnection);
}

void setServiceState(DWORD state, DWORD exitCode = NO_ERROR) {
    const SERVICE_STATUS_HANDLE handle = statusHandle.load();
    if (!handle)
        return;
    SERVICE_STATUS status{};
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    if (exitCode != NO_ERROR) {
        status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
        status.dwServiceSpecificExitCode = exitCode;
    }
    // The shutdown restores routes and DNS: give it the time ShutdownGuard allows.
    status.dwWaitHint = state == SERVICE_STOP_PENDING ? 30000 : 0;
    ::SetServiceStatus(handle, &status);
}

DWORD WINAPI serviceControl(DWORD control, DWORD, void*, void*) {
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        setServiceState(SERVICE_STOP_PENDING);
        quitApp();
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

void WINAPI serviceMain(DWORD, wchar_t**) {
    statusHandle =
        ::RegisterServiceCtrlHandlerExW(service_control::kServiceName, &serviceControl, nullptr);
    setServiceState(SERVICE_RUNNING);
    // Whichever installer registered us, the registration becomes what --install-service
    // writes (the quoted path, the recovery actions).
    if (std::string why; !service_control::reconcile(why))
        std::fprintf(stderr, "calnetd: %s\n", why.c_str());
    underScm.set_value(statusHandle != nullptr);
}

// A console process only (the SCM's service never installs it: a service also receives every
// user's logoff, which must not stop it).
BOOL WINAPI consoleControl(DWORD type) {
    switch (type) {
    case CTRL_BREAK_EVENT: {
        // A report never replaces a stop that has not been taken yet.
        int none = int(Request::None);
        pendingRequest.compare_exchange_strong(none, int(Request::Report));
        break;
    }
    case CTRL_C_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        pendingRequest = int(Request::Stop);
        quitApp();
        break;
    default:
        return FALSE;
    }
    if (requestEvent)
        ::SetEvent(requestEvent);
    // Windows ends the process as soon as the handler returns from these: stay (Windows allows
    // about 5 s) while the main thread restores routes and DNS and exits.
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        ::Sleep(kConsoleCloseGraceMs);
    return TRUE;
}

// Whether the parent of this process is the SCM's services.exe.
bool startedByScm() {
    const DWORD self = ::GetCurrentProcessId();
    const HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snapshot == INVALID_HANDLE_VALUE)
        return false;
    DWORD parent = 0;
    PROCESSENTRY32W entry{};
    entry.dwSize = sizeof entry;
    for (BOOL more = ::Process32FirstW(snapshot, &entry); more;
         more = ::Process32NextW(snapshot, &entry))
        if (entry.th32ProcessID == self) {
            parent = entry.th32ParentProcessID;
            break;
        }
    ::CloseHandle(snapshot);
    const HANDLE process =
        parent ? ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, parent) : nullptr;
    if (!process)
        return false;
    wchar_t path[MAX_PATH];
    DWORD size = MAX_PATH;
    const bool named = ::QueryFullProcessImageNameW(process, 0, path, &size);
    ::CloseHandle(process);
    if (!named)
        return false;
    const QString image = QString::fromWCharArray(path, int(size));
    // The system's own services.exe, not any program of that name.
    wchar_t system[MAX_PATH];
    const UINT n = ::GetSystemDirectoryW(system, MAX_PATH);
    const QString expected =
        QString::fromWCharArray(system, int(n)) + QStringLiteral("\\services.exe");
    return n > 0 && image.compare(expected, Qt::CaseInsensitive) == 0;
}

// A service has no console: what calnetd prints (and Qt's messages) goes to calnetd.log in the
// default state directory (the run before in calnetd.log.1), where an administrator finds it.
void logToFile() {
    const QString dir = statefile::defaultStateDirectory();
    QString error;
    if (!statefile::prepareDirectory(dir, false, false, &error))
        return;
    const std::wstring path =
        QDir::toNativeSeparators(dir + QStringLiteral("/calnetd.log")).toStdWString();
    ::MoveFileExW(path.c_str(), (path + L".1").c_str(), MOVEFILE_REPLACE_EXISTING);
    // A process without a console has no valid standard error to reopen (freopen fails):
    // descriptor 2 becomes the file instead, and the Win32 standard error handle with it.
    const HANDLE file = ::CreateFileW(path.c_str(), FILE_APPEND_DATA, FILE_SHARE_READ, nullptr,
                                      CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (file == INVALID_HANDLE_VALUE)
        return;
    const int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(file), _O_WRONLY | _O_BINARY);
    if (fd < 0) {
        ::CloseHandle(file);
        return;
    }
    ::_dup2(fd, 2);
    ::_close(fd);
    ::SetStdHandle(STD_ERROR_HANDLE, reinterpret_cast<HANDLE>(::_get_osfhandle(2)));
#if !defined(_UCRT)
    // msvcrt marked the stream as having no descriptor (-2) at start-up; it is 2 now.
    stderr->_file = 2;
#endif
    std::clearerr(stderr);
    std::setvbuf(stderr, nullptr, _IONBF, 0);
    std::fprintf(stderr, "calnetd: started by the service control manager\n");
}

} // namespace

bool daemonise(std::string&) {
    return true; // nothing to detach from (see the top of the file)
}

void reportReady(bool) {}

void holdRequests(Held held) {
    // Before QCoreApplication exists: Qt decides once where its messages go, and a service has
    // no console (logToFile()).
    qputenv("QT_FORCE_STDERR_LOGGING", "1");
    if (!requestEvent)
        requestEvent = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
    // The service's console handler waits for quitOnStopRequest(), which knows whether the SCM
    // started us.
    if (held == Held::StopAndReport)
        ::SetConsoleCtrlHandler(&consoleControl, TRUE);
}

Request waitForRequest(std::chrono::milliseconds timeout) {
    if (requestEvent)
        ::WaitForSingleObject(requestEvent, DWORD(timeout.count()));
    return Request(pendingRequest.exchange(int(Request::None)));
}

bool quitOnStopRequest(QCoreApplication& app, std::string& error) {
    {
        const std::lock_guard lock(appMutex);
        serviceApp = &app;
    }
    if (!startedByScm()) {
        if (!::SetConsoleCtrlHandler(&consoleControl, TRUE)) {
            error = "SetConsoleCtrlHandler: " +
                    calnet::platform::windows::systemErrorText(::GetLastError()).toStdString();
            return false;
        }
        return true;
    }
    logToFile();
    auto scm = underScm.get_future();
    dispatcher = std::thread([] {
        SERVICE_TABLE_ENTRYW table[] = {
            {const_cast<wchar_t*>(service_control::kServiceName), &serviceMain},
            {nullptr, nullptr}};
        if (!::StartServiceCtrlDispatcherW(table)) {
            std::fprintf(stderr, "calnetd: service dispatcher: %s\n",
                         qPrintable(calnet::platform::windows::systemErrorText(::GetLastError())));
            try {
                underScm.set_value(false);
            } catch (const std::future_error&) {
                // ServiceMain already answered.
            }
        }
    });
    // ServiceMain answers at once when the SCM started us; the SCM allows 30 s.
    if (scm.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
        dispatcher.detach(); // blocked inside the SCM: the process exits around it
        error = "the service control manager did not call the service's entry point";
        return false;
    }
    if (!scm.get()) {
        // No status handle: the dispatcher may wait for a SERVICE_STOPPED it cannot be sent.
        dispatcher.detach();
        error = "started by the service control manager, but not accepted as its service";
        return false;
    }
    return true;
}

void serviceFinished(int exitCode) {
    {
        const std::lock_guard lock(appMutex);
        serviceApp = nullptr;
    }
    if (statusHandle.load()) {
        setServiceState(SERVICE_STOPPED, DWORD(exitCode));
        statusHandle = nullptr;
    }
    if (dispatcher.joinable())
        dispatcher.join();
}

} // namespace calnet::helper::process
