#!/usr/bin/env bash
# SSO end to end with a real OpenID provider and a real browser, in namespaces this test makes:
# npm's oidc-provider (tests/integration/sso, pinned by its lockfile) and calnet-server in "hub",
# nodes n1 and n2 each in its own namespace running calnetd --service; the person at the
# browser is Debian's chromium, headless, driven over DevTools (sso/browser.mjs), refusing every
# host but 127.0.0.1. The issuer is http://127.0.0.1:9400 everywhere: the provider listens in
# the hub, and each node forwards its own 127.0.0.1:9400 to it. Checks:
#   * calnetctl login, device grant: prints the URL and the code; the browser confirms the code
#     and signs in; the node joins as that user (status: user and key expiry; the server's users
#     list: issuer, subject, email);
#   * calnetctl login --browser, the loopback flow: the browser signs in and is sent back to
#     the CLI's 127.0.0.1 port; the second node joins as another user; the two ping each other;
#   * someone outside --oidc-allowed-domains is refused with the server's sentence;
#   * a sign-in cancelled at the provider ends the CLI with the provider's "no";
#   * a user disabled on the server: its node leaves the other's peers and the map; enabled
#     again and signed in again, it is back;
#   * calnetctl logout --delete: the tunnel down, the node gone from the server;
#   * the desktop app (e2e_sso.cpp, on Xvfb in n1's namespace, refresh tokens in gnome-keyring
#     on a private D-Bus session): File → Sign in…, the URL handed to $BROWSER, the browser signs
#     in, the node reaches n2; with a 40 s key expiry the app renews the key silently (the
#     tunnel stays up); sign-out removes the device; screenshots in English and German.
# Every process and namespace is removed by PID and name on exit, also on failure.
set -euo pipefail
umask 022

CALNETD=$(readlink -f "${CALNETD:-$(dirname "$0")/../../build/release/helper/calnetd}")
CALNETCTL=$(readlink -f "${CALNETCTL:-$(dirname "$0")/../../build/release/app/calnetctl}")
CALNET_SERVER=$(readlink -f "${CALNET_SERVER:-$(dirname "$0")/../../build/release/server/calnet-server}")
FIXTURES=$(readlink -f "$(dirname "$0")/sso")
tag=$$
hub="cn-sso-hub-$tag"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
declare -A svc

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

ns_of() { echo "cn-sso-$1-$tag"; }
nodes_made=()

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  # Whatever still runs in this test's namespaces (started by a subshell) goes too.
  local n p
  for n in "${nodes_made[@]}"; do
    for p in $(ip netns pids "$(ns_of "$n")" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  for p in $(ip netns pids "$hub" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  for n in "${nodes_made[@]}"; do ip netns del "$(ns_of "$n")" 2>/dev/null; done
  ip netns del "$hub" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] || { echo "test_sso: needs root" >&2; exit 1; }
for f in "$CALNETD" "$CALNETCTL" "$CALNET_SERVER"; do
  [[ -x $f ]] || { echo "test_sso: missing $f" >&2; exit 1; }
done
for tool in node npm python3 "${CHROMIUM:-/usr/bin/chromium}"; do
  command -v "$tool" >/dev/null || { echo "test_sso: missing $tool (scripts/install-deps.sh --test)" >&2; exit 1; }
done

# ---- fixtures: the provider and the browser driver, from the lockfile ---------------------------
mkdir -p "$tmp/sso"
cp "$FIXTURES/package.json" "$FIXTURES/package-lock.json" "$FIXTURES"/*.mjs "$tmp/sso/"
(cd "$tmp/sso" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund --prefer-offline \
  >"$tmp/npm.log" 2>&1) || { cat "$tmp/npm.log" >&2; echo "test_sso: npm ci failed" >&2; exit 1; }

# ---- topology -----------------------------------------------------------------------------------
ip netns add "$hub"
ip -n "$hub" link set lo up
ip -n "$hub" link add br0 type bridge
ip -n "$hub" addr add 192.168.246.1/24 dev br0
ip -n "$hub" link set br0 up

cat >"$tmp/forward.py" <<'PY'
# 127.0.0.1:PORT in this namespace -> HOST:PORT: the provider's issuer URL works here too.
import asyncio, sys
port, host = int(sys.argv[1]), sys.argv[2]
async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
async def handle(reader, writer):
    try:
        r, w = await asyncio.open_connection(host, port)
    except OSError:
        writer.close()
        return
    await asyncio.gather(pipe(reader, w), pipe(r, writer))
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("forwarding", flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY

add_node() { # NAME INDEX
  local name=$1 index=$2 ns
  ns=$(ns_of "$name")
  ip netns add "$ns"
  nodes_made+=("$name")
  ip -n "$ns" link set lo up
  ip link add "s$index$tag" netns "$ns" type veth peer name "t$index$tag" netns "$hub"
  ip -n "$ns" addr add "192.168.246.$((10 + index))/24" dev "s$index$tag"
  ip -n "$ns" link set "s$index$tag" up
  ip -n "$hub" link set "t$index$tag" master br0
  ip -n "$hub" link set "t$index$tag" up
  ip netns exec "$ns" python3 "$tmp/forward.py" 9400 192.168.246.1 >"$tmp/fwd-$name.out" 2>&1 &
  pids+=($!)
  wait_for 10 grep -q forwarding "$tmp/fwd-$name.out"
  mkdir -p "$tmp/$name"
  ip netns exec "$ns" "$CALNETD" --service --socket "$tmp/$name/calnetd.sock" \
    --state-dir "$tmp/$name/state" --interface "cs$name$tag" 2>>"$tmp/$name.log" &
  svc[$name]=$!
  pids+=("${svc[$name]}")
  wait_for 10 test -S "$tmp/$name/calnetd.sock"
}
ctl() { # NODE ARGS...
  local n=$1
  shift
  ip netns exec "$(ns_of "$n")" "$CALNETCTL" --socket "$tmp/$n/calnetd.sock" "$@"
}
browser() { # NODE ARGS...: the browser driver, in the node's namespace
  local n=$1
  shift
  (cd "$tmp/sso" && ip netns exec "$(ns_of "$n")" timeout 120 node browser.mjs "$@")
}

# ---- provider and server ------------------------------------------------------------------------
ip netns exec "$hub" node "$tmp/sso/provider.mjs" 0.0.0.0 9400 http://127.0.0.1:9400 \
  >"$tmp/provider.out" 2>"$tmp/provider.log" &
pids+=($!)
check "the OpenID provider starts" wait_for 20 grep -q listening "$tmp/provider.out"

head -c 24 /dev/urandom | base64 | tr -d '\n' >"$tmp/admin-token"
chmod 600 "$tmp/admin-token"
server="http://192.168.246.1:8080"
start_server() { # EXTRA ARGS...
  ip netns exec "$hub" "$CALNET_SERVER" serve --listen 192.168.246.1:8080 \
    --db "sqlite:$tmp/server.db" --stun-listen 192.168.246.1:8080 \
    --admin-token-file "$tmp/admin-token" --oidc-issuer http://127.0.0.1:9400 \
    --oidc-client-id calnet-desktop --oidc-allowed-domains example.com "$@" \
    >>"$tmp/server.out" 2>>"$tmp/server.log" &
  server_pid=$!
  pids+=("$server_pid")
}
start_server
check "calnet-server starts with --oidc-issuer" wait_for 20 grep -q "^listening on" "$tmp/server.out"
server_cli() {
  ip netns exec "$hub" "$CALNET_SERVER" "$@" --server "$server" --admin-token-file "$tmp/admin-token"
}
admin_json() { # PATH
  ip netns exec "$hub" python3 - "$1" "$tmp/admin-token" <<'PY'
import sys, urllib.request
path, token_file = sys.argv[1:]
req = urllib.request.Request("http://192.168.246.1:8080" + path)
req.add_header("Authorization", "Bearer " + open(token_file).read().strip())
print(urllib.request.urlopen(req, timeout=5).read().decode())
PY
}
info_offers_oidc() {
  ip netns exec "$hub" python3 -c '
import json, urllib.request
i = json.load(urllib.request.urlopen("http://192.168.246.1:8080/api/v1/info", timeout=5))
assert i["auth"] == ["authkey", "oidc"], i
assert i["oidc"] == {"issuer": "http://127.0.0.1:9400", "clientId": "calnet-desktop"}, i'
}
check "/api/v1/info advertises the provider" info_offers_oidc

add_node n1 1
add_node n2 2

# login_start NODE NAME ARGS...: calnetctl login in the background, its output in $tmp/NAME.
login_start() {
  local n=$1 name=$2
  shift 2
  (rc=0
   ctl "$n" login --server "$server" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
   echo "rc=$rc" >>"$tmp/$name.out") &
  pids+=($!)
}
login_rc() { grep -o '^rc=[0-9]*' "$tmp/$1.out" | cut -d= -f2; }
login_done() { [[ -n $(login_rc "$1") ]]; }
login_ok() { login_done "$1" && [[ $(login_rc "$1") == 0 ]]; }

# ---- 1. the device grant ------------------------------------------------------------------------
login_start n1 login1 --hostname n1
check "login prints the verification URL and the user code" \
  wait_for 20 grep -q "and enter the code: [A-Z]\{4\}-[A-Z]\{4\}" "$tmp/login1.out"
code=$(grep -o 'enter the code: [A-Z-]*' "$tmp/login1.out" | awk '{print $4}')
check "the browser confirms the code and signs in as ada" \
  browser n1 device "http://127.0.0.1:9400/device?user_code=$code" ada@example.com
check "calnetctl login ends well" wait_for 30 login_ok login1
check "… saying who signed in" grep -q "^Signed in as ada@example.com." "$tmp/login1.out"
status_has() { output_has "$2" ctl "$1" status; }
check "n1's status shows the user" status_has n1 "^user: ada@example.com$"
check "n1's status shows the key expiry" status_has n1 "^key expiry: 20[0-9-]* [0-9:]* UTC ("
user_is_listed() {
  admin_json /api/v1/admin/users | python3 -c '
import json, sys
u = [u for u in json.load(sys.stdin)["users"] if u["name"] == "ada@example.com"]
assert len(u) == 1 and u[0]["issuer"] == "http://127.0.0.1:9400" and u[0]["subject"] == "ada-1", u
assert u[0]["email"] == "ada@example.com" and u[0]["nodes"] == 1, u'
}
check "the server lists ada by issuer and subject, with one node" user_is_listed
check "calnet-server users list shows the sign-in" \
  output_has "ada@example.com.*http://127.0.0.1:9400 ada-1 <ada@example.com>" server_cli users list

# ---- 2. the loopback flow with a browser ------------------------------------------------------
login_start n2 login2 --browser --hostname n2
check "login --browser prints the authorization URL" \
  wait_for 20 grep -q "^  http://127.0.0.1:9400/auth?" "$tmp/login2.out"
url=$(grep -o 'http://127.0.0.1:9400/auth?[^ ]*' "$tmp/login2.out")
check "the authorization URL asks for PKCE S256 and a loopback redirect" bash -c \
  "[[ '$url' == *code_challenge_method=S256* && '$url' == *redirect_uri=http%3A%2F%2F127.0.0.1%3A* ]]"
check "the browser signs in as bob and is sent back to the CLI's port" \
  browser n2 login "$url" bob@example.com
check "calnetctl login --browser ends well" wait_for 30 login_ok login2
check "n2's status shows bob" status_has n2 "^user: bob@example.com$"

overlay_of() {
  ctl "$1" --json status | python3 -c '
import json, sys
for a in json.load(sys.stdin).get("addresses", []):
    if ":" not in a:
        print(a.split("/")[0]); break'
}
a1=$(overlay_of n1)
a2=$(overlay_of n2)
ping_ok() { ip netns exec "$(ns_of "$1")" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1; }
check "n1 pings n2 over the overlay" wait_for 15 ping_ok n1 "$a2"
check "n2 pings n1 over the overlay" wait_for 15 ping_ok n2 "$a1"

# ---- 3. refusals --------------------------------------------------------------------------------
login_start n2 login3 --browser --name outsider
wait_for 20 grep -q "^  http://127.0.0.1:9400/auth?" "$tmp/login3.out" || true
url=$(grep -o 'http://127.0.0.1:9400/auth?[^ ]*' "$tmp/login3.out" || true)
browser n2 login "$url" eve@evil.org >/dev/null 2>&1 || true
check "someone outside the allowed domains is refused" wait_for 30 login_done login3
check "… with exit code 1" test "$(login_rc login3)" = 1
check "… with the server's sentence" \
  grep -q "eve@evil.org is not in a domain this network allows (example.com)" "$tmp/login3.err"

login_start n2 login4 --browser --name cancelled
wait_for 20 grep -q "^  http://127.0.0.1:9400/auth?" "$tmp/login4.out" || true
url=$(grep -o 'http://127.0.0.1:9400/auth?[^ ]*' "$tmp/login4.out" || true)
check "the person cancels at the provider" browser n2 deny "$url"
check "the CLI ends" wait_for 30 login_done login4
check "… saying the sign-in was cancelled" grep -q "cancelled at the identity provider" "$tmp/login4.err"

# ---- 4. disable and enable ----------------------------------------------------------------------
bob_id=$(admin_json /api/v1/admin/users | python3 -c '
import json, sys
print([u["id"] for u in json.load(sys.stdin)["users"] if u["name"] == "bob@example.com"][0])')
peers_of() {
  ctl "$1" --json peers | python3 -c '
import json, sys
print(" ".join(sorted(p.get("hostname", "") for p in json.load(sys.stdin).get("peers", []))))'
}
n1_sees() { [[ $(peers_of n1) == "$1" ]]; }
check "n1 lists n2 as a peer" wait_for 10 n1_sees n2
check "calnet-server users disable" server_cli users disable "$bob_id"
check "bob's node leaves n1's peers within 5 s" wait_for 5 n1_sees ""
check "… and n1 no longer reaches it" bash -c "! ip netns exec $(ns_of n1) ping -c 2 -W 1 -q $a2"
check "calnet-server users enable" server_cli users enable "$bob_id"
login_start n2 login5 --browser --hostname n2
wait_for 20 grep -q "^  http://127.0.0.1:9400/auth?" "$tmp/login5.out" || true
url=$(grep -o 'http://127.0.0.1:9400/auth?[^ ]*' "$tmp/login5.out" || true)
check "bob signs in again" browser n2 login "$url" bob@example.com
check "… and the CLI ends well" wait_for 30 login_ok login5
check "n2 is back in n1's peers" wait_for 10 n1_sees n2
check "n1 pings n2 again" wait_for 15 ping_ok n1 "$a2"

# ---- 5. logout ----------------------------------------------------------------------------------
check "calnetctl logout --delete" output_has "node was deleted on the server" ctl n2 logout --delete
check "n2 is down without an error" status_has n2 "^state: disconnected$"
n2_gone() {
  admin_json /api/v1/admin/nodes | python3 -c '
import json, sys
assert all(n["hostname"] != "n2" for n in json.load(sys.stdin)["nodes"])'
}
check "n2 is gone from the server" n2_gone
check "n2 leaves n1's peers" wait_for 5 n1_sees ""
logout_again_refused() {
  local out
  if out=$(ctl n2 logout --name calnet-192.168.246.1 2>&1); then return 1; fi
  grep -q "no Calnet network profile named calnet-192.168.246.1" <<<"$out"
}
check "the profile is forgotten: logging out again finds nothing" logout_again_refused

# ---- 6. the desktop app: sign in through the browser, silent renewal, sign out ------------------
# The server again with a 40 s key expiry (the app renews 10 s before it), on the same database.
CALNET_SSO_E2E=$(readlink -f "${CALNET_SSO_E2E:-$(dirname "$0")/../../build/release/tests/integration/calnet-sso-e2e}")
shots=${CALNET_SCREENSHOTS:-$tmp/shots}
mkdir -p "$shots"
kill -TERM "$server_pid"
wait_for 15 bash -c "! kill -0 $server_pid 2>/dev/null" || true
: >"$tmp/server.out"
start_server --key-expiry 40s
check "calnet-server restarts with --key-expiry 40s" wait_for 20 grep -q "^listening on" "$tmp/server.out"
check "n1 signs out of its CLI sign-in" ctl n1 logout --delete
# n2 (signed out above) joins again with the device grant, under the 40 s expiry: the app's
# node needs someone to reach.
login_start n2 login6 --hostname n2
wait_for 20 grep -q "and enter the code: [A-Z]\{4\}-[A-Z]\{4\}" "$tmp/login6.out" || true
code=$(grep -o 'enter the code: [A-Z-]*' "$tmp/login6.out" | awk '{print $4}' || true)
check "bob signs n2 in again with a code" \
  browser n2 device "http://127.0.0.1:9400/device?user_code=$code" bob@example.com
check "… and n2 is up again" wait_for 30 login_ok login6
a2=$(overlay_of n2)

n1ns=$(ns_of n1)
ip netns exec "$n1ns" Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" \
  2>"$tmp/xvfb.log" &
pids+=($!)
wait_for 10 test -s "$tmp/display"
display=":$(head -1 "$tmp/display")"
# A session bus of its own, without service activation: the Secret Service is the keyring
# started below with the login keyring unlocked, never one D-Bus would start on first use.
cat >"$tmp/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
ip netns exec "$n1ns" dbus-daemon --config-file="$tmp/session.conf" --nofork \
  >"$tmp/dbus.log" 2>&1 &
pids+=($!)
wait_for 10 test -S "$tmp/bus"
bus="unix:path=$tmp/bus"
mkdir -p "$tmp/home" "$tmp/xdg-run"
chmod 700 "$tmp/xdg-run"
keyring_env=(env HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/xdg-run" DBUS_SESSION_BUS_ADDRESS="$bus")
printf 'calnet-test' >"$tmp/keyring.pass"
ip netns exec "$n1ns" "${keyring_env[@]}" gnome-keyring-daemon --foreground --unlock \
  --components=secrets <"$tmp/keyring.pass" >"$tmp/keyring.out" 2>"$tmp/keyring.log" &
pids+=($!)
keyring_up() { # the login collection is there (and the default)
  ip netns exec "$n1ns" "${keyring_env[@]}" dbus-send --session --print-reply \
    --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.ReadAlias string:default |
    grep -q /org/freedesktop/secrets/collection/login
}
check "gnome-keyring serves the Secret Service on a private D-Bus session" wait_for 15 keyring_up
printf '#!/bin/sh\necho "$1" >>"%s"\n' "$tmp/browser-url" >"$tmp/browser.sh"
chmod 755 "$tmp/browser.sh"

# run_app NAME EMAIL ENV...: the app e2e in n1 with the browser watching for its URL; answers
# its hand-offs (signed-in, renewed) by pinging n2 from n1.
run_app() {
  local name=$1 email=$2
  shift 2
  rm -f "$tmp/browser-url"
  mkdir -p "$tmp/ctl-$name"
  ip netns exec "$n1ns" timeout 300 node "$tmp/sso/browser.mjs" watch "$tmp/browser-url" \
    "$email" >"$tmp/browser-$name.log" 2>&1 &
  pids+=($!)
  ip netns exec "$n1ns" "${keyring_env[@]}" DISPLAY="$display" QT_QPA_PLATFORM=xcb BROWSER="$tmp/browser.sh" \
    XDG_CONFIG_HOME="$tmp/xdg-config" CALNET_E2E_SOCKET="$tmp/n1/calnetd.sock" \
    CALNET_E2E_SERVER="$server" CALNET_E2E_EMAIL="$email" CALNET_E2E_CONTROL="$tmp/ctl-$name" \
    CALNET_E2E_SCREENSHOTS="$shots" "$@" \
    timeout 300 "$CALNET_SSO_E2E" >"$tmp/app-$name.log" 2>&1 &
  local app_pid=$!
  pids+=("$app_pid")
  local deadline=$((SECONDS + 300)) step
  while kill -0 "$app_pid" 2>/dev/null && ((SECONDS < deadline)); do
    for step in signed-in renewed; do
      if [[ -f $tmp/ctl-$name/$step.request && ! -f $tmp/ctl-$name/$step.done ]]; then
        a1=$(overlay_of n1)
        if wait_for 15 ping_ok n1 "$a2" && wait_for 15 ping_ok n2 "$a1"; then
          echo ok >"$tmp/ctl-$name/$step.done"
        else
          echo "n1 ($a1) and n2 ($a2) do not reach each other" >"$tmp/ctl-$name/$step.done"
        fi
      fi
    done
    sleep 0.2
  done
  wait "$app_pid"
}
show_app_log() { grep -E "^(PASS|FAIL|SKIP|Totals|QWARN)|Loc:|Actual|Expected|calnet:" "$tmp/app-$1.log" | head -40; }
check "the app signs in through the browser, reaches n2, renews silently and signs out" \
  run_app en ada@example.com
show_app_log en
echo "# app: $(grep -o 'Totals.*' "$tmp/app-en.log")"
n1_gone() {
  admin_json /api/v1/admin/nodes | python3 -c '
import json, sys
assert all(n["hostname"] != "n1" for n in json.load(sys.stdin)["nodes"])'
}
check "the app's sign-out removed the device from the server" n1_gone
check "the app in German: dialog, waiting state and signed-in window" \
  run_app de ada@example.com CALNET_E2E_LANG=de CALNET_E2E_SHORT=1
show_app_log de
for lang in en de; do
  for shot in dialog waiting signed-in; do
    check "screenshot sso-$shot-$lang.png" test -s "$shots/sso-$shot-$lang.png"
  done
done

if ((failed > 0)); then
  for f in provider.log server.log n1.log n2.log; do
    echo "# ---- $f"; tail -15 "$tmp/$f" | sed 's/^/#   /'
  done
fi
echo "integration: $passed passed, $failed failed"
((failed == 0))
