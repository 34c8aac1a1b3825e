#!/usr/bin/env bash
# Demonstration: two calnetd instances in two network namespaces ("alice" and "bob") joined by
# a veth pair, a WireGuard tunnel between them, pings across it both ways, then `wg show`.
# Everything it creates is removed on exit (by namespace name and process id).
#   scripts/demo.sh [PATH-TO-CALNETD]
set -euo pipefail

CALNETD=${1:-build/release/helper/calnetd}
CALNETD=$(readlink -f "$CALNETD")
[[ -x "$CALNETD" ]] || { echo "demo: no calnetd at $CALNETD (build first)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (namespaces, TUN)" >&2; exit 1; }

tag=$$
ns_a="calnet-demo-alice-$tag"
ns_b="calnet-demo-bob-$tag"
if_a="cdemoa$tag"; if_a=${if_a:0:15}
if_b="cdemob$tag"; if_b=${if_b:0:15}
keys=$(mktemp -d)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  ip netns del "$ns_a" 2>/dev/null || true
  ip netns del "$ns_b" 2>/dev/null || true
  rm -rf "$keys"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "network: two namespaces joined by a veth pair (192.168.240.1 <-> 192.168.240.2)"
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "va$tag" netns "$ns_a" type veth peer name "vb$tag" netns "$ns_b"
ip -n "$ns_a" addr add 192.168.240.1/24 dev "va$tag"
ip -n "$ns_b" addr add 192.168.240.2/24 dev "vb$tag"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set "va$tag" up
ip -n "$ns_b" link set "vb$tag" up

step "calnetd: one userspace WireGuard interface in each namespace"
ip netns exec "$ns_a" env WG_PROCESS_FOREGROUND=1 "$CALNETD" "$if_a" 2>/dev/null & pids+=($!)
ip netns exec "$ns_b" env WG_PROCESS_FOREGROUND=1 "$CALNETD" "$if_b" 2>/dev/null & pids+=($!)
for _ in $(seq 100); do
  [[ -S /var/run/wireguard/$if_a.sock && -S /var/run/wireguard/$if_b.sock ]] && break
  sleep 0.05
done

step "keys and configuration through wg(8), exactly as with wireguard-go"
wg genkey > "$keys/a"; wg pubkey < "$keys/a" > "$keys/a.pub"
wg genkey > "$keys/b"; wg pubkey < "$keys/b" > "$keys/b.pub"
ip netns exec "$ns_a" wg set "$if_a" private-key "$keys/a" listen-port 51820 \
  peer "$(cat "$keys/b.pub")" endpoint 192.168.240.2:51820 allowed-ips 10.240.0.2/32,fd00:240::2/128
ip netns exec "$ns_b" wg set "$if_b" private-key "$keys/b" listen-port 51820 \
  peer "$(cat "$keys/a.pub")" allowed-ips 10.240.0.1/32,fd00:240::1/128
ip -n "$ns_a" addr add 10.240.0.1/24 dev "$if_a"
ip -n "$ns_a" addr add fd00:240::1/64 dev "$if_a" nodad
ip -n "$ns_b" addr add 10.240.0.2/24 dev "$if_b"
ip -n "$ns_b" addr add fd00:240::2/64 dev "$if_b" nodad
ip -n "$ns_a" link set "$if_a" up
ip -n "$ns_b" link set "$if_b" up

step "alice pings bob through the tunnel (IPv4 and IPv6 inside)"
ip netns exec "$ns_a" ping -c 3 -i 0.2 -W 2 10.240.0.2
ip netns exec "$ns_a" ping -6 -c 3 -i 0.2 -W 2 fd00:240::2
step "bob pings alice back"
ip netns exec "$ns_b" ping -c 3 -i 0.2 -W 2 10.240.0.1

step "wg show on alice"
ip netns exec "$ns_a" wg show "$if_a"
step "wg show on bob"
ip netns exec "$ns_b" wg show "$if_b"
echo
echo "demo: tunnel up, handshake done, traffic both ways. Cleaning up."
