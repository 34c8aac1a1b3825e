#!/usr/bin/env bash
# The desktop entry and the AppStream metainfo as a distribution and a software centre read them:
# both validate without errors or warnings, and the names they use (binary, icon, desktop id)
# are the ones the build really installs.
#
# usage: test_desktopfiles.sh SOURCE_DIR [BUILD_DIR]
#   With BUILD_DIR the project is installed into a scratch DESTDIR and the installed copies are
#   checked: Exec resolves to an installed program, Icon to an installed hicolor icon.
# needs: desktop-file-validate (desktop-file-utils), appstreamcli (appstream)
set -euo pipefail

src=${1:?usage: test_desktopfiles.sh SOURCE_DIR [BUILD_DIR]}
build=${2:-}
id=io.calnet.Calnet
desktop=$src/resources/linux/$id.desktop
metainfo=$src/resources/linux/$id.metainfo.xml
app_icon=$src/resources/icons/calnet.svg

# shellcheck source=../checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

for tool in desktop-file-validate appstreamcli; do
    command -v "$tool" >/dev/null || {
        echo "FAIL: $tool not installed (apt-get install desktop-file-utils appstream)" >&2
        exit 1
    }
done

# A key of the [Desktop Entry] group, untranslated.
desktop_key() {
    awk -v key="$2" '
        /^\[/ { group = $0; next }
        group == "[Desktop Entry]" && index($0, key "=") == 1 { print substr($0, length(key) + 2); exit }
    ' "$1"
}

# desktop-file-validate exits non-zero on errors only; its warnings (deprecated keys, unknown
# categories) are fixed rather than lived with, so any "error:" or "warning:" line fails.
# "hint:" lines are advice about optional keys and are shown, not counted.
validate_desktop() {
    local out
    out=$(desktop-file-validate "$1" 2>&1) || true
    [[ -n $out ]] && echo "$out"
    if grep -Eq ': (error|warning): ' <<<"$out"; then
        fail "desktop-file-validate $1"
    else
        ok "desktop-file-validate $1"
    fi
}

# --pedantic shows every hint so a reviewer sees them in the test log, but only E: and W: lines
# fail. Not --strict: that also fails on I: (info) issues, and the I: set grows with each
# AppStream release (1.0 turns several long-standing tags into infos), so the test would break on
# a newer distribution for metadata that is still valid. The one pedantic hint today is
# cid-contains-uppercase-letter: the reverse-DNS id io.calnet.Calnet deliberately matches the
# desktop file and icon names (the Flatpak / freedesktop convention).
validate_metainfo() {
    local out rc=0
    out=$(appstreamcli validate --no-net --pedantic "$1" 2>&1) || rc=$?
    echo "$out"
    if ((rc != 0)) || grep -Eq '^[EW]: ' <<<"$out"; then
        fail "appstreamcli validate $1 (exit $rc)"
    else
        ok "appstreamcli validate $1"
    fi
}

# One <tag>value</tag> from the metainfo (each of these tags appears once, on one line).
meta_tag() {
    sed -n "s:.*<$1[^>]*>\\([^<]*\\)</$1>.*:\\1:p" "$metainfo" | sed -n 1p
}

validate_desktop "$desktop"
validate_metainfo "$metainfo"

exec_line=$(desktop_key "$desktop" Exec)
exec_bin=${exec_line%% *}
icon=$(desktop_key "$desktop" Icon)

# Exec is a bare program name looked up in PATH, and that program is the CMake target `calnet`
# (add_executable in app/CMakeLists.txt), not calnetctl or calnetd.
expect "Exec is calnet (Exec=$exec_line)" [ "$exec_bin" = calnet ]
expect "app/CMakeLists.txt has add_executable($exec_bin ...)" \
    grep -Eq "add_executable\\(${exec_bin}[[:space:]]" "$src/app/CMakeLists.txt"

# Icon is a theme name (no path, no extension), equal to the desktop id as the icon theme and
# AppStream conventions expect; a mismatch shows a generic icon in menus and software centres.
expect "Icon is $id (Icon=$icon)" [ "$icon" = "$id" ]

# The metainfo must describe this desktop file and this binary.
expect "metainfo <id> is $id ($(meta_tag id))" [ "$(meta_tag id)" = "$id" ]
expect "metainfo <launchable> is $id.desktop ($(meta_tag launchable))" \
    [ "$(meta_tag launchable)" = "$id.desktop" ]
expect "metainfo <binary> is $exec_bin ($(meta_tag binary))" [ "$(meta_tag binary)" = "$exec_bin" ]
project_version=$(sed -n 's/^project(Calnet VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
expect "metainfo lists a <release> for the project version $project_version" \
    grep -q "<release version=\"$project_version\"" "$metainfo"

if [[ -n $build ]]; then
    destdir=$(mktemp -d)
    trap 'rm -rf "$destdir"' EXIT
    prefix=/usr
    if DESTDIR=$destdir cmake --install "$build" --prefix "$prefix" >"$destdir.log" 2>&1; then
        ok "cmake --install into a scratch DESTDIR"
    else
        cat "$destdir.log" >&2
        fail "cmake --install $build"
    fi
    rm -f "$destdir.log"
    root=$destdir$prefix
    inst_desktop=$root/share/applications/$id.desktop
    inst_meta=$root/share/metainfo/$id.metainfo.xml
    inst_icon=$root/share/icons/hicolor/scalable/apps/$icon.svg
    if [[ -f $inst_desktop ]]; then
        validate_desktop "$inst_desktop"
    else
        fail "installed share/applications/$id.desktop"
    fi
    expect "installed share/metainfo/$id.metainfo.xml" [ -f "$inst_meta" ]
    expect "Exec=$exec_bin resolves to an installed bin/$exec_bin" [ -x "$root/bin/$exec_bin" ]
    expect "Icon=$icon resolves to share/icons/hicolor/scalable/apps/$icon.svg, a copy of calnet.svg" \
        cmp -s "$inst_icon" "$app_icon"
    # The installed tree as AppStream's own tooling sees it: metainfo, desktop file and icon
    # found together under the prefix.
    out=$(appstreamcli validate-tree --no-net --pedantic "$root" 2>&1) && rc=0 || rc=$?
    echo "$out"
    if ((rc != 0)) || grep -Eq '^[EW]: ' <<<"$out"; then
        fail "appstreamcli validate-tree (exit $rc)"
    else
        ok "appstreamcli validate-tree"
    fi
fi

if ((failures > 0)); then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all desktop file checks passed"
