#!/usr/bin/env bash
# Builds the Linux packages into build/packages/:
#   calnet_<version>_amd64.deb         calnet-<version>-1.x86_64.rpm
#   calnet-server_<version>_amd64.deb  calnet-server-<version>-1.x86_64.rpm
# from the `package` preset (RelWithDebInfo, no tests, no test hooks, prefix /usr), then checks
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
build=build/package
out=build/packages

# Debian's hardening flags, all of them (stack protector, _FORTIFY_SOURCE, format checks, full
# RELRO and BIND_NOW), as dpkg-buildpackage gives a package. Passed on every configure, not
# through CFLAGS/LDFLAGS in the environment, which CMake reads only into a new build tree.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags() { echo "$(dpkg-buildflags --get "$1") $(dpkg-buildflags --get CPPFLAGS)"; }
cmake --preset package \
  -DCMAKE_C_FLAGS="$(flags CFLAGS)" -DCMAKE_CXX_FLAGS="$(flags CXXFLAGS)" \
  -DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" >/dev/null
# Only what the packages ship: the tests and tools are not part of the preset's packages, and
# leaving them out saves most of the build on a small machine.
cmake --build --preset package -j "$jobs" --target calnetd calnetctl calnet calnet-server

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
