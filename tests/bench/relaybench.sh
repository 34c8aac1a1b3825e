#!/usr/bin/env bash
# relaybench.sh — paths through NATs, measured (a program, not a test).
#
# In the NAT lab of tests/integration/natlab.sh (server on the public bridge; sites a and b
# behind endpoint-independent NATs, c and d behind symmetric NATs; IPv6 off) it measures with
# iperf3, single TCP stream, client on the first node of the pair:
#   direct    a -> b and b -> a once their path is direct (hole-punched through both NATs)
#   relayed   c -> d and d -> c, which can only go through the relay (TCP to calnet-server)
# and for every run the CPU time (utime + stime from /proc) of calnet-server and of the two
# calnetd, as seconds and as seconds per Gbit transferred (the relay's cost per Gbit/s).
# Everything runs on this machine: the server, both nodes and both iperf3 ends share its cores.
#
# Usage: relaybench.sh [--duration S] [--rounds N]
# Last line: "relaybench: N passed, M failed" (N = iperf3 runs that produced a figure).
set -euo pipefail
umask 022

DURATION=10
ROUNDS=3
while [[ $# -gt 0 ]]; do
  case $1 in
  --duration) DURATION=$2; shift 2 ;;
  --rounds) ROUNDS=$2; shift 2 ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "relaybench: unknown argument $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../integration/labsetup.sh
source "$root/tests/integration/labsetup.sh" relaybench iperf3 python3

lab_public
site a 1 eim
site b 2 eim
site c 3 symmetric
site d 4 symmetric
lab_server
lab_start_nodes a b c d
for n in a b c d; do lab_up "$n" >/dev/null; addr[$n]=$(overlay_of "$n"); done

path_of() { # NODE PEER
  ctl "$1" --json peers | python3 -c '
import json, sys
print(next(p["path"] for p in json.load(sys.stdin)["peers"] if p.get("hostname") == sys.argv[1]))' "$2"
}
a_direct() { [[ $(path_of a b) == direct && $(path_of b a) == direct ]]; }
wait_for 20 a_direct || echo "# warning: a <-> b is not direct"
sleep 10 # c and d: probing has had its time
echo "# paths: a -> b $(path_of a b), b -> a $(path_of b a), c -> d $(path_of c d), d -> c $(path_of d c)"

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)
passed=0
failed=0
results=()
run() { # LABEL FROM TO
  local label=$1 from=$2 to=$3 s0 a0 b0 s1 a1 b1 out
  ip netns exec "$(node_ns "$to")" iperf3 -s -1 -B "${addr[$to]}" -p 5202 >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  s0=$(cpu_of "$server_pid"); a0=$(cpu_of "${svc[$from]}"); b0=$(cpu_of "${svc[$to]}")
  if out=$(ip netns exec "$(node_ns "$from")" iperf3 -c "${addr[$to]}" -p 5202 -t "$DURATION" -J 2>&1); then
    s1=$(cpu_of "$server_pid"); a1=$(cpu_of "${svc[$from]}"); b1=$(cpu_of "${svc[$to]}")
    local line
    printf '%s' "$out" >"$tmp/iperf.json"
    line=$(python3 - "$label" "$ticks" "$s0" "$s1" "$a0" "$a1" "$b0" "$b1" "$tmp/iperf.json" <<'EOF'
import json, sys
label, tck = sys.argv[1], float(sys.argv[2])
s0, s1, a0, a1, b0, b1 = (float(x) / tck for x in sys.argv[3:9])
r = json.load(open(sys.argv[9]))["end"]["sum_received"]
gbit = r["bytes"] * 8 / 1e9
rate = gbit / r["seconds"]
srv, ca, cb = s1 - s0, a1 - a0, b1 - b0
print(f"{label}\t{rate * 1000:.0f}\t{srv:.2f}\t{srv / gbit:.3f}\t{ca:.2f}\t{cb:.2f}")
EOF
)
    echo "$line"
    results+=("$line")
    passed=$((passed + 1))
  else
    echo "$label failed: $(tail -1 <<<"$out")"
    failed=$((failed + 1))
  fi
  wait "$server" 2>/dev/null || true
}
echo -e "# run\tMbit/s\tserver CPU s\tserver CPU s per Gbit\tsender calnetd CPU s\treceiver calnetd CPU s"
for ((r = 1; r <= ROUNDS; r++)); do
  run "direct a->b" a b
  run "direct b->a" b a
  run "relayed c->d" c d
  run "relayed d->c" d c
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) == 6:
        rows[f[0].split()[0]].append((float(f[1]), float(f[3])))
for kind, v in rows.items():
    rates = [x[0] for x in v]; per = [x[1] for x in v]
    print(f"# {kind}: median {statistics.median(rates):.0f} Mbit/s (min {min(rates):.0f}, max {max(rates):.0f}) over {len(v)} runs; server CPU per Gbit median {statistics.median(per):.3f} s")
'
echo "relaybench: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
