#!/usr/bin/env bash
# test_web_files.sh - the web folder serves its regular files and nothing
# else: no symlink (out of the folder or within it), no directory, no FIFO,
# no ".." however spelt. Each refusal is the JSON 404 of any missing page,
# and comes at once (a FIFO with no writer must not hold a worker).
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
WEB="$WORK/web"
OUT="$WORK/outside"
"$KX" index --quiet --db "$DB" "$DATA"/*.jsonl

cp -r "$SRC/api/web" "$WEB"
mkdir -p "$OUT/dir" "$WEB/sub" "$WEB/x.html"
echo "SECRET-OUTSIDE" > "$OUT/secret.txt"
echo "<p>SECRET-DIR</p>" > "$OUT/dir/page.html"
echo "<p>nested</p>" > "$WEB/sub/real.html"
echo "<p>in a folder named x.html</p>" > "$WEB/x.html/index.html"
ln -s ../outside/secret.txt "$WEB/leak.txt"        # relative, out
ln -s "$OUT/secret.txt" "$WEB/leak2.txt"            # absolute, out
ln -s "$OUT/dir" "$WEB/ext"                         # a folder out
ln -s index.html "$WEB/alias.html"                  # inside, to a page
ln -s sub "$WEB/sublink"                            # inside, to a folder
ln -s "$OUT/secret.txt" "$WEB/sub/deep.txt"         # out, one level down
mkfifo "$WEB/f.html"

serve_start --db "$DB" --web "$WEB" && pass "server up" || { finish; exit 1; }

# get PATH: status and content type of GET PATH (as written: no ".."
# folding by curl), body in $WORK/body; curl's exit code in $RC.
get() {
    : > "$WORK/body"
    GOT=$(curl -s --path-as-is --max-time 3 -o "$WORK/body" \
               -w '%{http_code} %{content_type}' "$URL$1")
    RC=$?
}

# The JSON 404 body every missing page answers with (written compact).
is_not_found() {
    grep -Eq '^\{"error":\{"code":"not_found","message":"no page [^"]+","field":""\}\}$' \
        "$WORK/body"
}

for p in /leak.txt /leak2.txt /ext/page.html /alias.html /sublink/real.html \
         /sub/deep.txt /x.html /f.html /../README.md /%2e%2e/README.md \
         /%2E%2E/README.md /sub/../index.html /sub/%2e%2e/index.html \
         /.hidden.html /sub//real.html /sub/; do
    start=$(date +%s%N)
    get "$p"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    expect_eq "$p: curl finished (no hang)" "$RC" 0
    expect_eq "$p: 404 JSON" "$GOT" "404 application/json; charset=utf-8"
    if is_not_found; then pass "$p: not_found error body"; else
        fail "$p: body is not the not_found error: $(head -c 300 "$WORK/body")"; fi
    if grep -q SECRET "$WORK/body"; then fail "$p: leaked a file from outside"
    else pass "$p: nothing from outside"; fi
    [ "$ms" -lt 2000 ] && pass "$p: answered in ${ms} ms" ||
        fail "$p: took ${ms} ms"
done

# The pages themselves: the right type and the file's exact bytes.
check_file() {
    get "$1"
    expect_eq "$1: 200 $3" "$GOT" "200 $3"
    if cmp -s "$WORK/body" "$WEB/$2"; then pass "$1: the bytes of $2"; else
        fail "$1: body differs from $2"; fi
}
check_file / index.html "text/html; charset=utf-8"
check_file /index.html index.html "text/html; charset=utf-8"
check_file /app.js app.js "text/javascript; charset=utf-8"
check_file /style.css style.css "text/css; charset=utf-8"
check_file /sub/real.html sub/real.html "text/html; charset=utf-8"
check_file /x.html/index.html x.html/index.html "text/html; charset=utf-8"

# Revalidation: each file has an ETag; asking with it (as is, weak, in a
# list) costs a 304 and no bytes, asking with another gets the file; a file
# that changes gets a new tag. A refused path stays refused whatever the
# client claims to hold.
# cond PATH HEADER...: status, body size and ETag of GET PATH.
cond() {
    local p=$1
    shift
    GOT=$(curl -s --max-time 3 -D "$WORK/head" -o "$WORK/body" "$@" \
               -w '%{http_code} %{size_download}' "$URL$p")
    TAG=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$WORK/head" | tr -d '\r')
}
cond /app.js
T1=$TAG
expect_eq "app.js: 200 and all its bytes" "$GOT" "200 $(stat -c %s "$WEB/app.js")"
case "$T1" in \"?*\") pass "app.js: an ETag ($T1)" ;; *) fail "app.js: ETag '$T1'" ;; esac
cond /app.js -H "If-None-Match: $T1"
expect_eq "app.js held: 304, no body" "$GOT" "304 0"
expect_eq "app.js held: the same ETag" "$TAG" "$T1"
cond /app.js -H "If-None-Match: W/$T1"
expect_eq "app.js held (weak tag): 304" "$GOT" "304 0"
cond /app.js -H "If-None-Match: \"other\", $T1"
expect_eq "app.js held (in a list): 304" "$GOT" "304 0"
cond /app.js -H 'If-None-Match: *'
expect_eq "app.js, any version held: 304" "$GOT" "304 0"
cond /app.js -H "If-None-Match: \"other\""
expect_eq "app.js, another version held: 200" "${GOT%% *}" 200
cond /app.js -H "If-None-Match: ${T1%?}x\""
expect_eq "app.js, a tag differing in its last character: 200" "${GOT%% *}" 200
echo "// changed" >> "$WEB/app.js"
cond /app.js -H "If-None-Match: $T1"
expect_eq "app.js changed: 200 and its new bytes" "$GOT" "200 $(stat -c %s "$WEB/app.js")"
if [ -n "$TAG" ] && [ "$TAG" != "$T1" ]; then pass "app.js changed: a new ETag"
else fail "app.js changed: ETag '$TAG' (was $T1)"; fi
cond /leak.txt -H 'If-None-Match: *'
expect_eq "a symlink stays refused for a client holding anything" "${GOT%% *}" 404

# The FIFO held no worker: the server still answers, and a writer that
# opens the FIFO now finds no reader left behind.
get /healthz
expect_eq "still healthy after the refusals" "${GOT%% *}" 200
if timeout 1 sh -c "echo x > '$WEB/f.html'"; then
    fail "the FIFO has a reader left open by the server"
else
    pass "no reader left on the FIFO"
fi

serve_stop
expect_eq "server stopped cleanly" "$?" 0
finish
