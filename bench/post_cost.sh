#!/usr/bin/env bash
# post_cost.sh - what one POST /v1/needs costs inside the server: LMDB
# write transactions begun and committed, Xapian commits, and parses of
# the need (record_parse, record_from_json), counted with gdb breakpoints on
# a `kxmatch serve` over the Binzhou dataset.
#
#   bench/post_cost.sh [BUILD_DIR]     (default: build)
# Prints one line per counter. Needs gdb and curl; the build should carry
# symbols (RelWithDebInfo, the default).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
KX=$(cd "${1:-$SRC/build}" && pwd)/kxmatch
W=$(mktemp -d /tmp/kx_postcost_XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT

"$KX" index --quiet --db "$W/db" "$SRC"/datasets/binzhou/*.jsonl
tok=$("$KX" token create --db "$W/db" --role enterprise --enterprise enterprise:C001 2>/dev/null)
"$KX" serve --db "$W/db" --listen 127.0.0.1:0 >"$W/out" 2>"$W/err" &
SERVER=$!
url=
for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$W/out")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "server did not start: $(cat "$W/err")" >&2; exit 1; }
post() {
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --data "$1" "$url/v1/needs"
}
# One POST first, so that lazily opened readers and caches do not count.
post '{"id":"WARM1","name":"余热回收 warm","region":"371602"}' >/dev/null

# MDB_RDONLY is 0x20000: a begin without it is a write transaction. The
# record parses count every record read (the need and its enterprise).
cat >"$W/gdb" <<'EOF'
set pagination off
set breakpoint pending on
break mdb_txn_begin
commands
silent
continue
end
break mdb_txn_begin if ($rdx & 0x20000) == 0
commands
silent
continue
end
break mdb_txn_commit
commands
silent
continue
end
break record_parse
commands
silent
continue
end
break record_from_json
commands
silent
continue
end
break xap_commit
commands
silent
continue
end
continue
info breakpoints
detach
EOF
gdb -q -batch -p "$SERVER" -x "$W/gdb" >"$W/gdb.out" 2>&1 &
GDB=$!
# gdb is attached once the breakpoints are in; give it that long.
for _ in $(seq 100); do
    grep -q '^Breakpoint 6' "$W/gdb.out" && break
    sleep 0.1
done
sleep 0.5
code=$(post '{"id":"COST1","name":"含氯VOCs催化燃烧 cost","region":"371602"}')
sleep 0.5
kill -INT "$GDB"
wait "$GDB" || true
echo "POST /v1/needs answered $code"
# gdb lists "N breakpoint keep y ADDR in FUNC at FILE:LINE" (or "<FUNC>"
# without debug symbols), then "breakpoint already hit K times" if hit.
labels=("LMDB transactions begun" "LMDB write transactions begun"
        "LMDB commits" "record_parse calls" "record_from_json calls"
        "Xapian commits")
awk '
    /^[0-9]+ +breakpoint/ { n++; hits[n] = 0 }
    /breakpoint already hit/ { hits[n] = $4 }
    END { for (i = 1; i <= n; i++) print hits[i] }' "$W/gdb.out" |
    { i=0; while read -r h; do printf '%-32s %s\n' "${labels[$i]}" "$h"; i=$((i + 1)); done; }
