#!/usr/bin/env bash
# test_index_fault.sh - a Xapian commit that fails under a running server
# (the index folder made immutable with chattr +i, as a full or read-only
# file system would) loses no acknowledged write: POST, PUT and DELETE
# answer as usual with "indexed": false, the need and its audit entry are
# stored, /healthz and /metrics say the index lags, a retried POST answers
# 200, not 409; once the fault is gone the server catches the index up by
# itself, and `kxmatch check` is clean.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
cleanup() {
    chattr -i "$DB/xapian" 2>/dev/null
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

"$KX" index --quiet --db "$DB" "$DATA"/*.jsonl
if ! chattr +i "$DB/xapian" 2>/dev/null; then
    fail "chattr +i on $DB/xapian: this test needs root on a file system with immutable attributes"
    finish
    exit 1
fi
chattr -i "$DB/xapian"
ent=$("$KX" token create --db "$DB" --role enterprise --enterprise enterprise:C001 2>/dev/null)
admin=$("$KX" token create --db "$DB" --role admin 2>/dev/null)

serve_start --db "$DB" && pass "server up" || { finish; exit 1; }

# req METHOD PATH [BODY]: the status in $code, the body in $WORK/body
req() {
    local args=(-s -o "$WORK/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $ent")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    code=$(curl "${args[@]}" "$URL$2")
}
field() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(json.dumps(v) if isinstance(v, (bool, dict, list)) or v is None else v)' "$WORK/body" "$1"; }

BODY='{"id":"FAULT1","name":"低温余热发电 zorbflux","text":"炼厂低温余热有机朗肯循环发电 zorbflux","region":"371603"}'

chattr +i "$DB/xapian"
req POST /v1/needs "$BODY"
expect_eq "POST while the index cannot commit: 201" "$code" 201
expect_eq "the reply says the need is not searchable yet" "$(field indexed)" false
id=$(field id)
expect_eq "the id is scoped by the enterprise" "$id" "C001-FAULT1"
req GET "/v1/needs/$id"
expect_eq "the need is stored" "$code" 200
req POST /v1/needs "$BODY"
expect_eq "the retried POST answers 200 with the stored need" "$code" 200
expect_eq "the retry returns the same need" "$(field id)" "$id"
req POST /v1/needs "${BODY/低温余热发电/高温}"
expect_eq "the same id with other content: 409" "$code" 409
req PUT "/v1/needs/$id" '{"name":"低温余热发电(修订) zorbflux","text":"有机朗肯循环 zorbflux quuxwarm","region":"371603"}'
expect_eq "PUT while the index cannot commit: 200" "$code" 200
expect_eq "PUT says not searchable yet" "$(field indexed)" false
req POST /v1/needs '{"id":"FAULT2","name":"临时需求 zorbgone","region":"371603"}'
expect_eq "a second POST: 201" "$code" 201
req DELETE /v1/needs/C001-FAULT2
expect_eq "DELETE while the index cannot commit: 200" "$code" 200
expect_eq "DELETE says not searchable yet" "$(field indexed)" false
req GET /v1/needs/C001-FAULT2
expect_eq "the deleted need is gone" "$code" 404

health=$(curl -s "$URL/healthz")
expect_contains "/healthz says degraded" "$health" '"status":"degraded"'
expect_contains "/healthz counts what the index lacks" "$health" '"pending":'
expect_contains "/healthz names the fault" "$health" '"error":'
expect_contains "/metrics counts the pending changes" "$(curl -s "$URL/metrics")" "kxmatch_index_pending "
audit=$(curl -s -H "Authorization: Bearer $admin" "$URL/v1/audit?limit=20")
for what in need.create need.update need.delete; do
    expect_contains "the audit log has $what" "$audit" "\"$what\""
done
n=$(grep -c "lags behind" "$WORK/serve.err")
expect_eq "the fault is logged once, not once per write" "$n" 1

# The fault goes away: the index catches up with no further write.
chattr -i "$DB/xapian"
ok=
for _ in $(seq 50); do
    curl -s "$URL/healthz" | grep -q '"status":"ok"' && { ok=1; break; }
    sleep 0.2
done
[ -n "$ok" ] && pass "the index catches up by itself" || fail "still degraded: $(curl -s "$URL/healthz")"
search() { curl -s -H "Authorization: Bearer $admin" "$URL/v1/search?q=$1"; }
expect_contains "search finds the updated need" "$(search quuxwarm)" "\"need:$id\""
expect_contains "search no longer finds the deleted need" "$(search zorbgone)" '"hits":[]'
req POST /v1/needs '{"id":"FAULT3","name":"余热 zorbafter","region":"371603"}'
expect_eq "writes after the fault: 201" "$code" 201
expect_eq "and searchable at once" "$(field indexed)" true

serve_stop
expect_rc "kxmatch check is clean" 0 "$KX" check --db "$DB"
finish
