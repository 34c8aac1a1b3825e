#!/usr/bin/env bash
# The .deb packages as a user gets them: installed with apt into a clean Debian 12 (minbase)
# root, which must pull every dependency from the distribution; then the programs run, the
# units are enabled, the group and the account exist, the desktop files are there and valid;
# then `dpkg -r` leaves none of the packages' files behind and `dpkg -P` removes the state and
# the configuration.
#
# usage: test_deb_chroot.sh            (ctest -L packaging; scripts/package.sh first)
# env:   CALNET_DEB, CALNET_SERVER_DEB  other packages than build/packages/*_amd64.deb
#        CALNET_CI_CACHE                 where the debootstrap tarball is kept
#                                        (default /var/cache/calnet-ci)
# needs: root (chroot, mount), debootstrap, and the Debian mirror (the only traffic).
#
# The clean root comes from `debootstrap --variant=minbase bookworm`, cached as a tarball keyed
# by debootstrap's arguments (a cold cache costs a few minutes, a warm one seconds) and unpacked
# into a fresh temporary directory each run. /proc and /dev are mounted into it; the EXIT trap
# kills what still runs inside it (by PID, found through /proc/PID/root), unmounts everything
# under it and only then deletes it, on success, failure or interrupt.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
skip_code=77 # SKIP_RETURN_CODE in tests/packaging/CMakeLists.txt

# As tests/skip.h: a skip on a developer's machine, a failure where everything must run.
environment_skip() {
    if [[ ${CALNET_REQUIRE_PRIVILEGED:-} == 1 ]]; then
        echo "FAIL: CALNET_REQUIRE_PRIVILEGED=1 but: $*" >&2
        exit 1
    fi
    echo "SKIP: $*"
    exit "$skip_code"
}

[[ $EUID -eq 0 ]] || environment_skip "needs root (chroot, mount)"
for tool in debootstrap chroot mount umount flock timeout dpkg-deb; do
    command -v "$tool" >/dev/null ||
        environment_skip "$tool is missing (as root: scripts/install-deps.sh --package)"
done

pick_deb() { # pick_deb GLOB: the single file matching it, or nothing
    local matches=()
    mapfile -t matches < <(compgen -G "$1" || true)
    ((${#matches[@]} == 1)) && echo "${matches[0]}"
    return 0
}
deb=${CALNET_DEB:-$(pick_deb "$repo/build/packages/calnet_*_amd64.deb")}
server_deb=${CALNET_SERVER_DEB:-$(pick_deb "$repo/build/packages/calnet-server_*_amd64.deb")}
for f in "$deb" "$server_deb"; do
    if [[ -z $f ]]; then
        echo "FAIL: no (single) calnet_*_amd64.deb and calnet-server_*_amd64.deb in" \
            "$repo/build/packages: run scripts/package.sh first" >&2
        exit 1
    elif [[ ! -f $f ]]; then
        echo "FAIL: $f does not exist" >&2
        exit 1
    fi
done
version=$(dpkg-deb -f "$deb" Version)
echo "# packages: $(basename "$deb") $(basename "$server_deb") (version $version)"

# ---------------------------------------------------------------------------------------------
# The clean root, and its cleanup

suite=bookworm
mirror=http://deb.debian.org/debian
arch=$(dpkg --print-architecture)
bootstrap_args=(--variant=minbase --arch="$arch" "$suite")
cache_dir=${CALNET_CI_CACHE:-/var/cache/calnet-ci}
cache_key=$(printf '%s\n' "${bootstrap_args[@]}" "$mirror" | sha256sum | cut -c1-16)
tarball=$cache_dir/debootstrap-$suite-$arch-$cache_key.tar.gz
# Downloaded packages (Qt and the rest) are kept too, so a warm run downloads only indexes.
apt_cache=$cache_dir/apt-archives-$suite-$arch
cache_max_days=30 # then the root is bootstrapped anew, so its packages stay near the mirror's

mounts_under() { # mount points under $1, deepest first
    awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

pids_in() { # processes whose root directory is $1 (or under it)
    local p link
    for p in /proc/[0-9]*; do
        link=$(readlink "$p/root" 2>/dev/null) || continue
        [[ $link == "$1" || $link == "$1"/* ]] && echo "${p#/proc/}"
    done
    return 0
}

# teardown WORKDIR: what still runs chrooted under WORKDIR (apt, a maintainer script's child)
# gets TERM, then KILL, each by PID, within 5 s; everything mounted under it is unmounted; and
# only then is WORKDIR deleted. Never through a mount: a bind-mounted /dev would lose the
# host's device nodes. Returns 1 if something stays mounted.
teardown() {
    local dir=$1 pids=() i m
    mapfile -t pids < <(pids_in "$dir")
    if ((${#pids[@]} > 0)); then
        echo "# cleanup: stopping ${pids[*]} (still running in a chroot under $dir)" >&2
        kill -TERM "${pids[@]}" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            mapfile -t pids < <(pids_in "$dir")
            ((${#pids[@]} == 0)) && break
            sleep 0.1
        done
        ((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
    for m in $(mounts_under "$dir"); do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    if [[ -n $(mounts_under "$dir") ]]; then
        echo "FAIL: still mounted under $dir, left in place:" >&2
        mounts_under "$dir" >&2
        return 1
    fi
    rm -rf --one-file-system "$dir"
}

# A run killed outright (SIGKILL, as on a CTest timeout) cannot run its trap: its directory,
# with the PID of its shell, is cleaned up by the next run once that PID is gone.
for stale in /tmp/calnet-pkgtest.*; do
    [[ -f $stale/pid ]] || continue
    kill -0 "$(cat "$stale/pid")" 2>/dev/null && continue
    echo "# cleanup: $stale, left by a run that was killed" >&2
    teardown "$stale" || exit 1
done

# Canonical, so the mount table (which holds real paths) matches it in cleanup.
work=$(realpath "$(mktemp -d /tmp/calnet-pkgtest.XXXXXX)")
echo $$ >"$work/pid"
root=$work/root
mkdir -p "$root"

cleanup() {
    local rc=$? job
    trap - EXIT INT TERM
    # Our own background command (timeout, debootstrap), by PID; timeout passes TERM on.
    for job in $(jobs -p); do kill -TERM "$job" 2>/dev/null || true; done
    teardown "$work" || rc=1
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The tarball: made under a lock (parallel runs wait for one debootstrap, at most 30 min),
# written to a temporary name and renamed, so a broken run never leaves half a cache.
mkdir -p "$cache_dir" "$apt_cache"
exec 9>"$cache_dir/lock"
flock -w 1800 9 || {
    echo "FAIL: $cache_dir/lock held for 30 minutes" >&2
    exit 1
}
find "$cache_dir" -maxdepth 1 -name "debootstrap-$suite-$arch-$cache_key.tar.gz" \
    -mtime +"$cache_max_days" -delete
if [[ ! -f $tarball ]]; then
    echo "# cache: bootstrapping $suite ($(date -u +%T), a few minutes)"
    start=$SECONDS
    bootstrap=$work/bootstrap
    timeout 1500 debootstrap "${bootstrap_args[@]}" "$bootstrap" "$mirror" \
        >"$work/debootstrap.log" 2>&1 &
    if ! wait $!; then
        tail -30 "$work/debootstrap.log" >&2
        echo "FAIL: debootstrap ${bootstrap_args[*]} $mirror" >&2
        exit 1
    fi
    # Without debootstrap's downloaded .debs: the apt cache below keeps packages instead.
    tar --numeric-owner -C "$bootstrap" --exclude='./var/cache/apt/archives/*.deb' \
        -czf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$bootstrap"
    echo "# cache: $tarball made in $((SECONDS - start)) s"
else
    echo "# cache: $tarball"
fi
flock -u 9

tar --numeric-owner -C "$root" -xzf "$tarball"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind "$apt_cache" "$root/var/cache/apt/archives"
# Name resolution for the mirror.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$server_deb" "$root/tmp/"
chmod 0644 "$root/tmp/"*.deb

# Commands inside, each bounded; a clean environment so the host's leaks nothing in. Run in
# the background and waited for: bash runs a trap (INT, TERM) only after a foreground command
# ends, but interrupts `wait` at once, so an interrupted run cleans up now, not after apt.
in_root() {
    timeout "${T:-120}" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" &
    wait $!
}

# ---------------------------------------------------------------------------------------------
# Checks

# shellcheck source=../checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
# quiet COMMAND...: its output only when it fails.
quiet() {
    local out
    out=$("$@" 2>&1) || {
        echo "$out" >&2
        return 1
    }
}
die() {
    echo "FAIL: $*" >&2
    exit 1
}

# prints VERSION-CMD...: the command exits 0 and prints the package's version.
prints_version() {
    local out
    out=$(in_root "$@" 2>&1) || {
        echo "    $* exited non-zero: $out" >&2
        return 1
    }
    grep -qF "$version" <<<"$out" || {
        echo "    $* printed '$out', not $version" >&2
        return 1
    }
}

unit_file() { # the unit's path inside the root, /usr/lib or /lib
    local d
    for d in usr/lib lib; do
        [[ -f $root/$d/systemd/system/$1 ]] && {
            echo "$root/$d/systemd/system/$1"
            return 0
        }
    done
    return 1
}

# left_behind PACKAGE-LIST-FILE [KEEP...]: the package's files still on disk after removal,
# except KEEP (conffiles, which `dpkg -r` keeps by design). Directories count only when they
# are empty and no other package owns them (dpkg leaves shared ones such as /usr/bin).
left_behind() {
    local list=$1 path keep k
    shift
    while IFS= read -r path; do
        [[ -z $path || $path == /. ]] && continue
        keep=0
        for k in "$@"; do [[ $path == "$k" ]] && keep=1; done
        ((keep)) && continue
        if [[ -L $root$path || -f $root$path ]]; then
            echo "$path"
        elif [[ -d $root$path ]] && [[ -z $(ls -A "$root$path") ]] &&
            ! in_root dpkg-query -S "$path" >/dev/null 2>&1; then
            echo "$path/"
        fi
    done <"$list"
}

installed() { # installed PACKAGE: dpkg's status is "install ok installed"
    [[ $(in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}
not_known() { # not_known PACKAGE: purged (dpkg knows nothing of it, or "not-installed")
    local s
    s=$(in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 0
    [[ $s == *not-installed ]]
}

echo "# apt-get update in the chroot"
T=600 in_root apt-get update -qq >"$work/apt-update.log" 2>&1 || {
    cat "$work/apt-update.log" >&2
    die "apt-get update in the chroot"
}

# --- calnet -------------------------------------------------------------------------------------
echo "# apt-get install ./$(basename "$deb")"
start=$SECONDS
if ! T=1200 in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$deb")" \
    >"$work/apt-calnet.log" 2>&1; then
    tail -40 "$work/apt-calnet.log" >&2
    die "apt-get install ./$(basename "$deb") in a clean $suite root"
fi
ok "apt-get install ./$(basename "$deb") pulled its dependencies ($((SECONDS - start)) s)"
expect "calnet is installed" installed calnet

expect "calnetd --version prints $version" prints_version calnetd --version
# The packages come from the tree the tests ran (scripts/package.sh --preset release): its
# calnetd must not be the test-hook build, and calnetd-testhooks must not ship.
no_test_hooks() {
    local out
    out=$(in_root calnetd --version 2>&1) && [[ $out != *"test hooks"* ]] &&
        ! dpkg-deb -c "$deb" | grep -q 'calnetd-testhooks'
}
expect "calnetd is not a test-hook build and calnetd-testhooks is not shipped" no_test_hooks
expect "calnetctl --version prints $version" prints_version calnetctl --version
expect "calnet --version prints $version (offscreen)" \
    prints_version env QT_QPA_PLATFORM=offscreen calnet --version

unit=$(unit_file calnetd.service) || true
expect "calnetd.service installed in /usr/lib/systemd/system (or /lib)" [ -n "$unit" ]
expect "calnetd.service enabled (multi-user.target.wants)" \
    [ -L "$root/etc/systemd/system/multi-user.target.wants/calnetd.service" ]
expect "ExecStart runs calnetd --service with the documented socket and state dir" \
    grep -qx 'ExecStart=/usr/sbin/calnetd --service --socket /run/calnet/calnetd.sock --state-dir /var/lib/calnet' "${unit:-/dev/null}"
expect "group calnet exists (getent group calnet)" quiet in_root getent group calnet

id=io.calnet.Calnet
desktop=$root/usr/share/applications/$id.desktop
metainfo=$root/usr/share/metainfo/$id.metainfo.xml
expect "desktop file $id.desktop" [ -f "$desktop" ]
expect "metainfo $id.metainfo.xml" [ -f "$metainfo" ]
expect "icon hicolor/scalable/apps/$id.svg" [ -f "$root/usr/share/icons/hicolor/scalable/apps/$id.svg" ]
expect "man pages calnetd(8), calnetctl(1), calnet(1)" [ -f "$root/usr/share/man/man8/calnetd.8.gz" \
    -a -f "$root/usr/share/man/man1/calnetctl.1.gz" -a -f "$root/usr/share/man/man1/calnet.1.gz" ]
expect "copyright in /usr/share/doc/calnet" [ -f "$root/usr/share/doc/calnet/copyright" ]
if command -v desktop-file-validate >/dev/null; then
    expect "desktop-file-validate $id.desktop" desktop-file-validate "$desktop"
else
    echo "# desktop-file-validate not on the host: not run"
fi
if command -v appstreamcli >/dev/null; then
    expect "appstreamcli validate --no-net $id.metainfo.xml" \
        quiet timeout 60 appstreamcli validate --no-net "$metainfo"
else
    echo "# appstreamcli not on the host: not run"
fi

# An upgrade runs postinst with the old version ($2 set): the unit stays enabled, and without a
# running systemd nothing tries to restart it.
T=300 in_root dpkg -i "/tmp/$(basename "$deb")" >"$work/dpkg-reinstall.log" 2>&1 || {
    cat "$work/dpkg-reinstall.log" >&2
    die "dpkg -i over the installed calnet (the upgrade path)"
}
expect "after a reinstall calnetd.service is still enabled" \
    [ -L "$root/etc/systemd/system/multi-user.target.wants/calnetd.service" ]

# Removal: the file list first, then remove and look.
in_root dpkg-query -L calnet >"$work/calnet.list"
# State as calnetd would leave it, which only purge may delete.
mkdir -p "$root/var/lib/calnet/profiles" && echo test >"$root/var/lib/calnet/profiles/x.json"
T=300 in_root dpkg -r calnet >"$work/dpkg-r.log" 2>&1 || {
    cat "$work/dpkg-r.log" >&2
    die "dpkg -r calnet"
}
left=$(left_behind "$work/calnet.list")
expect "dpkg -r calnet leaves none of its $(wc -l <"$work/calnet.list") paths behind${left:+: $left}" \
    [ -z "$left" ]
expect "dpkg -r keeps the state in /var/lib/calnet (until purge)" [ -d "$root/var/lib/calnet" ]
T=300 in_root dpkg -P calnet >"$work/dpkg-p.log" 2>&1 || {
    cat "$work/dpkg-p.log" >&2
    die "dpkg -P calnet"
}
expect "dpkg -P calnet: dpkg knows it no more" not_known calnet
expect "dpkg -P calnet removes /var/lib/calnet" [ ! -e "$root/var/lib/calnet" ]
expect "dpkg -P calnet removes the enablement symlink" \
    [ ! -L "$root/etc/systemd/system/multi-user.target.wants/calnetd.service" ]
expect "dpkg -P calnet leaves no mask (/etc/systemd/system/calnetd.service)" \
    [ ! -L "$root/etc/systemd/system/calnetd.service" ]
# The group stays (Debian keeps system accounts: files may still belong to it).
in_root getent group calnet >/dev/null && echo "# group calnet kept after purge, as intended"

# --- calnet-server ------------------------------------------------------------------------------
echo "# apt-get install ./$(basename "$server_deb")"
start=$SECONDS
if ! T=1200 in_root apt-get install -y -q --no-install-recommends \
    "/tmp/$(basename "$server_deb")" >"$work/apt-server.log" 2>&1; then
    tail -40 "$work/apt-server.log" >&2
    die "apt-get install ./$(basename "$server_deb") in the $suite root"
fi
ok "apt-get install ./$(basename "$server_deb") pulled its dependencies ($((SECONDS - start)) s)"
expect "calnet-server --version prints $version" prints_version calnet-server --version
sunit=$(unit_file calnet-server.service) || true
expect "calnet-server.service installed" [ -n "$sunit" ]
expect "calnet-server.service enabled (multi-user.target.wants)" \
    [ -L "$root/etc/systemd/system/multi-user.target.wants/calnet-server.service" ]
expect "calnet-server.service reads /etc/default/calnet-server" \
    grep -qx 'EnvironmentFile=/etc/default/calnet-server' "${sunit:-/dev/null}"
expect "/etc/default/calnet-server installed" [ -f "$root/etc/default/calnet-server" ]
expect "/etc/default/calnet-server is a conffile" \
    grep -q '/etc/default/calnet-server' <<<"$(in_root dpkg-query -W -f='${Conffiles}' calnet-server)"
expect "system user calnet-server exists" quiet in_root getent passwd calnet-server
# The options file is the shell syntax systemd's EnvironmentFile reads, and its options are
# ones calnet-server accepts: `serve --help` must not be needed to find a typo.
opts=$(. "$root/etc/default/calnet-server" && echo "${CALNET_SERVER_OPTS:-}")
expect "CALNET_SERVER_OPTS set in /etc/default/calnet-server ($opts)" [ -n "$opts" ]

in_root dpkg-query -L calnet-server >"$work/server.list"
mkdir -p "$root/var/lib/calnet-server" && echo db >"$root/var/lib/calnet-server/calnet.db"
T=300 in_root dpkg -r calnet-server >"$work/dpkg-r-server.log" 2>&1 || {
    cat "$work/dpkg-r-server.log" >&2
    die "dpkg -r calnet-server"
}
left=$(left_behind "$work/server.list" /etc/default/calnet-server /etc/default)
expect "dpkg -r calnet-server leaves none of its files but the conffile${left:+: $left}" [ -z "$left" ]
expect "dpkg -r keeps the conffile /etc/default/calnet-server" [ -f "$root/etc/default/calnet-server" ]
expect "dpkg -r keeps the database in /var/lib/calnet-server" [ -f "$root/var/lib/calnet-server/calnet.db" ]
T=300 in_root dpkg -P calnet-server >"$work/dpkg-p-server.log" 2>&1 || {
    cat "$work/dpkg-p-server.log" >&2
    die "dpkg -P calnet-server"
}
expect "dpkg -P calnet-server: dpkg knows it no more" not_known calnet-server
expect "dpkg -P calnet-server removes /etc/default/calnet-server" \
    [ ! -e "$root/etc/default/calnet-server" ]
expect "dpkg -P calnet-server removes /var/lib/calnet-server" [ ! -e "$root/var/lib/calnet-server" ]
expect "dpkg -P calnet-server removes the enablement symlink" \
    [ ! -L "$root/etc/systemd/system/multi-user.target.wants/calnet-server.service" ]

# The kept packages: only what the mirror still has (the cache does not grow without bound).
T=120 in_root apt-get autoclean -qq >/dev/null 2>&1 || true

if ((failures > 0)); then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all packaging checks passed"
