#!/usr/bin/env bash
# calnetd.exe under Wine, with calnetctl.exe as its client:
#   1. --version, and the interface mode's clear "wintun.dll not found:" error (Wine has no
#      Wintun driver, and no wintun.dll is next to calnetd.exe);
#   2. the service in a console (--service on a pipe and in a state directory of the test's own):
#      calnetctl.exe reaches it over the named pipe, imports a profile that lands in the state
#      directory, `up` fails with the Wintun error carried over the IPC and shown by `status`,
#      and Ctrl+C (SIGINT, which Wine turns into CTRL_C_EVENT) stops it cleanly;
#   3. the service under Wine's service control manager: --install-service registers it
#      (the registry key the SCM reads: command line, automatic start) and starts it, calnetctl.exe
#      reaches it on the default pipe, it logs to ProgramData\Calnet\calnetd.log, and
#      --uninstall-service stops it (in order: the log says so) and deletes it.
#
# Environment: CALNETD_EXE, CALNETCTL_EXE (default build/windows/...), WINEPREFIX
# (tests/windows/wineprefix.sh). Every process is stopped by PID on exit, and the service is
# removed again, also on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
calnetd=$(readlink -f "${CALNETD_EXE:-$here/../../build/windows/helper/calnetd.exe}")
calnetctl=$(readlink -f "${CALNETCTL_EXE:-$here/../../build/windows/app/calnetctl.exe}")
version=${CALNET_VERSION:?CALNET_VERSION must be the project version}
: "${WINEPREFIX:?WINEPREFIX must name the prefix (tests/windows/wineprefix.sh)}"
tmp=$(mktemp -d)
service_pid=""
installed=0

# shellcheck source=../checks.sh
source "$here/../checks.sh"

cleanup() {
  stop_pid "$service_pid"
  if [[ $installed -eq 1 ]]; then
    timeout 90 wine "$calnetd" --uninstall-service >/dev/null 2>&1 || true
  fi
  timeout 20 wineserver -w 2>/dev/null || wineserver -k 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

for f in "$calnetd" "$calnetctl"; do
  [[ -f $f ]] || { echo "test_helper_wine: missing $f" >&2; exit 1; }
done
[[ ! -e $(dirname "$calnetd")/wintun.dll ]] ||
  { echo "test_helper_wine: a wintun.dll is next to calnetd.exe; this test needs none" >&2; exit 1; }

# ctl ARGS...: calnetctl.exe, bounded; its output (stdout and stderr) in $tmp/ctl.out.
ctl() {
  local rc=0
  timeout 30 wine "$calnetctl" "$@" >"$tmp/ctl.out" 2>&1 || rc=$?
  tr -d '\r' <"$tmp/ctl.out" >"$tmp/ctl.txt"
  return $rc
}
has() { grep -q -- "$1" "$2"; }
hasText() { grep -qF -- "$1" "$2"; }

# 1. --version and the missing Wintun.
timeout 60 wine "$calnetd" --version >"$tmp/version.out" 2>&1
expect "calnetd.exe --version says $version" grep -q "^calnetd $version " "$tmp/version.out"
rc=0
timeout 60 wine "$calnetd" -f cn-test >"$tmp/iface.out" 2>&1 || rc=$?
expect "the interface mode without wintun.dll exits 1 (rc $rc)" test "$rc" -eq 1
expect "... saying \"wintun.dll not found:\" and where to get it" \
  grep -q "calnetd: wintun.dll not found: put wintun.dll from https://www.wintun.net" "$tmp/iface.out"

# 2. The service in a console, on a pipe and state directory of this test.
mkdir -p "$tmp/state"
state=$(winepath -w "$tmp/state")
pipe='\\.\pipe\calnetd-test-'$$
wine "$calnetd" --service --socket "$pipe" --state-dir "$state" >"$tmp/service.out" 2>&1 &
service_pid=$!
for _ in $(seq 300); do has "service listening" "$tmp/service.out" && break; sleep 0.1; done
expect "the console service listens on its pipe" hasText "service listening on $pipe" "$tmp/service.out"
ctl --socket "$pipe" status || true
expect "calnetctl.exe status reaches it: disconnected" has "^state: disconnected" "$tmp/ctl.txt"
umask 077
printf '[Interface]\nPrivateKey = %s\nAddress = 10.77.0.2/24\nDNS = 10.77.0.1\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.77.0.0/24\nEndpoint = 127.0.0.1:51820\n' \
  "$(head -c32 /dev/urandom | base64)" "$(head -c32 /dev/urandom | base64)" >"$tmp/office.conf"
ctl --socket "$pipe" import "$(winepath -w "$tmp/office.conf")" --name office || true
expect "import over the pipe" has "imported office" "$tmp/ctl.txt"
ctl --socket "$pipe" profiles || true
expect "profiles lists it with its address" has "office  10.77.0.2/24" "$tmp/ctl.txt"
expect "the profile is in the state directory" test -n "$(ls "$tmp/state/profiles" 2>/dev/null)"
rc=0
ctl --socket "$pipe" up office || rc=$?
expect "up fails without Wintun (rc $rc)" test "$rc" -ne 0
expect "... with the Wintun error carried over the IPC" has "wintun.dll not found:" "$tmp/ctl.txt"
ctl --socket "$pipe" status || true
expect "status shows the error state" has "^state: error" "$tmp/ctl.txt"
expect "... and the reason" has "^error: wintun.dll not found:" "$tmp/ctl.txt"
kill -INT "$service_pid"
for _ in $(seq 100); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
expect "Ctrl+C stops the console service within 10 s" bash -c "! kill -0 $service_pid 2>/dev/null"
stop_pid "$service_pid"
service_pid=""
expect "... cleanly" has "calnetd: service stopped" "$tmp/service.out"

# 3. Under the service control manager. Wine's SCM starts a service only once the prefix is
# idle after its boot (else StartService times out with 1053). The SCM starts the service
# without this shell's WINEPATH, so calnetd.exe runs from a folder of its own with the DLLs
# beside it, as an installed one does (links, not copies).
timeout 60 wineserver -w || true
mkdir "$tmp/bin"
ln -s "$calnetd" "$tmp/bin/calnetd.exe"
for dll in /opt/qt6-mingw/bin/*.dll; do ln -s "$dll" "$tmp/bin/"; done
calnetd=$tmp/bin/calnetd.exe
key='HKLM\System\CurrentControlSet\Services\Calnet'
# No log of an earlier run may answer for this one (%ProgramData%: see below).
rm -f "$WINEPREFIX"/drive_c/{ProgramData,users/Public}/Calnet/calnetd.log
installed=1
rc=0
timeout 90 wine "$calnetd" --install-service >"$tmp/install.out" 2>&1 || rc=$?
expect "--install-service succeeds (rc $rc)" test "$rc" -eq 0
timeout 30 wine reg query "$key" >"$tmp/key.out" 2>&1 || true
tr -d '\r' <"$tmp/key.out" >"$tmp/key.txt"
expect "the service key runs calnetd.exe --service" grep -qi 'ImagePath.*calnetd\.exe" --service' "$tmp/key.txt"
expect "... starts automatically (Start = 2)" grep -qiE 'Start[[:space:]]+REG_DWORD[[:space:]]+0x2' "$tmp/key.txt"
expect "... as \"Calnet helper\"" grep -q 'DisplayName.*Calnet helper' "$tmp/key.txt"
for _ in $(seq 100); do
  timeout 30 wine sc query Calnet 2>/dev/null | tr -d '\r' >"$tmp/sc.txt" || true
  grep -q RUNNING "$tmp/sc.txt" && break
  sleep 0.2
done
expect "the SCM runs it" grep -q RUNNING "$tmp/sc.txt"
for _ in $(seq 50); do ctl status && break; sleep 0.2; done
expect "calnetctl.exe reaches the service on the default pipe" has "^state: disconnected" "$tmp/ctl.txt"
# %ProgramData%\Calnet; Wine gives its services C:\users\Public as %ProgramData%.
log=""
for d in ProgramData users/Public; do
  [[ -f $WINEPREFIX/drive_c/$d/Calnet/calnetd.log ]] && log=$WINEPREFIX/drive_c/$d/Calnet/calnetd.log
done
expect "the service logs to %ProgramData%\\Calnet\\calnetd.log" hasText 'service listening on \\.\pipe\calnetd' "${log:-/nonexistent}"
rc=0
timeout 90 wine "$calnetd" --uninstall-service >"$tmp/uninstall.out" 2>&1 || rc=$?
expect "--uninstall-service stops and deletes it (rc $rc)" test "$rc" -eq 0
expect "... after the service shut down in order" hasText "calnetd: service stopped" "${log:-/nonexistent}"
installed=0
rc=0
timeout 30 wine reg query "$key" >/dev/null 2>&1 || rc=$?
expect "the service key is gone" test "$rc" -ne 0
rc=0
ctl status || rc=$?
expect "nothing answers on the default pipe any more (rc $rc)" test "$rc" -ne 0

[[ $failures -eq 0 ]] || { echo "test_helper_wine: $failures check(s) failed" >&2; exit 1; }
echo "test_helper_wine: all checks passed"
