#!/usr/bin/env bash
# test_interop.sh — calnetd against itself and against wireguard-go, on real TUN devices in
# network namespaces that this script creates and removes (topology: lib.sh).
#
# For every pair of implementations (side a, side b), every initiator (the side configured
# with the other's endpoint; the responder has none and must learn it) and every outer
# transport family (IPv4, IPv6), on a fresh pair of namespaces and daemons:
#
#   start + configure → responder has no endpoint → ping inner IPv4/IPv6 both ways
#   → responder learned the initiator's endpoint → fresh latest-handshakes on both sides
#   → full-size packets (DF) both ways → TCP transfer each way, checked by SHA-256
#   → `wg show transfer` counters agree → packets from outside AllowedIPs are dropped
#   → initiator roams (new address + new listen port), responder follows
#   → responder roams, initiator follows → initiator switches outer family, responder follows
#   → SIGTERM each daemon: exit status 0, no process, interface or UAPI socket left.
#
# Usage: test_interop.sh [--pairs "A:B ..."] [--self-check] [--families "4 6"]
#                        [--initiators "a b"] [--transfer-mib N] [--inject-failure check|abort]
# Environment: CALNETD (binary; default build/release/helper/calnetd), WIREGUARD_GO,
#   IMPL_A / IMPL_B (run the single pair IMPL_A:IMPL_B), CN_SELF_CHECK=1 (= --self-check:
#   wireguard-go:wireguard-go only, to check the harness itself), LOG_LEVEL (passed to daemons).
# Default pairs: calnetd:calnetd calnetd:wireguard-go (both initiators cover the reverse roles).
# Prints TAP-style lines and ends with "integration: N passed, M failed"; exit 0 iff M = 0.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

PAIRS="calnetd:calnetd calnetd:wireguard-go"
if [[ -n ${IMPL_A:-} || -n ${IMPL_B:-} ]]; then
  PAIRS="${IMPL_A:-calnetd}:${IMPL_B:-calnetd}"
fi
if [[ ${CN_SELF_CHECK:-0} == 1 ]]; then
  PAIRS="wireguard-go:wireguard-go"
fi
FAMILIES="4 6"
INITIATORS="a b"
TRANSFER_MIB=64
INJECT=""
while [[ $# -gt 0 ]]; do
  case $1 in
  --pairs) PAIRS=$2 && shift 2 ;;
  --self-check) PAIRS="wireguard-go:wireguard-go" && shift ;;
  --families) FAMILIES=$2 && shift 2 ;;
  --initiators) INITIATORS=$2 && shift 2 ;;
  --transfer-mib) TRANSFER_MIB=$2 && shift 2 ;;
  --inject-failure) INJECT=$2 && shift 2 ;;
  -h | --help) usage && exit 0 ;;
  *) echo "unknown argument: $1" >&2 && usage >&2 && exit 2 ;;
  esac
done

# Addresses a side adds to its own tunnel interface to send from outside its peer's AllowedIPs.
FOREIGN4=10.241.9.1
FOREIGN6=fd00:abcd::9
# Where sides roam to (outer addresses are per family; ports are shared by both families).
declare -A ROAM4=([a]=192.168.241.11 [b]=192.168.241.12)
declare -A ROAM6=([a]=fd00:241::11 [b]=fd00:241::12)
declare -A ROAM_PORT=([a]=42001 [b]=42002)

# ---------------------------------------------------------------------------------------------
# Check bodies. Each runs in a subshell with errexit (see lib.sh `check`); SIDE is a or b.

t_fail() {
  cn_diag "injected failure"
  return 1
}

t_preflight() {
  local -A impls=()
  local p
  for p in $PAIRS; do
    impls[${p%%:*}]=1
    impls[${p##*:}]=1
  done
  cn_preflight "${!impls[@]}"
}

# The responder must start without an endpoint, so that it has to learn one.
t_no_endpoint() {
  expect_eq "$(cn_wg_peer_field "$1" endpoints)" "(none)" "${CN_IMPL[$1]} endpoint before traffic"
}

t_ping_first() { cn_ping "$@"; }
t_ping() { cn_ping_all "$@"; }

t_full_size() {
  local side=$1 fam=$2 size
  if [[ $fam == 4 ]]; then
    size=$((CN_MTU - 20 - 8)) # 1392
    cn_ping_all "$side" 4 "${CN_IN4[${CN_OTHER[$side]}]}" -M "do" -s "$size"
  else
    size=$((CN_MTU - 40 - 8)) # 1372
    cn_ping_all "$side" 6 "${CN_IN6[${CN_OTHER[$side]}]}" -M "do" -s "$size"
  fi
}

# The side without an endpoint learned the initiator's outer address and listen port.
t_learned_endpoint() {
  local side=$1 fam=$2 other=${CN_OTHER[$1]}
  cn_wait_endpoint "$side" "$(cn_endpoint_str "$(cn_outer_addr "$other" "$fam")" "${CN_PORT[$other]}")"
}

t_handshake_fresh() {
  local side t now
  for side in a b; do
    t=$(cn_wg_peer_field "$side" latest-handshakes)
    now=$(date +%s)
    if ! [[ $t =~ ^[0-9]+$ ]] || ((t == 0 || t > now + 1 || now - t > 10)); then
      cn_diag "${CN_IMPL[$side]} latest-handshake is '$t', now is $now (want within 10 s)"
      return 1
    fi
  done
}

t_transfer() {
  cn_tcp_transfer "$1" "$2" "$3" "$PAYLOAD" "$PAYLOAD_SHA"
}

# `wg show transfer` counts what each side sent and received. After the transfers each side
# has received at least the payload, and never more than the other side sent (plus a keepalive
# in flight between the two reads). Sent and received differ by UDP packets lost under the TCP
# flood, so the exact comparison uses a quiet exchange: 20 echo requests and replies, after
# which what one side counted as sent the other counted as received (within 5 % + 128 bytes,
# as the two are read at different moments).
t_counters() {
  local arx atx brx btx arx1 atx1 brx1 btx1 min=$((TRANSFER_MIB * 1024 * 1024)) ok=0 d1 d2
  read -r arx atx <<<"$(cn_wg_peer_field a transfer)"
  read -r brx btx <<<"$(cn_wg_peer_field b transfer)"
  cn_log "transfer: ${CN_IMPL[a]} rx $arx tx $atx; ${CN_IMPL[b]} rx $brx tx $btx"
  ((arx >= min && brx >= min)) || ok=1
  ((brx <= atx + 256 && arx <= btx + 256)) || ok=1
  if ((ok != 0)); then
    cn_diag "after ${TRANSFER_MIB} MiB each way: want rx >= $min on both sides and rx <= peer's tx"
    return 1
  fi
  cn_in a timeout 20 ping -4 -n -q -c 20 -i 0.05 -W 2 "${CN_IN4[b]}" >/dev/null
  read -r arx1 atx1 <<<"$(cn_wg_peer_field a transfer)"
  read -r brx1 btx1 <<<"$(cn_wg_peer_field b transfer)"
  d1=$(((atx1 - atx) - (brx1 - brx)))
  d2=$(((btx1 - btx) - (arx1 - arx)))
  cn_log "20 pings: ${CN_IMPL[a]} tx +$((atx1 - atx)) rx +$((arx1 - arx));" \
    "${CN_IMPL[b]} tx +$((btx1 - btx)) rx +$((brx1 - brx))"
  ((atx1 - atx >= 20 * 84 && btx1 - btx >= 20 * 84)) || ok=1
  ((d1 * d1 <= (128 + (atx1 - atx) / 20) ** 2)) || ok=1
  ((d2 * d2 <= (128 + (btx1 - btx) / 20) ** 2)) || ok=1
  if ((ok != 0)); then
    cn_diag "20 echo requests/replies (84 bytes each before encryption): a→b tx/rx differ by $d1, b→a by $d2"
    return 1
  fi
}

# A packet that decrypts but whose inner source is outside the sender's AllowedIPs must not
# reach the receiver's stack. Evidence, in the receiver's namespace: a packet counter on its
# TUN sees no packet from the foreign sources, and its kernel's ICMP InEchos counts only the
# allowed echo requests, while its `wg show transfer` rx grows (the foreign packets did arrive
# and authenticate, so the test is not passing by accident). The allowed source's pings, sent
# in the same window, show the counters do move.
t_source_filter() {
  local x=$1 y=${CN_OTHER[$1]} wrx0 wrx1 e40 e41 e42 e60 e61 e62 _ seen n
  # Remove the foreign addresses whatever happens (this runs in the check's subshell): as
  # longer-prefix matches they would become the source of later IPv6 pings.
  trap 'cn_in "$x" ip addr del "$FOREIGN4/32" dev "${CN_IF[$x]}" 2>/dev/null || true
    cn_in "$x" ip addr del "$FOREIGN6/128" dev "${CN_IF[$x]}" 2>/dev/null || true' EXIT
  cn_in "$x" ip addr add "$FOREIGN4/32" dev "${CN_IF[$x]}"
  cn_in "$x" ip addr add "$FOREIGN6/128" dev "${CN_IF[$x]}" nodad
  cn_sniff_start "$y" "$FOREIGN4" "$FOREIGN6" "${CN_IN4[$x]}" "${CN_IN6[$x]}"
  read -r wrx0 _ <<<"$(cn_wg_peer_field "$y" transfer)"
  e40=$(cn_icmp_in_echos "$y" 4)
  e60=$(cn_icmp_in_echos "$y" 6)
  if cn_in "$x" timeout 10 ping -4 -n -q -c 3 -i 0.2 -W 1 -I "$FOREIGN4" "${CN_IN4[$y]}" >/dev/null; then
    cn_diag "echo reply to a request from $FOREIGN4"
    return 1
  fi
  if cn_in "$x" timeout 10 ping -6 -n -q -c 3 -i 0.2 -W 1 -I "$FOREIGN6" "${CN_IN6[$y]}" >/dev/null; then
    cn_diag "echo reply to a request from $FOREIGN6"
    return 1
  fi
  read -r wrx1 _ <<<"$(cn_wg_peer_field "$y" transfer)"
  e41=$(cn_icmp_in_echos "$y" 4)
  e61=$(cn_icmp_in_echos "$y" 6)
  cn_ping_all "$x" 4 "${CN_IN4[$y]}" -I "${CN_IN4[$x]}"
  cn_ping_all "$x" 6 "${CN_IN6[$y]}" -I "${CN_IN6[$x]}"
  e42=$(cn_icmp_in_echos "$y" 4)
  e62=$(cn_icmp_in_echos "$y" 6)
  cn_sniff_stop
  seen=$(cat -- "$SNIFF_OUT")
  cn_log "packets into ${CN_IMPL[$y]}'s TUN by source: ${seen//$'\n'/, }"
  expect_eq "$(awk -v a="$FOREIGN4" '$1 == a { print $2 }' <<<"$seen")" 0 \
    "packets from $FOREIGN4 that ${CN_IMPL[$y]} delivered"
  expect_eq "$(awk -v a="$FOREIGN6" '$1 == a { print $2 }' <<<"$seen")" 0 \
    "packets from $FOREIGN6 that ${CN_IMPL[$y]} delivered"
  expect_eq "$((e41 - e40)) $((e61 - e60))" "0 0" \
    "IPv4 and IPv6 echo requests from foreign sources reaching the kernel"
  expect_eq "$((e42 - e41)) $((e62 - e61))" "3 3" \
    "IPv4 and IPv6 echo requests from the allowed sources reaching the kernel"
  n=$(awk -v a="${CN_IN4[$x]}" -v b="${CN_IN6[$x]}" '$1 == a || $1 == b { n += $2 } END { print n + 0 }' <<<"$seen")
  if ((n < 6)); then
    cn_diag "packet counter saw $n of the 6 allowed echo requests: it is not working"
    return 1
  fi
  if ((wrx1 - wrx0 < 6 * 84)); then
    cn_diag "${CN_IMPL[$y]} rx grew by $((wrx1 - wrx0)) bytes only: the foreign packets never arrived, test inconclusive"
    return 1
  fi
}

# SIDE moves to a new outer address (FAMILY) and a new listen port, then sends one packet; its
# peer's endpoint must follow (WireGuard roaming: the last authenticated source wins).
t_roam() {
  local side=$1 fam=$2 new=$3 port=$4 other=${CN_OTHER[$1]} old rc=0 src dst
  old=$(cn_outer_addr "$side" "$fam")
  if [[ $fam == 4 ]]; then
    cn_in "$side" ip addr del "$old/24" dev out0
    cn_in "$side" ip addr add "$new/24" dev out0
    src=${CN_IN4[$side]} dst=${CN_IN4[$other]}
  else
    cn_in "$side" ip addr del "$old/64" dev out0
    cn_in "$side" ip addr add "$new/64" dev out0 nodad
    src=${CN_IN6[$side]} dst=${CN_IN6[$other]}
  fi
  cn_wg "$side" set "${CN_IF[$side]}" listen-port "$port"
  # One echo request: the reply can only come back if the peer followed.
  cn_in "$side" timeout 10 ping "-$fam" -n -q -c 1 -W 3 -I "$src" "$dst" >/dev/null || rc=$?
  cn_wait_endpoint "$other" "$(cn_endpoint_str "$new" "$port")"
  expect_eq "$rc" 0 "ping status after roaming"
}

# SIDE points its peer at the other side's address of the other family; one packet later the
# other side must send back over that family.
t_switch_family() {
  local side=$1 fam=$2 other=${CN_OTHER[$1]} rc=0
  cn_set_endpoint "$side" "$fam"
  cn_in "$side" timeout 10 ping -4 -n -q -c 1 -W 3 -I "${CN_IN4[$side]}" "${CN_IN4[$other]}" \
    >/dev/null || rc=$?
  cn_wait_endpoint "$other" "$(cn_endpoint_str "$(cn_outer_addr "$side" "$fam")" "${CN_PORT[$side]}")"
  expect_eq "$rc" 0 "ping status after switching outer family"
}

# ---------------------------------------------------------------------------------------------

# scenario IMPL_A IMPL_B INITIATOR FAMILY
scenario() {
  local ia=$1 ib=$2 x=$3 fam=$4 y ofam side pid
  y=${CN_OTHER[$x]}
  ofam=$((fam == 4 ? 6 : 4))
  local L="[a=$ia b=$ib, $x initiates, outer IPv$fam]"
  local I="$x→$y" R="$y→$x"
  cn_log "scenario $L"
  cn_pair_up "$ia" "$ib"
  local resp=${CN_IMPL[$y]}
  cn_log "netns ${CN_NS[a]} ${CN_NS[b]}, interfaces ${CN_IF[a]} ${CN_IF[b]}"

  check "$L daemons start and accept configuration" cn_pair_ok
  if ((CN_LAST_RC == 0)); then
    if [[ $INJECT == abort && $CN_SEQ == 1 ]]; then
      cn_diag "injected harness abort"
      false
    fi
    [[ $INJECT == check && $CN_SEQ == 1 ]] && check "$L injected failure" t_fail
    check "$L responder $y has no endpoint" t_no_endpoint "$y"
    check "$L initiator $x sets endpoint" cn_set_endpoint "$x" "$fam"
    check "$L ping IPv4 inner $I (handshake)" t_ping_first "$x" 4 "${CN_IN4[$y]}"
    if ((CN_LAST_RC == 0)); then
      check "$L ping IPv4 inner $I" t_ping "$x" 4 "${CN_IN4[$y]}"
      check "$L ping IPv4 inner $R" t_ping "$y" 4 "${CN_IN4[$x]}"
      check "$L ping IPv6 inner $I" t_ping "$x" 6 "${CN_IN6[$y]}"
      check "$L ping IPv6 inner $R" t_ping "$y" 6 "${CN_IN6[$x]}"
      check "$L responder learned initiator endpoint" t_learned_endpoint "$y" "$fam"
      check "$L latest-handshakes fresh on both sides" t_handshake_fresh
      check "$L full-size IPv4 (DF, MTU $CN_MTU) $I" t_full_size "$x" 4
      check "$L full-size IPv4 (DF, MTU $CN_MTU) $R" t_full_size "$y" 4
      check "$L full-size IPv6 (DF, MTU $CN_MTU) $I" t_full_size "$x" 6
      check "$L full-size IPv6 (DF, MTU $CN_MTU) $R" t_full_size "$y" 6
      check "$L TCP ${TRANSFER_MIB} MiB $I, SHA-256 equal" t_transfer "$x" "$y" "$fam"
      check "$L TCP ${TRANSFER_MIB} MiB $R, SHA-256 equal" t_transfer "$y" "$x" "$fam"
      check "$L transfer counters agree" t_counters
      check "$L $y ($resp) drops inner sources outside AllowedIPs of $x" t_source_filter "$x"
      local to_x to_y
      if [[ $fam == 4 ]]; then to_x=${ROAM4[$x]}; else to_x=${ROAM6[$x]}; fi
      check "$L initiator $x roams to $to_x port ${ROAM_PORT[$x]}, $y follows" \
        t_roam "$x" "$fam" "$to_x" "${ROAM_PORT[$x]}"
      roamed "$x" "$fam" "$to_x" "${ROAM_PORT[$x]}"
      if [[ $fam == 4 ]]; then to_y=${ROAM4[$y]}; else to_y=${ROAM6[$y]}; fi
      check "$L responder $y roams to $to_y port ${ROAM_PORT[$y]}, $x follows" \
        t_roam "$y" "$fam" "$to_y" "${ROAM_PORT[$y]}"
      roamed "$y" "$fam" "$to_y" "${ROAM_PORT[$y]}"
      check "$L initiator $x switches to outer IPv$ofam, $y follows" t_switch_family "$x" "$ofam"
    else
      for side in a b; do cn_dump_log "$side"; done
    fi
  fi

  for side in a b; do
    pid=${CN_PID[$side]}
    [[ -n $pid ]] || continue
    cn_daemon_stop "$side"
    check "$L SIGTERM ${CN_IMPL[$side]} ($side): exit 0, no process, interface or socket left" \
      cn_assert_stopped_clean "$side" "$pid"
  done
  cn_pair_down
}

# roamed SIDE FAMILY ADDR PORT — record the move t_roam made (it ran in a subshell).
roamed() {
  if [[ $2 == 4 ]]; then CN_OUT4[$1]=$3; else CN_OUT6[$1]=$3; fi
  CN_PORT[$1]=$4
}

main() {
  local start=$SECONDS pair fam x
  cn_init integration
  check "preflight: root, tools and binaries for pairs '$PAIRS'" t_preflight
  ((CN_LAST_RC == 0)) || cn_exit 1
  read -r PAYLOAD PAYLOAD_SHA <<<"$(cn_make_payload "$TRANSFER_MIB")"
  for pair in $PAIRS; do
    for x in $INITIATORS; do
      for fam in $FAMILIES; do
        scenario "${pair%%:*}" "${pair##*:}" "$x" "$fam"
      done
    done
  done
  cn_log "runtime $((SECONDS - start)) s"
}

main
