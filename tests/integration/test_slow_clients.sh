#!/usr/bin/env bash
# test_slow_clients.sh - slow and idle clients cannot take the server down
# (issue 19): connections beyond the per-address limit are refused, a pool
# filled from many addresses by clients that trickle their headers or send
# nothing still answers /healthz from another address within 1 s, headers
# and bodies that trickle are cut at their deadlines, /metrics counts it
# all; and the port cannot be shared: a second `serve` on it exits 6 saying
# the address is already in use, and SO_REUSEPORT cannot join it.
# The limits are set low (16 per address, 64 in all, 2 s deadlines) so that
# all of it takes a few seconds.
set -u
source "$(dirname "$0")/lib.sh" "$@"
SLOW="$SRC/tests/integration/slow_clients.py"
PER_IP=16
MAX=64

serve_start --db "$WORK/db" --threads 2 --per-ip-connections $PER_IP \
    --max-connections $MAX --header-timeout 2 --body-timeout 2 &&
    pass "server up" || { finish; exit 1; }

# key NAME LINE: the value of NAME=... in a key=value line
key() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2"; }
metric() {
    curl -s --interface 127.0.0.2 "$URL/metrics" |
        awk -v m="$1" '$1 == m { print $2 }'
}
# served WHAT FLOOD_OUTPUT: every /healthz probe answered within 1 s
served() {
    local n ok
    n=$(key probes "$2")
    ok=$(key probe_ok "$2")
    if [ "${n:-0}" -ge 1 ] && [ "$ok" == "$n" ]; then
        pass "$1 ($n of $n, slowest $(key probe_max_ms "$2") ms)"
    else fail "$1: ${ok:-0} of ${n:-0} probes answered in time ($2)"; fi
}

# More than the per-address limit from 127.0.0.1, trickling headers: the
# excess is closed at once, and another address is served.
out=$(python3 "$SLOW" flood "$URL" --mode trickle --count $((PER_IP + 8)) \
      --from 127.0.0.1 --settle 0.5 --hold 1 --probe-from 127.0.0.2)
expect_eq "connections beyond $PER_IP from one address are refused" \
    "$(key closed "$out")" 8
served "/healthz from 127.0.0.2 answered within 1 s meanwhile" "$out"

# More than the total limit from many addresses, each under its own limit:
# the oldest waiting for headers are shut to keep room, /healthz answers.
for mode in trickle idle; do
    out=$(python3 "$SLOW" flood "$URL" --mode $mode --count $((MAX + 24)) \
          --addr-base 127.0.0.10 --per-addr 8 --settle 0.5 --hold 1 \
          --probe-from 127.0.0.2)
    served "$((MAX + 24)) $mode connections from 11 addresses: /healthz \
answered within 1 s" "$out"
    closed=$(key closed "$out")
    if [ "${closed:-0}" -ge 24 ]; then pass "$mode: $closed shut to keep room"
    else fail "$mode: ${closed:-0} shut to keep room, want >= 24 ($out)"; fi
done
reserve=$(metric 'kxmatch_connections_reaped_total{reason="reserve"}')
if [ "${reserve:-0}" -ge 48 ]; then pass "metrics: $reserve shut to keep room"
else fail "metrics: reaped{reserve} is ${reserve:-missing}, want >= 48"; fi

# Deadlines: headers that trickle and a body that trickles are cut after
# about 2 s (the reaper looks 4 times a second), not before.
within() { # WHAT SECONDS: 1.5 <= SECONDS <= 3.5
    if [ -n "$2" ] && [ "$2" != none ] &&
        awk -v t="$2" 'BEGIN { exit !(t >= 1.5 && t <= 3.5) }'; then
        pass "$1 after $2 s"
    else fail "$1: closed after ${2:-?} s, want about 2"; fi
}
python3 "$SLOW" deadline "$URL" --mode headers --from 127.0.0.3 \
    > "$WORK/headers" &
p1=$!
python3 "$SLOW" deadline "$URL" --mode body --from 127.0.0.4 > "$WORK/body" &
p2=$!
wait $p1 $p2
within "trickling headers cut at the header deadline" \
    "$(key closed_after "$(cat "$WORK/headers")")"
within "a trickling body cut at the body deadline" \
    "$(key closed_after "$(cat "$WORK/body")")"
expect_eq "metrics: one cut at the header deadline" \
    "$(metric 'kxmatch_connections_reaped_total{reason="header_timeout"}')" 1
expect_eq "metrics: one cut at the body deadline" \
    "$(metric 'kxmatch_connections_reaped_total{reason="body_timeout"}')" 1
expect_eq "metrics: the limit in all" \
    "$(metric 'kxmatch_connections_limit{scope="total"}')" $MAX
expect_eq "metrics: the limit per address" \
    "$(metric 'kxmatch_connections_limit{scope="per_address"}')" $PER_IP
# Closing takes the server a moment after the client has gone.
for _ in $(seq 20); do
    open=$(metric kxmatch_connections_open)
    [ "$open" == 1 ] && break
    sleep 0.1
done
expect_eq "metrics: only the metrics request open once the clients left" \
    "$open" 1
expect_eq "a request after all that" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200

# The port is ours alone: a second serve on it, on another data directory
# or on the same one (which it would find locked), says the address is in
# use, and leaves no data directory behind.
for db in db2 db; do
    out=$(timeout 10 "$KX" serve --db "$WORK/$db" --listen "${URL#http://}" 2>&1)
    rc=$?
    expect_eq "a second serve on ${URL#http://} ($db) exits 6" "$rc" 6
    expect_contains "it names the address" "$out" "${URL#http://}"
    expect_contains "it says why" "$out" "already in use"
done
[ -e "$WORK/db2" ] && fail "the second serve made $WORK/db2" ||
    pass "the second serve made no data directory"
out=$(python3 "$SLOW" reuseport "$URL")
expect_eq "SO_REUSEPORT cannot bind the port" "$out" "refused: EADDRINUSE"
expect_eq "the first server still answers" \
    "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200

serve_stop
expect_eq "serve exits 0 on SIGTERM" "$?" 0
finish
