#!/usr/bin/env bash
# demo-week.sh KXMATCH DB BASE_URL - the demo's week: index the bundled
# Binzhou dataset into DB, give each role a person's account (an
# enterprise user, a city and a county liaison officer, an administrator,
# an expert), name the city's liaison digest address and write this
# week's digests into DB/outbox with links under BASE_URL. `make demo`
# (scripts/demo.sh) runs it before serving; the browser test of every
# digest link (tests/integration/test_digest_links.sh) runs it to follow
# the very digests the demo writes. Safe to run again: indexing is
# idempotent, accounts are kept, each message goes out once a week.
set -euo pipefail
KX=${1:?usage: demo-week.sh KXMATCH DB BASE_URL}
DB=${2:?usage: demo-week.sh KXMATCH DB BASE_URL}
URL=${3:?usage: demo-week.sh KXMATCH DB BASE_URL}
cd "$(dirname "$0")/.."
# The organisation the dataset belongs to names the pages and digests.
export KXMATCH_CONFIG=datasets/binzhou/kxmatch.conf

echo "== indexing datasets/binzhou into $DB"
"$KX" index --db "$DB" datasets/binzhou/*.jsonl
"$KX" stats --db "$DB"

# The raw API tokens earlier demos printed are no longer needed: people
# sign in. Revoke any left from an earlier run.
"$KX" token revoke --db "$DB" --label demo >/dev/null 2>&1 || true

# One account per role; an account made by an earlier run stays as it is.
account() { # EMAIL NAME ROLE [--region CODE | --record KIND:ID]
    local email=$1 name=$2 role=$3 err
    shift 3
    if ! err=$("$KX" user add --db "$DB" --role "$role" "$@" --email "$email" \
                   --name "$name" 2>&1 >/dev/null); then
        case "$err" in
            *"already has an account"*) ;;
            *) echo "$err" >&2; exit 1 ;;
        esac
    fi
}
echo
echo "== accounts"
account wang.li@example.cn 王丽 enterprise --record enterprise:C001
account li.na@example.cn 李娜 liaison --region 371600
account zhang.wei@example.cn 张伟 liaison --region 371602
account zhao.min@example.cn 赵敏 admin
account sun.lifeng@example.cn 孙立峰 expert --record expert:E0001
"$KX" user list --db "$DB"

# This week's digests, written as .eml files (a re-run in the same week
# writes nothing new: each message goes out exactly once).
echo
echo "== this week's digests into $DB/outbox"
"$KX" digest liaison add --db "$DB" --region 371600 --email liaison@bzkx.example.cn >/dev/null
"$KX" digest send --db "$DB" --outbox "$DB/outbox" --base-url "$URL"
