#!/usr/bin/env bash
# A Calnet mesh end to end, in namespaces this test creates: calnet-server in "hub" on a Linux
# bridge, and nodes n1..n4, each its own namespace running calnetd --service, joined with
# `calnetctl up --server --auth-key`. Checks, with the time each took:
#   * three nodes: every ordered pair pings over the overlay within 5 s of the last `up`;
#   * a fourth node joins and every other node reaches it within 5 s;
#   * the fourth node deleted on the server: gone from the others' peers within 2 s, and no
#     longer reachable in either direction;
#   * the server killed (-9): the nodes still ping each other; a node whose calnetd restarts
#     meanwhile comes back from its stored network map: it reaches the others again within
#     10 s and lists them as peers;
#   * the server restarted on the same database: every node is back online with the same
#     addresses, and a node joining after the restart is reached within 5 s;
#   * two server replicas on one PostgreSQL database, nodes split between them: they see and
#     reach each other, also a node that joins through the other replica.
# Everything is removed by namespace name and process id on exit, also on failure.
set -euo pipefail
umask 022

CALNETD=$(readlink -f "${CALNETD:-$(dirname "$0")/../../build/release/helper/calnetd}")
CALNETCTL=$(readlink -f "${CALNETCTL:-$(dirname "$0")/../../build/release/app/calnetctl}")
CALNET_SERVER=$(readlink -f "${CALNET_SERVER:-$(dirname "$0")/../../build/release/server/calnet-server}")
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
tag=$$
hub="cn-mesh-hub-$tag"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()           # every process started here, killed by PID in cleanup
declare -A svc    # node -> calnetd PID
declare -A srv    # server name -> PID
pg_started=""

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

ns_of() { echo "cn-mesh-$1-$tag"; }
nodes_made=()

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [[ -n $pg_started ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$tmp/pg" -m immediate -w stop >/dev/null 2>&1
  fi
  for n in "${nodes_made[@]}"; do ip netns del "$(ns_of "$n")" 2>/dev/null; done
  ip netns del "$hub" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] || { echo "test_mesh: needs root" >&2; exit 1; }
for f in "$CALNETD" "$CALNETCTL" "$CALNET_SERVER"; do
  [[ -x $f ]] || { echo "test_mesh: missing $f" >&2; exit 1; }
done

# ---- topology: hub namespace with bridge br0 (192.168.245.1/24) --------------------------------
ip netns add "$hub"
ip -n "$hub" link set lo up
ip -n "$hub" link add br0 type bridge
ip -n "$hub" addr add 192.168.245.1/24 dev br0
ip -n "$hub" link set br0 up

# add_node NAME INDEX: a namespace with a veth into the bridge, 192.168.245.(10+INDEX).
add_node() {
  local name=$1 index=$2 ns
  ns=$(ns_of "$name")
  ip netns add "$ns"
  nodes_made+=("$name")
  ip -n "$ns" link set lo up
  ip link add "m$index$tag" netns "$ns" type veth peer name "h$index$tag" netns "$hub"
  ip -n "$ns" addr add "192.168.245.$((10 + index))/24" dev "m$index$tag"
  ip -n "$ns" link set "m$index$tag" up
  ip -n "$hub" link set "h$index$tag" master br0
  ip -n "$hub" link set "h$index$tag" up
}

# ---- the coordination server ---------------------------------------------------------------------
head -c 24 /dev/urandom | base64 | tr -d '\n' >"$tmp/admin-token"
chmod 600 "$tmp/admin-token"

# start_server NAME PORT DB: runs calnet-server in the hub, waits for "listening on".
start_server() {
  local name=$1 port=$2 db=$3
  # STUN on the UDP port of the same number (and the next, its alternate): replicas share the
  # hub's address, so their ports are two apart.
  ip netns exec "$hub" "$CALNET_SERVER" serve --listen "192.168.245.1:$port" --db "$db" \
    --stun-listen "192.168.245.1:$port" \
    --admin-token-file "$tmp/admin-token" >"$tmp/$name.out" 2>>"$tmp/$name.log" &
  srv[$name]=$!
  pids+=("${srv[$name]}")
  wait_for 20 grep -q "^listening on" "$tmp/$name.out"
}
stop_server() { # NAME SIGNAL
  local pid=${srv[$1]}
  kill "-$2" "$pid"
  wait_for 15 bash -c "! kill -0 $pid 2>/dev/null" || true
  wait "$pid" 2>/dev/null || true
}
server_cli() { # PORT ARGS...
  local port=$1
  shift
  ip netns exec "$hub" "$CALNET_SERVER" "$@" --server "http://192.168.245.1:$port" \
    --admin-token-file "$tmp/admin-token"
}
# admin_get PORT PATH: the admin API's JSON, for checks the CLI's table would make awkward.
admin_get() {
  ip netns exec "$hub" python3 - "$1" "$2" "$tmp/admin-token" <<'EOF'
import sys, urllib.request
port, path, token_file = sys.argv[1:]
req = urllib.request.Request(f"http://192.168.245.1:{port}{path}")
req.add_header("Authorization", "Bearer " + open(token_file).read().strip())
print(urllib.request.urlopen(req, timeout=5).read().decode())
EOF
}

# ---- nodes ---------------------------------------------------------------------------------------
sock_of() { echo "$tmp/$1/calnetd.sock"; }
ctl() { # NODE ARGS...
  local n=$1
  shift
  ip netns exec "$(ns_of "$n")" "$CALNETCTL" --socket "$(sock_of "$n")" "$@"
}
start_node() { # NODE: calnetd --service with its own state
  local n=$1
  mkdir -p "$tmp/$n"
  ip netns exec "$(ns_of "$n")" "$CALNETD" --service \
    --socket "$(sock_of "$n")" --state-dir "$tmp/$n/state" --interface "cm$n$tag" \
    2>>"$tmp/$n.log" &
  svc[$n]=$!
  pids+=("${svc[$n]}")
  wait_for 10 test -S "$(sock_of "$n")"
}
stop_node() { # NODE: SIGTERM to its calnetd, by PID
  kill -TERM "${svc[$1]}"
  wait_for 15 bash -c "! kill -0 ${svc[$1]} 2>/dev/null" || true
}
up_node() { # NODE PORT
  ctl "$1" up --server "http://192.168.245.1:$2" --auth-key-file "$tmp/authkey" --hostname "$1"
}
# overlay_of NODE: the node's IPv4 overlay address, from its status.
overlay_of() {
  ctl "$1" --json status | python3 -c '
import json, sys
for a in json.load(sys.stdin).get("addresses", []):
    if ":" not in a:
        print(a.split("/")[0]); break'
}
declare -A addr
ping_ok() { # FROM TO
  ip netns exec "$(ns_of "$1")" ping -c 1 -W 1 -q "${addr[$2]}" >/dev/null 2>&1
}
millis() { date +%s%3N; }
# all_pairs_within SECONDS NODE...: every ordered pair pings before the deadline (from now).
# Timed in milliseconds: bash's SECONDS ticks on whole seconds, which made "5 s" anything
# from 4 to 5.
all_pairs_within() {
  local limit=$1 deadline
  deadline=$(($(millis) + limit * 1000))
  shift
  local a b
  for a in "$@"; do
    for b in "$@"; do
      [[ $a == "$b" ]] && continue
      until ping_ok "$a" "$b"; do
        if (($(millis) >= deadline)); then
          echo "no ping $a -> $b (${addr[$b]}) within ${limit}s"
          return 1
        fi
        sleep 0.1
      done
    done
  done
}
peer_hosts() { # NODE: the hostnames in its peer list
  ctl "$1" --json peers | python3 -c '
import json, sys
print(" ".join(sorted(p.get("hostname", "") for p in json.load(sys.stdin).get("peers", []))))'
}

# ================================================================================================
# SQLite: three nodes, a fourth, a deletion, the server killed and restarted
# ================================================================================================
start_server a 8080 "sqlite:$tmp/server.db"
server_cli 8080 authkey create --reusable --expires 1h >"$tmp/authkey"
check "an auth key is printed" grep -q "^calnet-auth-" "$tmp/authkey"

for i in 1 2 3; do
  add_node "n$i" "$i"
  start_node "n$i"
done
for i in 1 2 3; do check "n$i: calnetctl up" up_node "n$i" 8080; done
t0=$(millis)
for i in 1 2 3; do addr[n$i]=$(overlay_of "n$i"); done
check "three nodes have distinct overlay addresses in 100.70.0.0/24" bash -c \
  "[[ '${addr[n1]}' == 100.70.0.* && '${addr[n2]}' == 100.70.0.* && '${addr[n3]}' == 100.70.0.* &&
     '${addr[n1]}' != '${addr[n2]}' && '${addr[n2]}' != '${addr[n3]}' && '${addr[n1]}' != '${addr[n3]}' ]]"
check "every pair of three pings within 5 s of the last up" all_pairs_within 5 n1 n2 n3
echo "# three nodes: all pairs reachable $(($(millis) - t0)) ms after the last up"

add_node n4 4
# n4 is a host with IPv6 switched off, as many managed machines are: it joins with IPv4 alone.
ip netns exec "$(ns_of n4)" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
start_node n4
check "n4 (IPv6 disabled): calnetctl up" up_node n4 8080
t0=$(millis)
addr[n4]=$(overlay_of n4)
ipv4_only_with_warning() {
  ctl n4 --json status | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["state"] == "connected", s
assert s["addresses"] and all(":" not in a for a in s["addresses"]), s["addresses"]
assert any("IPv4 only" in w for w in s["warnings"]), s["warnings"]'
}
check "n4: connected with IPv4 addresses only, and a warning that says why" ipv4_only_with_warning
reach_n4() { all_pairs_within 5 n1 n2 n3 n4; }
check "a fourth node is reachable from the others within 5 s" reach_n4
echo "# fourth node: reachable by all $(($(millis) - t0)) ms after its up"

deleted_n4=${addr[n4]}
n4_id=$(admin_get 8080 /api/v1/admin/nodes | python3 -c '
import json, sys
print(next(n["id"] for n in json.load(sys.stdin)["nodes"] if n["hostname"] == "n4"))')
check "the server deletes n4" server_cli 8080 nodes delete "$n4_id"
t0=$(millis)
gone_everywhere() {
  local n
  for n in n1 n2 n3; do [[ " $(peer_hosts "$n") " != *" n4 "* ]] || return 1; done
}
check "n4 disappears from the others' peers within 2 s" wait_for 2 gone_everywhere
echo "# deletion: gone from all peers after $(($(millis) - t0)) ms"
unreachable() { ! ping_ok n1 n4 && ! ping_ok n4 n1 && ! ping_ok n2 n4; }
check "n4 can no longer reach the others, nor they it" unreachable
check "the others still reach each other" all_pairs_within 5 n1 n2 n3

before_nodes=$(admin_get 8080 /api/v1/admin/nodes | python3 -c '
import json, sys
print(sorted((n["hostname"], tuple(n["addresses"])) for n in json.load(sys.stdin)["nodes"]))')
stop_server a KILL
sleep 1
check "with the server killed, every pair still pings" all_pairs_within 5 n1 n2 n3

# n1's calnetd restarts while the server is down: it has only its stored network map.
netmap_of() { # NODE: its mesh profile's stored map
  local files=("$tmp/$1"/state/profiles/*.netmap)
  echo "${files[0]}"
}
check "n1 stores its network map (0600)" test "$(stat -c %a "$(netmap_of n1)" 2>&1)" == 600
stop_node n1
t0=$(millis)
start_node n1
check "n1, restarted without the server, pings the others again within 10 s" \
  all_pairs_within 10 n1 n2 n3
echo "# calnetd restart without the server: n1 and the others reach each other $(($(millis) - t0)) ms after its start (cache $(stat -c %s "$(netmap_of n1)") bytes)"
n1_lists_others() { [[ $(peer_hosts n1) == "n2 n3" ]]; }
check "n1 lists n2 and n3 as peers from its stored map" n1_lists_others
sleep 3
check "... and still does a few seconds later" all_pairs_within 5 n1 n2 n3

start_server a2 8080 "sqlite:$tmp/server.db"
# The database still says online for the nodes the killed server held (for 30 s, until some
# server sees its heartbeat stale), so "back" is each node's own view: its map stream to the
# new server is up again (their reconnect backoff reaches 10 s while the server is down).
control_state() { ctl "$1" --json status | python3 -c 'import json, sys; print(json.load(sys.stdin).get("control"))'; }
all_reconnected() {
  local n
  for n in n1 n2 n3; do [[ $(control_state "$n") == connected ]] || return 1; done
}
all_online() {
  admin_get 8080 /api/v1/admin/nodes | python3 -c '
import json, sys
nodes = {n["hostname"]: n for n in json.load(sys.stdin)["nodes"]}
sys.exit(0 if all(nodes.get(h, {}).get("online") for h in ("n1", "n2", "n3")) else 1)'
}
t0=$(millis)
check "after the restart every node reconnects within 15 s" wait_for 15 all_reconnected
echo "# restart: all nodes reconnected $(($(millis) - t0)) ms after the server started"
check "... and the server lists them online" all_online
after_nodes=$(admin_get 8080 /api/v1/admin/nodes | python3 -c '
import json, sys
print(sorted((n["hostname"], tuple(n["addresses"])) for n in json.load(sys.stdin)["nodes"]))')
check "nodes and addresses are as before the restart" test "$before_nodes" == "$after_nodes"

# n4 comes back as a new device (fresh state): a change after the restart reaches everyone.
stop_node n4
rm -rf "${tmp:?}/n4"
start_node n4
check "n4 joins again after the restart" up_node n4 8080
addr[n4]=$(overlay_of n4)
check "its new address is not the deleted node's" test "${addr[n4]}" != "$deleted_n4"
check "after the restart a new node is reachable within 5 s" reach_n4

for n in n1 n2 n3 n4; do stop_node "$n"; done
stop_server a2 TERM

# ================================================================================================
# PostgreSQL: two replicas, nodes split between them
# ================================================================================================
if [[ -x $PG_BIN/initdb ]]; then
  mkdir -p "$tmp/pg" "$tmp/pgsock" "$tmp/pglog"
  chown postgres: "$tmp/pg" "$tmp/pgsock" "$tmp/pglog"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$tmp/pg" -A trust -U postgres >"$tmp/initdb.log" 2>&1
  pg_started=1
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$tmp/pg" -w -l "$tmp/pglog/pg.log" \
    -o "-k $tmp/pgsock -c listen_addresses= -p 54329" start >/dev/null
  runuser -u postgres -- "$PG_BIN/createdb" -h "$tmp/pgsock" -p 54329 -U postgres calnet
  conninfo="host=$tmp/pgsock port=54329 dbname=calnet user=postgres"
  start_server pa 8081 "postgres:$conninfo"
  start_server pb 8083 "postgres:$conninfo"
  server_cli 8081 authkey create --reusable --expires 1h >"$tmp/authkey"
  for n in n1 n2 n3; do rm -rf "${tmp:?}/$n"; start_node "$n"; done
  check "n1 joins through replica A" up_node n1 8081
  check "n2 joins through replica B" up_node n2 8083
  t0=$(millis)
  addr[n1]=$(overlay_of n1)
  addr[n2]=$(overlay_of n2)
  check "nodes on different replicas reach each other within 5 s" all_pairs_within 5 n1 n2
  echo "# replicas: n1 (A) <-> n2 (B) after $(($(millis) - t0)) ms"
  check "n3 joins through replica A" up_node n3 8081
  addr[n3]=$(overlay_of n3)
  check "B's node learns of A's new node and all three reach each other within 5 s" \
    all_pairs_within 5 n1 n2 n3
  b_sees_a() { [[ $(peer_hosts n2) == "n1 n3" ]]; }
  check "replica B's node lists the nodes registered through A" b_sees_a
else
  failed=$((failed + 1))
  echo "not ok - PostgreSQL replicas: $PG_BIN/initdb missing (apt-get install postgresql)"
fi

echo "integration: $passed passed, $failed failed"
((failed == 0))
