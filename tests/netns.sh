# shellcheck shell=bash
# Sourced by the shell tests that join two network namespaces of their own.

# netns_pair NS_A IF_A ADDR_A NS_B IF_B ADDR_B: two new namespaces joined by a veth pair, each end
# addressed and up, loopback up in both. No IPv6 link-local addresses on the veths: they would
# appear later, by themselves, and race a test's before/after comparison of routes. The caller
# deletes the namespaces (by name) when it is done.
netns_pair() {
    local ns dev addr side
    ip netns add "$1"
    ip netns add "$4"
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
    for side in "$1 $2 $3" "$4 $5 $6"; do
        read -r ns dev addr <<<"$side"
        ip -n "$ns" link set "$dev" addrgenmode none
        ip -n "$ns" addr add "$addr" dev "$dev"
        ip -n "$ns" link set lo up
        ip -n "$ns" link set "$dev" up
    done
}

# peer_lab NS_A VETH_A NS_B VETH_B WG_IF N: calnetd's side (NS_A) and a wireguard-go peer
# (NS_B) as an internet peer would be: 192.168.N.1 and .2 on the veth pair; behind the peer a
# network (203.0.113.80) and an endpoint reached through A's default route, as a VPS
# (198.51.100.2); wireguard-go WG_IF on port 51820 with 10.N.0.2/24, A's key as its peer
# (allowed 10.N.0.1/32). Sets key_a, pub_a, key_b, pub_b and wg_pid; the caller stops
# wireguard-go by that PID and removes /var/run/wireguard/WG_IF.sock.
peer_lab() {
    local ns_a=$1 veth_a=$2 ns_b=$3 veth_b=$4 wg_if=$5 n=$6 i
    netns_pair "$ns_a" "$veth_a" "192.168.$n.1/24" "$ns_b" "$veth_b" "192.168.$n.2/24"
    ip -n "$ns_b" addr add 203.0.113.80/32 dev lo
    ip -n "$ns_b" addr add 198.51.100.2/32 dev lo
    ip -n "$ns_a" route add default via "192.168.$n.2" dev "$veth_a"
    key_a=$(wg genkey)
    key_b=$(wg genkey)
    pub_a=$(wg pubkey <<<"$key_a")
    pub_b=$(wg pubkey <<<"$key_b")
    ip netns exec "$ns_b" env WG_PROCESS_FOREGROUND=1 wireguard-go "$wg_if" 2>/dev/null &
    wg_pid=$!
    for ((i = 0; i < 100; i++)); do
        [[ -S /var/run/wireguard/$wg_if.sock ]] && break
        sleep 0.1
    done
    [[ -S /var/run/wireguard/$wg_if.sock ]] || {
        echo "peer_lab: wireguard-go $wg_if did not start within 10 s" >&2
        return 1
    }
    ip netns exec "$ns_b" wg set "$wg_if" private-key <(echo "$key_b") listen-port 51820 \
        peer "$pub_a" allowed-ips "10.$n.0.1/32"
    ip -n "$ns_b" addr add "10.$n.0.2/24" dev "$wg_if"
    ip -n "$ns_b" link set "$wg_if" up
}
