#!/usr/bin/env bash
# Builds the Linux packages into build/packages/:
#   calnet_<version>_amd64.deb         calnet-<version>-1.x86_64.rpm
#   calnet-server_<version>_amd64.deb  calnet-server-<version>-1.x86_64.rpm
# and, with --windows, the Windows installers next to them:
#   calnet-<version>-setup.exe (NSIS)  calnet-<version>.msi (wixl)
# from the `package` preset (RelWithDebInfo, no tests, no test hooks, prefix /usr) or, with
# `--preset release`, from the release tree (same flags: scripts/buildflags.sh), then checks
# them: lintian must report no error on the .debs; rpmlint's findings on the .rpms are printed.
# The packaging itself is installers/linux/ (CPack); tests/packaging/ installs the .deb into a
# clean Debian 12 root.
# --windows also cross-builds calnet.exe, calnetd.exe and calnetctl.exe in the `windows` preset
# (build/windows, with the SDK scripts/windows-sdk.sh extracts) and makes the two installers from
# them (scripts/windows-installers.sh, installers/windows/); tests/windows/test_installer_wine.sh
# installs and uninstalls both under Wine. Opt-in, because it needs the Windows SDK and its own
# build tree; without it no Windows file is left in build/packages.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
# --preset release: package the release tree scripts/test.sh has built and tested (its calnetd
# has no test hooks either: those are calnetd-testhooks, which no package ships).
preset=package
windows=0
while (($#)); do
  case $1 in
  --preset) preset=${2:?--preset needs a name (package or release)} && shift 2 ;;
  --windows) windows=1 && shift ;;
  *) echo "package: unknown option $1 (use --preset package|release, --windows)" >&2 && exit 2 ;;
  esac
done

# dpkg-shlibdeps, rpmbuild, lintian, rpmlint (and for --windows the mingw-w64 compiler, makensis,
# wixl). install-deps.sh calls apt-get, so only as root; otherwise the tools must be there already.
tools=(dpkg-shlibdeps rpmbuild lintian rpmlint)
deps=(--package)
if ((windows)); then
  tools+=(x86_64-w64-mingw32-g++-posix makensis wixl wixl-heat)
  deps+=(--windows)
fi
if [[ $EUID -eq 0 ]]; then
  scripts/install-deps.sh "${deps[@]}"
fi
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || {
    echo "package: $tool is missing (as root: scripts/install-deps.sh ${deps[*]})" >&2
    exit 1
  }
done
case $preset in
package | release) ;;
*) echo "package: --preset must be package or release, not $preset" >&2 && exit 2 ;;
esac
build=build/$preset
out=build/packages

source scripts/buildflags.sh
cmake --preset "$preset" "${CALNET_RELEASE_FLAGS[@]}" >/dev/null
# Only what the packages ship: the tests and tools are not part of the packages, and leaving
# them out saves most of the build on a small machine.
cmake --build "$build" -j "$jobs" --target calnetd calnetctl calnet calnet-server

# CPack's staging area stays in the build tree; only the packages land in $out.
rm -rf "$out" "$build/cpack"
mkdir -p "$out"
for generator in DEB RPM; do
  cpack --config "$build/CPackConfig.cmake" -G "$generator" -B "$build/cpack" >/dev/null
done
mv "$build"/cpack/*.deb "$build"/cpack/*.rpm "$out"/

echo "== lintian"
# --fail-on error: warnings and infos are shown, and each error fails the build. Overrides
# (with their reasons) are in installers/linux/debian/<package>/lintian-overrides.
lintian --fail-on error --display-info "$out"/*.deb
echo "== rpmlint (reported, not fatal: it checks against Fedora/openSUSE policy)"
rpmlint --config installers/linux/rpm/rpmlint.toml "$out"/*.rpm || true

if ((windows)); then
  echo "== Windows installers (NSIS, wixl) from the windows preset"
  scripts/windows-sdk.sh
  cmake --preset windows >/dev/null
  cmake --build build/windows -j "$jobs" --target calnet calnetctl calnetd
  version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' build/windows/CMakeCache.txt)
  scripts/windows-installers.sh build/windows "$out" "$version"
fi

echo "== packages in $out"
find "$out" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort
