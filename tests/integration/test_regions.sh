#!/usr/bin/env bash
# Several relay regions in the NAT lab (natlab.sh): the coordination server at 203.0.113.1
# (region "home") and a relay-only process, `calnet-server relay`, at 203.0.113.2 (region
# "fra", listed with --relay), which lets in the nodes it reads from the coordination server
# with the relay token. Sites:
#   a  endpoint-independent NAT; UDP to 203.0.113.2 dropped (fra's STUN never answers a)
#   c  symmetric NAT; UDP to 203.0.113.1 dropped (home's STUN never answers c)
#   d  symmetric NAT; UDP to 203.0.113.2 dropped
# Checks:
#   * each node makes the region it measured its home (c: fra; a, d: home) and reports it: the
#     coordination server's node list shows it;
#   * c and d (both symmetric: relayed) reach each other through each other's home region: c's
#     packets to d go through home, d's to c through fra (on demand); pings and a TCP transfer
#     each way; both relays count packets;
#   * the relay-only process stopped: c moves its home to "home" and c <-> d ping again;
#   * a relay-only process with a wrong token lets nobody in.
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
# shellcheck source=labsetup.sh
source "$(dirname "${BASH_SOURCE[0]}")/labsetup.sh" test_regions iperf3 python3

lab_public
ip -n "$pub" addr add 203.0.113.2/24 dev br0
site a 1 eim
site c 3 symmetric
site d 4 symmetric
drop_udp_to() { # SITE ADDRESS: the site's router drops UDP from the site to ADDRESS
  in_ns "$(router_ns "$1")" iptables -I FORWARD -p udp -d "$2" -j DROP
}
drop_udp_to a 203.0.113.2
drop_udp_to c 203.0.113.1
drop_udp_to d 203.0.113.2
nodes=(a c d)

head -c 24 /dev/urandom | base64 | tr -d '\n' >"$tmp/relay-token"
chmod 600 "$tmp/relay-token"
lab_server --region home --relay fra=http://203.0.113.2:443 --relay-token-file "$tmp/relay-token"
check "an auth key is printed" grep -q "^calnet-auth-" "$tmp/authkey"
start_relay() { # TOKEN_FILE OUT: the relay-only process of region fra
  ip netns exec "$pub" "$CALNET_SERVER" relay --listen 203.0.113.2:443 \
    --stun-listen 203.0.113.2:3478 --server http://203.0.113.1:443 --token-file "$1" \
    >"$tmp/$2.out" 2>>"$tmp/$2.log" &
  pids+=("$!")
  relay_pid=$!
}
start_relay "$tmp/relay-token" relay
check "the relay-only process listens" wait_for 20 grep -q "^relay listening on 203.0.113.2:443" "$tmp/relay.out"
check "its STUN listens on 3478" grep -q "^stun listening on 203.0.113.2:3478" "$tmp/relay.out"

lab_start_nodes "${nodes[@]}"
for n in "${nodes[@]}"; do check "$n: calnetctl up" lab_up "$n"; done
for n in "${nodes[@]}"; do addr[$n]=$(overlay_of "$n"); done

metric() { # HOST NAME: a sample of calnet-server's /metrics at HOST:443
  in_ns "$pub" python3 -c '
import sys, urllib.request
try:
    text = urllib.request.urlopen("http://%s:443/metrics" % sys.argv[1], timeout=5).read().decode()
except OSError:
    sys.exit(0)
for line in text.splitlines():
    if line.split(" ")[0] == sys.argv[2]:
        print(line.split(" ")[1])' "$1" "$2"
}
keys_known() { [[ $(metric 203.0.113.2 calnet_relay_known_keys) -ge 3 ]]; }
check "the relay-only process knows the three node keys within 5 s" wait_for 5 keys_known

netcheck_field() { ctl "$1" --json netcheck | python3 -c '
import json, sys
print(json.load(sys.stdin).get(sys.argv[1]))' "$2"; }
home_is() { [[ $(netcheck_field "$1" homeRelay) == "$2" ]]; }
check "c makes fra its home (the region it measured) within 20 s" wait_for 20 home_is c fra
check "a keeps home as its home" home_is a home
check "d keeps home as its home" home_is d home
ctl c netcheck | sed 's/^/# netcheck on c: /'
server_says() { # HOSTNAME REGION: the coordination server's node list shows REGION as its home
  in_lab "$pub"
  "${run[@]}" "$CALNET_SERVER" nodes list --json --server "$(lab_url)" \
    --admin-token-file "$tmp/admin-token" | python3 -c '
import json, sys
nodes = json.load(sys.stdin)
nodes = nodes.get("nodes", nodes) if isinstance(nodes, dict) else nodes
sys.exit(0 if any(n["hostname"] == sys.argv[1] and n.get("relay") == sys.argv[2] for n in nodes) else 1)' "$1" "$2"
}
check "the coordination server has c's home: fra" wait_for 10 server_says c fra
check "the coordination server has d's home: home" server_says d home

peer_field() {
  ctl "$1" --json peers | python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p.get("hostname") == sys.argv[1]:
        v = p.get(sys.argv[2]); print("" if v is None else v); break' "$2" "$3"
}
via() { [[ $(peer_field "$1" "$2" path) == relayed && $(peer_field "$1" "$2" pathEndpoint) == "$3" ]]; }
check "c reaches d through d's home region (relayed via home) within 20 s" wait_for 20 via c d home
check "d reaches c through c's home region (relayed via fra)" wait_for 20 via d c fra
ping_ok() { in_ns "$(node_ns "$1")" ping -c 1 -W 1 -q "${addr[$2]}" >/dev/null 2>&1; }
check "c pings d" wait_for 10 ping_ok c d
check "d pings c" wait_for 10 ping_ok d c
check "a pings c" wait_for 10 ping_ok a c
check "c pings a" wait_for 10 ping_ok c a

transfer() { # FROM TO: a 4 s TCP transfer through the tunnel; prints Mbit/s
  in_ns "$(node_ns "$2")" iperf3 -s -1 -B "${addr[$2]}" -p 5299 >/dev/null 2>&1 &
  local server=$!
  pids+=("$server")
  sleep 0.5
  local out
  out=$(in_ns "$(node_ns "$1")" timeout 20 iperf3 -c "${addr[$2]}" -p 5299 -t 4 -J 2>/dev/null) || { kill "$server" 2>/dev/null; return 1; }
  wait "$server" 2>/dev/null || true
  python3 -c '
import json, sys
bps = json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"]
print("# %s -> %s through the relays: %.0f Mbit/s" % (sys.argv[2], sys.argv[3], bps / 1e6))
sys.exit(0 if bps > 0 else 1)' "$out" "$1" "$2"
}
check "a TCP transfer c -> d through the relays" transfer c d
check "a TCP transfer d -> c through the relays" transfer d c
fra_packets=$(metric 203.0.113.2 calnet_relay_packets_total)
home_packets=$(metric 203.0.113.1 calnet_relay_packets_total)
echo "# relayed packets: fra $fra_packets, home $home_packets"
check "fra relayed packets (d -> c)" test "${fra_packets:-0}" -gt 1000
check "home relayed packets (c -> d)" test "${home_packets:-0}" -gt 1000
fra_clients() { [[ $(metric 203.0.113.2 calnet_relay_clients) -ge 2 ]]; }
check "fra has c (home) and d (on demand) connected" fra_clients

# ---- the relay-only process goes away ------------------------------------------------------------
t0=$(millis)
kill -TERM "$relay_pid"
check "c moves its home to 'home' within 30 s of fra stopping" wait_for 30 home_is c home
echo "# c's home moved $(($(millis) - t0)) ms after fra stopped"
check "the coordination server has c's new home" wait_for 10 server_says c home
check "c pings d again within 20 s" wait_for 20 ping_ok c d
check "d pings c again within 20 s" wait_for 20 ping_ok d c
echo "# c <-> d answer again $(($(millis) - t0)) ms after fra stopped"

# ---- a relay-only process with a wrong token -------------------------------------------------------
head -c 24 /dev/urandom | base64 | tr -d '\n' >"$tmp/wrong-token"
start_relay "$tmp/wrong-token" wrong
check "the wrong-token relay listens" wait_for 20 grep -q "^relay listening" "$tmp/wrong.out"
refused() { grep -q "relay token was refused" "$tmp/wrong.log"; }
check "it says the coordination server refused its token" wait_for 10 refused
no_keys() { [[ $(metric 203.0.113.2 calnet_relay_keys_age_seconds) == -1 && $(metric 203.0.113.2 calnet_relay_known_keys) == 0 ]]; }
check "it knows no node keys" no_keys

alive() { kill -0 "${svc[$1]}"; }
for n in "${nodes[@]}"; do check "$n: calnetd still running" alive "$n"; done
echo "integration: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
