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
