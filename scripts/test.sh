#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: an AddressSanitizer + UBSan build runs the
# unit tests and a short soak of the data path, a ThreadSanitizer build runs the data path's
# unit tests, a clang build runs each libFuzzer target for a bounded time, and the release
# build runs everything (core, helper, app, integration, and the .deb packages from
# scripts/package.sh installed into a clean Debian 12 root). The Windows build (calnet.exe,
# calnetd.exe, calnetctl.exe and their tests) is cross-compiled with the mingw-w64 SDK
# (scripts/windows-sdk.sh; the SDK folder is $CALNET_WINDOWS_SDK, by default ../shared/sdk); its
# tests run under Wine, and its two installers (scripts/package.sh --windows) are installed and
# removed under Wine.
# Run as root: integration tests create network namespaces and TUN devices.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --test --package --windows

jobs=$(nproc)
# Each stage's start time, for the CI time budget.
stage() { echo "== $* ($(date -u +%H:%M:%S))"; }
# As root, with everything installed above, no test has a reason to skip: one that would (no
# namespace, no PostgreSQL, no dbus-daemon) fails instead (tests/skip.h). .ci/run sets it too.
if [[ $EUID -eq 0 ]]; then
  export CALNET_REQUIRE_PRIVILEGED=1
fi
# Hardened as the packages are: scripts/package.sh below makes them from this same tree.
source scripts/buildflags.sh
stage "release build (hardened)"
cmake --preset release "${CALNET_RELEASE_FLAGS[@]}" >/dev/null
cmake --build --preset release -j "$jobs"
stage "ASan/UBSan build"
cmake --preset debug-asan >/dev/null
cmake --build --preset debug-asan -j "$jobs"
stage "fuzz and TSan builds"
# 12 s per fuzz target here (20 by default), for CI's time budget now that calnetd.exe and the
# installers are built and tested under Wine too; the seed corpora still all run, and longer
# runs are by hand.
cmake --preset fuzz -DCALNET_FUZZ_SECONDS=12 >/dev/null
cmake --build --preset fuzz -j "$jobs"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs"

stage "Windows x86_64 cross build (mingw-w64 SDK)"
scripts/windows-sdk.sh
cmake --preset windows >/dev/null
cmake --build --preset windows -j "$jobs"
# Every object in core is PE/COFF x86-64: a configure that silently missed the toolchain file
# would have built ELF objects with the host compiler.
core_lib=build/windows/core/libcalnet-core.a
formats=$(x86_64-w64-mingw32-objdump -f "$core_lib" | sed -n 's/^.*file format //p' | sort -u)
if [[ "$formats" != "pe-x86-64" ]]; then
  echo "test.sh: $core_lib is not all PE/COFF x86-64 objects: ${formats:-none}" >&2
  exit 1
fi
echo "$core_lib: every object is pe-x86-64"

stage "unit tests under ASan/UBSan"
ctest --preset debug-asan -L 'core|helper|app|server' -LE slow -E '^fuzz\.' -j "$jobs"
stage "the data path's soak and the NAT lab under ASan/UBSan (short form)"
ctest --preset debug-asan -L 'soak|nat'
stage "data-path unit tests under TSan"
ctest --preset tsan -j "$jobs"
stage "Windows tests under Wine (core, IPC, calnetctl, the app, calnetd and their platform)"
ctest --preset windows -j "$jobs" -LE 'slow|installer'
stage "fuzzers (12 s each, two at a time)"
ASAN_OPTIONS=quarantine_size_mb=64 ctest --preset fuzz -j "$jobs"
stage "packages (.deb, .rpm from the release tree; lintian and rpmlint) and the Windows installers"
scripts/package.sh --preset release --windows
stage "the Windows installers under Wine"
ctest --preset windows -L installer
stage "all tests (release; packaging.deb_chroot installs build/packages/*.deb in a clean root, packaging.booted the .debs and .rpms in a booted one)"
# The NAT lab and the relay regions ran above against the ASan/UBSan binaries, the stricter
# build, in the same form; they are not repeated here, which keeps CI inside its time budget.
ctest --preset release -j "$jobs" -LE nat
