#!/usr/bin/env bash
# The NAT lab: Calnet nodes behind real NAT routers (iptables in network namespaces this test
# creates), the coordination server (with its STUN listener and relay) on a "public" segment,
# IPv6 switched off on every host. Sites:
#   a, b  endpoint-independent NAT (MASQUERADE, ports kept) with a stateful home-router
#         firewall that drops unsolicited inbound;
#   c, d  symmetric NAT (MASQUERADE --random-fully: a new port for every destination), the same
#         firewall;
#   e     a network that blocks UDP except port 53 and allows TCP only to 53, 80 and 443;
#   f     double NAT: a home router (endpoint-independent) behind a carrier-grade NAT in
#         100.64.0.0/10 (endpoint-independent too).
# Checks, with the time each took:
#   * every ordered pair of the six pings over the overlay within 2 s of the last `up` (through
#     the relay while no direct path is confirmed);
#   * a<->b and f<->a direct (to the peer's public address), c<->d and e<->a relayed, with the
#     reason in the peer list; `calnetctl peers` shows it; e's relay runs over TCP 443;
#   * the direct a<->b path cut mid-transfer (UDP between the two sites dropped): a TCP transfer
#     through the tunnel survives, pings answer through the relay within 10 s; the cut healed:
#     direct again within 60 s.
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
# shellcheck source=labsetup.sh
source "$(dirname "${BASH_SOURCE[0]}")/labsetup.sh" test_nat iperf3

lab_public
site a 1 eim
site b 2 eim
site c 3 symmetric
site d 4 symmetric
site e 5 udpblock
site f 6 doublenat
nodes=(a b c d e f)

lab_server
check "an auth key is printed" grep -q "^calnet-auth-" "$tmp/authkey"
lab_start_nodes "${nodes[@]}"
for n in "${nodes[@]}"; do check "$n: calnetctl up" lab_up "$n"; done
t0=$(millis)
for n in "${nodes[@]}"; do addr[$n]=$(overlay_of "$n"); done

ping_ok() { in_ns "$(node_ns "$1")" ping -c 1 -W 1 -q "${addr[$2]}" >/dev/null 2>&1; }
all_pairs_within() { # SECONDS [START_MS]: every ordered pair pings within SECONDS of START (t0)
  local limit=$1 start=${2:-$t0} a b
  for a in "${nodes[@]}"; do
    for b in "${nodes[@]}"; do
      [[ $a == "$b" ]] && continue
      until ping_ok "$a" "$b"; do
        if (($(millis) - start >= limit * 1000)); then
          echo "no ping $a -> $b (${addr[$b]}) within ${limit}s"
          return 1
        fi
        sleep 0.05
      done
    done
  done
}
# Every ordered pair at once, each its own ping with a 2 s deadline (a probe every 200 ms).
first_pings() {
  local a b status=0 pair
  declare -A started
  for a in "${nodes[@]}"; do
    for b in "${nodes[@]}"; do
      [[ $a == "$b" ]] && continue
      ip netns exec "$(node_ns "$a")" ping -c 1 -i 0.2 -w 2 -q "${addr[$b]}" >/dev/null 2>&1 &
      started["$a $b"]=$!
    done
  done
  for pair in "${!started[@]}"; do
    wait "${started[$pair]}" || { echo "no answer $pair within 2 s"; status=1; }
  done
  return $status
}
check "every ordered pair of the six answers a ping within 2 s of the last up" first_pings
echo "# six nodes behind NATs: all 30 ordered pairs answered $(($(millis) - t0)) ms after the last up"

# peer_field NODE PEER FIELD: a field of PEER's entry in NODE's `calnetctl --json peers`.
peer_field() {
  ctl "$1" --json peers | python3 -c '
import json, sys
host, field = sys.argv[1], sys.argv[2]
for p in json.load(sys.stdin)["peers"]:
    if p.get("hostname") == host:
        v = p.get(field)
        print("" if v is None else v)' "$2" "$3"
}
path_is() { [[ $(peer_field "$1" "$2" path) == "$3" ]]; }
both_ways() { path_is "$1" "$2" "$3" && path_is "$2" "$1" "$3"; }

t1=$(millis)
check "a <-> b (endpoint-independent NATs): direct within 10 s" wait_for 10 both_ways a b direct
echo "# a <-> b direct $(($(millis) - t1)) ms after the check began"
check "f <-> a (double NAT through 100.64/10): direct within 10 s" wait_for 10 both_ways f a direct
direct_endpoint_public() { [[ $(peer_field a b pathEndpoint) == "${public_of[b]}":* ]]; }
check "a's direct path to b goes to b's router (${public_of[b]})" direct_endpoint_public
check "latency of a direct path is reported" bash -c "[[ -n '$(peer_field a b latencyMs)' ]]"

# Symmetric NATs and the UDP-blocked network: still relayed after probing had its time.
sleep 8
check "c <-> d (symmetric NATs): relayed" both_ways c d relayed
check "e <-> a (UDP blocked at e): relayed" both_ways e a relayed
reason_of_c=$(peer_field c d pathReason)
echo "# c's reason for d: $reason_of_c; e's reason for a: $(peer_field e a pathReason)"
check "c says why d is relayed" bash -c "[[ -n '$reason_of_c' ]]"
e_reason_udp() { [[ $(peer_field e a pathReason) == "UDP is blocked on this network" ]]; }
check "e says UDP is blocked on its network" wait_for 10 e_reason_udp
relay_name() { [[ $(peer_field c d pathEndpoint) == default ]]; }
check "c's path to d names the relay" relay_name
table_shows() { output_has "relayed via default" ctl c peers; }
check "calnetctl peers shows 'relayed via default' on c" table_shows
e_over_tcp443() { output_has "203.0.113.1:443" in_ns "$(node_ns e)" ss -tn state established; }
check "e's relay connection is TCP to port 443" e_over_tcp443
# netcheck and ping, as a user would look.
netcheck_field() { ctl "$1" --json netcheck | python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("" if v is None else v)' "$2"; }
a_public() { [[ $(netcheck_field a publicAddress) == "${public_of[a]}":* && $(netcheck_field a udp) == True ]]; }
check "netcheck on a: UDP works, public address ${public_of[a]}" a_public
a_not_symmetric() { [[ $(netcheck_field a mappingVariesByDestination) == False ]]; }
check "netcheck on a: the mapping does not vary by destination" a_not_symmetric
c_symmetric() { [[ $(netcheck_field c mappingVariesByDestination) == True ]]; }
check "netcheck on c: the mapping varies by destination (symmetric NAT)" wait_for 30 c_symmetric
e_no_udp() { [[ $(netcheck_field e udp) == False ]]; }
check "netcheck on e: UDP blocked" e_no_udp
ctl c netcheck | sed 's/^/# netcheck on c: /'
c_reason_symmetric() { [[ $(peer_field c d pathReason) == "both nodes are behind symmetric NATs" ]]; }
check "c says both nodes are behind symmetric NATs" wait_for 40 c_reason_symmetric
ping_direct() { output_has "direct after" ctl a ping b --count 5; }
check "calnetctl ping b from a: a pong directly" ping_direct
ctl a ping b --count 3 | sed 's/^/# a ping b: /'
ping_relayed() { output_has "via the relay" ctl c ping d --count 2; }
check "calnetctl ping d from c: pongs through the relay" ping_relayed
check "after probing, every ordered pair still pings (within 5 s)" all_pairs_within 5 "$(millis)"

# ---- the direct path cut mid-transfer, then healed -----------------------------------------------
ip netns exec "$(node_ns b)" iperf3 -s -1 -B "${addr[b]}" -p 5201 >"$tmp/iperf-server.log" 2>&1 &
pids+=("$!")
sleep 0.5
ip netns exec "$(node_ns a)" iperf3 -c "${addr[b]}" -p 5201 -t 25 -b 20M -J >"$tmp/iperf.json" 2>&1 &
iperf_pid=$!
pids+=("$iperf_pid")
ip netns exec "$(node_ns a)" ping -i 0.1 -c 700 -D -W 1 "${addr[b]}" >"$tmp/ping-cut.log" 2>&1 &
ping_pid=$!
pids+=("$ping_pid")
sleep 4
cut() { # ACTION (-I or -D): UDP between the two sites' public addresses
  in_ns "$(router_ns a)" iptables "$1" FORWARD -p udp -d "${public_of[b]}" -j DROP
  in_ns "$(router_ns b)" iptables "$1" FORWARD -p udp -d "${public_of[a]}" -j DROP
  in_ns "$(router_ns a)" iptables "$1" FORWARD -p udp -s "${public_of[b]}" -j DROP
  in_ns "$(router_ns b)" iptables "$1" FORWARD -p udp -s "${public_of[a]}" -j DROP
}
check "a -> b still direct before the cut" path_is a b direct
cut -I
t_cut=$(millis)
check "after the cut, a's path to b is relayed within 10 s" wait_for 10 path_is a b relayed
echo "# cut: a -> b relayed $(($(millis) - t_cut)) ms after UDP between the sites was dropped"
check "pings answer again within 10 s of the cut" wait_for 10 ping_ok a b
echo "# cut: a -> b answers again $(($(millis) - t_cut)) ms after the cut"
sleep 6
cut -D
t_heal=$(millis)
check "healed: a <-> b direct again within 60 s" wait_for 60 both_ways a b direct
echo "# heal: a <-> b direct again $(($(millis) - t_heal)) ms after the cut was removed"
wait "$iperf_pid"
iperf_ok=$?
check "the TCP transfer through the tunnel survived the cut and the heal" test "$iperf_ok" -eq 0
python3 - "$tmp/iperf.json" <<'EOF' || true
import json, sys
r = json.load(open(sys.argv[1]))
e = r["end"]["sum_received"]
print(f"# transfer across cut and heal: {e['bytes'] / 1e6:.1f} MB in {e['seconds']:.1f} s")
EOF
wait "$ping_pid" || true
gap=$(python3 - "$tmp/ping-cut.log" <<'EOF'
import re, sys
ts = [float(m.group(1)) for m in re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", open(sys.argv[1]).read(), re.M)]
print(f"{max(b - a for a, b in zip(ts, ts[1:])):.1f}" if len(ts) > 1 else "inf")
EOF
)
echo "# longest gap between answered pings (every 100 ms) across the cut: ${gap} s"
gap_ok() { python3 -c "import sys; sys.exit(0 if float('$gap') <= 10 else 1)"; }
check "no gap in answered pings longer than 10 s across cut and heal" gap_ok
check "after everything, every ordered pair still pings (within 5 s)" all_pairs_within 5 "$(millis)"

for n in "${nodes[@]}"; do
  alive() { kill -0 "${svc[$1]}"; }
  check "$n: calnetd still running" alive "$n"
done
echo "integration: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
