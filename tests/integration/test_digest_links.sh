#!/usr/bin/env bash
# test_digest_links.sh - every link of every digest of the demo week, in
# headless Debian chromium: the demo's own week (scripts/demo-week.sh: the
# Binzhou dataset, the demo's accounts, this week's digests), an account
# for each recipient who has none (tests/integration/digest_links.py, which
# also checks that both parts of each message link the same pages), then
# `kxmatch serve` and tests/e2e/digest_links.mjs, which signs in as each
# recipient and follows each link of their message.
set -u
source "$(dirname "$0")/lib.sh" "$@"
BUILD=$(cd "$(dirname "$KX")" && pwd)
export KX_E2E_MODULES=${KX_E2E_MODULES:-$BUILD/e2e}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
PY=/usr/bin/python3
DB="$WORK/db"
SITE=http://kx.example

if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null ||
       [ ! -d "$KX_E2E_MODULES/node_modules/playwright-core" ]; then
    fail "browser tests need $CHROMIUM, node and playwright-core (run \`make e2e-deps\` as root)"
    finish
    exit 1
fi

if "$SRC/scripts/demo-week.sh" "$KX" "$DB" "$SITE" > "$WORK/week.out" 2>&1; then
    pass "the demo's week: $(grep -o '[0-9]* delivered' "$WORK/week.out")"
else
    fail "scripts/demo-week.sh: $(tail -5 "$WORK/week.out")"
    finish
    exit 1
fi
expect_rc "an account per recipient, the links of each message" 0 \
    "$PY" "$SRC/tests/integration/digest_links.py" "$DB/outbox" "$KX" "$DB" "$SITE" "$WORK/links.json"
echo "$OUT"

serve_start --config "$SRC/datasets/binzhou/kxmatch.conf" --db "$DB" || { finish; exit 1; }
export KX_BIN=$KX KX_DB=$DB
if node "$SRC/tests/e2e/digest_links.mjs" "$URL" "$WORK/links.json" "$BUILD/tests/digest-links"; then
    pass "every digest link followed"
else
    fail "digest links (screenshots in $BUILD/tests/digest-links)"
fi
serve_stop
expect_eq "server stops cleanly on SIGTERM" "$?" "0"
finish
