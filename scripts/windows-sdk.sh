#!/usr/bin/env bash
# Makes the mingw-w64 cross SDK for Windows x86_64 ready: Debian's mingw-w64 compiler
# (scripts/install-deps.sh --windows) and /opt/qt6-mingw, extracted from the SDK archive.
#   scripts/windows-sdk.sh
# The SDK folder is $CALNET_WINDOWS_SDK, by default ../shared/sdk beside the repository (see its
# README.md). The archive is checked against the sha256 pinned below before it is extracted;
# extraction goes to a temporary directory first, so an interrupted run leaves no half tree.
# When /opt/qt6-mingw already holds this archive (stamp file) nothing is done, so repeated runs
# are fast. The presets that use it: windows-core (CMakePresets.json).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

sdk=${CALNET_WINDOWS_SDK:-$(dirname "$repo")/shared/sdk}
archive=$sdk/qt6.4.2-mingw64-sdk.tar.xz
# From the SDK's README.md ("sha256 of the archive this README describes"). A new SDK archive
# means a new pin here, on purpose.
expected_sha256=d52c8c3a01ecc8f1c93deba7b525c00a8c8f8ac190dec51d564d0f043db3fff5
# Not relocatable: its qt.toolchain.cmake and .pc files name /opt/qt6-mingw (SDK README).
prefix=/opt/qt6-mingw
stamp=$prefix/.calnet-sdk-sha256

# The compiler: its "-posix" names are what the SDK's toolchain file calls.
if ! command -v x86_64-w64-mingw32-g++-posix >/dev/null ||
   ! command -v x86_64-w64-mingw32-objdump >/dev/null; then
  "$repo/scripts/install-deps.sh" --windows
fi

if [[ -f "$stamp" && "$(cat "$stamp")" == "$expected_sha256" ]]; then
  exit 0
fi

if [[ -e "$prefix" && ! -f "$stamp" ]]; then
  # Extracted by hand (the README's tar command): use it when it looks complete, leave it alone.
  if [[ -f "$prefix/mingw-w64-x86_64.cmake" && -f "$prefix/lib/pkgconfig/libsodium.pc" &&
        -f "$prefix/lib/pkgconfig/libb2.pc" ]]; then
    echo "windows-sdk: using $prefix as it is (not extracted by this script, no $stamp)" >&2
    exit 0
  fi
  echo "windows-sdk: $prefix exists but is incomplete; move it aside and rerun" >&2
  exit 1
fi

if [[ ! -f "$archive" ]]; then
  echo "windows-sdk: no SDK archive at $archive (set CALNET_WINDOWS_SDK to the SDK folder)" >&2
  exit 1
fi
actual_sha256=$(sha256sum "$archive" | cut -d' ' -f1)
if [[ "$actual_sha256" != "$expected_sha256" ]]; then
  echo "windows-sdk: $archive has sha256 $actual_sha256, expected $expected_sha256" >&2
  exit 1
fi

echo "windows-sdk: extracting $archive into $prefix"
parent=$(dirname "$prefix")
tmp=$(mktemp -d "$parent/.qt6-mingw-extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -C "$tmp" -xJf "$archive"
if [[ ! -f "$tmp/qt6-mingw/mingw-w64-x86_64.cmake" ]]; then
  echo "windows-sdk: the archive has no qt6-mingw/mingw-w64-x86_64.cmake" >&2
  exit 1
fi
echo "$expected_sha256" >"$tmp/qt6-mingw/.calnet-sdk-sha256"
if [[ -e "$prefix" ]]; then
  # An older SDK extracted by this script (its stamp names another archive): replace it.
  old=$tmp/old
  mv "$prefix" "$old"
fi
mv "$tmp/qt6-mingw" "$prefix"
