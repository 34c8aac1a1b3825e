# shellcheck shell=bash
# lib.sh — helpers for the namespace integration tests and the benchmark (sourced, not run).
#
# Topology built by cn_pair_up (one pair at a time, everything named after this run's PID):
#
#   netns CN_NS[a]                                   netns CN_NS[b]
#   CN_IF[a] (TUN, MTU 1420)                         CN_IF[b] (TUN, MTU 1420)
#     10.241.0.1/24, fd00:abcd::1/64                   10.241.0.2/24, fd00:abcd::2/64
#   out0 (veth) ─────────────────────────────────────── out0 (veth)
#     192.168.241.1/24, fd00:241::1/64                 192.168.241.2/24, fd00:241::2/64
#
# Each side runs one userspace WireGuard implementation ("calnetd" or "wireguard-go") in the
# foreground, as a child of this shell, so its PID is the one we kill and reap. The UAPI socket
# directory /var/run/wireguard is the host filesystem, shared by every namespace: the two sides
# therefore get distinct interface names (cn<side><pid>x<seq>, at most 15 characters), which keep
# parallel runs apart as well.
#
# Rules kept here (docs/ARCHITECTURE "Testing shape"): traffic only inside namespaces we created;
# every wait is a counted retry loop or runs under `timeout`; every namespace, process and socket
# file we create is recorded and removed by name or PID on exit, failure or interrupt.
#
# Checks: `check NAME FUNCTION ARGS...` runs FUNCTION in a subshell with errexit in force (the
# first failing command fails the check and is printed), counts it, and leaves the result in
# CN_LAST_RC. Call it as a plain statement, never inside `if`/`||`/`&&`: bash ignores errexit in
# everything called from such a context, which would turn failures into passes.

# ---------------------------------------------------------------------------------------------
# Configuration (environment)

CN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CN_REPO_ROOT=$(cd "$CN_LIB_DIR/../.." && pwd)
: "${CALNETD:=$CN_REPO_ROOT/build/release/helper/calnetd}"
: "${WIREGUARD_GO:=$(command -v wireguard-go || echo /usr/bin/wireguard-go)}"
# Upstream wireguard-go built from source by ../shared/bench/build-wireguard-go.sh (benchmark only).
: "${WIREGUARD_GO_UPSTREAM:=$CN_REPO_ROOT/build/wireguard-go-upstream}"
: "${CN_PYTHON:=$(command -v /usr/bin/python3 || command -v python3 || echo python3)}"
CN_RUN_DIR=/var/run/wireguard # the UAPI socket directory (shared across namespaces)
CN_START_TRIES=100            # × 0.1 s: daemon must create its UAPI socket within 10 s
CN_STOP_TRIES=100             # × 0.1 s: daemon must exit within 10 s of SIGTERM
CN_GONE_TRIES=50              # × 0.1 s: interface and socket must be gone 5 s after exit
CN_WG_TIMEOUT=10              # seconds for one `wg` call (a hung daemon must not hang us)
CN_MTU=1420

# Fixed per-side addressing; valid only inside the namespaces created here.
declare -gA CN_OUT4=() CN_OUT6=() CN_PORT=() # set by cn_reset_addressing
declare -gA CN_IN4=([a]=10.241.0.1 [b]=10.241.0.2)
declare -gA CN_IN6=([a]=fd00:abcd::1 [b]=fd00:abcd::2)
declare -gA CN_OTHER=([a]=b [b]=a)

# Per-pair state, filled by cn_pair_up.
declare -gA CN_NS=() CN_IF=() CN_IMPL=() CN_BIN=() CN_PID=() CN_PUB=() CN_KEYFILE=() CN_LOG=()
declare -gA CN_STOP_RC=() CN_STOP_FORCED=() CN_STOP_EARLY=()
CN_PSKFILE=""
CN_SEQ=0
CN_PAIR_OK=0

# Everything created, for the EXIT trap.
CN_ALL_PIDS=()
CN_ALL_NETNS=()
CN_ALL_SOCKS=()
CN_TMP=""

# Check bookkeeping.
CN_PASSED=0
CN_FAILED=0
CN_LAST_RC=0
CN_CHECK_PID=""
CN_EXITING=0
CN_STDOUT=1 # duplicates of the original stdout/stderr, made by cn_init
CN_STDERR=2
CN_SUMMARY_LABEL=integration

# ---------------------------------------------------------------------------------------------
# Output

cn_log() { printf '%s\n' "# $*"; }
cn_diag() { printf '%s\n' "    # $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Setup and teardown of the whole run

# cn_init LABEL — temp dir, traps. LABEL names the namespaces and prefixes the summary line.
cn_init() {
  CN_SUMMARY_LABEL=${1:-integration}
  CN_TMP=$(mktemp -d "/tmp/calnet-${CN_SUMMARY_LABEL}.$$.XXXXXX")
  # The EXIT trap may fire inside a command whose output is redirected to a file (a signal
  # while iperf3 writes its JSON): keep the real stdout/stderr for the summary.
  exec {CN_STDOUT}>&1 {CN_STDERR}>&2
  trap cn_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  cn_write_python_helpers
}

# cn_preflight IMPL... — fails (returns 1 with a message) unless we can run the given
# implementations here.
cn_preflight() {
  local tool impl bin missing=0
  if [[ $EUID -ne 0 ]]; then
    cn_diag "must run as root (network namespaces, TUN devices)"
    return 1
  fi
  if [[ ! -c /dev/net/tun ]]; then
    cn_diag "/dev/net/tun is missing"
    return 1
  fi
  for tool in ip wg ping timeout sha256sum "$CN_PYTHON"; do
    if ! command -v "$tool" >/dev/null; then
      cn_diag "required tool not found: $tool"
      missing=1
    fi
  done
  for impl in "$@"; do
    bin=$(cn_impl_bin "$impl") || { missing=1; continue; }
    if [[ ! -x $bin ]]; then
      cn_diag "implementation '$impl' not executable at '$bin' (set CALNETD or WIREGUARD_GO)"
      missing=1
    fi
  done
  return "$missing"
}

# cn_impl_bin IMPL — path of the binary implementing IMPL.
cn_impl_bin() {
  case $1 in
  calnetd) printf '%s\n' "$CALNETD" ;;
  wireguard-go) printf '%s\n' "$WIREGUARD_GO" ;;
  wireguard-go-upstream) printf '%s\n' "$WIREGUARD_GO_UPSTREAM" ;;
  *)
    cn_diag "unknown implementation '$1' (want calnetd, wireguard-go or wireguard-go-upstream)"
    return 1
    ;;
  esac
}

# cn_exit — leave on purpose (the summary tells why); any other non-zero exit is an abort.
cn_exit() {
  CN_EXITING=1
  exit "${1:-1}"
}

# The EXIT trap: kill what we started, delete what we created, print the summary line last.
# An abort (errexit in our own plumbing, a signal) counts as one more failure.
cn_on_exit() {
  local rc=$?
  set +e
  trap - INT TERM HUP
  exec 1>&"$CN_STDOUT" 2>&"$CN_STDERR"
  if [[ $rc -ne 0 && $CN_EXITING -eq 0 ]]; then
    cn_diag "aborted with status $rc (harness error or signal, counted as a failure)"
    CN_FAILED=$((CN_FAILED + 1))
  fi
  cn_cleanup_all
  printf '%s: %d passed, %d failed\n' "$CN_SUMMARY_LABEL" "$CN_PASSED" "$CN_FAILED"
  if [[ $CN_FAILED -ne 0 ]]; then
    exit 1
  fi
  exit 0
}

cn_cleanup_all() {
  local pid ns sock
  # A check interrupted by a signal: stop its subshell first (its children are swept below
  # with the namespaces they run in).
  [[ -n $CN_CHECK_PID ]] && cn_kill_pid "$CN_CHECK_PID"
  CN_CHECK_PID=""
  for pid in "${CN_ALL_PIDS[@]}"; do
    cn_kill_pid "$pid"
  done
  CN_ALL_PIDS=()
  for ns in "${CN_ALL_NETNS[@]}"; do
    cn_netns_del "$ns"
  done
  CN_ALL_NETNS=()
  for sock in "${CN_ALL_SOCKS[@]}"; do
    # Only left behind if a daemon was SIGKILLed; the name is unique to this run.
    [[ -e $sock ]] && rm -f -- "$sock"
  done
  CN_ALL_SOCKS=()
  if [[ -n $CN_TMP && -d $CN_TMP ]]; then
    rm -rf -- "$CN_TMP"
  fi
}

# ---------------------------------------------------------------------------------------------
# Processes

# cn_pid_running PID — true while PID exists and is not a zombie.
cn_pid_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) } # after the comm field, which may hold spaces
  [[ ${stat%% *} != Z ]]
}

# cn_kill_pid PID — SIGTERM, bounded wait, SIGKILL; reaps it if it is our child. Returns 0.
cn_kill_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  if cn_pid_running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < CN_STOP_TRIES; i++)); do
      cn_pid_running "$pid" || break
      sleep 0.1
    done
    if cn_pid_running "$pid"; then
      cn_diag "pid $pid ignored SIGTERM for $((CN_STOP_TRIES / 10)) s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true # reaps it if it is our child
  return 0
}

cn_forget_pid() {
  local keep=() p
  for p in "${CN_ALL_PIDS[@]}"; do
    [[ $p == "$1" ]] || keep+=("$p")
  done
  CN_ALL_PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------------------------------------
# Namespaces

# cn_netns_add NAME — create and record a namespace with loopback up.
cn_netns_add() {
  ip netns add "$1"
  CN_ALL_NETNS+=("$1")
  ip -n "$1" link set lo up
}

# cn_netns_del NAME — kill every process still inside it (by PID), then delete it. Returns 0.
cn_netns_del() {
  local ns=$1 pid keep=() n
  if [[ -e /run/netns/$ns ]]; then # where `ip netns add` mounts it
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      cn_diag "process $pid still in $ns at teardown, killing it"
      cn_kill_pid "$pid"
    done
    ip netns del "$ns" 2>/dev/null || cn_diag "could not delete netns $ns"
  fi
  for n in "${CN_ALL_NETNS[@]}"; do
    [[ $n == "$ns" ]] || keep+=("$n")
  done
  CN_ALL_NETNS=("${keep[@]}")
  return 0
}

# cn_in SIDE CMD... — run CMD inside SIDE's namespace. Not for `cn_in ... &`: that forks a
# subshell, so $! would not be the command's PID; write `ip netns exec NS CMD &` instead.
cn_in() {
  local side=$1
  shift
  ip netns exec "${CN_NS[$side]}" "$@"
}

# cn_wg SIDE ARGS... — `wg` against SIDE's interface socket, bounded in time.
cn_wg() {
  local side=$1
  shift
  ip netns exec "${CN_NS[$side]}" timeout "$CN_WG_TIMEOUT" wg "$@"
}

# ---------------------------------------------------------------------------------------------
# Daemons

# cn_daemon_start SIDE — start CN_IMPL[SIDE] for CN_IF[SIDE] in CN_NS[SIDE], in the foreground,
# and wait (bounded) for its UAPI socket. Returns 1 with diagnostics if it exits or never
# creates the socket (e.g. it daemonised despite WG_PROCESS_FOREGROUND=1).
cn_daemon_start() {
  local side=$1 ifname=${CN_IF[$1]} sock i pid
  sock=$CN_RUN_DIR/$ifname.sock
  if [[ -e $sock ]]; then
    cn_diag "socket $sock already exists (name clash?)"
    return 1
  fi
  CN_LOG[$side]=$CN_TMP/$ifname.log
  CN_ALL_SOCKS+=("$sock")
  # `ip netns exec` and `env` both exec, so $! is the daemon's own PID.
  ip netns exec "${CN_NS[$side]}" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL="${LOG_LEVEL:-error}" \
    "${CN_BIN[$side]}" -f "$ifname" </dev/null >"${CN_LOG[$side]}" 2>&1 {CN_STDOUT}>&- {CN_STDERR}>&- &
  pid=$!
  CN_PID[$side]=$pid
  CN_ALL_PIDS+=("$pid")
  for ((i = 0; i < CN_START_TRIES; i++)); do
    [[ -S $sock ]] && break
    if ! cn_pid_running "$pid"; then
      break
    fi
    sleep 0.1
  done
  if ! cn_pid_running "$pid"; then
    cn_diag "${CN_IMPL[$side]} for $ifname (pid $pid) exited during start-up" \
      "(did it daemonise despite -f and WG_PROCESS_FOREGROUND=1?); its log:"
    cn_dump_log "$side"
    return 1
  fi
  if [[ ! -S $sock ]]; then
    cn_diag "${CN_IMPL[$side]} for $ifname made no socket $sock in $((CN_START_TRIES / 10)) s"
    cn_dump_log "$side"
    return 1
  fi
  return 0
}

# cn_daemon_stop SIDE — SIGTERM the daemon (SIGKILL after CN_STOP_TRIES), reap it and record
# its exit status in CN_STOP_RC[SIDE]; CN_STOP_FORCED[SIDE]=1 if it needed SIGKILL,
# CN_STOP_EARLY[SIDE]=1 if it had exited before. Returns 0.
cn_daemon_stop() {
  local side=$1 pid=${CN_PID[$1]:-} i rc=0
  [[ -n $pid ]] || return 0
  CN_STOP_FORCED[$side]=0
  CN_STOP_EARLY[$side]=0
  cn_pid_running "$pid" || CN_STOP_EARLY[$side]=1
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < CN_STOP_TRIES; i++)); do
    cn_pid_running "$pid" || break
    sleep 0.1
  done
  if cn_pid_running "$pid"; then
    CN_STOP_FORCED[$side]=1
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  CN_STOP_RC[$side]=$rc
  CN_PID[$side]=""
  cn_forget_pid "$pid"
  return 0
}

# cn_assert_stopped_clean SIDE PID — for use in a check after cn_daemon_stop: the daemon left
# on SIGTERM with status 0, and no process, interface or UAPI socket remains.
cn_assert_stopped_clean() {
  local side=$1 pid=$2 ifname=${CN_IF[$1]} i
  local sock=$CN_RUN_DIR/$ifname.sock
  if [[ ${CN_STOP_EARLY[$side]:-0} -ne 0 ]]; then
    cn_diag "${CN_IMPL[$side]} had already exited (status ${CN_STOP_RC[$side]:-?}) before SIGTERM"
    cn_dump_log "$side"
    return 1
  fi
  if [[ ${CN_STOP_FORCED[$side]:-0} -ne 0 ]]; then
    cn_diag "${CN_IMPL[$side]} did not exit within $((CN_STOP_TRIES / 10)) s of SIGTERM"
    return 1
  fi
  if [[ ${CN_STOP_RC[$side]:-x} != 0 ]]; then
    cn_diag "${CN_IMPL[$side]} exited with status ${CN_STOP_RC[$side]:-?} after SIGTERM"
    cn_dump_log "$side"
    return 1
  fi
  if [[ -e /proc/$pid ]]; then
    cn_diag "process $pid still exists"
    return 1
  fi
  for ((i = 0; i < CN_GONE_TRIES; i++)); do
    if ! ip -n "${CN_NS[$side]}" link show dev "$ifname" >/dev/null 2>&1 && [[ ! -e $sock ]]; then
      return 0
    fi
    sleep 0.1
  done
  ip -n "${CN_NS[$side]}" link show dev "$ifname" >/dev/null 2>&1 &&
    cn_diag "interface $ifname still exists in ${CN_NS[$side]}"
  [[ -e $sock ]] && cn_diag "socket $sock still exists"
  return 1
}

cn_dump_log() {
  local f=${CN_LOG[$1]:-}
  [[ -n $f && -s $f ]] || return 0
  tail -n 30 -- "$f" | sed 's/^/    # | /' >&2
}

# ---------------------------------------------------------------------------------------------
# A pair of namespaces with one tunnel between them

# cn_pair_up IMPL_A IMPL_B — fresh namespaces, veth, keys, both daemons, interfaces configured
# with keys, PSK, listen ports, the peer (allowed IPs, no endpoint yet), addresses, MTU, up.
# Failures of our own plumbing abort the script (errexit); failures of an implementation (no
# start, refused configuration) leave CN_PAIR_OK=0 for a check to report. Returns 0 either way,
# because a non-zero return would abort the caller under errexit.
cn_pair_up() {
  local side other tag
  CN_SEQ=$((CN_SEQ + 1))
  CN_PAIR_OK=0
  CN_IMPL[a]=$1
  CN_IMPL[b]=$2
  cn_reset_addressing
  tag="$$x$CN_SEQ"
  for side in a b; do
    CN_NS[$side]="calnet-${CN_SUMMARY_LABEL}-$tag-$side"
    CN_IF[$side]="cn$side$tag" # ≤ 15 characters: 3 + 7-digit PID + x + sequence
    CN_BIN[$side]=$(cn_impl_bin "${CN_IMPL[$side]}")
    CN_PID[$side]=""
    CN_STOP_RC[$side]=""
    CN_STOP_FORCED[$side]=0
    CN_STOP_EARLY[$side]=0
    cn_netns_add "${CN_NS[$side]}"
  done

  # Outer link.
  ip -n "${CN_NS[a]}" link add out0 type veth peer name out0 netns "${CN_NS[b]}"
  for side in a b; do
    ip -n "${CN_NS[$side]}" addr add "${CN_OUT4[$side]}/24" dev out0
    ip -n "${CN_NS[$side]}" addr add "${CN_OUT6[$side]}/64" dev out0 nodad
    ip -n "${CN_NS[$side]}" link set out0 up
  done

  # Keys.
  (
    umask 077
    mkdir -p "$CN_TMP/keys.$CN_SEQ"
    wg genpsk >"$CN_TMP/keys.$CN_SEQ/psk"
    for side in a b; do
      wg genkey >"$CN_TMP/keys.$CN_SEQ/$side.key"
    done
  )
  CN_PSKFILE=$CN_TMP/keys.$CN_SEQ/psk
  for side in a b; do
    CN_KEYFILE[$side]=$CN_TMP/keys.$CN_SEQ/$side.key
    CN_PUB[$side]=$(wg pubkey <"${CN_KEYFILE[$side]}")
  done

  # Daemons, then configuration through the UAPI.
  for side in a b; do
    if ! cn_daemon_start "$side"; then
      return 0
    fi
  done
  for side in a b; do
    other=${CN_OTHER[$side]}
    if ! cn_wg "$side" set "${CN_IF[$side]}" private-key "${CN_KEYFILE[$side]}" \
      listen-port "${CN_PORT[$side]}" \
      peer "${CN_PUB[$other]}" preshared-key "$CN_PSKFILE" \
      allowed-ips "${CN_IN4[$other]}/32,${CN_IN6[$other]}/128"; then
      cn_diag "'wg set' failed on ${CN_IMPL[$side]} (${CN_IF[$side]})"
      cn_dump_log "$side"
      return 0
    fi
    if ! ip -n "${CN_NS[$side]}" link show dev "${CN_IF[$side]}" >/dev/null 2>&1; then
      cn_diag "${CN_IMPL[$side]} has a socket but no interface ${CN_IF[$side]} in its namespace"
      return 0
    fi
    ip -n "${CN_NS[$side]}" addr add "${CN_IN4[$side]}/24" dev "${CN_IF[$side]}"
    ip -n "${CN_NS[$side]}" addr add "${CN_IN6[$side]}/64" dev "${CN_IF[$side]}" nodad
    ip -n "${CN_NS[$side]}" link set dev "${CN_IF[$side]}" mtu "$CN_MTU" up
  done
  CN_PAIR_OK=1
  return 0
}

# cn_pair_ok — for a check: did cn_pair_up bring both sides up?
cn_pair_ok() {
  [[ $CN_PAIR_OK == 1 ]]
}

# cn_reset_addressing — outer addresses and listen ports back to their defaults (tests that
# roam change them).
cn_reset_addressing() {
  CN_OUT4=([a]=192.168.241.1 [b]=192.168.241.2)
  CN_OUT6=([a]=fd00:241::1 [b]=fd00:241::2)
  CN_PORT=([a]=41001 [b]=41002)
}

# cn_pair_down — stop whatever still runs and delete both namespaces. Returns 0.
cn_pair_down() {
  local side
  for side in a b; do
    cn_daemon_stop "$side"
  done
  for side in a b; do
    [[ -n ${CN_NS[$side]:-} ]] && cn_netns_del "${CN_NS[$side]}"
  done
  return 0
}

# cn_outer_addr SIDE FAMILY — SIDE's current outer address for FAMILY (4 or 6).
cn_outer_addr() {
  if [[ $2 == 4 ]]; then
    printf '%s\n' "${CN_OUT4[$1]}"
  else
    printf '%s\n' "${CN_OUT6[$1]}"
  fi
}

# cn_endpoint_str ADDR PORT — an endpoint as `wg show` prints it.
cn_endpoint_str() {
  if [[ $1 == *:* ]]; then
    printf '[%s]:%s\n' "$1" "$2"
  else
    printf '%s:%s\n' "$1" "$2"
  fi
}

# cn_set_endpoint SIDE FAMILY — point SIDE's peer at the other side's outer address.
cn_set_endpoint() {
  local side=$1 other=${CN_OTHER[$1]} ep
  ep=$(cn_endpoint_str "$(cn_outer_addr "$other" "$2")" "${CN_PORT[$other]}")
  cn_wg "$side" set "${CN_IF[$side]}" peer "${CN_PUB[$other]}" endpoint "$ep"
}

# cn_wg_peer_field SIDE FIELD — the single peer's value of `wg show IF FIELD`
# (endpoints, latest-handshakes, transfer → "rx tx").
cn_wg_peer_field() {
  local side=$1 out
  out=$(cn_wg "$side" show "${CN_IF[$side]}" "$2") || return 1
  out=$(printf '%s\n' "$out" | awk -v k="${CN_PUB[${CN_OTHER[$side]}]}" -F '\t' \
    '$1 == k { $1 = ""; sub(/^ /, ""); print; found = 1 } END { exit !found }') || {
    cn_diag "no peer ${CN_PUB[${CN_OTHER[$side]}]} in 'wg show ${CN_IF[$side]} $2'"
    return 1
  }
  printf '%s\n' "$out"
}

# cn_wait_endpoint SIDE EXPECTED — bounded wait (2 s) until SIDE's peer endpoint is EXPECTED.
cn_wait_endpoint() {
  local side=$1 want=$2 got="" i
  for ((i = 0; i < 20; i++)); do
    got=$(cn_wg_peer_field "$side" endpoints) || return 1
    [[ $got == "$want" ]] && return 0
    sleep 0.1
  done
  cn_diag "${CN_IMPL[$side]} endpoint is '$got', want '$want'"
  return 1
}

# cn_ping SIDE FAMILY DST [ping args...] — bounded ping; succeeds if any reply arrives.
cn_ping() {
  local side=$1 fam=$2 dst=$3
  shift 3
  cn_in "$side" timeout 20 ping "-$fam" -n -q -c 3 -i 0.2 -W 2 "$@" "$dst" >/dev/null
}

# cn_ping_all SIDE FAMILY DST [ping args...] — bounded ping; succeeds only if all 3 replies
# arrive.
cn_ping_all() {
  local side=$1 fam=$2 dst=$3 out
  shift 3
  out=$(cn_in "$side" timeout 20 ping "-$fam" -n -q -c 3 -i 0.2 -W 2 "$@" "$dst" 2>&1) || true
  if [[ $out != *"3 packets transmitted, 3 received"* ]]; then
    cn_diag "ping -$fam $* $dst from ${CN_IMPL[$side]} side: ${out//$'\n'/ | }"
    return 1
  fi
}

# cn_icmp_in_echos SIDE FAMILY — echo requests SIDE's kernel has received (per namespace).
# shellcheck disable=SC2016 # awk programs
cn_icmp_in_echos() {
  if [[ $2 == 4 ]]; then
    cn_in "$1" awk '$1 == "Icmp:" { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 }
      else print $c["InEchos"] }' /proc/net/snmp
  else
    cn_in "$1" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6
  fi
}

# ---------------------------------------------------------------------------------------------
# TCP transfer through the tunnel (python3: present on Debian, bounded by socket timeouts and
# `timeout`).

cn_write_python_helpers() {
  cat >"$CN_TMP/recv.py" <<'EOF'
# recv.py HOST PORT READYFILE — accept one TCP connection, print "sha256 bytes" of its data.
import hashlib, socket, sys
host, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
srv = socket.socket(fam, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(1)
open(ready, "w").close()
srv.settimeout(30)
conn, _ = srv.accept()
conn.settimeout(30)
h, n = hashlib.sha256(), 0
while True:
    b = conn.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
conn.close()
print(h.hexdigest(), n)
EOF
  cat >"$CN_TMP/sniff.py" <<'EOF'
# sniff.py IFNAME READYFILE SRC... — until SIGTERM (at most 50 s), count packets entering the
# stack through IFNAME (not outgoing ones) by IP source address; print "SRC COUNT" per SRC.
import ipaddress, signal, socket, sys, time
ifname, ready = sys.argv[1], sys.argv[2]
counts = {ipaddress.ip_address(a): 0 for a in sys.argv[3:]}
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))  # ETH_P_ALL
s.bind((ifname, 0))
s.settimeout(0.1)
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
open(ready, "w").close()
end = time.monotonic() + 50
while not stop and time.monotonic() < end:
    try:
        pkt, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    if addr[2] == socket.PACKET_OUTGOING or not pkt:
        continue
    if pkt[0] >> 4 == 4 and len(pkt) >= 20:
        src = ipaddress.ip_address(pkt[12:16])
    elif pkt[0] >> 4 == 6 and len(pkt) >= 40:
        src = ipaddress.ip_address(pkt[8:24])
    else:
        continue
    if src in counts:
        counts[src] += 1
for a, n in counts.items():
    print(a, n)
EOF
  cat >"$CN_TMP/send.py" <<'EOF'
# send.py HOST PORT FILE — send FILE over one TCP connection, then half-close and wait for EOF.
import socket, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(30)
s.connect((host, port))
with open(path, "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
while s.recv(4096):
    pass
s.close()
EOF
}

# cn_sniff_start SIDE SRC... — count, until cn_sniff_stop, the packets the daemon writes into
# SIDE's TUN (i.e. delivers to the kernel) per inner source address. An AF_PACKET socket, as
# tcpdump would use (tcpdump and nftables are not installed). Sets SNIFF_PID, SNIFF_OUT.
cn_sniff_start() {
  local side=$1 ready i
  shift
  ready=$CN_TMP/sniff-ready.$BASHPID
  SNIFF_OUT=$CN_TMP/sniff.$BASHPID
  rm -f -- "$ready" "$SNIFF_OUT"
  ip netns exec "${CN_NS[$side]}" timeout 60 "$CN_PYTHON" "$CN_TMP/sniff.py" "${CN_IF[$side]}" \
    "$ready" "$@" >"$SNIFF_OUT" &
  SNIFF_PID=$!
  for ((i = 0; i < 50; i++)); do
    [[ -e $ready ]] && return 0
    cn_pid_running "$SNIFF_PID" || break
    sleep 0.1
  done
  cn_diag "packet counter on ${CN_IF[$side]} did not start"
  return 1
}

# cn_sniff_stop — stop the counter and wait for it; its "SRC COUNT" lines are in SNIFF_OUT.
# Call it in the shell that ran cn_sniff_start (not in $(...)): only that shell can wait.
cn_sniff_stop() {
  kill -TERM "$SNIFF_PID" 2>/dev/null || true
  wait "$SNIFF_PID" || true
}

# cn_make_payload MIB — a random file of MIB MiB in CN_TMP; prints "path sha256".
cn_make_payload() {
  local f=$CN_TMP/payload.$1M sum
  if [[ ! -s $f ]]; then
    head -c "$(($1 * 1024 * 1024))" /dev/urandom >"$f"
  fi
  sum=$(sha256sum "$f")
  printf '%s %s\n' "$f" "${sum%% *}"
}

# cn_tcp_transfer FROM TO FAMILY FILE SHA256 — send FILE from FROM to TO's inner address over
# TCP; fails unless TO received exactly the same bytes.
cn_tcp_transfer() {
  local from=$1 to=$2 fam=$3 file=$4 want=$5 dst ready out spid i got bytes size rc=0
  if [[ $fam == 4 ]]; then dst=${CN_IN4[$to]}; else dst=${CN_IN6[$to]}; fi
  ready=$CN_TMP/ready.$BASHPID
  out=$CN_TMP/recv.$BASHPID
  rm -f -- "$ready" "$out"
  ip netns exec "${CN_NS[$to]}" timeout 150 "$CN_PYTHON" "$CN_TMP/recv.py" "$dst" 5241 "$ready" \
    >"$out" &
  spid=$!
  for ((i = 0; i < 100; i++)); do
    [[ -e $ready ]] && break
    cn_pid_running "$spid" || break
    sleep 0.1
  done
  if [[ ! -e $ready ]]; then
    cn_diag "receiver did not start listening on $dst"
    kill -TERM "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    return 1
  fi
  cn_in "$from" timeout 120 "$CN_PYTHON" "$CN_TMP/send.py" "$dst" 5241 "$file" || rc=$?
  if [[ $rc -ne 0 ]]; then
    cn_diag "sender failed with status $rc"
    kill -TERM "$spid" 2>/dev/null || true
  fi
  wait "$spid" || rc=$?
  [[ $rc -eq 0 ]] || return 1
  read -r got bytes <"$out"
  size=$(stat -c %s -- "$file")
  if [[ $got != "$want" || $bytes != "$size" ]]; then
    cn_diag "received $bytes bytes with sha256 $got; sent $size bytes with sha256 $want"
    return 1
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------
# Checks

cn__err_trap() {
  [[ $1 == return* ]] && return 0 # the function already said why
  printf '    # failed: %s (%s line %s)\n' "$1" "${2:-main}" "$3" >&2
}

# check NAME FUNCTION ARGS... — see the header. Always returns 0; result in CN_LAST_RC.
check() {
  local name=$1 rc=0 pid t0=${EPOCHREALTIME/[.,]/} ms
  shift
  (
    set -eE -o pipefail
    trap 'cn__err_trap "$BASH_COMMAND" "${FUNCNAME[0]:-}" "$LINENO"' ERR
    "$@"
  ) &
  pid=$!
  CN_CHECK_PID=$pid
  wait "$pid" || rc=$?
  CN_CHECK_PID=""
  # shellcheck disable=SC2034 # read by the sourcing test
  CN_LAST_RC=$rc
  ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
  if [[ $rc -eq 0 ]]; then
    CN_PASSED=$((CN_PASSED + 1))
    printf 'ok %d - %s (%d ms)\n' "$((CN_PASSED + CN_FAILED))" "$name" "$ms"
  else
    CN_FAILED=$((CN_FAILED + 1))
    printf 'not ok %d - %s (%d ms)\n' "$((CN_PASSED + CN_FAILED))" "$name" "$ms"
  fi
  return 0
}

# expect_eq GOT WANT WHAT — diagnostic equality assertion for check bodies.
expect_eq() {
  if [[ $1 != "$2" ]]; then
    cn_diag "$3: got '$1', want '$2'"
    return 1
  fi
}
