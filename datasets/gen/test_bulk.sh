#!/usr/bin/env bash
# test_bulk.sh KXGEN KXMATCH - the parallel bulk load (partial Xapian
# indexes on several threads, merged) against the serial path, on generated
# records: the same records, the same documents, the same search results
# (keys and scores, ties included); changes to keys the load already holds
# (updates, deletions, re-additions in a later file of the same run) end in
# LMDB's final state; a parallel --rebuild gives the same index again; and
# nothing is left behind.
set -u
GEN=${1:?usage: test_bulk.sh KXGEN KXMATCH}
KX=${2:?usage: test_bulk.sh KXGEN KXMATCH}
WORK=$(mktemp -d /tmp/kx_bulk_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*" >&2; }
expect_eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got [$2], want [$3]"; fi; }

"$GEN" --records 6000 --seed 3 --out "$WORK/data" --quiet || { fail "kxgen"; exit 1; }
D="$WORK/data"
files="$D/experts.jsonl $D/societies.jsonl $D/enterprises.jsonl $D/needs.jsonl $D/results.jsonl"
# A later file changing keys of the first ones: an update, a deletion, a
# deletion then a re-addition.
e1=$(sed -n 10p "$D/experts.jsonl")
e2=$(sed -n 20p "$D/experts.jsonl")
e3=$(sed -n 30p "$D/experts.jsonl")
key() { printf '%s' "$1" | sed 's/^{"kind":"\([a-z]*\)","id":"\([^"]*\)".*/\1:\2/'; }
k1=$(key "$e1"); k2=$(key "$e2"); k3=$(key "$e3")
{
    printf '%s\n' "$e1" | sed 's/"name":"[^"]*"/"name":"批量更新测试专家"/'
    printf '{"kind":"%s","id":"%s","deleted":true}\n' "${k2%%:*}" "${k2#*:}"
    printf '{"kind":"%s","id":"%s","deleted":true}\n' "${k3%%:*}" "${k3#*:}"
} >"$WORK/changes1.jsonl"
printf '%s\n' "$e3" | sed 's/"name":"[^"]*"/"name":"重新加入测试专家"/' >"$WORK/changes2.jsonl"

index() { # DB THREADS
    KXMATCH_INDEX_THREADS=$2 "$KX" index --db "$1" --quiet $files "$WORK/changes1.jsonl" "$WORK/changes2.jsonl"
}
index "$WORK/serial" 1 && pass "serial load" || fail "serial load exit $?"
index "$WORK/bulk" 2 && pass "parallel load" || fail "parallel load exit $?"
ls "$WORK/bulk" | grep -q 'xapian\.' && fail "partial indexes left behind: $(ls "$WORK/bulk")" \
    || pass "no partial index left behind"

count() { xapian-delve "$1/xapian" | sed -n 's/^number of documents = //p'; }
expect_eq "same document count" "$(count "$WORK/bulk")" "$(count "$WORK/serial")"
expect_eq "same records" "$(mdb_dump -s records "$WORK/bulk/lmdb" | md5sum)" \
    "$(mdb_dump -s records "$WORK/serial/lmdb" | md5sum)"
"$KX" check --db "$WORK/bulk" >/dev/null && pass "check" || fail "check"

results() { # DB: 25 queries, keys and scores, plus the changed keys
    head -25 "$D/queries.txt" | while IFS= read -r q; do
        "$KX" search --db "$1" --top 10 --json "$q" |
            python3 -c 'import json,sys; print(" ".join("%s=%.9f" % (h["key"], h["score"]) for h in json.load(sys.stdin)["hits"]))'
    done
    "$KX" search --db "$1" --top 1 批量更新测试专家 | head -1
    "$KX" search --db "$1" --top 1 重新加入测试专家 | head -1
}
results "$WORK/serial" >"$WORK/serial.txt"
results "$WORK/bulk" >"$WORK/bulk.txt"
expect_eq "same search results, ties included" "$(md5sum <"$WORK/bulk.txt")" "$(md5sum <"$WORK/serial.txt")"
grep -q "$k1" "$WORK/bulk.txt" && pass "update applied" || fail "update of $k1 not found"
grep -q "$k3" "$WORK/bulk.txt" && pass "re-addition applied" || fail "re-added $k3 not found"
"$KX" get --db "$WORK/bulk" "$k2" >/dev/null 2>&1
expect_eq "deletion applied in LMDB" "$?" "4"
n=$("$KX" search --db "$WORK/bulk" --kind "${k2%%:*}" --top 10000 --json | python3 -c '
import json,sys; print(sum(1 for h in json.load(sys.stdin)["hits"] if h["key"] == "'"$k2"'"))')
expect_eq "deletion applied in Xapian" "$n" "0"

KXMATCH_INDEX_THREADS=2 "$KX" index --db "$WORK/bulk" --rebuild >/dev/null && pass "parallel rebuild" || fail "rebuild"
KXMATCH_INDEX_THREADS=1 "$KX" index --db "$WORK/serial" --rebuild >/dev/null
results "$WORK/bulk" >"$WORK/bulk2.txt"
results "$WORK/serial" >"$WORK/serial2.txt"
expect_eq "parallel and serial rebuilds agree" "$(md5sum <"$WORK/bulk2.txt")" "$(md5sum <"$WORK/serial2.txt")"
expect_eq "rebuilt document count" "$(count "$WORK/bulk")" "$(count "$WORK/serial")"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
