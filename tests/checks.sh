# Sourced by the test scripts that report one line per check: fail, ok, expect, and the
# failure count they end with; and stop_pid for the processes they started.
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
ok() { echo "ok: $*"; }
# expect DESCRIPTION COMMAND...: one check, reported either way.
expect() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
# stop_pid PID: SIGTERM, SIGKILL after 5 s, reaped; nothing for an empty PID.
stop_pid() {
    [[ -n $1 ]] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
