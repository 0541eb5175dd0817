#!/usr/bin/env bash
# test_index.sh - `kxmatch index` end to end on the Binzhou dataset: counts
# agree with xapian-delve and mdb_stat, Chinese search works, re-indexing is
# idempotent, bad input is rejected whole and changes nothing, the lock is
# honoured, --rebuild recreates Xapian, and a killed run recovers.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"

total=$(cat "$DATA"/*.jsonl | grep -c .)
expect_rc "index the dataset" 0 "$KX" index --db "$DB" "$DATA"/*.jsonl
expect_contains "all records added" "$OUT" "added $total, updated 0, deleted 0, unchanged 0, rejected 0"

# The files are real: their own tools read them and agree with us.
delve=$(xapian-delve "$DB/xapian" | sed -n 's/^number of documents = //p')
expect_eq "xapian-delve document count" "$delve" "$total"
entries=$(mdb_stat -s records "$DB/lmdb" | sed -n 's/^ *Entries: //p')
expect_eq "mdb_stat records entries" "$entries" "$total"
profiles=$(mdb_stat -s profiles "$DB/lmdb" | sed -n 's/^ *Entries: //p')
expect_eq "mdb_stat profiles entries (one per record)" "$profiles" "$total"
expect_rc "check: records, references and profiles agree" 0 "$KX" check --db "$DB"
expect_contains "check counts every record" "$OUT" "$total records checked, 0 dangling references"

# Chinese search: 聚丙烯 催化剂 finds chemical-engineering experts first.
json=$("$KX" search --db "$DB" --kind expert --kind academician --top 5 --json 聚丙烯 催化剂)
top=$(printf '%s' "$json" | python3 -c '
import json,sys
hits=json.load(sys.stdin)["hits"]
print(" ".join(h["key"] for h in hits))')
chem=0
for k in $top; do
    rec=$("$KX" get --db "$DB" "$k")
    if printf '%s' "$rec" | python3 -c '
import json,sys
r=json.load(sys.stdin)
codes=r.get("industries",[])+r.get("disciplines",[])
sys.exit(0 if any(c.startswith(("25","26","B")) for c in codes) else 1)'; then
        chem=$((chem + 1))
    fi
done
[ -n "$top" ] && [ "$chem" -ge 4 ] && pass "聚丙烯 催化剂: $chem of top 5 are chemists" \
    || fail "聚丙烯 催化剂: only $chem of top 5 [$top] are chemists"

# -word excludes what holds the word (issue 18 item 8): 光伏 -组件 is 光伏
# less every record whose text holds 组件, and 组件 is not highlighted.
keys() { "$KX" search --db "$DB" --top 1000 --json "$@" | python3 -c '
import json,sys; print(" ".join(sorted(h["key"] for h in json.load(sys.stdin)["hits"])))'; }
with=$(keys 光伏)
without=$(keys "光伏 -组件")
fullwidth=$(keys "光伏　－组件")
expected=$(for k in $with; do "$KX" get --db "$DB" "$k" | grep -q 组件 || printf '%s ' "$k"; done)
expect_eq "光伏 -组件: 光伏 less the records holding 组件" "$without" "${expected% }"
[ "$with" != "$without" ] && pass "-组件 removed something" || fail "-组件 removed nothing: the data has no 光伏 record with 组件"
expect_eq "full-width space and minus work the same" "$fullwidth" "$without"
expect_eq "a hyphen inside a word is no exclusion" "$(keys "光伏-组件" | wc -w)" "$(keys 光伏 组件 | wc -w)"

# Industry 26 finds records coded 2614 (ancestors are indexed).
want=$(grep -h '"2614"' "$DATA"/*.jsonl | python3 -c '
import json,sys
print(sorted(json.loads(l)["kind"]+":"+json.loads(l)["id"] for l in sys.stdin)[0])')
got=$("$KX" search --db "$DB" --industry 26 --top 1000 --json | python3 -c '
import json,sys
print(" ".join(h["key"] for h in json.load(sys.stdin)["hits"]))')
expect_contains "--industry 26 finds a record coded 2614" "$got" "$want"
got=$("$KX" search --db "$DB" --industry 27 --top 1000 --json | python3 -c '
import json,sys
print(" ".join(h["key"] for h in json.load(sys.stdin)["hits"]))')
case " $got " in *" $want "*) fail "--industry 27 must not find $want" ;; *) pass "--industry 27 excludes it" ;; esac

# A two-character Chinese word is found (bigram index).
expect_rc "search a two-character word" 0 "$KX" search --db "$DB" 储能
case "$OUT" in "0 of about 0"*) fail "储能 found nothing" ;; *) pass "储能 has hits" ;; esac
expect_rc "mixed-language query parses" 0 "$KX" search --db "$DB" "machine 燃料电池 learning"

# Re-indexing the same files changes nothing.
before=$(mdb_dump -s records "$DB/lmdb" | md5sum)
expect_rc "re-index" 0 "$KX" index --db "$DB" "$DATA"/*.jsonl
expect_contains "re-index changes nothing" "$OUT" "added 0, updated 0, deleted 0, unchanged $total"
expect_eq "records unchanged after re-index" "$(mdb_dump -s records "$DB/lmdb" | md5sum)" "$before"

# Bad input: exit 3, an exact message, and the store exactly as it was.
state() { "$KX" stats --db "$DB" --json; mdb_dump -s records "$DB/lmdb" | md5sum; }
before=$(state)
good='{"kind":"expert","id":"NEW1","name":"新专家"}'
bad_case() { # NAME LINE EXPECTED-MESSAGE
    printf '%s\n%s\n' "$good" "$2" > "$WORK/bad.jsonl"
    expect_rc "$1: rejected" 3 "$KX" index --db "$DB" "$WORK/bad.jsonl"
    expect_contains "$1: message" "$OUT" "$3"
    expect_contains "$1: nothing written" "$OUT" "nothing was written"
    expect_eq "$1: store unchanged" "$(state)" "$before"
}
bad_case "broken JSON" '{"kind":"expert","id":"X1","name":' "bad.jsonl:2:"
bad_case "unknown kind" '{"kind":"person","id":"X1","name":"n"}' 'unknown kind "person"'
bad_case "bad industry code" '{"kind":"expert","id":"X1","name":"n","industries":["2699x"]}' 'industries[0]'
bad_case "bad region code" '{"kind":"expert","id":"X1","name":"n","region":"999999"}' 'region'
bad_case "duplicate id" "$good" "duplicate key expert:NEW1 (first on line 1)"
bad_case "unknown field" '{"kind":"expert","id":"X1","name":"n","foo":1}' 'unknown field "foo"'
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
bad_case "oversized text" "{\"kind\":\"expert\",\"id\":\"X1\",\"name\":\"n\",\"text\":\"$big\"}" 'text'
printf '%s\n{"kind":"expert","id":"X1","name":"\xff\xfe"}\n' "$good" > "$WORK/bad.jsonl"
expect_rc "bad UTF-8: rejected" 3 "$KX" index --db "$DB" "$WORK/bad.jsonl"
expect_contains "bad UTF-8: message" "$OUT" "UTF-8"
expect_eq "bad UTF-8: store unchanged" "$(state)" "$before"

# --skip-invalid indexes the good line and counts the bad one.
printf '%s\n%s\n' "$good" '{"kind":"person","id":"X1","name":"n"}' > "$WORK/mixed.jsonl"
expect_rc "--skip-invalid" 0 "$KX" index --db "$DB" --skip-invalid "$WORK/mixed.jsonl"
expect_contains "--skip-invalid counts" "$OUT" "added 1, updated 0, deleted 0, unchanged 0, rejected 1"
printf '{"kind":"expert","id":"NEW1","deleted":true}\n' | "$KX" index --db "$DB" - > "$WORK/out" 2>&1
expect_contains "delete through stdin" "$(cat "$WORK/out")" "deleted 1"

# Errors a user can hit, each with its documented exit code.
expect_rc "unknown key" 4 "$KX" get --db "$DB" expert:NOPE
expect_contains "unknown key message" "$OUT" "no record expert:NOPE"
expect_rc "malformed key" 3 "$KX" get --db "$DB" "nokind"
expect_rc "missing data directory" 4 "$KX" search --db "$WORK/none" 化工
expect_contains "missing data directory message" "$OUT" "no kxmatch data directory"
expect_rc "unreadable file" 4 "$KX" index --db "$DB" "$WORK/does-not-exist.jsonl"
expect_rc "bad filter code" 3 "$KX" search --db "$DB" --industry 99x 化工

# A second writer is refused while one holds the index.
(sleep 3 | "$KX" index --db "$DB" - >/dev/null 2>&1) &
holder=$!
sleep 1
expect_rc "locked index" 5 "$KX" index --db "$DB" "$DATA/experts.jsonl"
expect_contains "locked message" "$OUT" "locked by another kxmatch process"
wait $holder

# --rebuild recreates Xapian from LMDB alone.
# (Keys, not scores: Xapian's per-term upper bounds never shrink when a
# document is deleted, so the normaliser of a rebuilt index is tighter.)
keys() { python3 -c 'import json,sys; print(" ".join(h["key"] for h in json.load(sys.stdin)["hits"]))'; }
q1=$("$KX" search --db "$DB" --top 20 --json 化工 废水 | keys)
rm -rf "$DB/xapian"
expect_rc "rebuild" 0 "$KX" index --db "$DB" --rebuild
expect_eq "same results after rebuild" "$("$KX" search --db "$DB" --top 20 --json 化工 废水 | keys)" "$q1"

# Killed at any moment, then run again: the same state as one clean run.
python3 - "$WORK/big.jsonl" <<'PY'
import json, sys, random
random.seed(7)
words = "聚丙烯 催化剂 废水 处理 铝合金 轻量化 肉牛 饲料 纺纱 印染 光伏 储能 catalyst polymer membrane".split()
with open(sys.argv[1], "w") as f:
    for i in range(30000):
        f.write(json.dumps({"kind": "expert", "id": "K%05d" % i, "name": "专家%d" % i,
            "text": " ".join(random.choice(words) for _ in range(60)),
            "industries": [random.choice(["2614", "3216", "0311", "1711"])]},
            ensure_ascii=False) + "\n")
PY
"$KX" index --db "$WORK/clean" "$WORK/big.jsonl" >/dev/null
for delay in 0.3 0.8 1.5; do
    rm -rf "$WORK/killed"
    "$KX" index --db "$WORK/killed" "$WORK/big.jsonl" >/dev/null 2>&1 &
    pid=$!
    sleep $delay
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    "$KX" index --db "$WORK/killed" "$WORK/big.jsonl" >/dev/null 2>&1
    expect_eq "killed after ${delay}s: same records" \
        "$(mdb_dump -s records "$WORK/killed/lmdb" | md5sum)" \
        "$(mdb_dump -s records "$WORK/clean/lmdb" | md5sum)"
    expect_eq "killed after ${delay}s: same Xapian documents" \
        "$(xapian-delve "$WORK/killed/xapian" | grep 'number of documents')" \
        "$(xapian-delve "$WORK/clean/xapian" | grep 'number of documents')"
    expect_eq "killed after ${delay}s: same search results" \
        "$("$KX" search --db "$WORK/killed" --top 50 --json 催化剂 废水 | md5sum)" \
        "$("$KX" search --db "$WORK/clean" --top 50 --json 催化剂 废水 | md5sum)"
done
# A rebuild killed half way is finished by whoever opens the index next.
"$KX" index --db "$WORK/killed" --rebuild >/dev/null 2>&1 &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
expect_eq "killed rebuild: search after it sees everything" \
    "$("$KX" search --db "$WORK/killed" --top 50 --json 催化剂 废水 | keys)" \
    "$("$KX" search --db "$WORK/clean" --top 50 --json 催化剂 废水 | keys)"
expect_eq "killed rebuild: same Xapian documents" \
    "$(xapian-delve "$WORK/killed/xapian" | grep 'number of documents')" \
    "$(xapian-delve "$WORK/clean/xapian" | grep 'number of documents')"
# The command line's own questions: exit 0, on stdout.
expect_rc "--version" 0 "$KX" --version
expect_eq "--version names the release" "$OUT" "kxmatch $(sed -n 's/^project(kxmatch VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")"
expect_rc "help" 0 "$KX" help
expect_contains "help lists the commands" "$OUT" "digest"
expect_rc "no command: usage, exit 2" 2 "$KX"
finish
