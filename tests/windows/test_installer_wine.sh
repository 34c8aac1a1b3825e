#!/usr/bin/env bash
# The two Windows installers under Wine, each in turn, in a fresh prefix of this test's own:
# calnet-<v>-setup.exe /S (then once more over itself, an upgrade) and its Uninstall.exe /S,
# then msiexec /i calnet-<v>.msi /qn and msiexec /x /qn. After each install: the files in
# C:\Program Files\Calnet, the "Calnet" service in the registry (calnetd.exe --service, automatic
# start) and running, the all-users Run value, the Start-menu shortcut, the Add/Remove Programs
# entry, and the installed calnetctl.exe answering --version from there (so with the deployed
# DLLs only: WINEPATH is cleared). After each uninstall: all of that gone.
#
# What this cannot show: Wine's service manager runs the service as the prefix's user, not as
# LocalSystem, and there is no UAC; the installers' elevation and the service's rights await a
# real Windows machine (docs/platforms.md).
#
# Environment: CALNET_SETUP_EXE, CALNET_MSI (default: the one build/packages/calnet-*-setup.exe
# and calnet-*.msi, from scripts/package.sh --windows), CALNET_VERSION (default: from the
# setup's file name). Every Wine process of the prefix is ended on exit, also on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packages=$(readlink -f "$here/../../build/packages")

# shellcheck source=../checks.sh
source "$here/../checks.sh"

one_file() { # PATTERN: the one file matching it, or nothing
  local matches=()
  mapfile -t matches < <(compgen -G "$1" || true)
  ((${#matches[@]} == 1)) && echo "${matches[0]}"
  return 0
}
setup=${CALNET_SETUP_EXE:-$(one_file "$packages/calnet-*-setup.exe")}
msi=${CALNET_MSI:-$(one_file "$packages/calnet-*.msi")}
for f in "$setup" "$msi"; do
  [[ -n $f && -f $f ]] || {
    echo "test_installer_wine: installer missing (${f:-none, or several, in $packages}):" \
      "scripts/package.sh --windows makes them" >&2
    exit 1
  }
done
setup=$(readlink -f "$setup")
msi=$(readlink -f "$msi")
version=${CALNET_VERSION:-$(basename "$setup" | sed -n 's/^calnet-\(.*\)-setup\.exe$/\1/p')}
[[ -n $version ]] || { echo "test_installer_wine: no version in $setup" >&2; exit 1; }

tmp=$(mktemp -d)
# Not the shared test prefix of tests/CMakeLists.txt: installing a service and writing HKLM there
# would leak into every other Windows test.
export WINEPREFIX=$tmp/prefix
# No Mono/Gecko download prompts; no Wine debug noise.
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# The installed programs must find their DLLs in their own folder, not in the SDK's.
unset WINEPATH
cleanup() {
  # Ends every process of this prefix (the service too, should a check have left it running);
  # no other prefix is touched.
  WINEPREFIX=$tmp/prefix timeout 30 wineserver -k 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

drive_c=$WINEPREFIX/drive_c
dir=$drive_c/"Program Files"/Calnet
win_dir='C:\Program Files\Calnet'
shortcut=$drive_c/ProgramData/Microsoft/Windows/"Start Menu"/Programs/Calnet.lnk
# Wine's msi resolves ProgramMenuFolder to the installing user's Start menu even with ALLUSERS=1
# (its log: "ProgramMenuFolder = C:\users\<user>\AppData\Roaming\...\Programs\"), where
# Windows takes the all-users one. The MSI's shortcut is looked for in both; setup.exe's only in
# the all-users menu.
user_shortcut="" # set once the prefix exists
service_key='HKLM\System\CurrentControlSet\Services\Calnet'
run_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Run'
uninstall_root='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'

w() { timeout 120 wine "$@"; } # a Windows program, bounded
# reg_value KEY NAME: the value's data (reg query's third column onwards), or fails.
reg_value() {
  local out
  out=$(w reg query "$1" /v "$2" 2>/dev/null | tr -d '\r') || return 1
  sed -n "s/^ *$2 \{4\}REG_[A-Z_]* \{4\}//p" <<<"$out" | head -n1
}
has_key() { w reg query "$1" >/dev/null 2>&1; }
lacks_key() { ! has_key "$1"; }
lacks_value() { ! w reg query "$1" /v "$2" >/dev/null 2>&1; }
contains() { [[ $1 == *"$2"* ]]; }
# The Add/Remove Programs entry whose DisplayName is Calnet: NSIS writes ...\Uninstall\Calnet,
# Windows Installer ...\Uninstall\{ProductCode}.
arp_key() {
  w reg query "$uninstall_root" /s 2>/dev/null | tr -d '\r' |
    awk -v root="$uninstall_root" '
      toupper(substr($0, 1, 18)) == "HKEY_LOCAL_MACHINE" { key = $0; next }
      /^ +DisplayName +REG_SZ +Calnet$/ { print key; exit }'
}
service_state() { w sc query Calnet 2>/dev/null | tr -d '\r' | sed -n 's/^ *STATE *: *[0-9]* *//p'; }

# check_installed HOW: everything an install promises.
check_installed() {
  local how=$1 f
  for f in calnet.exe calnetd.exe calnetctl.exe Qt6Core.dll Qt6Widgets.dll \
    platforms/qwindows.dll styles/qwindowsvistastyle.dll translations/qtbase_de.qm; do
    expect "$how: Program Files\\Calnet\\$f is installed" test -f "$dir/$f"
  done
  local image start
  image=$(reg_value "$service_key" ImagePath || true)
  start=$(reg_value "$service_key" Start || true)
  expect "$how: the service's ImagePath runs calnetd.exe from Program Files ($image)" \
    contains "${image,,}" 'c:\program files\calnet\calnetd.exe'
  expect "$how: the service's ImagePath has --service" contains "$image" " --service"
  expect "$how: the service starts automatically (Start=$start)" test "$start" = 0x2
  expect "$how: the service's display name is 'Calnet helper'" \
    test "$(reg_value "$service_key" DisplayName || true)" = "Calnet helper"
  local state
  state=$(service_state)
  expect "$how: the service is running (${state:-not found})" test "$state" = RUNNING
  # The running service makes its registration what calnetd.exe --install-service writes,
  # whichever installer registered it: the executable's path quoted (msiexec under Wine writes
  # it without quotes), and it logs to ProgramData\Calnet\calnetd.log.
  local quoted="\"$win_dir\\calnetd.exe\" --service"
  for _ in $(seq 50); do
    image=$(reg_value "$service_key" ImagePath || true)
    [[ $image == "$quoted" ]] && break
    sleep 0.2
  done
  expect "$how: the running service's ImagePath is quoted ($image)" test "$image" = "$quoted"
  # %ProgramData%: Wine gives its services C:\users\Public.
  local log
  for log in "$drive_c/ProgramData/Calnet/calnetd.log" "$drive_c/users/Public/Calnet/calnetd.log" ""; do
    [[ -f $log ]] && break
  done
  expect "$how: the service logs to %ProgramData%\\Calnet\\calnetd.log" \
    grep -qF 'calnetd: service listening on \\.\pipe\calnetd' "${log:-/nonexistent}"
  local run
  run=$(reg_value "$run_key" Calnet || true)
  expect "$how: HKLM Run 'Calnet' is \"$win_dir\\calnet.exe\" --autostart ($run)" \
    test "$run" = "\"$win_dir\\calnet.exe\" --autostart"
  if [[ $how == msiexec* ]]; then
    expect "$how: the Start-menu shortcut exists (all users' menu, or the user's: Wine)" \
      test -f "$shortcut" -o -f "$user_shortcut"
  else
    expect "$how: the all-users Start-menu shortcut exists" test -f "$shortcut"
  fi
  local arp
  arp=$(arp_key)
  expect "$how: an Add/Remove Programs entry names Calnet" test -n "$arp"
  expect "$how: its DisplayVersion is $version" \
    test "$(reg_value "${arp:-none}" DisplayVersion || true)" = "$version"
  local ctl
  ctl=$(cd "$dir" && w "$win_dir\\calnetctl.exe" --version 2>&1 | tr -d '\r') || true
  expect "$how: the installed calnetctl.exe --version says $version ($ctl)" \
    contains "$ctl" "$version"
}

# check_removed HOW: nothing of it is left.
check_removed() {
  local how=$1
  expect "$how: Program Files\\Calnet is gone" test ! -e "$dir"
  expect "$how: the service's key is gone" lacks_key "$service_key"
  expect "$how: the service is not known to the service manager" test -z "$(service_state)"
  expect "$how: the HKLM Run value is gone" lacks_value "$run_key" Calnet
  expect "$how: the Start-menu shortcut is gone" test ! -e "$shortcut" -a ! -e "$user_shortcut"
  expect "$how: the Add/Remove Programs entry is gone" test -z "$(arp_key)"
}

started=$SECONDS
timeout 180 wineboot --init >"$tmp/wineboot.log" 2>&1 ||
  { cat "$tmp/wineboot.log" >&2; echo "test_installer_wine: wineboot failed" >&2; exit 1; }
# Until the prefix's first wineserver has finished and exited, a service started by the new
# service manager timed out here (StartService: ERROR_SERVICE_REQUEST_TIMEOUT).
timeout 60 wineserver -w
user_shortcut=$(echo "$drive_c"/users/*/AppData/Roaming/Microsoft/Windows/"Start Menu"/Programs)/Calnet.lnk
echo "prefix ready after $((SECONDS - started)) s ($(wine --version))"

echo "== NSIS: $(basename "$setup") /S"
rc=0
w "$setup" /S || rc=$?
expect "setup.exe /S exits 0 (exit code $rc)" test "$rc" -eq 0
expect "setup.exe: Uninstall.exe is installed" test -f "$dir/Uninstall.exe"
check_installed setup.exe
arp=$(arp_key)
expect "setup.exe: the entry's QuietUninstallString is Uninstall.exe /S" \
  test "$(reg_value "${arp:-none}" QuietUninstallString || true)" = "\"$win_dir\\Uninstall.exe\" /S"
expect "setup.exe: the entry's InstallLocation is $win_dir" \
  test "$(reg_value "${arp:-none}" InstallLocation || true)" = "$win_dir"

echo "== NSIS: the same setup.exe /S over the installed one (an upgrade)"
rc=0
w "$setup" /S || rc=$?
expect "setup.exe /S over an install exits 0 (exit code $rc)" test "$rc" -eq 0
check_installed "setup.exe again"

echo "== NSIS: Uninstall.exe /S"
# The uninstaller copies itself to %TEMP% and returns at once, so that it can delete itself;
# the copy's end is awaited through the wineserver, which exits once the prefix's last program
# has. (Services are system processes to Wine and do not hold it: a service the uninstaller
# left running shows in the checks below instead.) Not "_?=": that would test another path,
# one that leaves Uninstall.exe and the folder behind by design.
rc=0
w "$win_dir\\Uninstall.exe" /S || rc=$?
expect "Uninstall.exe /S exits 0 (exit code $rc)" test "$rc" -eq 0
timeout 60 wineserver -w || fail "the prefix's programs did not all end within 60 s of the uninstall"
check_removed Uninstall.exe

echo "== MSI: msiexec /i $(basename "$msi") /qn"
failures_before_msi=$failures
win_msi=$(winepath -w "$msi")
rc=0
w msiexec /i "$win_msi" /qn /l*v "$(winepath -w "$tmp/msi-install.log")" || rc=$?
expect "msiexec /i /qn exits 0 (exit code $rc)" test "$rc" -eq 0
check_installed msiexec
echo "== MSI: msiexec /x /qn"
rc=0
w msiexec /x "$win_msi" /qn /l*v "$(winepath -w "$tmp/msi-remove.log")" || rc=$?
expect "msiexec /x /qn exits 0 (exit code $rc)" test "$rc" -eq 0
timeout 60 wineserver -w || fail "the prefix's programs did not all end within 60 s of msiexec /x"
check_removed "msiexec /x"
if ((failures > failures_before_msi)); then
  for log in "$tmp"/msi-*.log; do
    [[ -f $log ]] && echo "--- tail of $(basename "$log")" && tail -n 40 "$log" | tr -d '\r'
  done
fi

echo "test_installer_wine: $failures failed ($((SECONDS - started)) s)"
((failures == 0))
