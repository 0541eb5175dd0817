#!/usr/bin/env bash
# test_export.sh - `kxmatch export` and `kxmatch backup`: an export indexed
# anew exports to the same bytes; deleted records stay out; write errors
# fail loudly; both commands take a consistent snapshot while serve runs and
# a writer posts needs, and the backup is a data directory that mdb_stat,
# xapian-delve, search and serve accept. Also: what kxmatch creates
# (data directories, the LMDB file, exports, the digest outbox) is the
# owner's alone, whatever the umask allows.
set -u
source "$(dirname "$0")/lib.sh" "$@"
WRITER=
trap '[ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
A="$WORK/a" B="$WORK/b"

# ---- export: the round trip ----------------------------------------------
"$KX" index --quiet --db "$A" "$DATA"/*.jsonl
expect_rc "export to a file" 0 "$KX" export --db "$A" "$WORK/a1.jsonl"
expect_contains "says how many" "$OUT" "exported $(cat "$DATA"/*.jsonl | wc -l) records"
"$KX" index --quiet --db "$B" "$WORK/a1.jsonl"
"$KX" export --db "$B" > "$WORK/b1.jsonl"
cmp -s "$WORK/a1.jsonl" "$WORK/b1.jsonl" && pass "export of the re-indexed export is byte-identical" \
    || fail "exports differ: $(diff "$WORK/a1.jsonl" "$WORK/b1.jsonl" | head -5)"
"$KX" export --db "$B" - > "$WORK/b2.jsonl"
cmp -s "$WORK/b1.jsonl" "$WORK/b2.jsonl" && pass "- is stdout" || fail "export - differs"
expect_eq "same counts by kind" "$("$KX" stats --db "$B" --json | sed 's/"lmdb_bytes.*//')" \
    "$("$KX" stats --db "$A" --json | sed 's/"lmdb_bytes.*//')"
expect_rc "check is clean on the re-indexed copy" 0 "$KX" check --db "$B"
expect_contains "and counts every record" "$OUT" "$(wc -l < "$WORK/a1.jsonl") records checked"

n_need=$(grep -c '^{"kind":"need"' "$WORK/a1.jsonl")
"$KX" export --db "$A" --kind need > "$WORK/needs.jsonl"
expect_eq "--kind need: only needs" "$(grep -vc '^{"kind":"need"' "$WORK/needs.jsonl")" 0
expect_eq "--kind need: every need" "$(wc -l < "$WORK/needs.jsonl")" "$n_need"
expect_rc "--kind bogus is refused" 3 "$KX" export --db "$A" --kind bogus
expect_contains "naming the kinds" "$OUT" "expert academician society"
expect_rc "two files: usage" 2 "$KX" export --db "$A" x y

# ---- export: deleted records stay out ------------------------------------
echo '{"kind":"need","id":"N0001","deleted":true}' | "$KX" index --quiet --db "$A" -
"$KX" export --db "$A" > "$WORK/a2.jsonl"
expect_eq "a deleted record is not exported" "$(grep -c '"id":"N0001"' "$WORK/a2.jsonl")" 0
expect_eq "and nothing else is lost" "$(wc -l < "$WORK/a2.jsonl")" "$(($(wc -l < "$WORK/a1.jsonl") - 1))"
expect_contains "while LMDB remembers the deletion" "$(mdb_dump -s meta -p "$A/lmdb")" "deleted:need:N0001"

# ---- export: errors --------------------------------------------------------
expect_rc "a full device: exit 6" 6 "$KX" export --db "$A" /dev/full
expect_contains "with the reason" "$OUT" "writing /dev/full: No space left on device"
expect_rc "stdout on a full device: exit 6" 6 sh -c '"$1" export --db "$2" > /dev/full' sh "$KX" "$A"
expect_contains "with the reason" "$OUT" "writing standard output: No space left on device"
# past the file size limit (SIGXFSZ ignored, so write() fails with EFBIG)
expect_rc "a write failing half way: exit 6" 6 bash -c 'trap "" XFSZ; ulimit -f 64; exec "$1" export --db "$2" "$3"' \
    sh "$KX" "$A" "$WORK/big.jsonl"
expect_contains "says so" "$OUT" "the export is incomplete"
[ -e "$WORK/big.jsonl" ] && fail "the partial export is left behind" || pass "the partial export is removed"
expect_rc "no data directory: exit 4" 4 "$KX" export --db "$WORK/none" "$WORK/none.jsonl"
[ -e "$WORK/none.jsonl" ] && fail "FILE created for a missing data directory" || pass "and FILE not created"
expect_rc "an unwritable FILE: exit 4" 4 "$KX" export --db "$A" "$WORK/no/such/dir.jsonl"
expect_contains "naming it" "$OUT" "cannot write $WORK/no/such/dir.jsonl"

# ---- backup: what it refuses, touching nothing -------------------------------
mkdir "$WORK/full" && echo keep > "$WORK/full/keep"
expect_rc "a non-empty OUTDIR: exit 3" 3 "$KX" backup --db "$A" "$WORK/full"
expect_contains "saying why" "$OUT" "is not empty"
expect_eq "and leaving it as it was" "$(ls -A "$WORK/full")" keep
echo x > "$WORK/afile"
expect_rc "a file as OUTDIR: exit 3" 3 "$KX" backup --db "$A" "$WORK/afile"
expect_eq "left as it was" "$(cat "$WORK/afile")" x
expect_rc "no data directory: exit 4" 4 "$KX" backup --db "$WORK/none" "$WORK/bk0"
[ -e "$WORK/bk0" ] && fail "OUTDIR created for a missing data directory" || pass "and OUTDIR not created"
expect_rc "no OUTDIR: usage" 2 "$KX" backup --db "$A"
expect_rc "OUTDIR in a missing folder: exit 4" 4 "$KX" backup --db "$A" "$WORK/no/such"
expect_contains "naming it" "$OUT" "cannot create $WORK/no/such"

# ---- both while serve runs and a writer posts needs ----------------------------
admin=$("$KX" token create --db "$A" --role admin 2>/dev/null)
serve_start --db "$A" --write-rate 0 && pass "server up" || { finish; exit 1; }
"$KX" export --db "$A" > "$WORK/a3.jsonl"
cmp -s "$WORK/a2.jsonl" "$WORK/a3.jsonl" && pass "export while serve runs" || fail "export under serve differs"

# Posts BK0001, BK0002, ... one after another until told to stop; a line
# in $WORK/posted once each is answered.
writer() {
    local i=0 id code
    while [ ! -e "$WORK/stop" ] && [ $i -lt 3000 ]; do
        i=$((i + 1))
        id=$(printf 'BK%04d' $i)
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin" \
            -H 'Content-Type: application/json' \
            --data "{\"id\":\"$id\",\"name\":\"备份测试 kxbackupprobe $i\",\"enterprise\":\"enterprise:C001\",\"region\":\"371603\"}" \
            "$URL/v1/needs")
        echo "$id $code" >> "$WORK/posted"
    done
}
posted() { grep -c ' 201$' "$WORK/posted"; }
: > "$WORK/posted"
writer &
WRITER=$!
for _ in $(seq 100); do [ "$(posted)" -ge 10 ] && break; sleep 0.1; done

# What a snapshot holds of the writer's needs: BK0001..BKm with none
# missing, before <= m <= after + 1 (a post may be committed but not yet
# logged). Prints m, or "gap".
snapshot_needs() {
    local ids m
    ids=$(grep -o '"id":"BK[0-9]*"' "$1" | sort)
    m=$(printf '%s\n' "$ids" | grep -c BK)
    if [ "$ids" != "$(for i in $(seq "$m"); do printf '"id":"BK%04d"\n' "$i"; done)" ]; then
        echo gap
    else
        echo "$m"
    fi
}
in_bounds() { [ "$2" != gap ] && [ "$2" -ge "$1" ] && [ "$2" -le $(($3 + 1)) ]; }

BK="$WORK/bk"
before=$(posted)
expect_rc "backup while serve writes" 0 "$KX" backup --db "$A" "$BK"
after=$(posted)
expect_contains "says what it holds" "$OUT" "records"
before_x=$(posted)
"$KX" export --db "$A" > "$WORK/a4.jsonl"
expect_eq "export while serve writes" "$?" 0
after_x=$(posted)
kill -0 "$WRITER" 2>/dev/null && pass "the writer was still writing" || fail "the writer ended early: $(tail -3 "$WORK/posted")"
touch "$WORK/stop"
wait "$WRITER"
WRITER=
expect_eq "every post was accepted" "$(grep -vc ' 201$' "$WORK/posted")" 0
echo "posted before/after backup: $before/$after, export: $before_x/$after_x"

"$KX" export --db "$BK" > "$WORK/bk.jsonl"
m=$(snapshot_needs "$WORK/bk.jsonl")
in_bounds "$before" "$m" "$after" && pass "the backup holds one snapshot ($m needs posted)" \
    || fail "the backup holds $m of the needs posted, want $before..$((after + 1)) with no gap"
mx=$(snapshot_needs "$WORK/a4.jsonl")
in_bounds "$before_x" "$mx" "$after_x" && pass "the export holds one snapshot ($mx needs posted)" \
    || fail "the export holds $mx of the needs posted, want $before_x..$((after_x + 1)) with no gap"
expect_eq "the backup holds what an export of it shows" "$(wc -l < "$WORK/bk.jsonl")" "$(($(wc -l < "$WORK/a2.jsonl") + m))"

# ---- the backup as the tools see it --------------------------------------------
expect_eq "OUTDIR created mode 0700" "$(stat -c %a "$BK")" 700
expect_eq "the same files as a data directory" "$(cd "$BK" && find . | sort)" "$(cd "$A" && find . | sort)"
nrec=$(wc -l < "$WORK/bk.jsonl")
expect_rc "mdb_stat reads it" 0 mdb_stat -e "$BK/lmdb"
expect_contains "mdb_stat counts the records" "$(mdb_stat -s records "$BK/lmdb")" "Entries: $nrec"
expect_contains "and the tokens" "$(mdb_stat -s tokens "$BK/lmdb")" "Entries: 1"
expect_rc "xapian-delve reads it" 0 xapian-delve "$BK/xapian"
expect_contains "a document per record" "$OUT" "number of documents = $nrec"
expect_rc "kxmatch check is clean on it" 0 "$KX" check --db "$BK"
expect_rc "kxmatch search finds a need posted during the backup" 0 "$KX" search --db "$BK" --json kxbackupprobe
expect_contains "need:BK0001 among the hits" "$OUT" '"key":"need:BK0001"'
serve_stop

serve_start --db "$BK" && pass "serve starts on the backup" || { finish; exit 1; }
hits=$(curl -s -H "Authorization: Bearer $admin" "$URL/v1/search?q=kxbackupprobe")
expect_contains "the backup's server finds it, the token copied along" "$hits" '"need:BK0001"'
hits=$(curl -s -H "Authorization: Bearer $admin" "$URL/v1/search?q=%E4%B8%99%E7%83%AF")
expect_contains "and the dataset's records" "$hits" '"result:R0001"'
serve_stop

# ---- backup at rest: the same records, and into an empty directory ----------------
mkdir "$WORK/empty"
expect_rc "backup into an empty directory" 0 "$KX" backup --db "$A" "$WORK/empty"
"$KX" export --db "$A" > "$WORK/a5.jsonl"
"$KX" export --db "$WORK/empty" > "$WORK/e5.jsonl"
cmp -s "$WORK/a5.jsonl" "$WORK/e5.jsonl" && pass "the backup exports what the original does" \
    || fail "backup and original export differ"
# ---- safe defaults: private files under a permissive umask ----------------
mode() { stat -c %a "$1"; }
(
    umask 000
    "$KX" index --quiet --db "$WORK/m/data" "$DATA"/*.jsonl
    "$KX" export --db "$WORK/m/data" "$WORK/m/export.jsonl"
    "$KX" digest send --db "$WORK/m/data" --outbox "$WORK/m/outbox" >/dev/null 2>&1
)
expect_eq "the data directory and its parent: 0700" "$(mode "$WORK/m") $(mode "$WORK/m/data")" "700 700"
expect_eq "lmdb/ 0700, its files 0600" "$(mode "$WORK/m/data/lmdb") $(mode "$WORK/m/data/lmdb/data.mdb") $(mode "$WORK/m/data/lmdb/lock.mdb")" "700 600 600"
expect_eq "an export: 0600" "$(mode "$WORK/m/export.jsonl")" 600
expect_eq "the outbox: 0700" "$(mode "$WORK/m/outbox")" 700
expect_eq "its messages and the send lock: 0600" \
    "$(find "$WORK/m/outbox" "$WORK/m/data" -type f \( -name '*.eml' -o -name 'digest-send.lock' \) -printf '%m\n' | sort -u)" 600
finish
