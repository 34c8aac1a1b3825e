#!/usr/bin/env bash
# calnetd as wg-quick's userspace implementation (WG_QUICK_USERSPACE_IMPLEMENTATION=calnetd),
# in two namespaces the test creates:
#   a: wg-quick up a full-tunnel config (AllowedIPs 0.0.0.0/0, ::/0). wg-quick daemonises
#      calnetd, sets an fwmark and policy rules; the tunnel only works if calnetd marks its own
#      UDP packets (SO_MARK), or they would be routed back into the tunnel.
#   b: calnetd -f configured with wg(8), with an extra "remote" address only reachable through
#      the tunnel from a.
# Checks: the daemon, interface, addresses, MTU, fwmark and rules wg-quick set up; traffic to the
# remote addresses over IPv4 and IPv6; `wg showconf` reflects the file; a TCP transfer with a
# small MSS (TSO segment cap); `wg-quick down` restores rules and routes and calnetd exits with
# its socket gone; deleting a calnetd interface with `ip link del` makes calnetd exit.
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
umask 077

CALNETD=${CALNETD:-$(dirname "$0")/../../build/release/helper/calnetd}
CALNETD=$(readlink -f "$CALNETD")
tag=$$
ns_a="cn-wq-a-$tag"
ns_b="cn-wq-b-$tag"
if_a="wqa$tag"; if_a=${if_a:0:15}
if_b="wqb$tag"; if_b=${if_b:0:15}
tmp=$(mktemp -d)
pids=()

# The pid of the calnetd serving interface $1 (wg-quick daemonised it, so we never saw it start):
# the process whose argv is exactly [$CALNETD, $1]. Interface names carry our pid, so no other
# process can match.
calnetd_pid_of() {
  local p
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    if [[ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" == "$CALNETD $1 " ]]; then
      echo "${p#/proc/}"
      return 0
    fi
  done
  return 1
}

cleanup() {
  local pid
  pid=$(calnetd_pid_of "$if_a" || true)
  [[ -n $pid ]] && pids+=("$pid")
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  rm -f "/var/run/wireguard/$if_a.sock" "/var/run/wireguard/$if_b.sock"
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

[[ $(id -u) -eq 0 ]] || { echo "test_wgquick: needs root" >&2; exit 1; }
[[ -x $CALNETD ]] || { echo "test_wgquick: no calnetd at $CALNETD" >&2; exit 1; }
for tool in wg wg-quick nft ip python3; do
  command -v $tool >/dev/null || { echo "test_wgquick: $tool missing" >&2; exit 1; }
done

# ---- topology ---------------------------------------------------------------------------------
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "vqa$tag" netns "$ns_a" type veth peer name "vqb$tag" netns "$ns_b"
ip -n "$ns_a" addr add 192.168.242.1/24 dev "vqa$tag"
ip -n "$ns_b" addr add 192.168.242.2/24 dev "vqb$tag"
ip -n "$ns_a" addr add fd00:242::1/64 dev "vqa$tag" nodad
ip -n "$ns_b" addr add fd00:242::2/64 dev "vqb$tag" nodad
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
# No link-local addresses on the veths: they would appear asynchronously and make the
# before/after route comparison below race with IPv6 autoconfiguration.
ip -n "$ns_a" link set "vqa$tag" addrgenmode none
ip -n "$ns_b" link set "vqb$tag" addrgenmode none
ip -n "$ns_a" link set "vqa$tag" up
ip -n "$ns_b" link set "vqb$tag" up
# a's default route points at b over the veth: without the tunnel's own routing, "the internet"
# (b's remote addresses below) is not reachable.
ip -n "$ns_b" addr add 203.0.113.77/32 dev lo
ip -n "$ns_b" addr add 2001:db8:77::77/128 dev lo

wg genkey >"$tmp/a.key"
wg genkey >"$tmp/b.key"
pub_a=$(wg pubkey <"$tmp/a.key")
pub_b=$(wg pubkey <"$tmp/b.key")

ip netns exec "$ns_b" env WG_PROCESS_FOREGROUND=1 "$CALNETD" "$if_b" 2>"$tmp/b.log" &
pids+=($!)
wait_for 10 test -S "/var/run/wireguard/$if_b.sock"
ip netns exec "$ns_b" wg set "$if_b" private-key "$tmp/b.key" listen-port 51820 \
  peer "$pub_a" allowed-ips 10.242.0.1/32,fd00:242:1::1/128
ip -n "$ns_b" addr add 10.242.0.2/24 dev "$if_b"
ip -n "$ns_b" addr add fd00:242:1::2/64 dev "$if_b" nodad
ip -n "$ns_b" link set "$if_b" up

cat >"$tmp/$if_a.conf" <<EOF
# full tunnel through b
[Interface]
PrivateKey = $(cat "$tmp/a.key")
Address = 10.242.0.1/24, fd00:242:1::1/64
ListenPort = 51821

[Peer]
PublicKey = $pub_b
Endpoint = 192.168.242.2:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 25
EOF
chmod 600 "$tmp/$if_a.conf"

rules_before=$(ip -n "$ns_a" rule show; ip -n "$ns_a" -6 rule show)
routes_before=$(ip -n "$ns_a" route show table all)

# ---- wg-quick up ------------------------------------------------------------------------------
up() {
  ip netns exec "$ns_a" env WG_QUICK_USERSPACE_IMPLEMENTATION="$CALNETD" \
    timeout 30 wg-quick up "$tmp/$if_a.conf"
}
check "wg-quick up with calnetd as the userspace implementation" up

daemon_running() { calnetd_pid_of "$if_a"; }
check "wg-quick started calnetd as a daemon" daemon_running
iface_ok() {
  output_has "mtu 1420" ip -n "$ns_a" -d link show "$if_a" &&
    output_has "inet 10.242.0.1/24" ip -n "$ns_a" addr show "$if_a" &&
    output_has "inet6 fd00:242:1::1/64" ip -n "$ns_a" addr show "$if_a"
}
check "interface has the file's addresses and wg-quick's MTU 1420" iface_ok
fwmark_ok() {
  local mark
  mark=$(ip netns exec "$ns_a" wg show "$if_a" fwmark)
  [[ $mark == 0xca6c ]] || { echo "fwmark '$mark'"; return 1; }
  output_has "not from all fwmark 0xca6c lookup 51820" ip -n "$ns_a" rule show
}
check "full tunnel: fwmark 0xca6c in calnetd and the policy rule" fwmark_ok

ping4() { ip netns exec "$ns_a" ping -c 3 -i 0.2 -W 2 203.0.113.77; }
ping6() { ip netns exec "$ns_a" ping -6 -c 3 -i 0.2 -W 2 2001:db8:77::77; }
# The first ping may be lost to the handshake.
ip netns exec "$ns_a" ping -c 1 -W 3 203.0.113.77 >/dev/null 2>&1 || true
check "IPv4 'internet' address reached through the full tunnel" ping4
check "IPv6 'internet' address reached through the full tunnel" ping6

handshake_ok() {
  local t
  t=$(ip netns exec "$ns_a" wg show "$if_a" latest-handshakes | awk '{print $2}')
  [[ -n $t && $t -gt 0 && $(($(date +%s) - t)) -lt 30 ]]
}
check "a handshake with b is recorded" handshake_ok

showconf_ok() {
  local conf
  conf=$(ip netns exec "$ns_a" wg showconf "$if_a")
  grep -q "^ListenPort = 51821" <<<"$conf" &&
    grep -q "^FwMark = 0xca6c" <<<"$conf" &&
    grep -q "^PrivateKey = $(cat "$tmp/a.key")" <<<"$conf" &&
    grep -q "^PublicKey = $pub_b" <<<"$conf" &&
    grep -q "^AllowedIPs = 0.0.0.0/0, ::/0" <<<"$conf" &&
    grep -q "^Endpoint = 192.168.242.2:51820" <<<"$conf" &&
    grep -q "^PersistentKeepalive = 25" <<<"$conf"
}
check "wg showconf reflects the configuration" showconf_ok

# A peer that advertises a small MSS makes the kernel build TSO packets of many small
# segments; calnetd caps them (gso_max_segs) so every one can be split. 8 MiB at MSS 536.
small_mss() {
  ip netns exec "$ns_b" timeout 30 python3 - "$tmp/recv.sha" <<'EOF' &
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.bind(("203.0.113.77", 7777)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(1 << 16)
    if not d: break
    h.update(d); n += len(d)
open(sys.argv[1], "w").write(f"{n} {h.hexdigest()}\n")
EOF
  local server=$!
  sleep 0.5
  local sent
  sent=$(ip netns exec "$ns_a" timeout 30 python3 - <<'EOF'
import hashlib, os, socket
data = os.urandom(8 << 20)
s = socket.create_connection(("203.0.113.77", 7777), timeout=20)
s.sendall(data); s.close()
print(f"{len(data)} {hashlib.sha256(data).hexdigest()}")
EOF
  )
  wait "$server"
  [[ "$sent" == "$(cat "$tmp/recv.sha")" ]] || { echo "sent $sent, received $(cat "$tmp/recv.sha")"; return 1; }
  output_has "gso_max_segs 64" ip -n "$ns_a" -d link show "$if_a"
}
check "8 MiB TCP at MSS 536 arrives intact (TSO capped at 64 segments)" small_mss

# b drops a's packets from a source outside a's allowed IPs, and counts them by reason: SIGUSR1
# makes calnetd print its drop counters.
drop_counted() {
  ip -n "$ns_a" addr add 10.242.9.9/32 dev "$if_a"
  if ip netns exec "$ns_a" ping -c 2 -i 0.2 -W 1 -I 10.242.9.9 10.242.0.2; then
    echo "a packet from an address outside AllowedIPs was answered"
    return 1
  fi
  ip -n "$ns_a" addr del 10.242.9.9/32 dev "$if_a"
  kill -USR1 "${pids[0]}"
  wait_for 3 grep -Eq "dropped [1-9][0-9]* \(source_not_allowed\)" "$tmp/b.log" || { cat "$tmp/b.log"; return 1; }
}
check "b drops inner sources outside AllowedIPs and counts them by reason" drop_counted

# ---- wg-quick down ----------------------------------------------------------------------------
pid_a=$(calnetd_pid_of "$if_a")
down() { ip netns exec "$ns_a" timeout 30 wg-quick down "$tmp/$if_a.conf"; }
check "wg-quick down" down
gone() {
  wait_for 5 bash -c "! kill -0 $pid_a 2>/dev/null" || { echo "calnetd $pid_a still running"; return 1; }
  [[ ! -e /var/run/wireguard/$if_a.sock ]] || { echo "socket left"; return 1; }
  ! ip -n "$ns_a" link show "$if_a" 2>/dev/null
}
check "calnetd exited with the interface deleted; socket removed" gone
restored() {
  diff <(echo "$rules_before") <(ip -n "$ns_a" rule show; ip -n "$ns_a" -6 rule show) &&
    diff <(echo "$routes_before") <(ip -n "$ns_a" route show table all)
}
check "policy rules and routes are as before wg-quick up" restored

# ---- ip link del on a foreground calnetd ------------------------------------------------------
pid_b=${pids[0]}
ip -n "$ns_b" link del "$if_b"
exits() {
  wait_for 5 bash -c "! kill -0 $pid_b 2>/dev/null" || { echo "calnetd $pid_b still running"; return 1; }
  [[ ! -e /var/run/wireguard/$if_b.sock ]]
}
check "deleting the interface makes calnetd exit and remove its socket" exits

echo "integration: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
