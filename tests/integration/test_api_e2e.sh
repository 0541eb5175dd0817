#!/usr/bin/env bash
# test_api_e2e.sh - the web pages end to end in headless Debian chromium
# (tests/e2e/e2e.mjs, playwright-core): `kxmatch serve` on an ephemeral port
# over the Binzhou dataset, one account per role (`kxmatch user add`) and a
# token per role, this week's digests (whose links the browser follows), an
# SMTP server that catches the sign-in links the sign-in page asks for;
# screenshots and the exported CSV kept in BUILD/tests/e2e. `make test`
# installs chromium and playwright-core (scripts/install-deps.sh, `make
# e2e-deps`) beforehand.
set -u
source "$(dirname "$0")/lib.sh" "$@"
BUILD=$(cd "$(dirname "$KX")" && pwd)
MODULES=${KX_E2E_MODULES:-$BUILD/e2e}
SHOTS=$BUILD/tests/e2e
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PY=/usr/bin/python3
DB="$WORK/db"

missing=
[ -x "$CHROMIUM" ] || missing="$missing $CHROMIUM"
command -v node >/dev/null || missing="$missing node"
command -v mdb_dump >/dev/null || missing="$missing mdb_dump"
"$PY" -c 'import aiosmtpd' 2>/dev/null || missing="$missing python3-aiosmtpd"
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

# People: one account per role, with a password where the tests sign in
# by password; the expert signs in by link only. e2e.mjs knows these
# addresses and passwords through the environment.
export KX_E2E_PASSWORD=e2e-Passwort-2026
user() { # ROLE SCOPE-OPTION EMAIL NAME [--password-stdin]
    local role=$1 scope=$2 email=$3 name=$4
    shift 4
    # shellcheck disable=SC2086
    if echo "$KX_E2E_PASSWORD" | "$KX" user add --db "$DB" --role "$role" $scope \
           --email "$email" --name "$name" "$@" >/dev/null 2>"$WORK/user.err"; then
        pass "account $email ($role)"
    else
        fail "user add $email: $(cat "$WORK/user.err")"
    fi
}
user admin "" zhao.min@example.cn 赵敏 --password-stdin
user enterprise "--record enterprise:C001" liu.yang@example.cn 刘洋 --password-stdin
user liaison "--region 371600" zhang.wei@example.cn 张伟 --password-stdin
user liaison "--region 371602" lock.test@example.cn 锁定测试 --password-stdin
user expert "--record expert:E0001" sun.lf@example.cn 孙立峰
expect_rc "user list names the people" 0 "$KX" user list --db "$DB"
expect_contains "user list shows 张伟" "$OUT" "张伟"
export KX_BIN=$KX KX_DB=$DB

# This week's digests, as sent: an unsubscribe token, and the links of the
# messages to expert:E0001 and enterprise:C001 (each item's title, its
# page link and, for the expert, its one-click answer link) for e2e.mjs.
"$KX" digest send --db "$DB" --outbox "$WORK/outbox" --base-url http://kx.example >/dev/null 2>&1
KX_E2E_UNSUB=$(grep -rhoa -m1 'unsubscribe?token=[0-9a-f]\{32\}' "$WORK/outbox" | head -1 | sed 's/.*token=//')
export KX_E2E_UNSUB
[ ${#KX_E2E_UNSUB} -eq 32 ] && pass "an unsubscribe token from a sent message" || fail "no unsubscribe token in the outbox"
export KX_E2E_DIGESTS="$WORK/digests.json"
"$PY" - "$WORK/outbox" "$KX_E2E_DIGESTS" <<'PY'
import email, glob, json, re, sys
from email import policy
out, dest = sys.argv[1:3]
found = {}
for f in sorted(glob.glob(out + '/*.eml')):
    m = email.message_from_binary_file(open(f, 'rb'), policy=policy.default)
    key = str(m['X-Kxmatch-Digest']).split()[-1]
    if key not in ('expert:E0001', 'enterprise:C001'):
        continue
    body = m.get_body(preferencelist=('plain',)).get_content()
    items = []
    for block in re.split(r'(?m)^\d+\. ', body)[1:]:
        title = block.split('\n', 1)[0].strip()
        page = re.search(r'http://kx\.example/(\S+\.html\?\S+)', block)
        ans = re.search(r'answer\.html#t=([0-9a-f.]+)', block)
        if page:
            items.append({'title': title, 'page': page.group(1),
                          'answer': ans.group(1) if ans else None})
    found[key] = items
json.dump(found, open(dest, 'w'), ensure_ascii=False, indent=1)
PY
n_links=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d.get("expert:E0001",[])), len(d.get("enterprise:C001",[])))' "$KX_E2E_DIGESTS")
case "$n_links" in
    "0 "* | *" 0" | "") fail "digest links of expert:E0001 and enterprise:C001: [$n_links]" ;;
    *) pass "digest links of expert:E0001 and enterprise:C001: $n_links" ;;
esac

# An SMTP server for the sign-in links the page asks for.
export KX_E2E_MAIL="$WORK/mail"
mkdir -p "$KX_E2E_MAIL"
"$PY" "$SRC/tests/integration/smtp_sink.py" --dir "$KX_E2E_MAIL" 2>"$WORK/sink.err" &
SINK_PID=$!
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; kill "$SINK_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do
    [ -s "$KX_E2E_MAIL/port" ] && break
    sleep 0.1
done
SMTP_PORT=$(cat "$KX_E2E_MAIL/port" 2>/dev/null)
[ -n "$SMTP_PORT" ] && pass "SMTP sink on port $SMTP_PORT" || fail "SMTP sink did not start: $(cat "$WORK/sink.err")"

# The pages name the organisation of the configuration file; mail links
# point at its base_url (the tests put the server's own address in place).
export KX_E2E_ORG=测试市科学技术协会
cat > "$WORK/kxmatch.conf" <<CONF
[organisation]
name = $KX_E2E_ORG
short_name = 测试科协
base_url = http://kx.example
[mail]
from = noreply@kx.example
from_name = 测试科协
smtp_url = smtp://127.0.0.1:$SMTP_PORT
CONF
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
kill "$SINK_PID" 2>/dev/null
wait "$SINK_PID" 2>/dev/null
finish
