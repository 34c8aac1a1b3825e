# shellcheck shell=bash
# Sourced by the package tests (test_deb_chroot.sh, test_booted.sh): a clean Debian 12 root
# made from a cached debootstrap tarball in a fresh temporary directory, commands run inside it,
# and its cleanup on success, failure or interrupt.
#
# The clean root comes from `debootstrap --variant=minbase bookworm`, cached as a tarball keyed
# by debootstrap's arguments (a cold cache costs a few minutes, a warm one seconds) and unpacked
# into a fresh temporary directory each run. /proc and /dev are mounted into it; the EXIT trap
# runs the test's own cleanup steps (debroot_on_exit), kills what still runs inside the root (by
# PID, found through /proc/PID/root), unmounts everything under it and only then deletes it.
#
# env: CALNET_DEB, CALNET_SERVER_DEB  other packages than build/packages/*_amd64.deb
#      CALNET_CI_CACHE                where the debootstrap tarball is kept
#                                     (default /var/cache/calnet-ci)
#
# After `debroot_begin`: $repo, $deb, $server_deb, $version, $work (the temporary directory)
# and $root (the unpacked root, mounted), and the helpers below.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
skip_code=77 # SKIP_RETURN_CODE in tests/packaging/CMakeLists.txt

# shellcheck source=../checks.sh
source "$repo/tests/checks.sh"

# As tests/skip.h: a skip on a developer's machine, a failure where everything must run.
environment_skip() {
    if [[ ${CALNET_REQUIRE_PRIVILEGED:-} == 1 ]]; then
        echo "FAIL: CALNET_REQUIRE_PRIVILEGED=1 but: $*" >&2
        exit 1
    fi
    echo "SKIP: $*"
    exit "$skip_code"
}

die() {
    echo "FAIL: $*" >&2
    exit 1
}

# quiet COMMAND...: its output only when it fails.
quiet() {
    local out
    out=$("$@" 2>&1) || {
        echo "$out" >&2
        return 1
    }
}

pick_one() { # pick_one GLOB: the single file matching it, or nothing
    local matches=()
    mapfile -t matches < <(compgen -G "$1" || true)
    ((${#matches[@]} == 1)) && echo "${matches[0]}"
    return 0
}

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

# debroot_on_exit COMMAND: run by the EXIT trap before the root is torn down, last added first
# (a container stopped before the namespace it runs in is deleted).
exit_steps=()
debroot_on_exit() { exit_steps=("$1" "${exit_steps[@]}"); }

debroot_cleanup() {
    local rc=$? job step
    trap - EXIT INT TERM
    for step in "${exit_steps[@]}"; do eval "$step" || true; done
    # Our own background commands (timeout, debootstrap), by PID; timeout passes TERM on.
    for job in $(jobs -p); do kill -TERM "$job" 2>/dev/null || true; done
    teardown "$work" || rc=1
    exit "$rc"
}

# in_root COMMAND...: inside the root, bounded by $T seconds (default 120), in a clean
# environment so the host's leaks nothing in. Run in the background and waited for: bash runs a
# trap (INT, TERM) only after a foreground command ends, but interrupts `wait` at once, so an
# interrupted run cleans up now, not after apt.
in_root() {
    timeout "${T:-120}" chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" &
    wait $!
}

installed() { # installed PACKAGE: dpkg's status is "install ok installed"
    [[ $(in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}
not_known() { # not_known PACKAGE: purged (dpkg knows nothing of it, or "not-installed")
    local s
    s=$(in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 0
    [[ $s == *not-installed ]]
}

# debroot_begin TAG [TOOL...]: the checks every package test needs (root, tools, the packages),
# then the temporary directory /tmp/calnet-TAG.XXXXXX with its EXIT trap, and the clean root in
# it.
debroot_begin() {
    local tag=$1 tool f stale
    shift
    [[ $EUID -eq 0 ]] || environment_skip "needs root (chroot, mount)"
    for tool in debootstrap chroot mount umount flock timeout dpkg-deb "$@"; do
        command -v "$tool" >/dev/null ||
            environment_skip "$tool is missing (as root: scripts/install-deps.sh --package)"
    done

    deb=${CALNET_DEB:-$(pick_one "$repo/build/packages/calnet_*_amd64.deb")}
    server_deb=${CALNET_SERVER_DEB:-$(pick_one "$repo/build/packages/calnet-server_*_amd64.deb")}
    for f in "$deb" "$server_deb"; do
        if [[ -z $f ]]; then
            die "no (single) calnet_*_amd64.deb and calnet-server_*_amd64.deb in" \
                "$repo/build/packages: run scripts/package.sh first"
        elif [[ ! -f $f ]]; then
            die "$f does not exist"
        fi
    done
    version=$(dpkg-deb -f "$deb" Version)
    echo "# packages: $(basename "$deb") $(basename "$server_deb") (version $version)"

    # A run killed outright (SIGKILL, as on a CTest timeout) cannot run its trap: its directory,
    # with the PID of its shell, is cleaned up by the next run once that PID is gone.
    for stale in /tmp/calnet-"$tag".*; do
        [[ -f $stale/pid ]] || continue
        kill -0 "$(cat "$stale/pid")" 2>/dev/null && continue
        echo "# cleanup: $stale, left by a run that was killed" >&2
        teardown "$stale" || exit 1
    done

    # Canonical, so the mount table (which holds real paths) matches it in cleanup.
    work=$(realpath "$(mktemp -d "/tmp/calnet-$tag.XXXXXX")")
    echo $$ >"$work/pid"
    root=$work/root
    mkdir -p "$root"
    trap debroot_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    debroot_unpack
}

debroot_unpack() {
    local suite=bookworm mirror=http://deb.debian.org/debian arch cache_dir cache_key tarball
    local apt_cache cache_max_days=30 start bootstrap
    arch=$(dpkg --print-architecture)
    local bootstrap_args=(--variant=minbase --arch="$arch" "$suite")
    cache_dir=${CALNET_CI_CACHE:-/var/cache/calnet-ci}
    cache_key=$(printf '%s\n' "${bootstrap_args[@]}" "$mirror" | sha256sum | cut -c1-16)
    tarball=$cache_dir/debootstrap-$suite-$arch-$cache_key.tar.gz
    # Downloaded packages (Qt and the rest) are kept too, so a warm run downloads only indexes.
    apt_cache=$cache_dir/apt-archives-$suite-$arch

    # The tarball: made under a lock (parallel runs wait for one debootstrap, at most 30 min),
    # written to a temporary name and renamed, so a broken run never leaves half a cache; after
    # cache_max_days it is bootstrapped anew, so its packages stay near the mirror's.
    mkdir -p "$cache_dir" "$apt_cache"
    exec 9>"$cache_dir/lock"
    flock -w 1800 9 || die "$cache_dir/lock held for 30 minutes"
    find "$cache_dir" -maxdepth 1 -name "$(basename "$tarball")" -mtime +"$cache_max_days" -delete
    if [[ ! -f $tarball ]]; then
        echo "# cache: bootstrapping $suite ($(date -u +%T), a few minutes)"
        start=$SECONDS
        bootstrap=$work/bootstrap
        timeout 1500 debootstrap "${bootstrap_args[@]}" "$bootstrap" "$mirror" \
            >"$work/debootstrap.log" 2>&1 &
        if ! wait $!; then
            tail -30 "$work/debootstrap.log" >&2
            die "debootstrap ${bootstrap_args[*]} $mirror"
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
    cp "$deb" "$server_deb" "$root/var/tmp/"
    chmod 0644 "$root/var/tmp/"*.deb
}

# apt_in_root LOG ARGS...: apt-get ARGS in the root (up to 20 min), its log's tail on failure.
apt_in_root() {
    local log=$1
    shift
    T=1200 in_root apt-get "$@" >"$log" 2>&1 || {
        tail -40 "$log" >&2
        return 1
    }
}
