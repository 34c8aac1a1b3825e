#!/usr/bin/env bash
# Builds the Linux packages into build/packages/:
#   calnet_<version>_amd64.deb         calnet-<version>-1.x86_64.rpm
#   calnet-server_<version>_amd64.deb  calnet-server-<version>-1.x86_64.rpm
# from the `package` preset (RelWithDebInfo, no tests, no test hooks, prefix /usr) or, with
# `--preset release`, from the release tree (same flags: scripts/buildflags.sh), then checks
# them: lintian must report no error on the .debs; rpmlint's findings on the .rpms are printed.
# The packaging itself is installers/linux/ (CPack); tests/packaging/ installs the .deb into a
# clean Debian 12 root.
set -euo pipefail
cd "$(dirname "$0")/.."

# dpkg-shlibdeps, rpmbuild, lintian, rpmlint. install-deps.sh calls apt-get, so only as root;
# otherwise the tools must be there already.
if [[ $EUID -eq 0 ]]; then
  scripts/install-deps.sh --package
fi
for tool in dpkg-shlibdeps rpmbuild lintian rpmlint; do
  command -v "$tool" >/dev/null || {
    echo "package: $tool is missing (as root: scripts/install-deps.sh --package)" >&2
    exit 1
  }
done

jobs=$(nproc)
# --preset release: package the release tree scripts/test.sh has built and tested (its calnetd
# has no test hooks either: those are calnetd-testhooks, which no package ships).
preset=package
while (($#)); do
  case $1 in
  --preset) preset=${2:?--preset needs a name (package or release)} && shift 2 ;;
  *) echo "package: unknown option $1 (use --preset package|release)" >&2 && exit 2 ;;
  esac
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

echo "== packages in $out"
(cd "$out" && ls -1 ./*.deb ./*.rpm | sed 's|^\./||')
