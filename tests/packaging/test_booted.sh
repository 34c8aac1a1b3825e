#!/usr/bin/env bash
# The packages on a running Debian 12 system: a clean root booted with systemd as PID 1
# (systemd-nspawn --boot), in a network namespace of the test's own, where `dpkg -i` must start
# the hardened units and they must do their work under their sandboxing:
#   - calnet-server.service answers, and with the admin token the options file describes, it
#     issues an auth key;
#   - calnetd.service is enabled and running after the install; a member of the calnet group may
#     import and connect, any other user only reads;
#   - as a member: a mesh node registered through the packaged server, then a full tunnel to a
#     wireguard-go peer, with traffic, a handshake and DNS through systemd-resolved;
#   - kill -9: systemd restarts calnetd, which brings the tunnel back; kill -9 and a stop within
#     the restart delay leave the network as before (ExecStopPost=calnetd --rollback);
#   - an upgrade (`dpkg -i` over it) restarts calnetd, which brings the tunnel back;
#   - `dpkg -r calnet` with the full tunnel up stops the unit, and the routes, rules, nftables
#     ruleset, links and src_valid_mark are exactly as before the install;
#   - `dpkg -r calnet-server` stops the server;
#   - then the .rpm packages' scriptlets on the same system (Debian's rpm, --nodeps: the
#     libraries are Debian's): `rpm -i` creates the group and the account and starts both units,
#     a full tunnel works and survives `rpm -U`, and `rpm -e` stops calnetd and leaves the
#     network as before. This checks the scriptlets under a real systemd; it is not an install
#     on an rpm distribution.
# test_deb_chroot.sh checks the files (and their removal) the .debs leave.
#
# usage: test_booted.sh                 (ctest -L packaging; scripts/package.sh first)
# env:   as debroot.sh; CALNET_RPM, CALNET_SERVER_RPM  other packages than build/packages/*.rpm
# needs: root, debootstrap, systemd-nspawn (systemd-container), wireguard-go, wg, nft, curl, and
#        the Debian mirror for the root's packages (the only traffic; the booted system has no
#        network but the test's namespaces).
#
# Everything is removed on exit, also on failure: the container by its nspawn PID (TERM, which
# shuts it down, then KILL), wireguard-go by PID, the two namespaces by name, then the root.
set -euo pipefail

# shellcheck source=debroot.sh
source "$(dirname "${BASH_SOURCE[0]}")/debroot.sh"
# shellcheck source=../netns.sh
source "$(dirname "${BASH_SOURCE[0]}")/../netns.sh"
# shellcheck source=../integration/checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/checks.sh"
debroot_begin pkgboot systemd-nspawn nsenter ip wireguard-go wg nft curl
rpm=${CALNET_RPM:-$(pick_one "$repo/build/packages/calnet-[0-9]*.x86_64.rpm")}
server_rpm=${CALNET_SERVER_RPM:-$(pick_one "$repo/build/packages/calnet-server-[0-9]*.x86_64.rpm")}
[[ -f $rpm && -f $server_rpm ]] ||
    die "no (single) calnet-*.x86_64.rpm and calnet-server-*.x86_64.rpm in $repo/build/packages"
cp "$rpm" "$server_rpm" "$root/var/tmp/"
chmod 0644 "$root/var/tmp/"*.rpm

tag=$$
ns_c="cn-pkg-c-$tag" # the booted system's network
ns_p="cn-pkg-p-$tag" # the wireguard-go peer
if_p="cpp$tag"
if_p=${if_p:0:15}
machine="calnet-pkg-$tag"
nspawn_pid=""
# shellcheck disable=SC2034 # set by peer_lab, read by the exit step
wg_pid=""
leader=""

# ---------------------------------------------------------------------------------------------
# The root: systemd, resolved and what the packages need, from the mirror, before the boot.

echo "# apt-get install systemd, systemd-resolved, nftables and the packages' dependencies"
T=600 in_root apt-get update -qq >"$work/apt-update.log" 2>&1 || {
    cat "$work/apt-update.log" >&2
    die "apt-get update in the root"
}
# The packages' own Depends (and calnet's Recommends nftables, which a full tunnel uses), not
# the packages: dpkg -i inside the booted system is what must start the units.
deps="$(dpkg-deb -f "$deb" Depends), $(dpkg-deb -f "$server_deb" Depends)"
apt_in_root "$work/apt-satisfy.log" satisfy -y -q --no-install-recommends \
    "$deps, systemd, systemd-sysv, systemd-resolved, dbus, iproute2, nftables, rpm" ||
    die "apt-get satisfy the packages' dependencies"
# The boot mounts its own /proc and /dev.
for m in $(mounts_under "$root"); do umount "$m"; done
# The test's files, where the boot's /tmp (a tmpfs) does not hide them.
mkdir -p "$root/var/tmp/calnet-test"

# ---------------------------------------------------------------------------------------------
# The network: the booted system (ns_c) <-> the peer (ns_p), as tests/integration/test_service.sh.

debroot_on_exit 'ip netns del "$ns_c" 2>/dev/null; ip netns del "$ns_p" 2>/dev/null'
debroot_on_exit 'stop_pid "$wg_pid"; rm -f "/var/run/wireguard/$if_p.sock"'
peer_lab "$ns_c" "vpc$tag" "$ns_p" "vpp$tag" "$if_p" 244
# The peer's addresses answer only through the tunnel: straight over the veth they are dropped,
# so traffic to them proves the tunnel (the booted system's default route leads here too).
ip netns exec "$ns_p" nft -f - <<EOF
table inet calnet_test {
    chain input {
        type filter hook input priority 0; policy accept;
        iifname "vpp$tag" ip daddr { 203.0.113.80, 10.244.0.2 } drop
    }
}
EOF

cat >"$root/var/tmp/calnet-test/full.conf" <<EOF
[Interface]
PrivateKey = $key_a
Address = 10.244.0.1/24
DNS = 10.244.0.53, corp.example

[Peer]
PublicKey = $pub_b
Endpoint = 198.51.100.2:51820
AllowedIPs = 0.0.0.0/0
PersistentKeepalive = 25
EOF
chmod 0644 "$root/var/tmp/calnet-test/full.conf"

# ---------------------------------------------------------------------------------------------
# The boot

# stop_container: TERM makes nspawn shut the system down; KILL (nspawn and every process it
# started, by PID, collected first) after 20 s.
descendants() {
    local c
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}
stop_container() {
    [[ -n $nspawn_pid ]] || return 0
    local pids i
    pids=$(descendants "$nspawn_pid")
    kill -TERM "$nspawn_pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$nspawn_pid" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL "$nspawn_pid" $pids 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
    nspawn_pid=""
}
debroot_on_exit stop_container

echo "# booting the root (systemd-nspawn --boot)"
# Not registered with machined (the host need not run systemd); the host's resolv.conf and
# time zone stay out; /dev/net/tun is the one device calnetd needs beyond nspawn's own, and
# CAP_NET_ADMIN, which nspawn leaves out of the system's bounding set when it is handed a
# namespace, is what any host's services may have.
systemd-nspawn --quiet --directory="$root" --machine="$machine" --boot \
    --register=no --keep-unit --network-namespace-path="/var/run/netns/$ns_c" \
    --capability=CAP_NET_ADMIN \
    --resolv-conf=off --timezone=off --link-journal=no --console=read-only \
    --bind=/dev/net/tun >"$work/boot.log" 2>&1 &
nspawn_pid=$!

# The system's PID 1: nspawn's descendant that is PID 1 in its own PID namespace.
find_leader() {
    local p
    for p in $(descendants "$nspawn_pid"); do
        [[ $(awk '/^NSpid:/ { print $3 }' "/proc/$p/status" 2>/dev/null) == 1 ]] && {
            leader=$p
            return 0
        }
    done
    return 1
}
for _ in $(seq 200); do find_leader && break; sleep 0.1; done
[[ -n $leader ]] || {
    cat "$work/boot.log" >&2
    die "no PID 1 under systemd-nspawn ($nspawn_pid) within 20 s"
}

# in_box COMMAND...: inside the booted system (all of PID 1's namespaces), bounded by $T seconds.
in_box() {
    timeout "${T:-60}" nsenter --target "$leader" --all /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@" &
    wait $!
}
# as USER COMMAND...: the same, as USER with USER's groups.
as() {
    local user=$1
    shift
    in_box setpriv --reuid="$user" --regid="$user" --init-groups "$@"
}

# Until PID 1 answers on its bus, then until the boot has finished.
state=""
for _ in $(seq 100); do
    state=$(T=90 in_box systemctl is-system-running --wait 2>&1) || true
    [[ $state == *"connect to bus"* ]] || break
    sleep 0.2
done
expect "the root boots with systemd ($state)" [ "$state" = running -o "$state" = degraded ]
[[ $state == running ]] || in_box systemctl --failed --no-pager >&2 || true

# What the tunnels must leave as they found it; taken from the host, in the system's namespace.
snapshot() {
    ip -n "$ns_c" -o link show | sed 's/^[0-9]*: //; s/ link\/.*//'
    ip -n "$ns_c" rule show
    ip -n "$ns_c" -6 rule show
    ip -n "$ns_c" route show table all | grep -v "^local fe80::\|^fe80::\|^multicast"
    ip netns exec "$ns_c" cat /proc/sys/net/ipv4/conf/all/src_valid_mark
    ip netns exec "$ns_c" nft list ruleset
}
before=$(snapshot)

unit_active() { [[ $(in_box systemctl is-active "$1" 2>/dev/null) == active ]]; }
# expect_unit UNIT DESCRIPTION COMMAND...: as expect, with the unit's journal when it fails.
expect_unit() {
    local unit=$1 what=$2
    shift 2
    if "$@"; then
        ok "$what"
    else
        fail "$what"
        in_box journalctl --no-pager -q -u "$unit" | tail -20 >&2 || true
    fi
}

# ---------------------------------------------------------------------------------------------
# calnet-server

T=300 in_box dpkg -i "/var/tmp/$(basename "$server_deb")" >"$work/dpkg-server.log" 2>&1 || {
    cat "$work/dpkg-server.log" >&2
    die "dpkg -i $(basename "$server_deb") in the booted system"
}
expect_unit calnet-server "dpkg -i calnet-server starts calnet-server.service" \
    wait_for 15 unit_active calnet-server
info_answers() {
    ip netns exec "$ns_c" curl -fsS --max-time 5 http://127.0.0.1:8080/api/v1/info | grep -q '"auth"'
}
expect_unit calnet-server "calnet-server answers GET /api/v1/info on 127.0.0.1:8080 (the packaged options)" \
    wait_for 15 info_answers

# The admin API, turned on as /etc/default/calnet-server's comments say.
enable_admin() {
    in_box sh -ec '
        head -c 32 /dev/urandom | base64 >/var/lib/calnet-server/admin-token
        chown calnet-server: /var/lib/calnet-server/admin-token
        chmod 0600 /var/lib/calnet-server/admin-token
        sed -i "s#^CALNET_SERVER_OPTS=\"\(.*\)\"#CALNET_SERVER_OPTS=\"\1 --admin-token-file /var/lib/calnet-server/admin-token\"#" /etc/default/calnet-server
        grep -q -- "--admin-token-file" /etc/default/calnet-server
        systemctl restart calnet-server'
}
expect "the admin token added to /etc/default/calnet-server, the server restarted" enable_admin
authkey=""
make_key() {
    wait_for 15 info_answers || return 1
    authkey=$(in_box calnet-server authkey create --admin-token-file \
        /var/lib/calnet-server/admin-token 2>&1 | grep -o 'calnet-auth-[A-Za-z0-9_-]*' | head -1)
    [[ -n $authkey ]]
}
expect_unit calnet-server "calnet-server authkey create issues a key through the admin API" make_key

# ---------------------------------------------------------------------------------------------
# calnet: started by its install, used by a member of the group and by another user

T=300 in_box dpkg -i "/var/tmp/$(basename "$deb")" >"$work/dpkg-calnet.log" 2>&1 || {
    cat "$work/dpkg-calnet.log" >&2
    die "dpkg -i $(basename "$deb") in the booted system"
}
expect_unit calnetd "dpkg -i calnet starts calnetd.service" wait_for 15 unit_active calnetd
expect "calnetd.service is enabled" quiet in_box systemctl is-enabled calnetd
expect "the control socket /run/calnet/calnetd.sock exists" \
    wait_for 10 in_box test -S /run/calnet/calnetd.sock

in_box useradd --create-home --groups calnet alice
in_box useradd --create-home mallory
expect "alice (group calnet) reaches calnetd: calnetctl version names $version" \
    output_has "$version" as alice calnetctl version
expect "mallory (no group) reads the status" quiet as mallory calnetctl status
denied_import() {
    local rc=0
    as mallory calnetctl import /var/tmp/calnet-test/full.conf >/dev/null 2>&1 || rc=$?
    [[ $rc == 4 ]] || {
        echo "mallory's import exited $rc, want 4" >&2
        return 1
    }
}
expect "mallory may not import (exit 4)" denied_import

# A mesh node, registered through the packaged server by a member of the group.
mesh_up() {
    local out
    out=$(T=60 as alice calnetctl up --server http://127.0.0.1:8080 --auth-key "$authkey" \
        --hostname packaged 2>&1) || {
        echo "$out" >&2
        return 1
    }
    out=$(as alice calnetctl status 2>&1)
    grep -q "^state: connected" <<<"$out" && grep -q "100\.\|fd7a:" <<<"$out" || {
        echo "$out" >&2
        return 1
    }
}
expect_unit calnetd "alice joins the mesh through calnet-server (calnetctl up --server --auth-key)" \
    mesh_up
node_listed() {
    in_box calnet-server nodes list --admin-token-file /var/lib/calnet-server/admin-token |
        grep -q packaged
}
expect "the server lists the node" node_listed
expect "alice: calnetctl down" quiet as alice calnetctl down

# A full tunnel to the wireguard-go peer: the hardened unit's TUN, routes, rules, nftables,
# src_valid_mark and DNS (systemd-resolved, over D-Bus). WHAT names the installation.
full_tunnel() {
    local what=$1
    expect "$what: alice imports the full tunnel" \
        quiet as alice calnetctl import /var/tmp/calnet-test/full.conf
    expect_unit calnetd "$what: alice: calnetctl up full" quiet as alice calnetctl up full
    ip netns exec "$ns_c" ping -c 1 -W 3 10.244.0.2 >/dev/null 2>&1 || true
    expect "$what: traffic through the full tunnel (ping 203.0.113.80)" \
        quiet ip netns exec "$ns_c" ping -c 3 -i 0.2 -W 2 203.0.113.80
    expect "$what: calnetctl peers shows a healthy handshake" \
        output_has "latest handshake: .* ago (healthy)" as alice calnetctl peers
    expect "$what: systemd-resolved has the profile's DNS server and domain on calnet0" dns_set
    expect "$what: the full tunnel changed routes and rules (the snapshot sees it)" changed
}
dns_set() {
    local out
    out=$(in_box resolvectl status calnet0 2>&1) || return
    grep -q "10.244.0.53" <<<"$out" && grep -q "corp.example" <<<"$out" || {
        echo "$out" >&2
        return 1
    }
}
changed() { [[ $(snapshot) != "$before" ]]; }
settled() { [[ $(snapshot) == "$before" ]]; }
# upgraded HOW COMMAND...: the upgrade (COMMAND) restarts calnetd, which brings the full tunnel
# back by itself.
main_pid() { in_box systemctl show --property=MainPID --value calnetd; }
tunnel_back() {
    output_has "^state: connected" as alice calnetctl status &&
        quiet ip netns exec "$ns_c" ping -c 1 -W 2 203.0.113.80
}
upgraded() {
    local how=$1 pid_before pid_after
    shift
    pid_before=$(main_pid)
    T=300 "$@" >"$work/upgrade.log" 2>&1 || {
        cat "$work/upgrade.log" >&2
        die "$how"
    }
    pid_after=$(main_pid)
    expect "$how restarts calnetd (main PID $pid_before, now $pid_after)" \
        [ "$pid_after" != "$pid_before" -a "$pid_after" != 0 ]
    expect "$how: the full tunnel is back within 15 s" wait_for 15 tunnel_back
}
full_tunnel deb

# A crash (kill -9): systemd's ExecStopPost undoes the journal at once and Restart= brings
# calnetd back, which reconnects. A stop inside the 2 s restart delay leaves nothing behind.
restarted_after_crash() {
    local pid_before=$1 pid
    pid=$(main_pid)
    [[ $pid != 0 && $pid != "$pid_before" ]]
}
crash_restarts() {
    local pid
    pid=$(main_pid)
    in_box systemctl kill --kill-whom=main --signal=SIGKILL calnetd || return 1
    wait_for 15 restarted_after_crash "$pid" && wait_for 15 tunnel_back
}
expect_unit calnetd "kill -9 of calnetd: systemd restarts it and the full tunnel comes back" \
    crash_restarts
crash_then_stop() {
    in_box sh -c 'systemctl kill --kill-whom=main --signal=SIGKILL calnetd &&
        systemctl stop calnetd' || return 1
    wait_for 10 settled
}
expect_unit calnetd "kill -9, then systemctl stop within the restart delay: the network as before" \
    crash_then_stop
in_box systemctl start calnetd
expect "systemctl start after that: the full tunnel comes back" wait_for 15 tunnel_back
upgraded "dpkg -i over the installed calnet (an upgrade)" \
    in_box dpkg -i "/var/tmp/$(basename "$deb")"

# ---------------------------------------------------------------------------------------------
# Removal with the tunnel up

T=300 in_box dpkg -r calnet >"$work/dpkg-r.log" 2>&1 || {
    cat "$work/dpkg-r.log" >&2
    die "dpkg -r calnet in the booted system"
}
inactive() { ! unit_active "$1"; }
no_dns() { ! in_box resolvectl status 2>/dev/null | grep -q "10.244.0.53"; }
# removed HOW: calnetd stopped, and the network as it was before the install.
removed() {
    local how=$1
    expect "$how stops calnetd.service" inactive calnetd
    if wait_for 10 settled; then
        ok "after $how: links, routes, rules, nftables and src_valid_mark as before"
    else
        fail "after $how: links, routes, rules, nftables and src_valid_mark as before"
        diff <(echo "$before") <(snapshot) >&2 || true
        in_box journalctl --no-pager -q -u calnetd | tail -30 >&2 || true
    fi
    expect "after $how: the tunnel's DNS server is gone from systemd-resolved" no_dns
}
removed "dpkg -r calnet"
T=300 in_box dpkg -P calnet >"$work/dpkg-p.log" 2>&1 || {
    cat "$work/dpkg-p.log" >&2
    die "dpkg -P calnet"
}
expect "dpkg -P calnet removes /var/lib/calnet" quiet in_box test ! -e /var/lib/calnet

T=300 in_box dpkg -r calnet-server >"$work/dpkg-r-server.log" 2>&1 || {
    cat "$work/dpkg-r-server.log" >&2
    die "dpkg -r calnet-server in the booted system"
}
expect "dpkg -r calnet-server stops calnet-server.service" inactive calnet-server
nothing_answers() { ! info_answers 2>/dev/null; }
expect "dpkg -r calnet-server: nothing answers on 127.0.0.1:8080" nothing_answers
T=300 in_box dpkg -P calnet-server >"$work/dpkg-p-server.log" 2>&1 || {
    cat "$work/dpkg-p-server.log" >&2
    die "dpkg -P calnet-server"
}

# ---------------------------------------------------------------------------------------------
# The .rpm scriptlets on the same system. Debian keeps the accounts the .debs made: they go
# first, so %post must make them again. Debian's rpm wants --force-debian.

in_box userdel calnet-server
in_box groupdel calnet
rpm_i() {
    T=300 in_box rpm -i --nodeps --force-debian "/var/tmp/$(basename "$1")" \
        >"$work/rpm-i.log" 2>&1 || {
        cat "$work/rpm-i.log" >&2
        die "rpm -i $(basename "$1") in the booted system"
    }
}
rpm_i "$server_rpm"
server_up() { quiet in_box getent passwd calnet-server && wait_for 15 info_answers; }
expect_unit calnet-server "rpm -i calnet-server: the account exists and the unit runs and answers" \
    server_up
rpm_i "$rpm"
expect_unit calnetd "rpm -i calnet starts calnetd.service" wait_for 15 unit_active calnetd
expect "rpm -i calnet enables calnetd.service" quiet in_box systemctl is-enabled calnetd
expect "rpm -i calnet creates the calnet group" quiet in_box getent group calnet
in_box usermod --append --groups calnet alice
full_tunnel rpm
upgraded "rpm -U --replacepkgs calnet (an upgrade)" \
    in_box rpm -U --replacepkgs --nodeps --force-debian "/var/tmp/$(basename "$rpm")"
T=300 in_box rpm -e --nodeps calnet >"$work/rpm-e.log" 2>&1 || {
    cat "$work/rpm-e.log" >&2
    die "rpm -e calnet"
}
removed "rpm -e calnet"
expect "rpm -e calnet disables calnetd.service" \
    quiet in_box test ! -e /etc/systemd/system/multi-user.target.wants/calnetd.service
T=300 in_box rpm -e --nodeps calnet-server >"$work/rpm-e-server.log" 2>&1 || {
    cat "$work/rpm-e-server.log" >&2
    die "rpm -e calnet-server"
}
expect "rpm -e calnet-server stops calnet-server.service" inactive calnet-server
no_failed_units() {
    local out
    out=$(in_box systemctl --failed --plain --no-legend) && [[ -z $out ]] || {
        echo "$out" >&2
        return 1
    }
}
expect "no failed units at the end" no_failed_units

if ((failures > 0)); then
    tail -40 "$work/boot.log" >&2
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all checks on the booted system passed"
