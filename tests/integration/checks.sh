# Small helpers sourced by test_service.sh and test_wgquick.sh (lib.sh serves the interop
# matrix). The sourcing script sets $tmp (a directory it removes) and reports
# "integration: $passed passed, $failed failed" at the end.
passed=0
failed=0

# check NAME COMMAND...: runs the command, counts it, shows its output only when it fails.
check() {
  local name=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
    sed 's/^/#   /' "$tmp/out" | tail -20
  fi
}

# output_has PATTERN COMMAND...: true when the command succeeds and a line of its output matches
# the (basic) regular expression. The output is read whole before grep looks at it: with
# pipefail, `cmd | grep -q` fails at random when grep exits at the first match and the command
# (ip flushes once per rule or link) is killed by SIGPIPE on its next write.
output_has() {
  local pattern=$1 out
  shift
  out=$("$@") || return
  grep -q -- "$pattern" <<<"$out"
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds, bounded in time.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
