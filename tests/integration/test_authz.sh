#!/usr/bin/env bash
# test_authz.sh - the authorization matrix (issue 11): every route of the
# table in api/http/server.c against every kind of caller - no token, an
# unknown, a revoked and an expired one, an enterprise and another, the
# liaison of a county and of another, of the city and of a township, an
# admin, and the tokens of an expert's and a society's accounts. authz_matrix.py reads the routes from the table and fails for one
# that it has no expectations for or that api/openapi.json leaves out; each
# write goes to an id of its caller's own, and a refused one is read back.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
MATRIX="$SRC/tests/integration/authz_matrix.py"
WEEK=2026-W48 # as authz_matrix.py's WEEK

expect_rc "index the dataset" 0 "$KX" index --quiet --db "$DB" "$DATA"/*.jsonl
# A digest plan, with a liaison recipient, for the previews; made before the
# fixtures are in, so that it names no need the writes below delete.
expect_rc "a liaison recipient" 0 "$KX" digest liaison add --db "$DB" --region 371603 \
    --email liaison-371603@example.org
expect_rc "plan the digests of $WEEK" 0 "$KX" digest plan --db "$DB" --week "$WEEK"
expect_rc "fixtures for the writes" 0 python3 "$MATRIX" fixtures "$SRC" "$WORK/fixtures.jsonl"
expect_rc "index the fixtures" 0 "$KX" index --quiet --db "$DB" "$WORK/fixtures.jsonl"

token() { "$KX" token create --db "$DB" "$@" 2>/dev/null; }
: > "$WORK/tokens"
add() { # add NAME TOKEN
    if [ ${#2} -eq 43 ]; then echo "$1 $2" >> "$WORK/tokens"; else fail "token for $1: [$2]"; fi
}
add entX "$(token --role enterprise --enterprise enterprise:C001)"
add entY "$(token --role enterprise --enterprise enterprise:C003)"
add liaX "$(token --role liaison --region 371603)"
add liaY "$(token --role liaison --region 371602)"
add city "$(token --role liaison --region 371600)"
add town "$(token --role liaison --region 371603107)"
add admin "$(token --role admin)"
add bad "kx_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Admin tokens, so that one still accepted would show everywhere.
revoked=$(token --role admin --label authz-revoked)
add revoked "$revoked"
expect_rc "revoke a token" 0 "$KX" token revoke --db "$DB" "$revoked"
expired=$(token --role admin --expires 1 --label authz-expired)
add expired "$expired"
# --expires takes only the future: the expiry is moved into the past in the
# store itself (mdb_dump/mdb_load, lmdb-utils).
if mdb_dump -s tokens "$DB/lmdb" > "$WORK/tokens.dump" &&
    python3 "$MATRIX" expire "$WORK/tokens.dump" "$expired" &&
    mdb_load -s tokens -f "$WORK/tokens.dump" "$DB/lmdb" 2> "$WORK/mdb_load.err"; then
    pass "expiry moved into the past"
else
    fail "cannot rewrite the expiry (mdb_dump, mdb_load: lmdb-utils):" \
        "$(cat "$WORK/mdb_load.err" 2>/dev/null)"
fi
expect_contains "token list shows it expired" \
    "$("$KX" token list --db "$DB" | grep authz-expired)" "2001-01-01T00:00:00Z"

# People: an expert's and a society contact's accounts; their tokens are
# made the way a person makes one, signed in (POST /v1/tokens).
printf 'authz expert password\n' | "$KX" user add --db "$DB" --role expert --record expert:E0005 \
    --email authz-expert@example.cn --name 授权专家 --password-stdin >/dev/null 2>&1 ||
    fail "an expert's account"
printf 'authz society password\n' | "$KX" user add --db "$DB" --role society --record society:S001 \
    --email authz-society@example.cn --name 授权学会 --password-stdin >/dev/null 2>&1 ||
    fail "a society's account"

serve_start --db "$DB" --web "$SRC/api/web" --write-rate 100000 &&
    pass "server up" || { finish; exit 1; }
person_token() { # EMAIL PASSWORD: sign in, make a token, print it
    python3 - "$URL" "$1" "$2" <<'PY'
import json, sys, urllib.request
url, email, pw = sys.argv[1:]
def call(method, path, body, headers):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode(),
                                 headers=dict(headers, **{"Content-Type": "application/json"}))
    return urllib.request.urlopen(req)
r = call("POST", "/v1/session", {"email": email, "password": pw}, {})
cookie = r.headers["Set-Cookie"].split(";")[0]
csrf = json.load(r)["csrf"]
r = call("POST", "/v1/tokens", {"label": "authz"}, {"Cookie": cookie, "X-CSRF-Token": csrf})
print(json.load(r)["token"])
PY
}
add expX "$(person_token authz-expert@example.cn 'authz expert password')"
add soc "$(person_token authz-society@example.cn 'authz society password')"

python3 "$MATRIX" run "$SRC" "$URL" "$WORK/tokens" > "$WORK/matrix.out" 2> "$WORK/matrix.err"
rc=$?
while IFS= read -r line; do
    case "$line" in
        "ok   "*) pass "${line#ok   }" ;;
        "FAIL "*) fail "${line#FAIL }" ;;
        *) echo "$line" ;;
    esac
done < "$WORK/matrix.out"
grep -q '^# done' "$WORK/matrix.out" && [ ! -s "$WORK/matrix.err" ] ||
    fail "authz_matrix.py did not finish: $(tail -5 "$WORK/matrix.err")"
expect_eq "authz_matrix.py fails when a check does" "$rc" \
    "$(grep -q '^FAIL ' "$WORK/matrix.out" && echo 1 || echo 0)"

serve_stop
expect_eq "server stops cleanly" "$?" 0
finish
