#!/usr/bin/env bash
# test_tokens.sh - tokens as an operator handles them: --expires (and what
# it refuses), `token list` with expiry and last use, and the per-token
# write limit (10 a minute, so bursts of 2) answering 429 with
# Retry-After while reads go on.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
"$KX" index --quiet --db "$DB" "$DATA"/*.jsonl
ent=$("$KX" token create --db "$DB" --role enterprise --enterprise enterprise:C001 --expires 30 --label fast 2>/dev/null)
[ ${#ent} -eq 43 ] && pass "token with --expires 30" || fail "token create --expires: [$ent]"
expect_rc "--expires 0 is refused" 3 "$KX" token create --db "$DB" --role admin --expires 0
expect_contains "naming the rule" "$OUT" "expires"
expect_rc "--expires in the past is refused" 3 "$KX" token create --db "$DB" --role admin --expires 2001-01-01

serve_start --db "$DB" --write-rate 10 && pass "server up" || { finish; exit 1; }
post() {
    curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -H "Authorization: Bearer $ent" \
        -H 'Content-Type: application/json' --data "$1" "$URL/v1/needs"
}
codes="$(post '{"id":"R1","name":"n"}') $(post '{"id":"R2","name":"n"}') $(post '{"id":"R3","name":"n"}')"
expect_eq "two writes, then 429" "$codes" "201 201 429"
expect_contains "with Retry-After" "$(tr -d '\r' < "$WORK/head")" "Retry-After: "
expect_contains "and the JSON error body" "$(cat "$WORK/body")" '"code":"rate_limited"'
expect_eq "reads are not limited" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ent" "$URL/v1/needs/C001-R1")" 200
serve_stop

"$KX" token list --db "$DB" > "$WORK/list"
line=$(grep fast "$WORK/list")
expect_contains "token list has the columns" "$(head -1 "$WORK/list")" "EXPIRES"
hour=$(date -u +%Y-%m-%dT%H)
expect_contains "and the last use, to the hour" "$line" "$hour:00:00Z"
case "$line" in *never*) fail "expiry shown as never: $line" ;; *) pass "expiry shown" ;; esac
finish
