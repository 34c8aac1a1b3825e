#!/usr/bin/env bash
# Screenshots of the desktop app against a live helper (tests/app/live_helper.sh) with the
# profile connected, on a private X server:
#   tray-menu.png                 the tray menu opened by a click on the icon in a tray host
#   peer-browser.png              the peer browser, raised by a second `calnet --show`
#   main-window.png               the main window of a run without a tray host
#   main-window-unavailable.png   the same window after the helper stopped
# Fails if the app crashes (checked by PID before every shot and by exit status at the end) or
# a screenshot is blank (calnet-grabscreen refuses those).
#
# Usage: screenshots.sh [OUTDIR]   (default $CALNET_SCREENSHOT_DIR, else build/screenshots)
# Needs root, Xvfb, trayer, xdotool, wireguard-go and wg. Every process it starts is stopped by
# PID, and the namespaces by name, on exit (also on failure).
set -euo pipefail

here=$(dirname "${BASH_SOURCE[0]}")
CALNET=$(readlink -f "${CALNET:-$here/../../build/release/app/calnet}")
CALNET_GRABSCREEN=$(readlink -f "${CALNET_GRABSCREEN:-$here/../../build/release/tests/integration/calnet-grabscreen}")
out=${1:-${CALNET_SCREENSHOT_DIR:-$here/../../build/screenshots}}
tmp=$(mktemp -d)
xvfb_pid=""
trayer_pid=""
app_pid=""
shots=0

# shellcheck source=live_helper.sh
source "$here/live_helper.sh"

stop_pid() { # PID — SIGTERM, then SIGKILL after 5 s; reaps it
  [[ -n $1 ]] || return 0
  kill -TERM "$1" 2>/dev/null || true
  lh_wait 5 lh__gone "$1" || kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_pid "$app_pid"
  stop_pid "$trayer_pid"
  stop_pid "$xvfb_pid"
  lh_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "screenshots: $*" >&2
  [[ -s $tmp/app.log ]] && sed 's/^/#   app: /' "$tmp/app.log" | tail -n 20 >&2
  exit 1
}

for tool in Xvfb trayer xdotool; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install xvfb trayer xdotool)"
done
for f in "$CALNET" "$CALNET_GRABSCREEN"; do [[ -x $f ]] || fail "missing $f"; done
mkdir -p "$out"
out=$(readlink -f "$out")

# ---- X server and tray host ------------------------------------------------------------------
# The first display number nobody holds. Xvfb takes /tmp/.X<n>-lock with its PID in it; only a
# lock holding our PID means the server is ours (another one may win a race for the number).
start_xvfb() {
  local n
  for ((n = 90; n < 190; n++)); do
    [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]] && continue
    # -br: a black root, so an empty screen has one colour and counts as blank. -noreset: an X
    # server resets whenever its last client leaves (xdotool, the app between runs), and a
    # client connecting during the reset is refused.
    Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -br -noreset 2>"$tmp/xvfb.log" &
    xvfb_pid=$!
    if lh_wait 5 ours_and_ready "$n"; then
      export DISPLAY=:$n
      return 0
    fi
    stop_pid "$xvfb_pid"
    xvfb_pid=""
  done
  fail "no free X display between :90 and :189"
}
ours_and_ready() {
  kill -0 "$xvfb_pid" 2>/dev/null || return 1
  [[ $(tr -d ' ' <"/tmp/.X$1-lock" 2>/dev/null) == "$xvfb_pid" && -S /tmp/.X11-unix/X$1 ]] || return 1
  DISPLAY=:$1 xdotool getdisplaygeometry
}

start_trayer() {
  trayer --edge top --align right --widthtype pixel --width 120 --heighttype pixel --height 28 \
    --transparent false --tint 0x404040 >"$tmp/trayer.log" 2>&1 &
  trayer_pid=$!
  if ! lh_wait 5 panel_geometry; then
    kill -0 "$trayer_pid" 2>/dev/null || echo "# trayer has exited" >&2
    sed 's/^/#   trayer: /' "$tmp/trayer.log" >&2
    fail "trayer showed no panel"
  fi
}

# "X Y W H" of a window (root coordinates).
geometry() {
  # shellcheck disable=SC2034 # all set by the eval; some unused
  local WINDOW X Y WIDTH HEIGHT SCREEN
  eval "$(xdotool getwindowgeometry --shell "$1" 2>/dev/null)" || return 1
  [[ -n ${WIDTH:-} ]] || return 1
  echo "$X $Y $WIDTH $HEIGHT"
}
panel_geometry() {
  local w
  for w in $(xdotool search --onlyvisible --class trayer 2>/dev/null); do
    [[ $(xdotool getwindowname "$w" 2>/dev/null) == panel ]] && { geometry "$w"; return 0; }
  done
  return 1
}
# The app's visible windows, one "ID X Y W H" per line.
app_windows() {
  local w g
  for w in $(xdotool search --onlyvisible --class calnet 2>/dev/null); do
    g=$(geometry "$w") && echo "$w $g"
  done
  return 0
}
# The icon Qt embedded into the panel: a small calnet window inside the panel's rectangle.
tray_icon() {
  local px py pw ph w x y wd ht
  read -r px py pw ph < <(panel_geometry) || return 1
  while read -r w x y wd ht; do
    if ((x >= px && y >= py && x + wd <= px + pw && y + ht <= py + ph && wd <= 64)); then
      echo "$w $x $y $wd $ht"
      return 0
    fi
  done < <(app_windows)
  return 1
}

# ---- the app ----------------------------------------------------------------------------------
# Its own runtime and config directories (the single-instance socket lives in the former), an
# unreachable D-Bus address so Qt neither finds nor autolaunches a session bus (the tray then
# uses XEmbed, which trayer hosts), and English whatever the machine's locale.
app_env() { # RUN — prints the environment for the app's run number RUN
  [[ -d $tmp/run$1 ]] || mkdir -m 700 "$tmp/run$1" "$tmp/config$1"
  echo "QT_QPA_PLATFORM=xcb XDG_RUNTIME_DIR=$tmp/run$1 XDG_CONFIG_HOME=$tmp/config$1" \
    "DBUS_SESSION_BUS_ADDRESS=unix:path=$tmp/no-bus LC_ALL=C.UTF-8 LANGUAGE=en"
}
start_app() { # RUN [ARGS...]
  local run=$1
  shift
  # shellcheck disable=SC2046 # word splitting of app_env is intended
  env $(app_env "$run") "$CALNET" --socket "$LH_SOCK" "$@" >>"$tmp/app.log" 2>&1 &
  app_pid=$!
}
app_alive() { kill -0 "$app_pid" 2>/dev/null || fail "the app (PID $app_pid) is gone: $1"; }
# Waits for the app to exit; fails unless it exited by itself with 0 or (if $2) on SIGTERM.
app_exit() { # WHAT ALLOW_SIGTERM
  local rc=0
  lh_wait 10 lh__gone "$app_pid" || fail "the app did not exit after $1"
  wait "$app_pid" || rc=$?
  app_pid=""
  [[ $rc -eq 0 || ($2 == 1 && $rc -eq 143) ]] || fail "the app exited with status $rc after $1"
  echo "# the app exited with status $rc after $1"
}

shot() { # NAME RECT... — grab into OUTDIR/NAME (rectangles "X Y W H", united, 8 px margin)
  local name=$1 r args=()
  shift
  app_alive "before $name"
  for r in "$@"; do
    read -r x y w h <<<"$r"
    args+=(--rect "$x,$y,$w,$h")
  done
  XDG_RUNTIME_DIR=$tmp/run-grab "$CALNET_GRABSCREEN" --margin 8 "${args[@]}" "$out/$name" ||
    fail "$name is blank or could not be taken"
  shots=$((shots + 1))
}

# A window of the app at least 300 px wide whose name matches $1 (the menu and icon are smaller).
find_window() {
  local w x y wd ht
  while read -r w x y wd ht; do
    # shellcheck disable=SC2053 # $1 is a glob
    if ((wd >= 300)) && [[ $(xdotool getwindowname "$w" 2>/dev/null) == $1 ]]; then
      echo "$w $x $y $wd $ht"
      return 0
    fi
  done < <(app_windows)
  return 1
}

# The tray menu: the app window that appears after clicking the icon. While connected the app
# rebuilds the open menu every second, which closes it on X11 (reported), so the grab is taken
# at once and kept only if the menu was still open afterwards; a few tries.
open_tray_menu() { # prints "ID X Y W H" of the menu
  local ix iy iw ih before w x y wd ht
  read -r _ ix iy iw ih < <(tray_icon) || return 1
  before=$(app_windows | cut -d' ' -f1)
  xdotool mousemove $((ix + iw / 2)) $((iy + ih / 2)) click 1
  for _ in $(seq 30); do
    while read -r w x y wd ht; do
      grep -qx "$w" <<<"$before" || { echo "$w $x $y $wd $ht"; return 0; }
    done < <(app_windows)
    sleep 0.05
  done
  return 1
}
# Clicks the peer table's first row (the wireguard-go peer, see live_helper.sh) so the detail
# pane shows it. The row's place below the window's top edge is that of the default fonts and
# style (menu bar, header, filter, table header: the row spans y = 121..150); a click that
# misses only leaves the pane empty. Keys are no substitute: arrows on the profile box would
# switch the tunnel.
select_first_row() { # WINDOW_X WINDOW_Y
  xdotool mousemove $(($1 + 40)) $(($2 + 135)) click 1
  sleep 0.3
}
menu_open() { local all; all=$(app_windows); grep -q "^$1 " <<<"$all"; }

# ---- run --------------------------------------------------------------------------------------
t0=$SECONDS
lh_setup
lh_ctl up "$LH_PROFILE" >/dev/null
healthy() { [[ $(lh_ctl peers) == *"(healthy)"* ]]; }
lh_wait 10 healthy || fail "no handshake with wireguard-go"
start_xvfb
start_trayer
echo "# X server $DISPLAY (PID $xvfb_pid), trayer PID $trayer_pid"

start_app 1
lh_wait 10 tray_icon || fail "no tray icon appeared in trayer"
# The icon turns green once the app has the helper's state; give it the first peers event.
sleep 1.5
read -r px py pw ph < <(panel_geometry)
menu_ok=0
for try in 1 2 3 4 5; do
  app_alive "opening the tray menu"
  if menu=$(open_tray_menu); then
    read -r mid mx my mw mh <<<"$menu"
    shot tray-menu.png "$px $py $pw $ph" "$mx $my $mw $mh"
    if menu_open "$mid"; then
      menu_ok=1
      break
    fi
    echo "# the tray menu closed while it was grabbed (try $try); again"
  fi
  xdotool key Escape
  sleep 0.3
done
((menu_ok)) || fail "could not grab the open tray menu in 5 tries"
# How long the menu stays open by itself (it should until the user closes it).
open_ms=0
while menu_open "$mid" && ((open_ms < 3000)); do
  sleep 0.1
  open_ms=$((open_ms + 100))
done
((open_ms >= 3000)) || echo "# note: the tray menu closed by itself after about $open_ms ms"
xdotool key Escape

# A second launch with --show hands over to the running instance, which opens the peer browser.
# shellcheck disable=SC2046
env $(app_env 1) "$CALNET" --socket "$LH_SOCK" --show >>"$tmp/app.log" 2>&1 ||
  fail "calnet --show to the running instance failed"
lh_wait 10 find_window "*Peers*" || fail "the peer browser did not open"
read -r _ bx by bww bwh < <(find_window "*Peers*")
select_first_row "$bx" "$by"
shot peer-browser.png "$bx $by $bww $bwh"

# Quit through the tray menu's Quit entry (its mnemonic, Q).
for try in 1 2 3; do
  lh__gone "$app_pid" && break
  if menu=$(open_tray_menu); then xdotool key q; fi
  lh_wait 3 lh__gone "$app_pid" && break
  xdotool key Escape
done
if lh__gone "$app_pid"; then
  app_exit "Quit in the tray menu" 0
else
  echo "# Quit in the tray menu did not end the app; SIGTERM"
  kill -TERM "$app_pid"
  app_exit "SIGTERM" 1
fi

# No tray host: the main window is the app.
stop_pid "$trayer_pid"
trayer_pid=""
start_app 2
lh_wait 10 find_window "Calnet" || fail "the main window did not open without a tray host"
sleep 1.5 # the first peers event
read -r _ wx wy ww wh < <(find_window "Calnet")
select_first_row "$wx" "$wy"
shot main-window.png "$wx $wy $ww $wh"

# The helper goes away under the running app: the window says so.
lh_stop_service TERM
[[ $LH_SVC_RC == 0 ]] || echo "# note: calnetd exited with status $LH_SVC_RC on SIGTERM"
sleep 1
shot main-window-unavailable.png "$wx $wy $ww $wh"
kill -TERM "$app_pid"
app_exit "SIGTERM" 1

echo "# $shots screenshots in $out ($((SECONDS - t0)) s)"
