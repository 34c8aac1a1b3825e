#!/usr/bin/env bash
# calnet.exe under Wine on a private X server (Xvfb), with no helper to reach: its window must
# come up in English and in German (LANG, which Wine turns into the Windows user locale) and
# keep running. Each window's screenshot is refused when blank (calnet-grabscreen, a Linux
# program of the release tree: build/release first), and the menu bars of the two are compared
# (the window's top-left corner, nothing that changes with time): they must differ, which they
# do only when the German catalogue was loaded ("Datei Hilfe" against "File Help"). Screenshots
# land in $CALNET_SCREENSHOTS (default build/screenshots) as windows-main-window-{en,de}.png.
#
# Environment: CALNET_EXE (default build/windows/app/calnet.exe), CALNET_GRABSCREEN, WINEPREFIX
# (tests/windows/wineprefix.sh). Every process is stopped by PID on exit, also on failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exe=$(readlink -f "${CALNET_EXE:-$here/../../build/windows/app/calnet.exe}")
grab=$(readlink -f "${CALNET_GRABSCREEN:-$here/../../build/release/tests/integration/calnet-grabscreen}")
out=$(readlink -f "${CALNET_SCREENSHOTS:-$here/../../build/screenshots}")
: "${WINEPREFIX:?WINEPREFIX must name the prefix (tests/windows/wineprefix.sh)}"
tmp=$(mktemp -d)
xvfb_pid=""
app_pid=""

# shellcheck source=../checks.sh
source "$here/../checks.sh"

cleanup() {
  stop_pid "$app_pid"
  # The prefix's wineserver goes with its last program; wait for it, bounded, then end it.
  timeout 20 wineserver -w 2>/dev/null || wineserver -k 2>/dev/null || true
  stop_pid "$xvfb_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT

for f in "$exe" "$grab"; do
  [[ -x $f || -f $f ]] || { echo "test_app_wine: missing $f" >&2; exit 1; }
done
command -v Xvfb >/dev/null || { echo "test_app_wine: Xvfb is missing" >&2; exit 1; }
mkdir -p "$out"

# -displayfd: Xvfb picks a free display number itself and writes it when it is ready.
exec {fd}>"$tmp/display"
Xvfb -displayfd "$fd" -screen 0 1024x768x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
exec {fd}>&-
for _ in $(seq 100); do [[ -s $tmp/display ]] && break; sleep 0.1; done
[[ -s $tmp/display ]] || { echo "test_app_wine: Xvfb did not start" >&2; exit 1; }
export DISPLAY=:$(head -n1 "$tmp/display")

# shot LANG NAME: calnet.exe with the real windows platform, its window shown, no tray host
# and a pipe nobody serves; screenshots once it has had time to paint.
shot() {
  local lang=$1 name=$2
  rm -f "$out/windows-main-window-$name.png" "$tmp/menubar-$name.png"
  LANG=$lang LC_ALL=$lang wine "$exe" -platform windows --no-tray --show \
    --socket '\\.\pipe\calnet-test-nobody' >"$tmp/app-$name.log" 2>&1 &
  app_pid=$!
  local win=""
  for _ in $(seq 300); do
    win=$(xdotool search --onlyvisible --name '^Calnet' 2>/dev/null | head -n1 || true)
    [[ -n $win ]] && break
    kill -0 "$app_pid" 2>/dev/null || break
    sleep 0.1
  done
  expect "$name: calnet.exe shows its window under Wine" test -n "$win"
  sleep 3 # the first connection attempts fail; the window has painted its unavailable state
  expect "$name: calnet.exe is still running" kill -0 "$app_pid"
  expect "$name: the window's screenshot is not blank" \
    "$grab" "$out/windows-main-window-$name.png"
  local X=0 Y=0 WIDTH=0 HEIGHT=0
  if [[ -n $win ]]; then
    eval "$(xdotool getwindowgeometry --shell "$win")"
  fi
  expect "$name: the menu bar's screenshot is not blank" \
    "$grab" --rect "$X,$Y,220,22" --margin 0 --min-colors 2 --max-share 0.995 \
    "$tmp/menubar-$name.png"
  stop_pid "$app_pid"
  app_pid=""
}
shot en_US.UTF-8 en
shot de_DE.UTF-8 de
# cmp: 0 same, 1 different, 2 a file is missing.
menus_differ() {
  local rc=0
  cmp -s "$tmp/menubar-en.png" "$tmp/menubar-de.png" || rc=$?
  ((rc == 1))
}
expect "the German menu bar differs from the English one (the catalogue was loaded)" menus_differ

echo "test_app_wine: $failures failed"
((failures == 0))
