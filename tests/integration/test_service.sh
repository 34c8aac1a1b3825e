#!/usr/bin/env bash
# calnetd --service driven by calnetctl, in two namespaces the test creates: "a" runs the
# service, "b" a wireguard-go peer. Checks: import (errors with line numbers), profiles, roles
# (an unprivileged user reads but cannot change or see keys), connect and peers with a
# handshake, traffic, and that routes and rules are exactly as before after disconnect, after
# SIGTERM, and after kill -9 plus restart (which reconnects) — for a split and a full tunnel.
# Hostile clients (oversized frame, garbage, 200 at once) never hurt the others.
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
umask 077

CALNETD=$(readlink -f "${CALNETD:-$(dirname "$0")/../../build/release/helper/calnetd}")
CALNETCTL=$(readlink -f "${CALNETCTL:-$(dirname "$0")/../../build/release/app/calnetctl}")
tag=$$
ns_a="cn-svc-a-$tag"
ns_b="cn-svc-b-$tag"
if_a="csa$tag"; if_a=${if_a:0:15}
if_b="csb$tag"; if_b=${if_b:0:15}
tmp=$(mktemp -d)
chmod 755 "$tmp" # the unprivileged caller must reach the socket
sock="$tmp/run/calnetd.sock"
state="$tmp/state"
svc_pid=""
wg_pid=""

cleanup() {
  for pid in $svc_pid $wg_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $svc_pid $wg_pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  rm -f "/var/run/wireguard/$if_b.sock"
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# shellcheck source=../netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../netns.sh"

ctl() { ip netns exec "$ns_a" "$CALNETCTL" --socket "$sock" "$@"; }
# The same, as user nobody with no groups: a reader.
ctl_nobody() { ip netns exec "$ns_a" setpriv --reuid=65534 --regid=65534 --clear-groups "$CALNETCTL" --socket "$sock" "$@"; }

start_service() {
  # The fake resolvconf first in PATH; no system bus, so never the host's systemd-resolved.
  ip netns exec "$ns_a" env PATH="$tmp/bin:$PATH" DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent \
    "$CALNETD" --service --socket "$sock" --state-dir "$state" \
    --interface "$if_a" 2>>"$tmp/service.log" &
  svc_pid=$!
  wait_for 10 test -S "$sock"
}
stop_service() { # $1 = signal
  kill "-$1" "$svc_pid"
  wait_for 15 bash -c "! kill -0 $svc_pid 2>/dev/null"
  wait "$svc_pid" 2>/dev/null || true
  svc_pid=""
}
snapshot() {
  ls -1 "$tmp/dns"
  ip -n "$ns_a" rule show
  ip -n "$ns_a" -6 rule show
  ip -n "$ns_a" route show table all | grep -v "^local fe80::\|^fe80::\|^multicast"
  ip netns exec "$ns_a" cat /proc/sys/net/ipv4/conf/all/src_valid_mark
  ip netns exec "$ns_a" nft list ruleset
}
same_as_before() { diff <(echo "$before") <(snapshot); }

[[ $(id -u) -eq 0 ]] || { echo "test_service: needs root" >&2; exit 1; }
for f in "$CALNETD" "$CALNETCTL"; do [[ -x $f ]] || { echo "test_service: missing $f" >&2; exit 1; }; done
command -v wireguard-go >/dev/null || { echo "test_service: wireguard-go missing" >&2; exit 1; }

# ---- topology: a (service) <-> b (wireguard-go, "remote" addresses behind it) -------------------
peer_lab "$ns_a" "vsa$tag" "$ns_b" "vsb$tag" "$if_b" 243

# resolvconf stand-in: the files it keeps are the test's "resolv.conf" state.
mkdir -p "$tmp/dns" "$tmp/bin"
cat >"$tmp/bin/resolvconf" <<EOF
#!/bin/sh
# A slow resolver (D-Bus or resolvconf taking seconds) when the test asks for one.
[ -e "$tmp/dns-slow" ] && sleep 3
case "\$1" in
  -a) cat >"$tmp/dns/\$2" ;;
  -d) rm -f "$tmp/dns/\$2" ;;
  *) exit 2 ;;
esac
EOF
chmod 755 "$tmp/bin/resolvconf"

cat >"$tmp/vps.conf" <<EOF
[Interface]
PrivateKey = $key_a
Address = 10.243.0.1/24
DNS = 10.243.0.53, corp.example

[Peer]
PublicKey = $pub_b
Endpoint = 192.168.243.2:51820
AllowedIPs = 10.243.0.2/32, 203.0.113.80/32
PersistentKeepalive = 25
EOF
sed 's#^AllowedIPs = .*#AllowedIPs = 0.0.0.0/0#; s#^Endpoint = .*#Endpoint = 198.51.100.2:51820#' \
  "$tmp/vps.conf" >"$tmp/full.conf"
# The same tunnel on a fixed listen port (issue 10: the first initiation must leave from it).
sed 's#^PrivateKey = .*#&\nListenPort = 51821#' "$tmp/vps.conf" >"$tmp/port.conf"
printf '[Interface]\nPrivateKey = %s\nAddress = 10.243.0.1/33\nBogus = 1\n' "$key_a" >"$tmp/bad.conf"

before=$(snapshot)
start_service

# ---- profiles and roles -----------------------------------------------------------------------
check "version answers" ctl version
rollback_refused() {
  local rc=0
  ip netns exec "$ns_a" "$CALNETD" --rollback --socket "$sock" --state-dir "$state" 2>"$tmp/rb" || rc=$?
  [[ $rc -eq 1 ]] && grep -q "a service answers on" "$tmp/rb" || { echo "rc=$rc: $(cat "$tmp/rb")"; return 1; }
}
check "calnetd --rollback is refused while the service answers" rollback_refused
bad_import() {
  local rc=0
  ctl import "$tmp/bad.conf" 2>"$tmp/err" || rc=$?
  [[ $rc -eq 6 ]] || { echo "exit $rc"; return 1; }
  grep -q "line 3" "$tmp/err" && grep -q "line 4" "$tmp/err"
}
check "import of a bad file fails with exit 6 and names lines 3 and 4" bad_import
check "import vps.conf" ctl import "$tmp/vps.conf"
check "import full.conf" ctl import "$tmp/full.conf"
listed() { output_has "vps" ctl profiles && output_has "full.*full tunnel" ctl profiles; }
check "profiles lists both" listed
reader_reads() { ctl_nobody status && ctl_nobody profiles && ctl_nobody peers; }
check "an unprivileged user reads status, profiles and peers" reader_reads
reader_denied() {
  local cmd rc=0
  # The file is root's (0600): hand it over on stdin, so the helper is what refuses.
  ctl_nobody import - --name x <"$tmp/vps.conf" 2>/dev/null || rc=$?
  [[ $rc -eq 4 ]] || { echo "import exited $rc, want 4"; return 1; }
  for cmd in "up vps" "down" "export vps" "remove vps"; do
    rc=0
    # shellcheck disable=SC2086
    ctl_nobody $cmd 2>/dev/null || rc=$?
    [[ $rc -eq 4 ]] || { echo "'$cmd' exited $rc, want 4"; return 1; }
  done
}
check "an unprivileged user cannot import, connect, disconnect, export or remove (exit 4)" reader_denied
no_keys() {
  local out
  out=$(ctl_nobody --json profiles; ctl_nobody --json peers; ctl --json profiles; ctl --json status)
  ! grep -qF "$key_a" <<<"$out"
}
check "no private key in any reader-visible reply" no_keys
exported() { output_has "PrivateKey = $key_a" ctl export vps; }
check "root can export the profile with its key" exported

# ---- connect, traffic, peers, disconnect ------------------------------------------------------
check "up vps" ctl up vps
traffic() { ip netns exec "$ns_a" ping -c 3 -i 0.2 -W 2 203.0.113.80; }
ip netns exec "$ns_a" ping -c 1 -W 3 10.243.0.2 >/dev/null 2>&1 || true
check "traffic flows to the peer's networks" traffic
peers_ok() {
  local out
  out=$(ctl peers) || return
  echo "$out"
  grep -q "latest handshake: .* ago (healthy)" <<<"$out" &&
    grep -q "endpoint: 192.168.243.2:51820" <<<"$out"
}
check "calnetctl peers shows the handshake, healthy, and the endpoint" peers_ok
dns_set() { grep -qs "nameserver 10.243.0.53" "$tmp"/dns/* && grep -qs "corp.example" "$tmp"/dns/*; }
check "the profile's DNS server and search domain are handed to resolvconf" dns_set
check "down" ctl down
check "routes and rules as before, after down" same_as_before

# ---- a connect that waits on DNS holds up no one ----------------------------------------------
# resolvconf takes 3 s: while `up` waits for it, a reader's `status` (a new calnetctl process
# each time) is answered at once and shows the connect in progress.
slow_connect() {
  local up_pid rc=0 t0 t1 ms slowest=0 seen=""
  touch "$tmp/dns-slow"
  ctl up vps >"$tmp/slow-up.out" 2>&1 &
  up_pid=$!
  for _ in $(seq 12); do
    t0=${EPOCHREALTIME/[.,]/}
    out=$(ctl_nobody status) || { echo "status failed"; rc=1; break; }
    t1=${EPOCHREALTIME/[.,]/}
    ms=$(((t1 - t0) / 1000))
    ((ms > slowest)) && slowest=$ms
    grep -q "state: connecting" <<<"$out" && seen=yes
    sleep 0.1
  done
  kill -0 "$up_pid" 2>/dev/null || { echo "up finished before the reads did"; rc=1; }
  wait "$up_pid" || { echo "up failed: $(cat "$tmp/slow-up.out")"; rc=1; }
  rm -f "$tmp/dns-slow"
  echo "12 status calls while up waited on DNS: slowest $slowest ms (whole calnetctl process)"
  [[ $seen == yes ]] || { echo "never saw state connecting"; rc=1; }
  ((slowest < 1000)) || rc=1
  output_has "state: connected" ctl status || rc=1
  ctl down >/dev/null || rc=1
  return $rc
}
check "while up waits 3 s on resolvconf, status is answered at once and says connecting" slow_connect
check "routes and rules as before, after the slow connect" same_as_before

# ---- first packet right: from the configured port, answered at once -------------------------
# A capture on b's side of the link records the UDP datagrams that reach wireguard-go's port;
# `up` of a profile with ListenPort = 51821 must send its first initiation from 51821, so the
# response comes back to a socket calnetd listens on and the first ping needs no 5 s retry.
first_packet() {
  local cap=$tmp/first.cap ready=$tmp/first.ready pid rc=0 t0 t1 sport len type
  rm -f "$cap" "$ready"
  ip netns exec "$ns_b" timeout 30 python3 - "vsb$tag" "$ready" >"$cap" <<'EOF' &
import signal, socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind((sys.argv[1], 0)); s.settimeout(0.1)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
open(sys.argv[2], "w").close()
end = time.monotonic() + 25
while not stop and time.monotonic() < end:
    try:
        pkt, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or len(pkt) < 28 or pkt[9] != 17:
        continue
    ihl = (pkt[0] & 15) * 4
    sport, dport, length = struct.unpack(">HHH", pkt[ihl:ihl + 6])
    if dport == 51820:
        print(sport, length - 8, pkt[ihl + 8], flush=True)
EOF
  pid=$!
  wait_for 10 test -e "$ready" || { kill "$pid"; return 1; }
  ctl import "$tmp/port.conf" >/dev/null
  t0=${EPOCHREALTIME/[.,]/}
  ctl up port
  ip netns exec "$ns_a" ping -c 1 -W 1 10.243.0.2 || rc=$?
  t1=${EPOCHREALTIME/[.,]/}
  echo "first ping answered $(((t1 - t0) / 1000)) ms after up was sent (rc $rc)"
  sleep 0.3
  kill -TERM "$pid"
  wait "$pid" || true
  ctl down >/dev/null
  echo "datagrams to wireguard-go (source port, UDP payload length, message type):"
  cat "$cap"
  [[ $rc -eq 0 ]] || return 1
  # The very first datagram is the initiation (type 1, 148 bytes), from the profile's port;
  # every later one comes from that port too.
  read -r sport len type <"$cap"
  [[ $sport == 51821 && $len == 148 && $type == 1 ]] || return 1
  ! awk '$1 != 51821 { bad = 1 } END { exit !bad }' "$cap"
}
check "first packet: the initiation leaves from ListenPort and the first ping is answered within 1 s" first_packet
check "routes and rules as before, after the ListenPort profile" same_as_before

# ---- SIGTERM, then kill -9 and restart, for a split and a full tunnel -------------------------
# Strict reverse-path filtering (as some distributions and hardening guides set it): the full
# tunnel's replies from the endpoint pass only because of its nftables connmark rules.
rp_strict() {
  ip netns exec "$ns_a" sysctl -qw net.ipv4.conf.all.rp_filter="$1" \
    net.ipv4.conf.default.rp_filter="$1" "net.ipv4.conf.vsa$tag.rp_filter=$1"
}
rp_strict 1
before=$(snapshot)
# A packet for the tunnel's address that comes in on the veth from b's own address: the
# full tunnel's anti-spoofing rule drops it (checked with rp_filter off, which would drop it
# too). Without that rule a answers, and the reply goes back through the tunnel.
spoof_dropped() {
  local rc=0
  rp_strict 0
  ip -n "$ns_b" route add 10.243.0.1/32 via 192.168.243.1 dev "vsb$tag"
  ip netns exec "$ns_b" ping -c 2 -i 0.3 -W 1 10.243.0.1 && rc=1
  ip -n "$ns_b" route del 10.243.0.1/32 via 192.168.243.1 dev "vsb$tag"
  rp_strict 1
  return $rc
}
for profile in vps full; do
  ctl up "$profile" >/dev/null
  connected() { output_has "state: connected" ctl status && ip netns exec "$ns_a" ping -c 1 -W 2 203.0.113.80; }
  check "[$profile] connected and passing traffic" connected
  if [[ $profile == full ]]; then
    full_rules() { output_has "not from all fwmark" ip -n "$ns_a" rule show; }
    check "[$profile] full tunnel installs policy rules" full_rules
    nft_rules() {
      local out
      out=$(ip netns exec "$ns_a" nft list table ip "calnet-$if_a") || return
      echo "$out"
      grep -q 'meta mark set ct mark' <<<"$out" && grep -q 'ct mark set meta mark' <<<"$out" &&
        grep -q "ip daddr 10.243.0.1 fib saddr type != local drop" <<<"$out"
    }
    check "[$profile] with rp_filter=1: the nftables connmark and anti-spoofing rules are there" nft_rules
    check "[$profile] a spoofed packet for the tunnel address arriving on the veth is dropped" spoof_dropped
  fi
  stop_service TERM
  check "[$profile] after SIGTERM: routes and rules as before" same_as_before
  start_service
  check "[$profile] restart reconnects the profile" wait_for 10 connected
  stop_service KILL
  start_service
  check "[$profile] after kill -9 and restart: reconnected" wait_for 10 connected
  ctl down >/dev/null
  check "[$profile] down after the crash: routes and rules as before" same_as_before
done
rp_strict 0
before=$(snapshot)

# ---- events -----------------------------------------------------------------------------------
events() {
  ip netns exec "$ns_a" timeout 60 python3 - "$sock" "$CALNETCTL" <<'EOF'
import json, socket, struct, subprocess, sys, time
path, ctl = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(10)
def send(obj):
    b = json.dumps(obj).encode(); s.sendall(struct.pack(">I", len(b)) + b)
def read():
    hdr = b""
    while len(hdr) < 4: hdr += s.recv(4 - len(hdr))
    n = struct.unpack(">I", hdr)[0]; data = b""
    while len(data) < n: data += s.recv(n - len(data))
    return json.loads(data)
send({"v": 1, "id": 1, "method": "subscribe", "params": {"events": ["state", "peers"]}})
first = [read(), read(), read()]
assert first[0].get("id") == 1 and "result" in first[0], first
assert first[1].get("event") == "state" and first[2].get("event") == "peers", first
subprocess.run([ctl, "--socket", path, "up", "vps"], check=True, capture_output=True)
states, peer_times, deadline = [], [], time.time() + 6
while time.time() < deadline:
    m = read()
    if m.get("event") == "state": states.append(m["data"]["state"])
    if m.get("event") == "peers" and m["data"]["peers"]: peer_times.append(time.time())
assert "connecting" in states and "connected" in states, states
assert len(peer_times) >= 3, peer_times
gaps = [b - a for a, b in zip(peer_times, peer_times[1:])]
assert min(gaps) > 0.8, gaps  # peer statistics at most once a second
subprocess.run([ctl, "--socket", path, "down"], check=True, capture_output=True)
while True:
    m = read()
    if m.get("event") == "state" and m["data"]["state"] == "disconnected": break
print("states", states, "peer event gaps", [round(g, 2) for g in gaps])
EOF
}
check "subscribers get state changes at once and peer statistics at most once a second" events

# A client that sends requests but never reads its replies is cut off once 4 MiB queue up;
# the helper's memory stays bounded and other clients are served throughout.
slow_reader() {
  local rss0 rss1
  rss0=$(awk '/VmRSS/ {print $2}' "/proc/$svc_pid/status")
  ip netns exec "$ns_a" timeout 120 python3 - "$sock" <<'EOF'
import json, socket, struct, sys
path = sys.argv[1]
req = json.dumps({"v": 1, "id": 1, "method": "profiles.list"}).encode()
frame = struct.pack(">I", len(req)) + req
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(30)
cut = False
try:
    for i in range(200000):
        s.sendall(frame)
except (BrokenPipeError, ConnectionResetError, socket.timeout):
    cut = True
assert cut, "the helper kept buffering replies for a client that never reads"
o = socket.socket(socket.AF_UNIX); o.connect(path); o.settimeout(10)
b = json.dumps({"v": 1, "id": 5, "method": "status"}).encode(); o.sendall(struct.pack(">I", len(b)) + b)
hdr = o.recv(4); n = struct.unpack(">I", hdr)[0]; data = b""
while len(data) < n: data += o.recv(n - len(data))
assert json.loads(data)["id"] == 5
print("slow reader cut off; others served")
EOF
  rss1=$(awk '/VmRSS/ {print $2}' "/proc/$svc_pid/status")
  echo "helper RSS ${rss0} kB -> ${rss1} kB"
  ((rss1 - rss0 < 65536))
}
check "a client that never reads is disconnected, memory stays bounded, others are served" slow_reader

# ---- hostile clients --------------------------------------------------------------------------
hostile() {
  ip netns exec "$ns_a" timeout 60 python3 - "$sock" <<'EOF'
import json, socket, struct, sys, time
path = sys.argv[1]
def frame(obj):
    b = json.dumps(obj).encode()
    return struct.pack(">I", len(b)) + b
def call(s, obj):
    s.sendall(frame(obj))
    hdr = b""
    while len(hdr) < 4:
        chunk = s.recv(4 - len(hdr))
        if not chunk: raise EOFError("closed")
        hdr += chunk
    n = struct.unpack(">I", hdr)[0]; data = b""
    while len(data) < n: data += s.recv(n - len(data))
    return json.loads(data)
def closed(s):
    s.settimeout(5)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
good = socket.socket(socket.AF_UNIX); good.connect(path)
assert call(good, {"v": 1, "id": 1, "method": "version"})["result"]["protocol"] == 1
# A length over the 1 MiB cap: the helper closes the connection without reading a body.
s = socket.socket(socket.AF_UNIX); s.connect(path); s.sendall(struct.pack(">I", (1 << 20) + 1))
assert closed(s), "oversized frame not refused"
# Not JSON: closed.
s = socket.socket(socket.AF_UNIX); s.connect(path); s.sendall(struct.pack(">I", 5) + b"{{{{{")
assert closed(s), "garbage not refused"
# Valid frames, bad requests: error replies, connection stays.
s = socket.socket(socket.AF_UNIX); s.connect(path)
assert call(s, {"v": 1, "id": 2, "method": "nope"})["error"]["code"] == "unknown_method"
assert call(s, {"v": 2, "id": 3, "method": "status"})["error"]["code"] == "unsupported_version"
assert call(s, {"v": 1, "id": "x", "method": "status"})["error"]["code"] == "bad_request"
assert call(s, {"v": 1, "id": 4, "method": "connect", "params": {"name": 7}})["error"]["code"] == "invalid_params"
# A truncated frame, then the client vanishes.
t = socket.socket(socket.AF_UNIX); t.connect(path); t.sendall(struct.pack(">I", 100) + b"{"); t.close()
# 200 clients at once, each served.
clients = []
for i in range(200):
    c = socket.socket(socket.AF_UNIX); c.connect(path); clients.append(c)
for i, c in enumerate(clients):
    c.sendall(frame({"v": 1, "id": i + 1, "method": "status"}))
for i, c in enumerate(clients):
    c.settimeout(10)
    hdr = c.recv(4); n = struct.unpack(">I", hdr)[0]; data = b""
    while len(data) < n: data += c.recv(n - len(data))
    assert json.loads(data)["id"] == i + 1
for c in clients: c.close()
# The first client is still fine.
assert call(good, {"v": 1, "id": 9, "method": "status"})["result"]["state"] in ("disconnected", "connected")
print("hostile clients handled")
EOF
  kill -0 "$svc_pid"
}
check "oversized, garbage, bad requests, a vanished client and 200 clients: the helper keeps serving" hostile

# ---- the systemd unit -------------------------------------------------------------------------
unit_ok() {
  local unit=$(dirname "${BASH_SOURCE[0]}")/../../resources/systemd/calnetd.service
  # Verify the unit as systemd would load it, with ExecStart pointing at the binary under test.
  sed "s#/usr/sbin/calnetd#$CALNETD#" "$unit" >"$tmp/calnetd.service"
  # verify exits 0 on unknown keys and only warns: any output at all is a failure here. The man
  # pages Documentation= names ship in the package (installers/linux/man), not on this host.
  local out d page
  out=$(systemd-analyze verify --man=no "$tmp/calnetd.service" 2>&1) || { echo "$out"; return 1; }
  [[ -z $out ]] || { echo "$out"; return 1; }
  # A ReadWritePaths= entry that does not exist fails the start (226/NAMESPACE) unless it is
  # marked optional with "-": only paths every Linux has may go without it.
  for page in $(sed -n 's/^ReadWritePaths=//p' "$unit"); do
    [[ $page == -* || $page == /proc/* ]] ||
      { echo "ReadWritePaths= $page may not exist on every host: prefix it with -"; return 1; }
  done
  for page in $(sed -n 's/^Documentation=//p' "$unit"); do
    page=${page#man:}
    page="${page%%(*}.${page#*(}"
    [[ -f $(dirname "$unit")/../../installers/linux/man/${page%)} ]] ||
      { echo "Documentation= names $page, which installers/linux/man does not have"; return 1; }
  done
  for d in "ExecStart=.* --service" "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE$" \
    "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
    "DevicePolicy=closed" "DeviceAllow=/dev/net/tun rw" "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" \
    "SystemCallFilter=@system-service" "MemoryDenyWriteExecute=yes" "StateDirectoryMode=0700" \
    "KillMode=mixed" "ExecStopPost=-/usr/sbin/calnetd --rollback "; do
    grep -Eq "^$d" "$unit" || { echo "missing: $d"; return 1; }
  done
}
check "the systemd unit verifies and carries its hardening" unit_ok

stop_service TERM
echo "integration: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
