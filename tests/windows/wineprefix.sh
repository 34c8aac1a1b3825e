#!/usr/bin/env bash
# The Wine prefix the Windows tests run in ($WINEPREFIX, set by tests/CMakeLists.txt to one in
# the build tree): made once, then reused. Wine does not pass QT_* variables from the Unix
# environment to Windows programs, so the prefix's HKCU\Environment gives every program the
# offscreen platform and a font folder (the offscreen platform's FreeType finds none of its own).
# A test that wants the windows platform (on Xvfb) passes -platform windows on its command line.
set -euo pipefail
: "${WINEPREFIX:?WINEPREFIX must name the prefix}"
fonts=/usr/share/fonts/truetype/dejavu
[[ -d $fonts ]] || { echo "wineprefix: $fonts missing (apt-get install fonts-dejavu-core)" >&2; exit 1; }
mkdir -p "$WINEPREFIX"
# wineboot creates or updates the prefix; it returns once the prefix is usable.
timeout 240 wineboot --init
timeout 60 wine reg add 'HKCU\Environment' /v QT_QPA_PLATFORM /t REG_SZ /d offscreen /f >/dev/null
timeout 60 wine reg add 'HKCU\Environment' /v QT_QPA_FONTDIR /t REG_SZ \
  /d "Z:${fonts//\//\\}" /f >/dev/null
# The registry is written by wineserver: wait until it has flushed and exited, so the tests
# that follow start from the saved prefix.
timeout 60 wineserver -w
value=$(timeout 60 wine reg query 'HKCU\Environment' /v QT_QPA_PLATFORM | tr -d '\r')
timeout 60 wineserver -w
if [[ $value != *offscreen* ]]; then
  echo "wineprefix: HKCU\\Environment\\QT_QPA_PLATFORM was not stored: $value" >&2
  exit 1
fi
echo "wineprefix: $WINEPREFIX ready ($(wine --version))"
