#!/usr/bin/env bash
# run.sh - `make bench`: kxmatch side by side with Xapian's scriptindex and
# quest, SQLite FTS5 (trigram) and nginx, on the same generated records, in
# one run, printing one table (bench/README.md says what each row means).
#
#   bench/run.sh [BUILD_DIR]
# Environment (all optional):
#   BENCH_SIZE=100000   records to generate (1000000 for the 1M table)
#   BENCH_RUNS=3        repeated runs per figure (the median is reported)
#   BENCH_PEER_RUNS=    runs of scriptindex, the slow peer (default:
#                       BENCH_RUNS below 100k records, 1 from 100k on)
#   BENCH_CLI_N=300     requests per CLI latency row (one process each)
#   BENCH_PEER_MAX=100000  records given to scriptindex (and so to quest)
#   BENCH_HTTP_SECONDS=10  wrk duration per HTTP row
#   BENCH_DIGEST_TIMEOUT=300  bound on the digest plan row, seconds
#   BENCH_SEED=1        generator seed
#   BENCH_WORK=DIR      scratch directory (default /tmp/kxbench-SIZE);
#                       removed at the end unless BENCH_KEEP=1 (or
#                       BENCH_REUSE=1)
#   BENCH_REUSE=1       with a kept BENCH_WORK of the same size: reuse its
#                       generated data and indexes, and its generation and
#                       indexing rows (the table says from when); every
#                       query, HTTP and digest row is measured anew. For
#                       trying a query-side change at 1M without the hour
#                       of indexing.
# Every server it starts listens on 127.0.0.1 and is stopped on exit.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$SRC" && mkdir -p "${1:-build}" && cd "${1:-build}" && pwd)
SIZE=${BENCH_SIZE:-100000}
RUNS=${BENCH_RUNS:-3}
# scriptindex indexes 100k records in about 10 minutes on 2 cores: one run
# from 100k on keeps `make bench` within half an hour.
if [ "$SIZE" -ge 100000 ]; then PEER_RUNS=${BENCH_PEER_RUNS:-1}; else PEER_RUNS=${BENCH_PEER_RUNS:-$RUNS}; fi
CLI_N=${BENCH_CLI_N:-300}
SI_N=${BENCH_PEER_MAX:-100000}
[ "$SI_N" -gt "$SIZE" ] && SI_N=$SIZE
HTTP_S=${BENCH_HTTP_SECONDS:-10}
SEED=${BENCH_SEED:-1}
W=${BENCH_WORK:-/tmp/kxbench-$SIZE}
R="$W/results.txt"
PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
put() { printf '%s=%s\n' "$1" "$2" >>"$R"; }

cleanup() {
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    if [ -f "$W/nginx/nginx.pid" ]; then
        kill "$(cat "$W/nginx/nginx.pid")" 2>/dev/null
    fi
    if [ "${BENCH_KEEP:-0}" != 1 ] && [ "${BENCH_REUSE:-0}" != 1 ]; then
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- what we need --------------------------------------------------------

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have scriptindex || need_pkgs+=(xapian-omega)
have quest || need_pkgs+=(xapian-tools)
have sqlite3 || need_pkgs+=(sqlite3)
pkg-config --exists sqlite3 2>/dev/null || need_pkgs+=(libsqlite3-dev)
have nginx || [ -x /usr/sbin/nginx ] || need_pkgs+=(nginx-light)
have wrk || need_pkgs+=(wrk)
have python3 || need_pkgs+=(python3)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    cmd="apt-get install -y --no-install-recommends ${need_pkgs[*]}"
    if [ "$(id -u)" = 0 ]; then
        log "installing: ${need_pkgs[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        # nginx's postinst would start the system service: we run our own
        # instance, so keep the system one from starting (policy-rc.d).
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.kxbench
        chmod +x /usr/sbin/policy-rc.d.kxbench
        [ -e /usr/sbin/policy-rc.d ] || ln -s policy-rc.d.kxbench /usr/sbin/policy-rc.d
        DEBIAN_FRONTEND=noninteractive $cmd >/dev/null
        [ -L /usr/sbin/policy-rc.d ] && rm -f /usr/sbin/policy-rc.d
        rm -f /usr/sbin/policy-rc.d.kxbench
    else
        log "some peers are missing; as root run:  apt-get update && $cmd"
        log "(their rows will say \"not available\")"
    fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

log "building kxmatch and the bench tools (RelWithDebInfo: -O2, as shipped) in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANITIZE=OFF >/dev/null || exit 1
cmake --build "$BUILD" -j "$(nproc)" --target kxmatch kxgen kxprof peer_conv \
    runstat cmdlat >/dev/null || exit 1
cmake --build "$BUILD" -j "$(nproc)" --target fts5_bench >/dev/null 2>&1
KX="$BUILD/kxmatch"
GEN="$BUILD/datasets/gen/kxgen"
B="$BUILD/bench"

if [ "${BENCH_REUSE:-0}" = 1 ] && [ -f "$R" ]; then
    mv -f "$R" "$W/results.prev"
else
    rm -rf "$W"
fi
mkdir -p "$W"
: >"$R"
put size "$SIZE"
put runs "$RUNS"
put peer_runs "$PEER_RUNS"
put machine "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -1)"
put kernel "$(uname -r)"
put date "$(date -u +%Y-%m-%dT%H:%MZ)"
put load_start "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the data --------------------------------------------------------------

D="$W/data"
FILES=("$D"/experts.jsonl "$D"/societies.jsonl "$D"/enterprises.jsonl "$D"/needs.jsonl "$D"/results.jsonl)
dir_kib() { du -sk "$1" 2>/dev/null | cut -f1; }
REUSE=0
if [ "${BENCH_REUSE:-0}" = 1 ]; then
    old="$W/results.prev"
    if [ -f "$old" ] && [ -d "$W/kx" ] && [ -f "$D/need_keys.txt" ] &&
       [ "$(sed -n 's/^size=//p' "$old")" = "$SIZE" ]; then
        REUSE=1
        log "reusing the data and indexes of the run of $(sed -n 's/^date=//p' "$old")"
        grep -E '^(gen|data_bytes|kx_index|si_records|si_index|si_kib|fts_index|fts_kib|date)=' "$old" |
            sed 's/^date=/indexed_on=/' >>"$R"
        # a store written by an older kxmatch is brought up to date here,
        # outside the timed rows
        "$KX" index --db "$W/kx" --quiet /dev/null >/dev/null 2>&1
    else
        log "BENCH_REUSE=1 but $W holds no complete run of $SIZE records: running everything"
        rm -rf "$D" "$W/kx" "$W/si" "$W"/fts.db*
    fi
fi
[ "$REUSE" = 1 ] || {
log "generating $SIZE records (seed $SEED)"
"$B/runstat" -o "$W/gen.stat" -- "$GEN" --records "$SIZE" --seed "$SEED" --out "$D" --quiet || exit 1
put gen "$(cat "$W/gen.stat")"
put data_bytes "$(cat "$D"/*.jsonl | wc -c)"
}

# ---- bulk indexing ---------------------------------------------------------

[ "$REUSE" = 1 ] || for i in $(seq 1 "$RUNS"); do
    log "kxmatch index, run $i/$RUNS"
    rm -rf "$W/kx"
    sync
    "$B/runstat" -o "$W/kx_index.stat" -- "$KX" index --db "$W/kx" --quiet "${FILES[@]}" \
        || { log "kxmatch index failed"; exit 1; }
done
[ "$REUSE" = 1 ] || put kx_index "$(paste -sd'|' "$W/kx_index.stat")"
put kx_lmdb_kib "$(dir_kib "$W/kx/lmdb")"
put kx_xapian_kib "$(dir_kib "$W/kx/xapian")"
"$KX" check --db "$W/kx" >/dev/null 2>&1; put kx_check_rc "$?"

if [ "$REUSE" = 1 ]; then
    :
elif have scriptindex; then
    # At 1M records scriptindex would take hours: it gets every k-th
    # record, BENCH_PEER_MAX of them (default 100,000: the same mix of
    # kinds), and the table says so.
    if [ "$SI_N" -lt "$SIZE" ]; then
        cat "${FILES[@]}" | awk -v k=$(( (SIZE + SI_N - 1) / SI_N )) 'NR % k == 1' \
            | head -n "$SI_N" >"$W/si_input.jsonl"
        "$B/peer_conv" "$W/si_input.jsonl" >"$W/peer.dump" 2>/dev/null
        put si_records "$(grep -c . "$W/si_input.jsonl")"
        rm -f "$W/si_input.jsonl"
    else
        "$B/peer_conv" "${FILES[@]}" >"$W/peer.dump" 2>/dev/null
        put si_records "$SIZE"
    fi
    for i in $(seq 1 "$PEER_RUNS"); do
        log "scriptindex (XAPIAN_CJK_NGRAM=1), run $i/$PEER_RUNS"
        rm -rf "$W/si"
        sync
        XAPIAN_CJK_NGRAM=1 "$B/runstat" -o "$W/si_index.stat" -- \
            scriptindex "$W/si" "$SRC/bench/scriptindex.def" "$W/peer.dump" >/dev/null
    done
    put si_index "$(paste -sd'|' "$W/si_index.stat")"
    put si_kib "$(dir_kib "$W/si")"
    rm -f "$W/peer.dump"
else
    put si_index "n/a"
fi

if [ "$REUSE" = 1 ]; then
    :
elif [ -x "$B/fts5_bench" ]; then
    for i in $(seq 1 "$RUNS"); do
        log "SQLite FTS5 trigram, run $i/$RUNS"
        sync
        "$B/runstat" -o "$W/fts_index.stat" -- "$B/fts5_bench" index "$W/fts.db" "${FILES[@]}" >/dev/null
    done
    put fts_index "$(paste -sd'|' "$W/fts_index.stat")"
    put fts_kib "$(( $(stat -c %s "$W/fts.db") / 1024 ))"
else
    put fts_index "n/a"
fi

# ---- search ----------------------------------------------------------------

Q="$D/queries.txt"
W2="$D/words2.txt"
log "search: in process (kxmatch bench search, FTS5)"
put kx_search "$("$KX" bench search --db "$W/kx" --queries "$Q" --runs "$RUNS")"
put kx_search_w2 "$("$KX" bench search --db "$W/kx" --queries "$W2" --runs 1)"
if [ -x "$B/fts5_bench" ]; then
    put fts_search "$("$B/fts5_bench" query "$W/fts.db" "$Q" "$RUNS" and)"
    put fts_search_or "$("$B/fts5_bench" query "$W/fts.db" "$Q" "$RUNS" or)"
    put fts_search_w2 "$("$B/fts5_bench" query "$W/fts.db" "$W2" 1)"
fi
log "search: through the CLI ($CLI_N queries, one process each)"
put kx_search_cli "$("$B/cmdlat" -n "$CLI_N" --hit '^ *[0-9]+  [0-9.]+  ' "$Q" -- "$KX" search --db "$W/kx" {})"
if have quest && [ -d "$W/si" ]; then
    put quest_search_cli "$(XAPIAN_CJK_NGRAM=1 "$B/cmdlat" -n "$CLI_N" --hit '^[0-9]+: \[' "$Q" -- quest -d "$W/si" -f default,cjk_ngram -m 10 {})"
    put quest_w2 "$(XAPIAN_CJK_NGRAM=1 "$B/cmdlat" --hit '^[0-9]+: \[' "$W2" -- quest -d "$W/si" -f default,cjk_ngram -m 10 {})"
    put quest_fail_all "$(XAPIAN_CJK_NGRAM=1 "$B/cmdlat" --hit '^[0-9]+: \[' "$Q" -- quest -d "$W/si" -f default,cjk_ngram -m 1 {})"
fi
MIXED="machine 燃料电池 learning"
out=$("$KX" search --db "$W/kx" "$MIXED" 2>&1); put kx_mixed "rc=$? $(printf '%s' "$out" | tail -1)"
if have quest && [ -d "$W/si" ]; then
    out=$(XAPIAN_CJK_NGRAM=1 quest -d "$W/si" -f default,cjk_ngram "$MIXED" 2>&1); put quest_mixed "rc=$? $(printf '%s' "$out" | head -1)"
fi

# ---- match -----------------------------------------------------------------

K="$D/need_keys.txt"
log "match: in process over $(wc -l <"$K") needs"
put kx_match "$("$KX" bench match --db "$W/kx" --keys "$K" --runs "$RUNS")"
log "match: through the CLI ($CLI_N needs)"
put kx_match_cli "$("$B/cmdlat" -n "$CLI_N" --hit '^ *[0-9]+  [0-9.]+  ' "$K" -- "$KX" match --db "$W/kx" {})"

# ---- HTTP --------------------------------------------------------------------

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk_row NAME URL [PATHS_FILE]: 64 connections, 2 threads, HTTP_S seconds
wrk_row() {
    local name=$1 url=$2 paths=${3:-} out
    if [ -n "$paths" ]; then
        out=$(WRK_PATHS="$paths" WRK_TOKEN="${TOKEN:-}" timeout $((HTTP_S + 30)) \
              wrk -t2 -c64 -d"${HTTP_S}s" --latency -s "$SRC/bench/paths.lua" "$url" 2>&1)
    else
        out=$(timeout $((HTTP_S + 30)) wrk -t2 -c64 -d"${HTTP_S}s" --latency "$url" 2>&1)
    fi
    put "$name" "$(printf '%s\n' "$out" | awk '
        /Requests\/sec/ {rps=$2}
        /^ +99%/ {p99=$2}
        /^ +50%/ {p50=$2}
        /Non-2xx/ {bad=$NF}
        /Socket errors/ {err=$0}
        END {printf "rps=%s p50=%s p99=%s non2xx=%s", rps, p50, p99, bad+0}')"
}

serve_usage=$("$KX" serve --help 2>&1)
if have wrk && printf '%s' "$serve_usage" | grep -q -- '--listen'; then
    log "HTTP: kxmatch serve"
    TOKEN=$("$KX" token create --db "$W/kx" --role admin --label bench 2>/dev/null | tail -1)
    "$KX" serve --db "$W/kx" --listen 127.0.0.1:0 >"$W/serve.log" 2>&1 &
    SPID=$!
    PIDS+=("$SPID")
    PORT=
    for _ in $(seq 1 150); do
        PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$W/serve.log")
        [ -n "$PORT" ] && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
        sleep 0.2
    done
    python3 - "$Q" >"$W/search.paths" <<'EOF'
import sys, urllib.parse
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if line:
        print("/v1/search?q=" + urllib.parse.quote(line) + "&per_page=10&facets=0")
EOF
    sed 's/&facets=0$//' "$W/search.paths" >"$W/search_facets.paths"
    sed 's|^need:\(.*\)$|/v1/needs/\1/matches|' "$K" >"$W/match.paths"
    wrk_row kx_http_healthz "http://127.0.0.1:$PORT/healthz"
    wrk_row kx_http_search "http://127.0.0.1:$PORT" "$W/search.paths"
    wrk_row kx_http_search_facets "http://127.0.0.1:$PORT" "$W/search_facets.paths"
    wrk_row kx_http_match "http://127.0.0.1:$PORT" "$W/match.paths"
    put kx_serve_rss_kib "$(awk '/VmRSS/ {print $2}' /proc/$SPID/status 2>/dev/null)"
    # the part that is not LMDB's and Xapian's files in the page cache
    put kx_serve_anon_kib "$(awk '/RssAnon/ {print $2}' /proc/$SPID/status 2>/dev/null)"
    # reply sizes, for nginx's files: the mean over the first 20 requests
    reply_bytes() {
        head -20 "$1" | while IFS= read -r p; do
            curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$p" | wc -c
        done | awk '{s += $1} END {print NR ? int(s / NR) : 0}'
    }
    put kx_search_reply_bytes "$(reply_bytes "$W/search.paths")"
    put kx_search_facets_reply_bytes "$(reply_bytes "$W/search_facets.paths")"
    put kx_healthz_reply_bytes "$(curl -s "http://127.0.0.1:$PORT/healthz" | wc -c)"
    put kx_serve_threads "$(ls /proc/$SPID/task 2>/dev/null | wc -l)"
    kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null
    PIDS=()
else
    put kx_http_healthz "n/a"
    log "HTTP: kxmatch serve not available: rows skipped"
fi

if have wrk && [ -x "$NGINX" ]; then
    log "HTTP: nginx serving a static JSON file (the ceiling)"
    N="$W/nginx"
    mkdir -p "$N/www" "$N/tmp"
    # static JSON files as large as our replies (1.5 KB and 80 B when the
    # server did not run)
    static_file() { # NAME KEY DEFAULT
        local bytes
        bytes=$(sed -n "s/^$2=//p" "$R"); bytes=${bytes:-$3}
        [ "$bytes" -gt 0 ] 2>/dev/null || bytes=$3
        [ "$bytes" -gt 5 ] || bytes=6
        { printf '["'; head -c "$((bytes - 5))" /dev/zero | tr '\0' 'x'; printf '"]\n'; } >"$N/www/$1"
        put "nginx_${1%.json}_bytes" "$(wc -c <"$N/www/$1")"
    }
    static_file search.json kx_search_reply_bytes 1500
    static_file facets.json kx_search_facets_reply_bytes 1500
    static_file healthz.json kx_healthz_reply_bytes 80
    NPORT=$(free_port)
    cat >"$N/nginx.conf" <<EOF
worker_processes $(nproc);
pid $N/nginx.pid;
error_log $N/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $N/tmp; proxy_temp_path $N/tmp;
    fastcgi_temp_path $N/tmp; uwsgi_temp_path $N/tmp; scgi_temp_path $N/tmp;
    default_type application/json;
    server {
        listen 127.0.0.1:$NPORT;
        root $N/www;
    }
}
EOF
    if "$NGINX" -c "$N/nginx.conf" -p "$N" 2>"$W/nginx.err"; then
        sleep 0.5
        wrk_row nginx_healthz "http://127.0.0.1:$NPORT/healthz.json"
        wrk_row nginx_search "http://127.0.0.1:$NPORT/search.json"
        wrk_row nginx_facets "http://127.0.0.1:$NPORT/facets.json"
        kill "$(cat "$N/nginx.pid")" 2>/dev/null
        sleep 0.5
    else
        put nginx_healthz "n/a"
        log "nginx did not start: $(cat "$W/nginx.err")"
    fi
fi

# ---- digest plan -------------------------------------------------------------

# It matches every open need: about 10 minutes at 100k on 2 cores. One
# run, bounded by BENCH_DIGEST_TIMEOUT seconds (default 300; the row then
# says it took longer).
DIGEST_T=${BENCH_DIGEST_TIMEOUT:-300}
digest_usage=$("$KX" digest --help 2>&1)
if printf '%s' "$digest_usage" | grep -q plan; then
    log "digest plan (at most $DIGEST_T s)"
    "$B/runstat" -o "$W/digest.stat" -- timeout "$DIGEST_T" "$KX" digest plan --db "$W/kx" >/dev/null 2>&1
    put kx_digest "$(paste -sd'|' "$W/digest.stat")"
    put digest_timeout "$DIGEST_T"
else
    put kx_digest "n/a"
    log "digest plan not available: row skipped"
fi

put load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$SRC/bench/report.py" "$R" | tee "$W/table.md"
cp "$W/table.md" "$BUILD/bench-$SIZE.md" 2>/dev/null
cp "$R" "$BUILD/bench-$SIZE.txt" 2>/dev/null
log "table saved to $BUILD/bench-$SIZE.md (raw figures: $BUILD/bench-$SIZE.txt)"
