#!/usr/bin/env bash
# Installs what Calnet needs to build, run and test, from Debian 12 packages only.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite and benchmarks use
#   scripts/install-deps.sh --package  also what scripts/package.sh and tests/packaging use
#   scripts/install-deps.sh --windows  also Debian's mingw-w64 cross compiler (posix threads) for
#                                      the Windows builds against the SDK (scripts/windows-sdk.sh),
#                                      Wine, and NSIS and wixl for the installers
# The flags combine (--test --package --windows).
# Runs apt-get update only when something is missing, so repeated runs are fast.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config dpkg-dev
  libsodium-dev libb2-dev libssl-dev
  qt6-base-dev qt6-svg-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libqt6svg6
  qt6-translations-l10n
  qt6-websockets-dev libqt6sql6-sqlite libqt6sql6-psql qtkeychain-qt6-dev
  iproute2 iputils-ping procps nftables
  wireguard-tools
)
test_packages=(
  wireguard-go iperf3 python3 clang libclang-rt-14-dev systemd openssl
  desktop-file-utils appstream dbus xvfb xauth trayer xdotool
  postgresql iptables
  nodejs chromium gnome-keyring libsecret-tools
)
# scripts/package.sh: dpkg-shlibdeps (dpkg-dev) turns the binaries' libraries into Depends,
# rpmbuild (rpm) makes the .rpm, lintian and rpmlint check the results; the packaging tests
# (tests/packaging) build a clean Debian 12 root with debootstrap, and test_booted.sh boots
# it with systemd-nspawn (systemd-container), asks the server with curl and tunnels to a
# wireguard-go peer.
package_packages=(
  dpkg-dev fakeroot file rpm lintian rpmlint debootstrap desktop-file-utils appstream
  systemd-container curl wireguard-go
)
# What the Windows SDK's README.md (../shared/sdk, "Using it") asks of the host beyond the build
# dependencies above (cmake, ninja, pkg-config, the host Qt for moc/rcc); binutils and the
# runtime come with the compiler.
# Wine runs the Windows tests (scripts/test.sh); fonts-dejavu-core gives the offscreen platform
# its fonts there (tests/windows/wineprefix.sh). The installers (scripts/package.sh --windows):
# makensis (nsis) and wixl/wixl-heat (wixl) build them, msitools' msiinfo reads an MSI's tables.
windows_packages=(
  g++-mingw-w64-x86-64-posix mingw-w64-tools wine wine64 fonts-dejavu-core
  nsis wixl msitools
)
want_test=0
want_package=0
want_windows=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --package) want_package=1 ;;
    --windows) want_windows=1 ;;
    *) echo "install-deps: unknown option $arg (use --test, --package, --windows)" >&2; exit 2 ;;
  esac
done
if [[ $want_test -eq 1 ]]; then
  packages+=("${test_packages[@]}")
fi
if [[ $want_package -eq 1 ]]; then
  packages+=("${package_packages[@]}")
fi
if [[ $want_windows -eq 1 ]]; then
  packages+=("${windows_packages[@]}")
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# npm: Debian ships it as its own package; a Node.js from elsewhere (NodeSource's "nodejs")
# bundles it and conflicts with Debian's, so it is asked for only when there is none.
if [[ $want_test -eq 1 ]] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
