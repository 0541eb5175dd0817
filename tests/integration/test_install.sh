#!/usr/bin/env bash
# test_install.sh - `cmake --install` into a prefix gives a kxmatch that
# runs from the installed files alone: from /, with no KXMATCH_* in the
# environment and nothing in the binary naming the
# source or build tree, it finds PREFIX/share/kxmatch next to itself (each
# shipped file is changed in the prefix to prove it is the one read),
# indexes the bundled dataset, serves the pages and API, starts on an
# empty data directory as the service does, and writes the digests. Also:
# the version is the same in CMake, debian/changelog and the man page, and
# the systemd units verify against the installed binary.
set -u
source "$(dirname "$0")/lib.sh" "$@"
BUILD=$(cd "$(dirname "$KX")" && pwd)
SRC=$(cd "$SRC" && pwd)
P="$WORK/prefix"

if ! cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1; then
    fail "cmake --install: $(cat "$WORK/install.log")"
    finish
    exit 1
fi
pass "cmake --install --prefix"

# ---- the layout --------------------------------------------------------
missing=
for f in bin/kxmatch share/kxmatch/web/index.html share/kxmatch/web/app.js \
    share/kxmatch/openapi.json share/kxmatch/weights.conf \
    share/kxmatch/taxonomy/industry/gbt4754_2017.csv \
    share/kxmatch/taxonomy/discipline/nsfc.jsonl \
    share/kxmatch/taxonomy/region/areas.csv \
    share/kxmatch/eval/judgments.jsonl etc/kxmatch/kxmatch.conf \
    share/man/man1/kxmatch.1 share/bash-completion/completions/kxmatch \
    share/doc/kxmatch/README.md share/doc/kxmatch/nginx-kxmatch.conf; do
    [ -f "$P/$f" ] || missing="$missing $f"
done
expect_eq "every file installed" "$missing" ""
links=$(find "$P" -type l | head -3)
expect_eq "copies, no links into the tree" "$links" ""
[ -x "$P/bin/kxmatch" ] && pass "bin/kxmatch executable" || fail "bin/kxmatch not executable"

# ---- one version -------------------------------------------------------
v_cmake=$(sed -n 's/^project(kxmatch VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
v_deb=$(sed -n '1s/^kxmatch (\([^)]*\)).*/\1/p' "$SRC/debian/changelog")
v_man=$(sed -n 's/^\.TH KXMATCH 1 "[^"]*" "kxmatch \([^"]*\)".*/\1/p' "$SRC/dist/kxmatch.1")
expect_eq "debian/changelog version is CMake's" "$v_deb" "$v_cmake"
expect_eq "man page version is CMake's" "$v_man" "$v_cmake"

# ---- nothing in the binary names the trees -------------------------------
# The program's own strings only (debug info of a -g build names sources);
# a sanitizer build's metadata names them by design.
if grep -q '^SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    pass "tree paths in the binary: not checked in a sanitizer build"
else
    strip -o "$WORK/stripped" "$P/bin/kxmatch"
    n=$(grep -a -c -F -e "$SRC" -e "$BUILD" "$WORK/stripped")
    expect_eq "the binary names neither source nor build tree" "$n" 0
fi

# ---- run from the prefix alone -------------------------------------------
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(KXMATCH_|KX_)')
KX="$P/bin/kxmatch"
S="$P/share/kxmatch"
cp -r "$DATA" "$WORK/data"
cd / || exit 1

# Each shipped file, changed in the prefix, is the one that is read.
mv "$S/taxonomy" "$S/taxonomy.away"
expect_rc "no installed taxonomy: index fails" 4 "$KX" index --quiet --db "$WORK/db0" "$WORK/data/experts.jsonl"
expect_contains "naming the installed path" "$OUT" "$S/taxonomy"
mv "$S/taxonomy.away" "$S/taxonomy"
expect_rc "index the bundled dataset with the installed taxonomies" 0 "$KX" index --db "$WORK/db" "$WORK/data"/*.jsonl
expect_contains "every record" "$OUT" "rejected 0"

cp "$S/weights.conf" "$WORK/weights.keep"
echo "no_such_weight = 1" >> "$S/weights.conf"
expect_rc "a broken installed weights.conf is what match reads" 3 "$KX" match --db "$WORK/db" need:N0001 --top 1
expect_contains "naming it" "$OUT" "no_such_weight"
cp "$WORK/weights.keep" "$S/weights.conf"
expect_rc "match with the installed weights" 0 "$KX" match --db "$WORK/db" need:N0001 --top 3 --json

echo "<!-- installed copy -->" >> "$S/web/index.html"
printf '\n' >> "$S/openapi.json"
serve_start --db "$WORK/db" && pass "installed serve up" || { finish; exit 1; }
expect_eq "it is the installed binary that runs" "$(readlink "/proc/$SERVER/exe")" "$KX"
curl -s -o "$WORK/index.html" "$URL/"
cmp -s "$WORK/index.html" "$S/web/index.html" && pass "/ is the installed index.html" ||
    fail "/ is not byte-identical to $S/web/index.html"
curl -s -o "$WORK/openapi.json" "$URL/v1/openapi.json"
cmp -s "$WORK/openapi.json" "$S/openapi.json" && pass "/v1/openapi.json is the installed one" ||
    fail "/v1/openapi.json is not byte-identical to $S/openapi.json"
expect_eq "a page" "$(curl -s -o /dev/null -w '%{http_code}' "$URL/liaison.html")" 200
health=$(curl -s "$URL/healthz")
expect_contains "/healthz" "$health" '"status":"ok"'
case "$health" in *'"records":0,'*) fail "no records served: $health" ;; *) pass "records served" ;; esac

expect_eq "pages name the default organisation" "$(curl -s "$URL/v1/site" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["organisation"]["name"])')" "kxmatch 科技服务平台"
serve_stop && pass "serve stops cleanly" || fail "serve exit status"

# The installed configuration file, filled in as an administrator would:
# the organisation's names reach the pages and the digests, and nothing
# else names a city.
CONF="$P/etc/kxmatch/kxmatch.conf"
sed -i -e 's|^name =$|name = 测试市科学技术协会|' -e 's|^short_name =$|short_name = 测试科协|' \
    -e 's|^base_url =$|base_url = https://kx.test.example.cn|' \
    -e 's|^from =$|from = digest@kx.test.example.cn|' "$CONF"
serve_start --config "$CONF" --db "$WORK/db" || { finish; exit 1; }
site=$(curl -s "$URL/v1/site")
expect_contains "GET /v1/site: the configured name" "$site" '"name":"测试市科学技术协会"'
expect_contains "GET /v1/site: the configured base URL" "$site" '"base_url":"https://kx.test.example.cn"'
# As the timer's service does: beside the running server, on its directory.
expect_rc "digest send --outbox beside serve" 0 "$KX" --config "$CONF" digest send --db "$WORK/db" --outbox "$WORK/outbox"
n=$(find "$WORK/outbox" -name '*.eml' 2>/dev/null | wc -l)
[ "$n" -gt 0 ] && pass "digest messages written ($n)" || fail "no messages in the outbox: $OUT"
expect_eq "every message names the configured organisation" "$(/usr/bin/python3 - "$WORK/outbox" <<'PY'
import email, email.policy, pathlib, sys
bad = 0
files = sorted(pathlib.Path(sys.argv[1]).rglob("*.eml"))
for f in files:
    m = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
    text = m.get_body(("plain",)).get_content()
    ok = (str(m["Subject"]).startswith("【测试科协】")
          and "测试市科学技术协会" in text and "https://kx.test.example.cn/" in text
          and str(m["From"]).endswith("<digest@kx.test.example.cn>")
          and "滨州" not in str(m["Subject"]) + str(m["From"]))
    bad += not ok
print(len(files) > 0 and bad == 0)
PY
)" True
serve_stop

# A fresh install: systemd's StateDirectory is an empty directory.
mkdir "$WORK/empty"
serve_start --db "$WORK/empty" && pass "serve on an empty data directory" || { finish; exit 1; }
expect_contains "answers /healthz" "$(curl -s "$URL/healthz")" '"records":0'
serve_stop

# ---- the systemd units against the installed binary -----------------------
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir "$WORK/units"
    for u in kxmatch.service kxmatch-digest.service kxmatch-digest.timer; do
        sed "s|/usr/bin/kxmatch|$KX|" "$SRC/dist/$u" > "$WORK/units/$u"
    done
    expect_rc "systemd-analyze verify" 0 env MANPATH="$P/share/man" \
        systemd-analyze verify "$WORK/units"/kxmatch*.service "$WORK/units/kxmatch-digest.timer"
    expect_eq "with nothing to say" "$OUT" ""
else
    pass "systemd-analyze not installed: units not verified"
fi
bash -n "$P/share/bash-completion/completions/kxmatch" && pass "bash completion parses" ||
    fail "bash completion does not parse"
finish
