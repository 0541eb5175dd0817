#!/usr/bin/env bash
# test_crash.sh - the crash matrix of issue 11: `kxmatch serve` killed with
# SIGKILL at 20 random moments while three clients create, rename, move
# into the pipeline and delete needs. After each restart every
# acknowledged write is there, the one in flight per client is whole or
# absent, `kxmatch check` is clean, and search finds exactly the needs
# that live (the index caught up with the store).
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
W="$SRC/tests/integration/crash_writer.py"
KILLS=20
"$KX" index --quiet --db "$DB" "$DATA"/*.jsonl || fail "index"
admin=$("$KX" token create --db "$DB" --role admin 2>/dev/null)

killed=0
for round in $(seq -w $KILLS); do
    serve_start --db "$DB" || break
    python3 "$W" write "$URL" "$admin" "$round" "$WORK/log$round" &
    writer=$!
    # 0.2 to 1.2 s into the writes
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.2), 2))')"
    kill -KILL "$SERVER"
    wait "$SERVER" 2>/dev/null
    [ $? -eq 137 ] && killed=$((killed + 1))
    SERVER=
    wait "$writer"
done
expect_eq "serve was killed $KILLS times mid-write" "$killed" "$KILLS"
acks=$(cat "$WORK"/log* | grep -c '^ack')
[ "$acks" -gt $((KILLS * 10)) ] && pass "writes were acknowledged between the kills ($acks)" ||
    fail "only $acks writes acknowledged: the test checks little"

expect_rc "check is clean after the crashes" 0 "$KX" check --db "$DB"
serve_start --db "$DB" || { finish; exit 1; }
verdict=$(python3 "$W" check "$URL" "$admin" "$WORK"/log*)
expect_contains "every acknowledged write survived, nothing half there" "$verdict" "ok: "
echo "     $verdict"
live=$(printf '%s' "$verdict" | sed -n 's/.* \([0-9]*\) live$/\1/p')
found=$(curl -s -H "Authorization: Bearer $admin" \
    "$URL/v1/search?q=kxcrashprobe&kind=need&status=open&facets=0&per_page=1" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total"], d["total_exact"])')
expect_eq "search finds exactly the live needs" "$found" "$live True"
serve_stop
finish
