#!/usr/bin/env bash
# test_accounts.sh - people's accounts (issue 14): the `kxmatch user`
# commands, sign-in by password and by a mailed one-time link (through a
# real SMTP server), sessions with their cookie, CSRF and Origin checks,
# slowed-down failed sign-ins, sign-out, disabled accounts, a partner's own
# record and answers, the digest's signed one-click answer links, and the
# audit log naming people. accounts_check.py drives the HTTP side.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
PY=/usr/bin/python3
SINK="$SRC/tests/integration/smtp_sink.py"
CHECK="$SRC/tests/integration/accounts_check.py"

expect_rc "index the dataset" 0 "$KX" index --quiet --db "$DB" "$DATA"/*.jsonl
# an engineer of C001 who declared no conflict: still not C001's partner
printf '{"kind":"expert","id":"X901","name":"鑫泰工程师","org":"滨州鑫泰化工有限公司","text":"催化裂化 装置运行"}\n' > "$WORK/x901.jsonl"
expect_rc "index an enterprise's own engineer" 0 "$KX" index --quiet --db "$DB" "$WORK/x901.jsonl"

# ---- the command line (the contract) ----------------------------------------
expect_rc "user add: a county liaison officer" 0 "$KX" user add --db "$DB" --role liaison \
    --region 371602 --email zhang.wei@example.cn --name 张伟
expect_contains "user list names the account" "$("$KX" user list --db "$DB")" "张伟"
expect_contains "user list: role and scope" "$("$KX" user list --db "$DB" | grep zhang.wei)" "371602"
expect_rc "an address taken (any case)" 1 "$KX" user add --db "$DB" --role admin \
    --email Zhang.Wei@example.cn --name 重复
expect_contains "says the address has an account" "$OUT" "already has an account"
expect_rc "a township liaison officer" 0 "$KX" user add --db "$DB" --role liaison \
    --region 371603107 --email li.na@example.cn --name 李娜
expect_rc "an unknown region" 3 "$KX" user add --db "$DB" --role liaison --region 379999 \
    --email x1@example.cn --name 某人
expect_contains "names the region" "$OUT" "region"
expect_rc "an expert linked to a need" 3 "$KX" user add --db "$DB" --role expert \
    --record need:N0001 --email x2@example.cn --name 某人
expect_rc "an expert linked to no record" 4 "$KX" user add --db "$DB" --role expert \
    --record expert:E9999 --email x3@example.cn --name 某人
expect_rc "an unknown role" 3 "$KX" user add --db "$DB" --role boss \
    --email x4@example.cn --name 某人
expect_rc "not an address" 3 "$KX" user add --db "$DB" --role admin --email 'a b@example' --name 某人
expect_rc "a name with a line break" 3 "$KX" user add --db "$DB" --role admin \
    --email x5@example.cn --name "$(printf 'a\nb')"
printf 'short\n' > "$WORK/pw-short"
expect_rc "a password too short" 3 sh -c "\"$KX\" user add --db \"$DB\" --role admin --email x6@example.cn --name 某人 --password-stdin < \"$WORK/pw-short\""
expect_contains "says how long" "$OUT" "at least 10 characters"
expect_eq "nothing was written by the refusals" "$("$KX" user list --db "$DB" --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" 2
pw() { printf '%s\n' "$2" | "$KX" user add --db "$DB" --password-stdin "${@:3}" --email "$1" >/dev/null 2>&1; }
pw admin@example.cn 'admin password 1' --role admin --name 管理员 || fail "admin account"
pw ent@example.cn 'enterprise password' --role enterprise --record enterprise:C001 --name 王经理 || fail "enterprise account"
pw ent2@example.cn 'enterprise password' --role enterprise --record enterprise:C001 --name 赵工 || fail "a second person of C001"
pw expert@example.cn 'expert password 1' --role expert --record expert:E0001 --name 孙立峰 || fail "expert account"
pw soc@example.cn 'society password' --role society --record society:S001 --name 学会秘书 || fail "society account"
expect_rc "user role: the township officer moves to the county" 0 "$KX" user role --db "$DB" \
    li.na@example.cn --role liaison --region 371603
expect_contains "the new scope is listed" "$("$KX" user list --db "$DB" | grep li.na)" "371603 "
expect_rc "user disable" 0 "$KX" user disable --db "$DB" ent2@example.cn
expect_contains "listed disabled" "$("$KX" user list --db "$DB" | grep ent2)" "disabled"
expect_rc "a password for an unknown account" 4 sh -c "printf 'long enough password\n' | \"$KX\" user password --db \"$DB\" nobody@example.cn --password-stdin"
expect_rc "the password file has no hash in it: list --json" 0 sh -c "\"$KX\" user list --db \"$DB\" --json | grep -v argon2"
expect_rc "a link for an unknown account" 4 "$KX" user link --db "$DB" nobody@example.cn
expect_rc "a link for a disabled account" 4 "$KX" user link --db "$DB" ent2@example.cn
link=$("$KX" user link --db "$DB" zhang.wei@example.cn --base http://kx.example.cn/ 2>/dev/null)
expect_contains "user link prints the sign-in URL" "$link" "http://kx.example.cn/signin.html#link="
echo "${link#*#link=}" > "$WORK/cli-link"
expect_rc "the Argon2id hash is what the store keeps" 0 sh -c "mdb_dump -p -s users \"$DB/lmdb\" | grep -q 'argon2id'"

# ---- a digest week, for the one-click links -----------------------------------
expect_rc "plan a digest week" 0 "$KX" digest plan --db "$DB" --week 2026-W48
expect_rc "compose it to an outbox folder" 0 "$KX" digest send --db "$DB" --week 2026-W48 \
    --outbox "$WORK/outbox" --base-url http://kx.example.cn

# ---- the HTTP side --------------------------------------------------------------
mkdir -p "$WORK/sink"
$PY "$SINK" --dir "$WORK/sink" 2>>"$WORK/sink.err" &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do [ -s "$WORK/sink/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/sink/port" 2>/dev/null)
[ -n "$PORT" ] || fail "SMTP sink did not start: $(cat "$WORK/sink.err")"
cat > "$WORK/kx.conf" <<CONF
[organisation]
name = 滨州市科学技术协会
short_name = 滨州科协
base_url = http://kx.example.cn
[mail]
from = kx@bzkx.example.cn
smtp_url = smtp://127.0.0.1:$PORT
CONF
serve_start --config "$WORK/kx.conf" --db "$DB" || { finish; exit 1; }
KX_CITY_TOKEN=$("$KX" token create --db "$DB" --role liaison --region 371600 2>/dev/null) \
    $PY "$CHECK" "$URL" "$WORK/sink" "$WORK/outbox" "$WORK/cli-link" > "$WORK/check.out" 2>&1
rc=$?
while IFS= read -r line; do
    case "$line" in
        "ok   "*) pass "${line#ok   }" ;;
        "FAIL "*) fail "${line#FAIL }" ;;
        *) echo "$line" ;;
    esac
done < "$WORK/check.out"
expect_eq "accounts_check.py ran to its end" "$(tail -1 "$WORK/check.out")" "# done"
expect_eq "accounts_check.py fails when a check does" "$rc" \
    "$(grep -q '^FAIL ' "$WORK/check.out" && echo 1 || echo 0)"
expect_contains "failed sign-ins are logged" "$(cat "$WORK/serve.err")" "failed sign-in for expert@example.cn"
serve_stop
expect_eq "server stops cleanly" "$?" 0
finish
