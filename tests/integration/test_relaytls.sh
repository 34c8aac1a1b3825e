#!/usr/bin/env bash
# The relay over TLS: calnet-server with --tls-cert on https://203.0.113.1:443 (a CA and a
# certificate made here; the nodes trust that CA and nothing else), two nodes behind symmetric
# NATs so that only the relay can carry their traffic. Checks that both reach the relay through
# TLS (status says connected, netcheck has its latency), that their path is relayed and pings
# answer both ways, and that a node which does not trust the CA gets a relay error naming the
# certificate rather than a silent failure.
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
LAB_TLS=1
# shellcheck source=labsetup.sh
source "$(dirname "${BASH_SOURCE[0]}")/labsetup.sh" test_relaytls openssl unshare

lab_public
site c 3 symmetric
site d 4 symmetric
lab_server
check "an auth key is printed (the admin client trusts the lab CA)" grep -q "^calnet-auth-" "$tmp/authkey"
lab_start_nodes c d
for n in c d; do check "$n: calnetctl up --server $(lab_url)" lab_up "$n"; done
for n in c d; do addr[$n]=$(overlay_of "$n"); done

status_relay() { # NODE FIELD
  ctl "$1" --json status | python3 -c '
import json, sys
r = json.load(sys.stdin).get("relay") or {}
v = r.get(sys.argv[1])
print("" if v is None else v)' "$2"
}
relay_up() { [[ $(status_relay c connected) == True && $(status_relay d connected) == True ]]; }
check "both nodes are connected to the relay over TLS within 10 s" wait_for 10 relay_up
latency() { ctl c --json netcheck | python3 -c '
import json, sys
r = json.load(sys.stdin)["relays"][0]
assert r["connected"] and r["latencyMs"] is not None, r'; }
check "netcheck on c: relay connected, its latency measured" wait_for 10 latency
peer_path() { ctl "$1" --json peers | python3 -c '
import json, sys
print(next(p["path"] for p in json.load(sys.stdin)["peers"] if p.get("hostname") == sys.argv[1]))' "$2"; }
relayed() { [[ $(peer_path c d) == relayed && $(peer_path d c) == relayed ]]; }
check "c <-> d relayed" wait_for 10 relayed
ping_ok() { in_ns "$(node_ns "$1")" ping -c 1 -W 1 -q "${addr[$2]}" >/dev/null 2>&1; }
check "c pings d through the TLS relay" wait_for 5 ping_ok c d
check "d pings c through the TLS relay" wait_for 5 ping_ok d c
tput() {
  ip netns exec "$(node_ns d)" iperf3 -s -1 -B "${addr[d]}" -p 5203 >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  local out
  out=$(in_ns "$(node_ns c)" iperf3 -c "${addr[d]}" -p 5203 -t 3 -J)
  wait "$server" || true
  python3 - "$out" >"$tmp/tput.txt" <<'PY'
import json, sys
e = json.loads(sys.argv[1])["end"]["sum_received"]
print("# TLS relay, c -> d: %.0f Mbit/s" % (e["bits_per_second"] / 1e6))
sys.exit(0 if e["bytes"] > 0 else 1)
PY
}
check "a TCP transfer through the TLS relay" tput
cat "$tmp/tput.txt" 2>/dev/null || true

# A node that trusts only the system's usual CAs (not the lab's): its relay says why.
site e 5 eim
mkdir -p "$tmp/e"
ip netns exec "$(node_ns e)" "$CALNETD" --service --socket "$(sock_of e)" \
  --state-dir "$tmp/e/state" --interface "cne$tag" 2>>"$tmp/e.log" &
svc[e]=$!
pids+=("${svc[e]}")
wait_for 10 test -S "$(sock_of e)"
refused() { ! lab_up e >"$tmp/e-up.out" 2>&1; }
check "a node that does not trust the certificate cannot join" refused
check "... and says it is about the certificate" grep -qi "certificat\|ssl\|tls" "$tmp/e-up.out"

for n in c d; do
  alive() { kill -0 "${svc[$1]}"; }
  check "$n: calnetd still running" alive "$n"
done
echo "integration: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
