# The NAT lab's building blocks, sourced by test_nat.sh and tests/bench/relaybench.sh: network
# namespaces with IPv6 off, a "public" bridge 203.0.113.0/24 with the coordination server at .1,
# sites behind iptables NAT routers, and calnetd nodes in them. The sourcing script sets $tag,
# $tmp, the arrays pids=() and namespaces=() (removed by its cleanup, by PID and by name) and
# CALNETD, CALNETCTL, CALNET_SERVER; sites and nodes are named by a letter.
declare -A svc public_of addr
pub="cn-nat-pub-$tag"

# lab_cleanup: every process started by PID (TERM, then KILL after 5 s), every namespace by name,
# the temporary directory; CALNET_TEST_LOGS=DIR keeps the logs. For `trap lab_cleanup EXIT`.
lab_cleanup() {
  set +e
  if [[ -n ${CALNET_TEST_LOGS:-} ]]; then
    mkdir -p "$CALNET_TEST_LOGS" && cp "$tmp"/*.log "$CALNET_TEST_LOGS"/ 2>/dev/null
  fi
  local pid ns
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$tmp"
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
new_ns() { # NAME: a namespace with loopback up and IPv6 off, as on many managed hosts
  ip netns add "$1"
  namespaces+=("$1")
  ip -n "$1" link set lo up
  in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# lab_public: the public segment, bridge br0 in $pub.
lab_public() {
  new_ns "$pub"
  ip -n "$pub" link add br0 type bridge
  ip -n "$pub" addr add 203.0.113.1/24 dev br0
  ip -n "$pub" link set br0 up
}

# link NS_A IF_A ADDR_A NS_B IF_B ADDR_B: a veth pair between two namespaces (ADDR_B may be
# "bridge": the B end joins pub's br0).
link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$1" link set "$2" up
  if [[ $6 == bridge ]]; then
    ip -n "$4" link set "$5" master br0
  else
    ip -n "$4" addr add "$6" dev "$5"
  fi
  ip -n "$4" link set "$5" up
}

# masquerade NS WAN [--random-fully]: NAT out of WAN, and a stateful firewall that lets in only
# what answers a connection from inside, to the LAN and to the router itself (as home routers
# do: an unsolicited packet is dropped, and leaves no connection-tracking entry behind).
masquerade() {
  local ns=$1 wan=$2 chain
  shift 2
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$ns" iptables -t nat -A POSTROUTING -o "$wan" -j MASQUERADE "$@"
  for chain in FORWARD INPUT; do
    in_ns "$ns" iptables -A "$chain" -i "$wan" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    in_ns "$ns" iptables -A "$chain" -i "$wan" -j DROP
  done
}

# site NAME INDEX MODE: router rNAME between pub (203.0.113.(10+INDEX)) and the node's LAN
# 10.INDEX.0.0/24; the node nNAME at 10.INDEX.0.2.
site() {
  local name=$1 i=$2 mode=$3
  local r="cn-nat-r$name-$tag" n="cn-nat-n$name-$tag"
  new_ns "$r"
  new_ns "$n"
  link "$r" "w$i$tag" "203.0.113.$((10 + i))/24" "$pub" "p$i$tag" bridge
  link "$n" "l$i$tag" "10.$i.0.2/24" "$r" "r$i$tag" "10.$i.0.1/24"
  ip -n "$n" route add default via "10.$i.0.1"
  public_of[$name]="203.0.113.$((10 + i))"
  case $mode in
  eim) masquerade "$r" "w$i$tag" ;;
  symmetric) masquerade "$r" "w$i$tag" --random-fully ;;
  udpblock)
    masquerade "$r" "w$i$tag"
    in_ns "$r" iptables -A FORWARD -o "w$i$tag" -p udp --dport 53 -j ACCEPT
    in_ns "$r" iptables -A FORWARD -o "w$i$tag" -p tcp -m multiport --dports 53,80,443 -j ACCEPT
    in_ns "$r" iptables -A FORWARD -o "w$i$tag" -j DROP
    ;;
  doublenat)
    # The site's "router" is the carrier NAT; the home router sits between it and the node.
    local h="cn-nat-h$name-$tag"
    new_ns "$h"
    ip -n "$n" route del default
    ip -n "$r" addr del "10.$i.0.1/24" dev "r$i$tag"
    ip -n "$r" link set "r$i$tag" netns "$h"
    ip -n "$h" addr add "10.$i.0.1/24" dev "r$i$tag"
    ip -n "$h" link set "r$i$tag" up
    ip -n "$n" route add default via "10.$i.0.1"
    link "$h" "c$i$tag" "100.64.$i.2/24" "$r" "g$i$tag" "100.64.$i.1/24"
    ip -n "$h" route add default via "100.64.$i.1"
    masquerade "$h" "c$i$tag"
    masquerade "$r" "w$i$tag"
    ;;
  esac
}
node_ns() { echo "cn-nat-n$1-$tag"; }
router_ns() { echo "cn-nat-r$1-$tag"; }
millis() { date +%s%3N; }

# With LAB_TLS=1 the server speaks https (a CA and a certificate for 203.0.113.1 made here), and
# every program of the lab that talks to it runs with that CA as the system's only trusted one
# (a private mount namespace with $tmp/certs bind-mounted over /etc/ssl/certs, which both
# OpenSSL's default paths and Qt read).
lab_url() { if [[ ${LAB_TLS:-0} == 1 ]]; then echo https://203.0.113.1:443; else echo http://203.0.113.1:443; fi; }
# in_lab NS: sets the array $run to the command prefix that runs a program in NS trusting the
# lab's CA. Used as `"${run[@]}" PROGRAM … &`: a plain command, every step an exec, so $! is
# the program's own PID.
in_lab() {
  run=(ip netns exec "$1")
  if [[ ${LAB_TLS:-0} == 1 ]]; then
    run+=(unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' "$tmp/certs")
  fi
}
lab_certs() {
  mkdir -p "$tmp/certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=Calnet lab CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=203.0.113.1" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:203.0.113.1\n' >"$tmp/san.ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" 2>/dev/null
  cp "$tmp/ca.pem" "$tmp/certs/ca-certificates.crt"
  cp "$tmp/ca.pem" "$tmp/certs/$(openssl x509 -hash -noout -in "$tmp/ca.pem").0"
}

# lab_server [SERVE_OPTION...]: calnet-server in $pub, HTTP (API, map stream, relay) on TCP 443,
# STUN on UDP 3478; writes $tmp/authkey (reusable).
lab_server() {
  head -c 24 /dev/urandom | base64 | tr -d '\n' >"$tmp/admin-token"
  chmod 600 "$tmp/admin-token"
  local tls=()
  if [[ ${LAB_TLS:-0} == 1 ]]; then
    lab_certs
    tls=(--tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key")
  fi
  ip netns exec "$pub" "$CALNET_SERVER" serve --listen 203.0.113.1:443 --db "sqlite:$tmp/server.db" \
    --stun-listen 203.0.113.1:3478 --admin-token-file "$tmp/admin-token" "${tls[@]}" "$@" \
    >"$tmp/server.out" 2>>"$tmp/server.log" &
  pids+=("$!")
  server_pid=$!
  wait_for 20 grep -q "^listening on" "$tmp/server.out"
  in_lab "$pub"
  "${run[@]}" "$CALNET_SERVER" authkey create --reusable --expires 1h \
    --server "$(lab_url)" --admin-token-file "$tmp/admin-token" >"$tmp/authkey"
}

sock_of() { echo "$tmp/$1/calnetd.sock"; }
ctl() { local n=$1; shift; in_ns "$(node_ns "$n")" "$CALNETCTL" --socket "$(sock_of "$n")" "$@"; }
# lab_start_nodes NODE...: calnetd --service in each site's node namespace.
lab_start_nodes() {
  local n
  for n in "$@"; do
    mkdir -p "$tmp/$n"
    in_lab "$(node_ns "$n")"
    "${run[@]}" "$CALNETD" --service --socket "$(sock_of "$n")" \
      --state-dir "$tmp/$n/state" --interface "cn$n$tag" 2>>"$tmp/$n.log" &
    svc[$n]=$!
    pids+=("${svc[$n]}")
  done
  for n in "$@"; do wait_for 10 test -S "$(sock_of "$n")"; done
}
lab_up() { # NODE: join the lab's network
  ctl "$1" up --server "$(lab_url)" --auth-key-file "$tmp/authkey" --hostname "$1"
}
overlay_of() {
  ctl "$1" --json status | python3 -c '
import json, sys
for a in json.load(sys.stdin).get("addresses", []):
    if ":" not in a:
        print(a.split("/")[0]); break'
}
