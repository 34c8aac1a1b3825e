// calnetd as a Windows service: registering it with the service control manager (the
// installers run `calnetd.exe --install-service` and `--uninstall-service`) and running under
// it (process_windows.cpp: the SCM's stop and shutdown controls end the service's event loop,
// the way SIGTERM does on Linux).
#pragma once

#include <string>

namespace calnet::helper::service_control {

// The service's name in the SCM (sc.exe query Calnet) and what the Services console shows.
inline constexpr wchar_t kServiceName[] = L"Calnet";
inline constexpr wchar_t kDisplayName[] = L"Calnet helper";

// Registers (or re-registers) `"<this calnetd.exe>" --service` as an automatic service running
// as LocalSystem that the SCM restarts after a crash (after 2 s, 5 s, then 30 s; the failure
// count resets after a day), and starts it.
bool install(std::string& error);
// Called by the running service (LocalSystem may reconfigure itself): makes its registration
// what install() writes, whichever installer made it — the executable's path quoted (an
// unquoted "C:\Program Files\..." lets the SCM try C:\Program.exe first) and the recovery
// actions (the MSI's ServiceInstall has none). false and the reason when it could not.
bool reconcile(std::string& error);
// Stops the service, waiting up to `stopTimeout` seconds for it (its shutdown restores routes
// and DNS), and deletes it. Success when there is no such service.
bool uninstall(std::string& error, unsigned stopTimeout = 60);

} // namespace calnet::helper::service_control
