# lib.sh - helpers shared by the integration tests (sourced, not run).
# Usage in a test: source "$(dirname "$0")/lib.sh" "$@"
KX=${1:?usage: test.sh KXMATCH_BINARY SOURCE_DIR}
SRC=${2:?usage: test.sh KXMATCH_BINARY SOURCE_DIR}
WORK=$(mktemp -d /tmp/kx_it_XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
# No configuration file of the machine's (an installed kxmatch's
# /etc/kxmatch/kxmatch.conf, say) reaches a test; a test that wants one
# names its own.
export KXMATCH_CONFIG=/dev/null

pass() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*" >&2; }

# expect_eq WHAT GOT WANT
expect_eq() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got [$2], want [$3]"; fi
}
# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
    case "$2" in
        *"$3"*) pass "$1" ;;
        *) fail "$1: [$3] not in [$2]" ;;
    esac
}
# expect_rc WHAT WANT CMD... : runs CMD, checks its exit code, keeps output
expect_rc() {
    local what=$1 want=$2
    shift 2
    OUT=$("$@" 2>&1)
    local rc=$?
    if [ "$rc" == "$want" ]; then pass "$what"; else
        fail "$what: exit $rc, want $want; output: $OUT"; fi
}
finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}
# serve_start ARGS...: runs `kxmatch serve --listen 127.0.0.1:0 ARGS` in the
# background (output in $WORK/serve.out and serve.err) and waits for it to
# listen; sets SERVER to its pid and URL to its address, or fails and
# returns 1. The EXIT trap stops a server still running.
serve_start() {
    "$KX" serve --listen 127.0.0.1:0 "$@" > "$WORK/serve.out" 2> "$WORK/serve.err" &
    SERVER=$!
    URL=
    for _ in $(seq 100); do
        URL=$(sed -n 's/^listening on //p' "$WORK/serve.out")
        [ -n "$URL" ] && break
        sleep 0.1
    done
    [ -n "$URL" ] && return 0
    fail "server did not start: $(cat "$WORK/serve.err")"
    return 1
}
# serve_stop: stops the server with SIGTERM, waits for it and returns its
# exit status.
serve_stop() {
    local rc
    kill -TERM "$SERVER"
    wait "$SERVER"
    rc=$?
    SERVER=
    return $rc
}
DATA="$SRC/datasets/binzhou"
