#!/usr/bin/env bash
# test_api_e2e.sh - the web pages end to end in headless Debian chromium
# (tests/e2e/e2e.mjs, playwright-core): `kxmatch serve` on an ephemeral port
# over the Binzhou dataset, a token per role, screenshots and the exported
# CSV kept in BUILD/tests/e2e. `make test` installs chromium and
# playwright-core (scripts/install-deps.sh, `make e2e-deps`) beforehand.
set -u
source "$(dirname "$0")/lib.sh" "$@"
BUILD=$(cd "$(dirname "$KX")" && pwd)
MODULES=${KX_E2E_MODULES:-$BUILD/e2e}
SHOTS=$BUILD/tests/e2e
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
DB="$WORK/db"

missing=
[ -x "$CHROMIUM" ] || missing="$missing $CHROMIUM"
command -v node >/dev/null || missing="$missing node"
[ -d "$MODULES/node_modules/playwright-core" ] || missing="$missing $MODULES/node_modules/playwright-core"
if [ -n "$missing" ]; then
    fail "browser tests need:$missing (run \`make e2e-deps\` as root)"
    finish
    exit 1
fi

expect_rc "index the dataset" 0 "$KX" index --quiet --skip-invalid --db "$DB" "$DATA"/*.jsonl
token() { "$KX" token create --db "$DB" "$@" 2>/dev/null; }
export KX_TOKEN_ENTERPRISE KX_TOKEN_LIAISON KX_TOKEN_ADMIN KX_E2E_MODULES=$MODULES CHROMIUM
KX_TOKEN_ENTERPRISE=$(token --role enterprise --enterprise enterprise:C001)
KX_TOKEN_LIAISON=$(token --role liaison --region 371600)
KX_TOKEN_ADMIN=$(token --role admin)
[ ${#KX_TOKEN_ADMIN} -eq 43 ] && pass "tokens for each role" || fail "token create"

# A digest recipient's unsubscribe token, from a message as sent.
"$KX" digest send --db "$DB" --outbox "$WORK/outbox" --base-url http://kx.example >/dev/null 2>&1
KX_E2E_UNSUB=$(grep -rhoa -m1 'unsubscribe?token=[0-9a-f]\{32\}' "$WORK/outbox" | head -1 | sed 's/.*token=//')
export KX_E2E_UNSUB
[ ${#KX_E2E_UNSUB} -eq 32 ] && pass "an unsubscribe token from a sent message" || fail "no unsubscribe token in the outbox"

# The pages name the organisation of the configuration file.
export KX_E2E_ORG=测试市科学技术协会
printf '[organisation]\nname = %s\n' "$KX_E2E_ORG" > "$WORK/kxmatch.conf"
serve_start --config "$WORK/kxmatch.conf" --db "$DB" && pass "server listening at $URL" || { finish; exit 1; }
url=$URL

rm -rf "$SHOTS"
mkdir -p "$SHOTS"
if node "$SRC/tests/e2e/e2e.mjs" "$url" "$SHOTS"; then
    pass "browser tests (screenshots in $SHOTS)"
else
    fail "browser tests (screenshots in $SHOTS)"
fi

serve_stop
expect_eq "server stops cleanly on SIGTERM" "$?" "0"
finish
