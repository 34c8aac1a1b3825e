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
# The clean root, its cache and its cleanup: debroot.sh. test_booted.sh boots such a root
# and checks the services running.
set -euo pipefail

# shellcheck source=debroot.sh
source "$(dirname "${BASH_SOURCE[0]}")/debroot.sh"
debroot_begin pkgtest

# ---------------------------------------------------------------------------------------------
# Checks

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

echo "# apt-get update in the chroot"
T=600 in_root apt-get update -qq >"$work/apt-update.log" 2>&1 || {
    cat "$work/apt-update.log" >&2
    die "apt-get update in the chroot"
}

# --- calnet -------------------------------------------------------------------------------------
echo "# apt-get install ./$(basename "$deb")"
start=$SECONDS
if ! T=1200 in_root apt-get install -y -q --no-install-recommends "/var/tmp/$(basename "$deb")" \
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
T=300 in_root dpkg -i "/var/tmp/$(basename "$deb")" >"$work/dpkg-reinstall.log" 2>&1 || {
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
    "/var/tmp/$(basename "$server_deb")" >"$work/apt-server.log" 2>&1; then
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
