#!/usr/bin/env bash
# The desktop app end to end: calnet-app-e2e (tests/integration/e2e_app.cpp) runs the real app
# (offscreen, no tray) against a real calnetd --service in a namespace with a wireguard-go peer
# (tests/app/live_helper.sh). The app connects and disconnects through its own button; this
# script checks from outside what the app claims, and stops and restarts the helper under the
# running app when the Qt test asks (files in $ctrl: <step>.request -> <step>.done).
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
umask 077

here=$(dirname "${BASH_SOURCE[0]}")
CALNET_APP_E2E=$(readlink -f "${CALNET_APP_E2E:-$here/../../build/release/tests/integration/calnet-app-e2e}")
tmp=$(mktemp -d)
ctrl=$tmp/ctrl
qt_pid=""

# shellcheck source=checks.sh
source "$here/checks.sh"
# shellcheck source=../app/live_helper.sh
source "$here/../app/live_helper.sh"

cleanup() {
  if [[ -n $qt_pid ]]; then
    kill -TERM "$qt_pid" 2>/dev/null || true
    wait_for 5 lh__gone "$qt_pid" || kill -KILL "$qt_pid" 2>/dev/null || true
    wait "$qt_pid" 2>/dev/null || true
  fi
  lh_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT

[[ -x $CALNET_APP_E2E ]] || { echo "test_app: missing $CALNET_APP_E2E" >&2; exit 1; }
lh_setup
mkdir -m 700 "$ctrl" "$tmp/xdg-run" "$tmp/xdg-config"

# ---- steps the Qt test hands to the script ------------------------------------------------------
connected_outside() {
  local hs status
  # Captured first (see output_has in checks.sh).
  [[ $(ip -n "$LH_NS_A" addr show dev "$LH_IF_A") == *"inet $LH_ADDRESS "* ]] || return 1
  status=$(lh_ctl --json status)
  [[ $status == *'"state": "connected"'* && $status == *"\"profile\": \"$LH_PROFILE\""* ]] ||
    { echo "$status"; return 1; }
  hs=$(ip netns exec "$LH_NS_B" wg show "$LH_IF_B" latest-handshakes | awk '{print $2}')
  [[ ${hs:-0} -gt 0 ]] || { echo "wireguard-go reports no handshake"; return 1; }
  ip netns exec "$LH_NS_A" ping -c 1 -W 2 10.244.0.2
}
stop_helper() {
  lh_stop_service TERM
  [[ $LH_SVC_RC == 0 ]] || { echo "calnetd exited with status $LH_SVC_RC"; return 1; }
  ! ip -n "$LH_NS_A" link show dev "$LH_IF_A" 2>/dev/null || { echo "$LH_IF_A still exists"; return 1; }
}
start_reconnects() {
  lh_start_service || return 1
  [[ $(lh_ctl --json status) == *'"state": "connected"'* ]]
}

serve_step() {
  local step=$1 before=$failed result=ok
  case $step in
    connected) check "while the app shows Connected: the interface, helper status, wireguard-go's handshake and a ping agree" connected_outside ;;
    stop-helper) check "SIGTERM stops the helper (status 0) under the running app" stop_helper ;;
    start-helper) check "the helper starts again on the same socket" lh_start_service ;;
    stop-helper-connected) check "SIGTERM stops the helper with the tunnel up: status 0, interface removed" stop_helper ;;
    start-helper-connected) check "the helper starts again and reconnects the profile" start_reconnects ;;
    *) check "the Qt test asked for a known step ($step)" false ;;
  esac
  ((failed == before)) || result="the script's check for step '$step' failed"
  printf '%s\n' "$result" >"$ctrl/$step.done.tmp"
  mv "$ctrl/$step.done.tmp" "$ctrl/$step.done"
}

# ---- the app ----------------------------------------------------------------------------------
# Its own runtime, config and temp directories (removed with $tmp even if the test is killed),
# and an unreachable bus so Qt neither finds nor autolaunches a D-Bus session (notifications then
# have nowhere to go, which the app tolerates).
QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$tmp/xdg-run XDG_CONFIG_HOME=$tmp/xdg-config TMPDIR=$tmp \
  DBUS_SESSION_BUS_ADDRESS=unix:path=$tmp/no-bus \
  CALNET_E2E_SOCKET=$LH_SOCK CALNET_E2E_PROFILE=$LH_PROFILE CALNET_E2E_PROFILES=2 \
  CALNET_E2E_PEER_KEY=$LH_PEER_KEY CALNET_E2E_PEERS=$((LH_FAKE_PEERS + 1)) \
  CALNET_E2E_ADDRESS=$LH_ADDRESS CALNET_E2E_CONTROL=$ctrl \
  "$CALNET_APP_E2E" >"$tmp/qtest.log" 2>&1 &
qt_pid=$!

deadline=$((SECONDS + 90))
while ! lh__gone "$qt_pid"; do
  for req in "$ctrl"/*.request; do
    [[ -e $req ]] || continue
    rm -f "$req"
    step=$(basename "$req" .request)
    serve_step "$step"
  done
  if ((SECONDS >= deadline)); then
    echo "# calnet-app-e2e still running after 90 s; stopping it"
    kill -TERM "$qt_pid" 2>/dev/null || true
    break
  fi
  sleep 0.1
done
qt_rc=0
wait "$qt_pid" || qt_rc=$?
qt_pid=""

qt_passed() {
  grep -E "^(PASS|FAIL|SKIP|XFAIL|Totals)" "$tmp/qtest.log"
  if [[ $qt_rc -ne 0 ]] || ! grep -q "^Totals: .* 0 failed, 0 skipped" "$tmp/qtest.log"; then
    grep -v "^PASS" "$tmp/qtest.log" | tail -n 40
    return 1
  fi
}
check "calnet-app-e2e: connect and disconnect by the window's button, helper restarts under the app" qt_passed
sed -n 's/^\(Totals: .*\)/# \1/p' "$tmp/qtest.log"
all_steps() { for s in connected stop-helper start-helper stop-helper-connected start-helper-connected; do [[ -e $ctrl/$s.done ]] || { echo "step $s never ran"; return 1; }; done; }
check "the Qt test went through all five steps" all_steps

# ---- after the app: seen from outside ---------------------------------------------------------
interface_gone() { ! ip -n "$LH_NS_A" link show dev "$LH_IF_A"; }
check "the interface is gone from the helper's namespace" interface_gone
status_disconnected() {
  local status
  status=$(lh_ctl --json status)
  echo "$status"
  [[ $status == *'"state": "disconnected"'* ]]
}
check "calnetctl status --json says disconnected" status_disconnected
stop_helper_last() { stop_helper && lh_log_clean; }
check "the helper stops cleanly and logged nothing but its start and stop lines" stop_helper_last

echo "integration: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
