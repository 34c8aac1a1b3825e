#!/usr/bin/env bash
# Runs one Windows Qt Test executable under Wine and shows its log: QtTest's console output does
# not come through Wine's pipes here, so the log goes to a file (-o FILE,txt) that is printed
# afterwards. The exit status is the test's. Usage: qtest.sh EXE [test function...]
set -euo pipefail
exe=${1:?usage: qtest.sh EXE [args]}
shift
log=$(mktemp "${TMPDIR:-/tmp}/calnet-qtest.XXXXXX")
trap 'rm -f "$log"' EXIT
rc=0
# A hang is a failure, not a stuck CI run (CTest's TIMEOUT is the outer bound).
timeout 280 wine "$exe" -o "Z:${log//\//\\},txt" "$@" || rc=$?
cat "$log"
exit "$rc"
