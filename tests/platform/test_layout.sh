#!/usr/bin/env bash
# Every OS-specific source sits under a platform/<os>/ folder (docs/platforms.md): no file of
# core/, helper/, app/ or server/ outside a platform/<os>/ folder includes an OS header, no file
# outside a platform/ folder asks which OS it is compiled for (the per-OS header selectors in
# platform/ itself may), core/ has no Qt at all, and no CMakeLists.txt globs its sources.
# Usage: test_layout.sh SOURCE-DIR
set -euo pipefail
src=${1:?source directory}
cd "$src"
failed=0

# POSIX, Linux and Windows system headers, and QtDBus (Linux only).
os_headers='^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sys/|linux/|netinet/|arpa/|net/|unistd\.h|poll\.h|netdb\.h|ifaddrs\.h|pwd\.h|grp\.h|fcntl\.h|dirent\.h|malloc\.h|signal\.h|csignal|pthread\.h|windows\.h|winsock2\.h|ws2tcpip\.h|iphlpapi\.h|QDBus)'
os_tests='^[[:space:]]*#[[:space:]]*(if|ifdef|ifndef|elif).*(_WIN32|_WIN64|__linux__|__APPLE__|__unix__|Q_OS_)'

# forbid WHAT PATTERN ALLOWED: no source of core/, helper/, app/ or server/ whose path does not
# match ALLOWED (an extended regex) has a line matching PATTERN.
forbid() {
  local offenders
  offenders=$(grep -rlE "$2" core helper app server --include='*.cpp' --include='*.h' |
    grep -vE "$3" || true)
  if [[ -n $offenders ]]; then
    echo "FAIL: $1:"
    # shellcheck disable=SC2086 # one file name per word
    grep -nHE "$2" $offenders
    failed=1
  else
    echo "ok - none: $1"
  fi
}
forbid "OS headers outside a platform/<os>/ folder" "$os_headers" \
  '/platform/(linux|posix|windows|macos|fake)/'
forbid "OS conditionals outside a platform/ folder" "$os_tests" '/platform/'

qt_in_core=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<Q' core || true)
if [[ -n $qt_in_core ]]; then
  echo "FAIL: Qt in core/: $qt_in_core"
  failed=1
else
  echo "ok - core/ is Qt-free"
fi

globs=$(grep -rlE 'file\((GLOB|GLOB_RECURSE)' --include=CMakeLists.txt core helper app server tests installers . 2>/dev/null |
  grep -v '^\./build/' | sort -u || true)
if [[ -n $globs ]]; then
  echo "FAIL: CMake globs in: $globs"
  failed=1
else
  echo "ok - no CMakeLists.txt globs"
fi

# Each platform/ folder names an OS (or posix, or the fakes).
bad_dirs=$(find core helper app server -type d -path '*/platform/*' |
  grep -vE '/platform/(linux|posix|windows|macos|fake)(/|$)' || true)
if [[ -n $bad_dirs ]]; then
  echo "FAIL: platform folders that name no OS: $bad_dirs"
  failed=1
else
  echo "ok - platform folders: $(find core helper app server -type d -path '*/platform/*' | sort | tr '\n' ' ')"
fi
exit $failed
