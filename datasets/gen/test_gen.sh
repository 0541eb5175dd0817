#!/usr/bin/env bash
# test_gen.sh KXGEN KXMATCH - the generator's contract: 2k records index
# with zero rejections, every reference resolves (`kxmatch check` exits 0),
# the same seed writes the same bytes and another seed does not, the kinds
# come in the documented mix, and the side files the bench reads are there.
set -u
GEN=${1:?usage: test_gen.sh KXGEN KXMATCH}
KX=${2:?usage: test_gen.sh KXGEN KXMATCH}
WORK=$(mktemp -d /tmp/kx_gen_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*" >&2; }

files="experts.jsonl societies.jsonl enterprises.jsonl needs.jsonl results.jsonl"

if "$GEN" --records 2000 --seed 7 --out "$WORK/a" --quiet; then
    pass "kxgen writes 2000 records"
else
    fail "kxgen exited $?"
fi
"$GEN" --records 2000 --seed 7 --out "$WORK/b" --quiet
"$GEN" --records 2000 --seed 8 --out "$WORK/c" --quiet

# Determinism: same seed, same bytes (every file, side files included).
same=1
for f in $files queries.txt words2.txt need_keys.txt; do
    cmp -s "$WORK/a/$f" "$WORK/b/$f" || { same=0; fail "seed 7 twice: $f differs"; }
done
[ "$same" = 1 ] && pass "same seed, identical files"
cmp -s "$WORK/a/needs.jsonl" "$WORK/c/needs.jsonl" \
    && fail "seeds 7 and 8 wrote the same needs" || pass "another seed, other data"

total=$(cat "$WORK"/a/*.jsonl | grep -c .)
[ "$total" = 2000 ] && pass "2000 lines" || fail "expected 2000 lines, got $total"

# The mix: 40% experts, 1% academicians, 1% societies, 15% enterprises,
# 33% needs, 10% results.
count() { grep -c "\"kind\":\"$1\"" "$WORK"/a/*.jsonl | awk -F: '{s+=$2} END {print s}'; }
mix="expert=800 academician=20 society=20 enterprise=300 need=660 result=200"
for kv in $mix; do
    k=${kv%=*}; want=${kv#*=}; got=$(count "$k")
    [ "$got" = "$want" ] && pass "$got ${k}s" || fail "${k}: got $got, want $want"
done
en=$(grep -c '"lang":"en"' "$WORK"/a/*.jsonl | awk -F: '{s+=$2} END {print s}')
[ "$en" -ge 100 ] && [ "$en" -le 320 ] && pass "$en English records (about 10%)" \
    || fail "English records: $en, want about 200"

# Every record passes kxmatch's validation, and references resolve.
out=$("$KX" index --db "$WORK/db" $(for f in $files; do echo "$WORK/a/$f"; done) 2>&1)
rc=$?
[ "$rc" = 0 ] && pass "kxmatch index exits 0" || fail "kxmatch index exit $rc: $out"
case "$out" in
    *"added 2000, updated 0, deleted 0, unchanged 0, rejected 0"*) pass "zero rejections" ;;
    *) fail "index output: $out" ;;
esac
out=$("$KX" check --db "$WORK/db" 2>&1)
rc=$?
[ "$rc" = 0 ] && pass "kxmatch check: references resolve" || fail "kxmatch check exit $rc: $out"

# Side files: 1000 queries of 2-4 words, two-character words, need keys
# that exist and are not closed.
nq=$(grep -c . "$WORK/a/queries.txt")
[ "$nq" = 1000 ] && pass "1000 queries" || fail "queries.txt has $nq lines"
bad=$(awk 'NF < 2 || NF > 4' "$WORK/a/queries.txt" | wc -l)
[ "$bad" = 0 ] && pass "queries have 2-4 words" || fail "$bad queries outside 2-4 words"
w2=$(head -1 "$WORK/a/words2.txt")
[ "$(printf '%s' "$w2" | wc -m)" = 2 ] && pass "words2.txt starts with a 2-character word ($w2)" \
    || fail "words2.txt: [$w2]"
grep -q "$w2" "$WORK"/a/*.jsonl && pass "$w2 occurs in the data" || fail "$w2 not in the data"
key=$(sed -n 5p "$WORK/a/need_keys.txt")
rec=$("$KX" get --db "$WORK/db" "$key" 2>&1)
case "$rec" in
    *'"status":"closed"'*) fail "$key is closed" ;;
    *'"kind":"need"'*) pass "need_keys.txt names stored needs ($key)" ;;
    *) fail "get $key: $rec" ;;
esac

# Lengths: text between 100 and 3,000 code points.
lens=$(python3 -c '
import json, sys
L = [len(json.loads(l).get("text", "")) for f in sys.argv[1:] for l in open(f)]
print(min(L), max(L))' $(for f in $files; do echo "$WORK/a/$f"; done))
set -- $lens
[ "$1" -ge 100 ] && [ "$2" -le 3000 ] && pass "text lengths $1..$2" \
    || fail "text lengths $1..$2 outside 100..3000"

# Bad arguments are refused with usage errors.
"$GEN" --records abc --out "$WORK/x" 2>/dev/null
[ $? = 2 ] && pass "bad --records refused" || fail "bad --records accepted"
"$GEN" --records 100 --out "$WORK/y" --taxonomy /nonexistent 2>/dev/null
[ $? = 1 ] && pass "missing taxonomy reported" || fail "missing taxonomy not reported"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
