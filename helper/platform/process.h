// How calnetd lives as an OS process, apart from what it does: detaching for the interface
// mode (as wireguard-go forks) and the requests to stop or to report its counters.
// platform/linux: fork + a readiness pipe, signals taken through sigtimedwait and signalfd
// (SIGTERM, SIGINT, SIGHUP stop; SIGUSR1 reports). Windows: the service control manager's stop
// control (docs/platforms.md).
#pragma once

#include <chrono>
#include <string>

class QCoreApplication;

namespace calnet::helper::process {

// Interface mode: detaches from the terminal. The parent stays until reportReady() and exits
// with its status, so the caller (wg-quick) sees the interface exist once we return.
bool daemonise(std::string& error);
// Tells a waiting parent (if any) whether the interface came up; no-op without daemonise().
void reportReady(bool ok);

// Takes stop requests (and, for the interface mode, report requests) away from every thread
// started after this call, so they reach waitForRequest() / quitOnStopRequest() only. Call
// before any thread exists. The service takes no report request (SIGUSR1 keeps its default).
enum class Held { StopOnly, StopAndReport };
void holdRequests(Held held);

enum class Request { None, Stop, Report };
// Interface mode: waits up to `timeout` for a request.
Request waitForRequest(std::chrono::milliseconds timeout);

// Service mode: app.quit() on the first stop request, on app's event loop.
bool quitOnStopRequest(QCoreApplication& app, std::string& error);
// Service mode, after the shutdown: tells the OS the service has stopped with exitCode
// (Windows: SERVICE_STOPPED to the SCM, which restarts it per its recovery actions when the
// code is not 0). Nothing to do on Linux, where the exit status says it.
void serviceFinished(int exitCode);

} // namespace calnet::helper::process
