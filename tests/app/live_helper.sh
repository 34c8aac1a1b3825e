# shellcheck shell=bash
# A real calnetd --service for the desktop app to talk to. Sourced by tests/integration/test_app.sh
# and tests/app/screenshots.sh; needs root, wireguard-go and wg.
#
#   namespace LH_NS_A                          namespace LH_NS_B
#   calnetd --service (LH_IF_A when up)        wireguard-go LH_IF_B, 10.244.0.2
#   veth 192.168.244.1  <------------------->  veth 192.168.244.2 (UDP 51820)
#
# The service's socket (LH_SOCK) lives in a temp directory, so the app and calnetctl can reach
# it from outside the namespaces: a unix socket is a file, not part of the network namespace.
#
# Profiles imported by lh_setup:
#   LH_PROFILE ("home")   the wireguard-go peer (LH_PEER_KEY) with PersistentKeepalive = 1, so a
#                         handshake follows within a second of connecting, plus LH_FAKE_PEERS
#                         peers nobody answers for (health "never"), so the peer browser has
#                         several rows. The wireguard-go peer sorts first by name.
#   LH_PROFILE2 ("office") one unreachable peer; listed, never connected by the tests.
#
# Every process is started here and stopped by PID; the namespaces carry this shell's PID in
# their names and are deleted by name. lh_cleanup undoes everything and may be called twice.
#
#   lh_setup                 topology, wireguard-go, service, profiles (aborts on plumbing errors)
#   lh_start_service         start the service again (same socket, state dir, interface)
#   lh_stop_service SIGNAL   signal the service, wait (bounded) for it; status in LH_SVC_RC
#   lh_ctl ARGS...           calnetctl against LH_SOCK
#   lh_log_clean             the service's log holds nothing but start and stop lines
#   lh_cleanup               stop everything, delete namespaces and the temp directory

LH_CALNETD=$(readlink -f "${CALNETD:-$(dirname "${BASH_SOURCE[0]}")/../../build/release/helper/calnetd}")
LH_CALNETCTL=$(readlink -f "${CALNETCTL:-$(dirname "${BASH_SOURCE[0]}")/../../build/release/app/calnetctl}")
# shellcheck source=../netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../netns.sh"
LH_TAG=$$
LH_NS_A="cn-app-a-$LH_TAG"
LH_NS_B="cn-app-b-$LH_TAG"
LH_IF_A="lha$LH_TAG"
LH_IF_A=${LH_IF_A:0:15}
LH_IF_B="lhb$LH_TAG"
LH_IF_B=${LH_IF_B:0:15}
LH_PROFILE=home
LH_PROFILE2=office
LH_ADDRESS=10.244.0.1/24
LH_FAKE_PEERS=${LH_FAKE_PEERS:-3}
LH_TMP=""
LH_SOCK=""
LH_LOG=""
LH_PEER_KEY=""
LH_SVC_PID=""
LH_SVC_RC=""
LH_WG_PID=""

# lh_wait SECONDS COMMAND... — poll every 0.1 s until COMMAND succeeds; 1 after SECONDS.
lh_wait() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

lh__gone() { ! kill -0 "$1" 2>/dev/null; }

lh_ctl() { "$LH_CALNETCTL" --socket "$LH_SOCK" "$@"; }

# The service runs in namespace a so its interface, routes and rules land there.
lh_start_service() {
  ip netns exec "$LH_NS_A" "$LH_CALNETD" --service --socket "$LH_SOCK" --state-dir "$LH_TMP/state" \
    --interface "$LH_IF_A" 2>>"$LH_LOG" &
  LH_SVC_PID=$!
  # The socket file may outlive a stopped service; an answer is what counts.
  if ! lh_wait 10 lh_ctl version; then
    echo "live_helper: calnetd --service did not answer on $LH_SOCK within 10 s" >&2
    tail -n 20 "$LH_LOG" >&2
    return 1
  fi
}

# shellcheck disable=SC2034 # LH_SVC_RC is for the sourcing script
lh_stop_service() {
  local sig=${1:-TERM} pid=$LH_SVC_PID
  LH_SVC_RC=""
  [[ -n $pid ]] || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  if ! lh_wait 15 lh__gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  LH_SVC_RC=0
  wait "$pid" 2>/dev/null || LH_SVC_RC=$?
  LH_SVC_PID=""
}

# Fails (and prints the log) if the service wrote anything but its own start and stop lines.
lh_log_clean() {
  if grep -v -E '^calnetd: service (listening on .*|stopped)$' "$LH_LOG"; then
    echo "live_helper: unexpected lines in the service log above" >&2
    return 1
  fi
}

lh__peer_block() { # KEY ENDPOINT ALLOWED [KEEPALIVE]
  printf '\n[Peer]\nPublicKey = %s\n' "$1"
  [[ -n $2 ]] && printf 'Endpoint = %s\n' "$2"
  printf 'AllowedIPs = %s\n' "$3"
  [[ -n ${4:-} ]] && printf 'PersistentKeepalive = %s\n' "$4"
  return 0
}

# A key pair whose public key starts with a character matching the glob $1 ("private public").
# The browser sorts peers by name, which for plain WireGuard peers is the key, so choosing the
# first character puts the wireguard-go peer in the first row (the screenshots select it).
lh__keypair_starting() {
  local key pub i
  for ((i = 0; i < 500; i++)); do
    key=$(wg genkey)
    pub=$(wg pubkey <<<"$key")
    # shellcheck disable=SC2053 # $1 is a glob on purpose
    if [[ ${pub:0:1} == $1 ]]; then
      printf '%s %s\n' "$key" "$pub"
      return 0
    fi
  done
  return 1
}

lh_setup() {
  local key_a key_b pub_a i pair
  [[ $(id -u) -eq 0 ]] || { echo "live_helper: needs root" >&2; return 1; }
  for f in "$LH_CALNETD" "$LH_CALNETCTL"; do
    [[ -x $f ]] || { echo "live_helper: missing $f" >&2; return 1; }
  done
  command -v wireguard-go >/dev/null || { echo "live_helper: wireguard-go missing" >&2; return 1; }
  command -v wg >/dev/null || { echo "live_helper: wg missing" >&2; return 1; }

  LH_TMP=$(mktemp -d /tmp/calnet-live.XXXXXX)
  LH_SOCK=$LH_TMP/run/calnetd.sock
  LH_LOG=$LH_TMP/service.log
  : >"$LH_LOG"

  netns_pair "$LH_NS_A" "lva$LH_TAG" 192.168.244.1/24 "$LH_NS_B" "lvb$LH_TAG" 192.168.244.2/24

  key_a=$(wg genkey)
  pub_a=$(wg pubkey <<<"$key_a")
  pair=$(lh__keypair_starting '[0-9]')
  key_b=${pair% *}
  LH_PEER_KEY=${pair#* }
  ip netns exec "$LH_NS_B" env WG_PROCESS_FOREGROUND=1 wireguard-go "$LH_IF_B" 2>/dev/null &
  LH_WG_PID=$!
  lh_wait 10 test -S "/var/run/wireguard/$LH_IF_B.sock" ||
    { echo "live_helper: wireguard-go made no UAPI socket" >&2; return 1; }
  ip netns exec "$LH_NS_B" wg set "$LH_IF_B" private-key <(echo "$key_b") listen-port 51820 \
    peer "$pub_a" allowed-ips 10.244.0.1/32
  ip -n "$LH_NS_B" addr add 10.244.0.2/24 dev "$LH_IF_B"
  ip -n "$LH_NS_B" link set "$LH_IF_B" up

  {
    printf '[Interface]\nPrivateKey = %s\nAddress = %s\n' "$key_a" "$LH_ADDRESS"
    lh__peer_block "$LH_PEER_KEY" 192.168.244.2:51820 10.244.0.2/32 1
    # Peers that never answer: some with an endpoint on the link where nobody listens, some
    # without one (they wait to be contacted). No keepalive, so no traffic goes their way.
    for ((i = 1; i <= LH_FAKE_PEERS; i++)); do
      local ep=""
      ((i % 2)) && ep="192.168.244.$((10 + i)):51820"
      pair=$(lh__keypair_starting '[a-zA-Z]')
      lh__peer_block "${pair#* }" "$ep" "10.244.0.$((10 + i))/32, 10.244.$((10 + i)).0/24"
    done
  } >"$LH_TMP/$LH_PROFILE.conf"
  {
    printf '[Interface]\nPrivateKey = %s\nAddress = 10.245.0.1/24\n' "$(wg genkey)"
    lh__peer_block "$(wg genkey | wg pubkey)" 192.168.244.99:51820 10.245.0.0/24 25
  } >"$LH_TMP/$LH_PROFILE2.conf"

  lh_start_service || return 1
  lh_ctl import "$LH_TMP/$LH_PROFILE.conf" --name "$LH_PROFILE" >/dev/null
  lh_ctl import "$LH_TMP/$LH_PROFILE2.conf" --name "$LH_PROFILE2" >/dev/null
}

lh_cleanup() {
  local pid
  for pid in $LH_SVC_PID $LH_WG_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $LH_SVC_PID $LH_WG_PID; do
    lh_wait 5 lh__gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  LH_SVC_PID=""
  LH_WG_PID=""
  ip netns del "$LH_NS_A" 2>/dev/null || true
  ip netns del "$LH_NS_B" 2>/dev/null || true
  rm -f "/var/run/wireguard/$LH_IF_B.sock"
  [[ -n $LH_TMP ]] && rm -rf "$LH_TMP"
  LH_TMP=""
}
