# Sourced by the test scripts that report one line per check: fail, ok, expect, and the
# failure count they end with.
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
