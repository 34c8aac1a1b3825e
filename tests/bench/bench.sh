#!/usr/bin/env bash
# bench.sh — data-path benchmark: calnetd side by side with wireguard-go (a program, not a test).
#
# For R rounds, implementations interleaved (calnetd, wireguard-go, wireguard-go-upstream,
# calnetd, …), each run on a fresh pair of namespaces where both sides use the same
# implementation (topology: tests/integration/lib.sh; IPv4 inner and outer). Through iperf3,
# client in a and server in b:
#   tcp1   TCP, 1 stream, a → b          tcp1r  TCP, 1 stream, b → a (iperf3 -R)
#   tcp4   TCP, 4 streams (-P 4), a → b
#   udp64  UDP, 64-byte payloads, unlimited rate (-u -l 64 -b 0), a → b: received rate, loss
# For every run it prints the receiver's rate and the CPU time each daemon used (utime + stime
# from /proc/PID/stat, in seconds and as % of the run's wall time; > 100 % means more than one
# core). At the end: medians per implementation and the ratio of calnetd's median to each other
# implementation's (for udp64 also to the better of them), as a markdown table for
# docs/performance.md.
#
# Implementations: calnetd (CALNETD, default build/release/helper/calnetd), wireguard-go
# (Debian's, WIREGUARD_GO) and wireguard-go-upstream (WIREGUARD_GO_UPSTREAM, default
# build/wireguard-go-upstream, built by ../shared/bench/build-wireguard-go.sh -o
# build/wireguard-go-upstream; left out of the default set when it is not there).
#
# Usage: bench.sh [--rounds N] [--duration S] [--only "tcp1 tcp1r tcp4 udp64"] [--impls "A B …"]
# To try the script without calnetd, compare wireguard-go with itself:
#   CALNETD=$(command -v wireguard-go).
# Last line: "bench: N passed, M failed" (N = iperf3 runs that produced a figure); exit 0 iff
# M = 0.
set -euo pipefail

# shellcheck source=SCRIPTDIR/../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

ROUNDS=3
DURATION=10
TESTS="tcp1 tcp1r tcp4 udp64"
IMPLS="calnetd wireguard-go"
[[ -x $WIREGUARD_GO_UPSTREAM ]] && IMPLS+=" wireguard-go-upstream"
while [[ $# -gt 0 ]]; do
  case $1 in
  --rounds) ROUNDS=$2 && shift 2 ;;
  --duration) DURATION=$2 && shift 2 ;;
  --only) TESTS=$2 && shift 2 ;;
  --impls) IMPLS=$2 && shift 2 ;;
  -h | --help) usage && exit 0 ;;
  *) echo "unknown argument: $1" >&2 && usage >&2 && exit 2 ;;
  esac
done
for t in $TESTS; do
  case $t in
  tcp1 | tcp1r | tcp4 | udp64) ;;
  *) echo "unknown test '$t' (want tcp1, tcp1r, tcp4 or udp64)" >&2 && exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ ]] || {
  echo "--rounds and --duration take positive integers" >&2
  exit 2
}

declare -A TEST_TITLE=([tcp1]="TCP, 1 stream" [tcp1r]="TCP, 1 stream, reverse" [tcp4]="TCP, 4 streams"
  [udp64]="UDP, 64-byte payloads")
declare -A TEST_ARGS=([tcp1]="" [tcp1r]="-R" [tcp4]="-P 4" [udp64]="-u -l 64 -b 0")
# Results, keyed "impl,test": space-separated values, one per successful run.
declare -A R_RATE=() R_KPPS=() R_LOSS=() R_CPU_A=() R_CPU_B=() R_PCT_A=() R_PCT_B=()
CLK_TCK=$(getconf CLK_TCK)
PORT=5201
IDLE_BUSY=""

# cpu_ticks PID — utime + stime of the whole process (all threads), in clock ticks.
cpu_ticks() {
  local stat f
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) } # fields from 3 on; comm may hold spaces
  read -r -a f <<<"$stat"
  echo $((f[11] + f[12])) # fields 14 and 15
}

# host_cpu — "busy total steal" ticks summed over all CPUs, from /proc/stat.
host_cpu() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i
    print t - $5 - $6, t, $9; exit }' /proc/stat
}

# wait_listening SIDE — bounded wait for iperf3's control port in SIDE's namespace.
wait_listening() {
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -n $(cn_in "$1" ss -Hltn "sport = :$PORT") ]] && return 0
    sleep 0.1
  done
  return 1
}

# run_iperf IMPL ROUND TEST — one iperf3 run on the current pair; records and prints figures.
# Returns 1 (with a message) if the run produced no figure.
run_iperf() {
  local impl=$1 round=$2 test=$3 spid json a0 b0 a1 b1 t0 t1 wall fig rc=0
  local hb0 ht0 hs0 hb1 ht1 hs1 host
  json=$CN_TMP/$impl.$round.$test.json
  local -a extra
  read -r -a extra <<<"${TEST_ARGS[$test]}"
  ip netns exec "${CN_NS[b]}" timeout $((DURATION + 30)) iperf3 -s -1 -B "${CN_IN4[b]}" -p "$PORT" \
    >/dev/null 2>&1 &
  spid=$!
  if ! wait_listening b; then
    cn_diag "iperf3 server did not start"
    kill -TERM "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    return 1
  fi
  a0=$(cpu_ticks "${CN_PID[a]}") && b0=$(cpu_ticks "${CN_PID[b]}") || return 1
  read -r hb0 ht0 hs0 <<<"$(host_cpu)"
  t0=${EPOCHREALTIME/[.,]/}
  cn_in a timeout $((DURATION + 30)) iperf3 -c "${CN_IN4[b]}" -p "$PORT" -t "$DURATION" -J \
    "${extra[@]}" >"$json" 2>"$json.err" || rc=$?
  t1=${EPOCHREALTIME/[.,]/}
  a1=$(cpu_ticks "${CN_PID[a]}") && b1=$(cpu_ticks "${CN_PID[b]}") || return 1
  read -r hb1 ht1 hs1 <<<"$(host_cpu)"
  wait "$spid" 2>/dev/null || true
  if [[ $rc -ne 0 ]]; then
    cn_diag "iperf3 client exited with status $rc: $(head -c 300 "$json.err") $(grep -m1 '"error"' "$json" || true)"
    return 1
  fi
  # rate (Mbit/s received), kpps received, loss %
  fig=$("$CN_PYTHON" - "$json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["end"]["sum_received"]
kpps = r["bytes"] / 64 / r["seconds"] / 1e3
print(f'{r["bits_per_second"] / 1e6:.1f} {kpps:.1f} {r.get("lost_percent", 0):.2f}')
EOF
  ) || {
    cn_diag "could not read iperf3 output $json"
    return 1
  }
  local rate kpps loss key="$impl,$test" ca cb pa pb
  read -r rate kpps loss <<<"$fig"
  if [[ $test == *r ]]; then # b sends: keep "a" the sender in the figures
    local t=$a0
    a0=$b0 b0=$t t=$a1 a1=$b1 b1=$t
  fi
  wall=$(((t1 - t0) / 1000)) # ms
  ca=$(awk -v t=$((a1 - a0)) -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')
  cb=$(awk -v t=$((b1 - b0)) -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')
  pa=$(awk -v c="$ca" -v w="$wall" 'BEGIN { printf "%.0f", 100 * c * 1000 / w }')
  pb=$(awk -v c="$cb" -v w="$wall" 'BEGIN { printf "%.0f", 100 * c * 1000 / w }')
  # Whole-host CPU use during the run (100 % = every core busy): daemons + iperf3 + anything
  # else running on the machine, which makes figures noisy; steal = time taken by the hypervisor.
  host="host busy $(((hb1 - hb0) * 100 / (ht1 - ht0 > 0 ? ht1 - ht0 : 1))) %, steal $(((hs1 - hs0) * 100 / (ht1 - ht0 > 0 ? ht1 - ht0 : 1))) %"
  R_RATE[$key]+="$rate "
  R_KPPS[$key]+="$kpps "
  R_LOSS[$key]+="$loss "
  R_CPU_A[$key]+="$ca "
  R_CPU_B[$key]+="$cb "
  R_PCT_A[$key]+="$pa "
  R_PCT_B[$key]+="$pb "
  if [[ $test == udp64 ]]; then
    printf 'round %d/%d  %-21s %-6s %9.1f kpps received (%s Mbit/s, loss %s %%)  cpu snd %s s (%s %%)  rcv %s s (%s %%)  wall %.1f s  %s\n' \
      "$round" "$ROUNDS" "$impl" "$test" "$kpps" "$rate" "$loss" "$ca" "$pa" "$cb" "$pb" "$(awk -v w="$wall" 'BEGIN { print w / 1000 }')" "$host"
  else
    printf 'round %d/%d  %-21s %-6s %9.3f Gbit/s  cpu snd %s s (%s %%)  rcv %s s (%s %%)  wall %.1f s  %s\n' \
      "$round" "$ROUNDS" "$impl" "$test" "$(awk -v r="$rate" 'BEGIN { print r / 1000 }')" \
      "$ca" "$pa" "$cb" "$pb" "$(awk -v w="$wall" 'BEGIN { print w / 1000 }')" "$host"
  fi
  return 0
}

# run_round IMPL ROUND — fresh namespaces and daemons, handshake, every selected test.
run_round() {
  local impl=$1 round=$2 test
  cn_pair_up "$impl" "$impl"
  if [[ $CN_PAIR_OK != 1 ]]; then
    cn_diag "round $round: $impl did not start"
    for test in $TESTS; do CN_FAILED=$((CN_FAILED + 1)); done
    cn_pair_down
    return 0
  fi
  if ! cn_set_endpoint a 4 || ! cn_ping a 4 "${CN_IN4[b]}"; then
    cn_diag "round $round: no connectivity through $impl"
    cn_dump_log a
    cn_dump_log b
    for test in $TESTS; do CN_FAILED=$((CN_FAILED + 1)); done
    cn_pair_down
    return 0
  fi
  for test in $TESTS; do
    if run_iperf "$impl" "$round" "$test"; then
      CN_PASSED=$((CN_PASSED + 1))
    else
      CN_FAILED=$((CN_FAILED + 1))
      if cn_ping a 4 "${CN_IN4[b]}"; then
        cn_diag "round $round: $impl $test failed; the tunnel still passes pings"
      else
        cn_diag "round $round: $impl $test failed; the tunnel no longer passes pings"
      fi
      cn_dump_log a
      cn_dump_log b
    fi
  done
  cn_pair_down
  return 0
}

# median VALUES... — empty if no values.
median() {
  [[ $# -gt 0 ]] || return 0
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# med ARRAY_NAME KEY — median of the values stored under KEY.
med() {
  local -n arr=$1
  # shellcheck disable=SC2086 # word splitting intended: space-separated values
  median ${arr[$2]:-}
}

fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "") print "–"; else printf f, v }'; }
gbit() { awk -v v="$1" 'BEGIN { if (v == "") print "–"; else printf "%.2f", v / 1000 }'; }
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f", a / b }'
}

report() {
  local impls=() test impl v c first row ratios best bestv
  read -r -a impls <<<"$IMPLS"
  first=${impls[0]}
  echo
  echo "## Results"
  echo
  echo "Medians of $ROUNDS round(s) of $DURATION s; both sides of a pair run the same implementation;"
  echo "iperf3 client in namespace a, server in b (\"reverse\": b sends, iperf3 -R), IPv4 inside and"
  echo "outside the tunnel, MTU $CN_MTU. CPU is the daemon's utime + stime during the run, in seconds"
  echo "(one core for the whole run = the run's duration)."
  if [[ $(readlink -f "$CALNETD") == "$(readlink -f "$WIREGUARD_GO")" ]]; then
    echo
    echo "**CALNETD pointed at wireguard-go: the calnetd column measures wireguard-go (noise check).**"
  fi
  echo
  echo "Host: $(uname -sr), $(nproc) CPU ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)),"
  local versions=()
  for impl in "${impls[@]:1}"; do
    versions+=("$impl: $("$(cn_impl_bin "$impl")" --version 2>/dev/null | head -n 1 || echo '?')")
  done
  echo "$(iperf3 --version | head -n 1 | cut -d' ' -f1-2)$(printf '; %s' "${versions[@]}"),"
  echo "$(date -u +%Y-%m-%d); host CPU busy before the run (1 s sample, 100 % = all cores): $IDLE_BUSY %."
  echo
  row="| test | metric |"
  for impl in "${impls[@]}"; do row+=" $impl |"; done
  for impl in "${impls[@]:1}"; do row+=" $first / $impl |"; done
  echo "$row"
  row="|---|---|"
  for impl in "${impls[@]}" "${impls[@]:1}"; do row+="--:|"; done
  echo "$row"
  # metric_row TITLE ARRAY FORMAT SCALE WITH_RATIO — one line of the table.
  metric_row() {
    local title=$1 arr=$2 f=$3 scale=$4 with_ratio=$5 vals=() i
    row="| ${TEST_TITLE[$test]} | $title |"
    for impl in "${impls[@]}"; do
      v=$(med "$arr" "$impl,$test")
      [[ -n $v ]] && v=$(awk -v v="$v" -v s="$scale" 'BEGIN { print v / s }')
      vals+=("$v")
      row+=" $(fmt "$v" "$f") |"
    done
    for ((i = 1; i < ${#impls[@]}; i++)); do
      if [[ $with_ratio == 1 ]]; then row+=" $(ratio "${vals[0]}" "${vals[$i]}") |"; else row+=" |"; fi
    done
    echo "$row"
  }
  for test in $TESTS; do
    if [[ $test == udp64 ]]; then
      metric_row "received, kpps" R_KPPS %.1f 1 1
      metric_row "loss, %" R_LOSS %.1f 1 0
    else
      metric_row "throughput, Gbit/s" R_RATE %.2f 1000 1
    fi
    metric_row "CPU, sender's daemon, s" R_CPU_A %.2f 1 1
    metric_row "CPU, receiver's daemon, s" R_CPU_B %.2f 1 1
  done
  if [[ " $TESTS " == *" udp64 "* && ${#impls[@]} -gt 2 ]]; then
    best="" bestv=""
    for impl in "${impls[@]:1}"; do
      v=$(med R_KPPS "$impl,udp64")
      if [[ -n $v ]] && { [[ -z $bestv ]] || awk -v a="$v" -v b="$bestv" 'BEGIN { exit !(a > b) }'; }; then
        best=$impl bestv=$v
      fi
    done
    echo
    echo "UDP 64 B: $first / the better of the others ($best): $(ratio "$(med R_KPPS "$first,udp64")" "$bestv")"
  fi
  echo
}

main() {
  local round impl
  cn_init bench
  # shellcheck disable=SC2086 # one argument per implementation
  if ! cn_preflight $IMPLS || ! command -v iperf3 >/dev/null; then
    cn_diag "preflight failed (need root, iperf3 and the binaries for: $IMPLS)"
    CN_FAILED=1
    cn_exit 1
  fi
  if [[ $(readlink -f "$CALNETD") == "$(readlink -f "$WIREGUARD_GO")" ]]; then
    cn_log "note: CALNETD is wireguard-go: this run compares wireguard-go with itself"
  fi
  local hb0 ht0 hs0 hb1 ht1 hs1
  read -r hb0 ht0 hs0 <<<"$(host_cpu)"
  sleep 1
  read -r hb1 ht1 hs1 <<<"$(host_cpu)"
  IDLE_BUSY=$(((hb1 - hb0) * 100 / (ht1 - ht0 > 0 ? ht1 - ht0 : 1)))
  if ((IDLE_BUSY > 10)); then
    cn_log "warning: host already ${IDLE_BUSY} % busy before start: other work on this host will skew figures"
  fi
  cn_log "bench: $ROUNDS round(s) × {$IMPLS} × {$TESTS}, $DURATION s each"
  for ((round = 1; round <= ROUNDS; round++)); do
    for impl in $IMPLS; do
      run_round "$impl" "$round"
    done
  done
  report
}

main
