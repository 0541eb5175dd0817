#!/usr/bin/env bash
# demo.sh KXMATCH DB - index the bundled Binzhou dataset, give each role a
# person's account (an enterprise user, a city and a county liaison
# officer, an administrator, an expert), write this week's digests and
# serve the API and the web pages in the foreground on 127.0.0.1:8080
# ($KXMATCH_LISTEN overrides), printing one password-less sign-in link per
# person. Called by `make demo`; safe to run again (indexing is idempotent,
# the accounts are kept, the links are new each run).
set -euo pipefail
KX=${1:?usage: demo.sh KXMATCH DB}
DB=${2:?usage: demo.sh KXMATCH DB}
LISTEN=${KXMATCH_LISTEN:-127.0.0.1:8080}
cd "$(dirname "$0")/.."
# The organisation the dataset belongs to names the pages and digests.
export KXMATCH_CONFIG=datasets/binzhou/kxmatch.conf

echo "== indexing datasets/binzhou into $DB"
"$KX" index --db "$DB" datasets/binzhou/*.jsonl
"$KX" stats --db "$DB"

url="http://${LISTEN/0.0.0.0/127.0.0.1}"

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
"$KX" digest send --db "$DB" --outbox "$DB/outbox" --base-url "$url"

link() { "$KX" user link --db "$DB" "$1" --base "$url" 2>/dev/null; }
cat <<INFO

== sign in: one link per person, each valid for 15 minutes and once
   (a new one: $KX user link --db $DB ADDRESS --base $url)
  enterprise  王丽   滨州鑫泰化工 (enterprise:C001)
              $(link wang.li@example.cn)
  liaison     李娜   371600 滨州市
              $(link li.na@example.cn)
  liaison     张伟   371602 滨城区
              $(link zhang.wei@example.cn)
  admin       赵敏
              $(link zhao.min@example.cn)
  expert      孙立峰 expert:E0001
              $(link sun.lifeng@example.cn)
   Open each in its own browser (or a private window): a browser keeps one
   session at a time. A password instead: $KX user password --db $DB ADDRESS --password-stdin

== digests: $DB/outbox/*.eml (their links open the pages, after signing in)
== pages: $url/  (signin.html, enterprise.html, liaison.html, dashboard.html, expert.html, admin.html)
   API:   $url/v1/openapi.json; for scripts, a token:
          $KX token create --db $DB --role liaison --region 371600
   Stop with Ctrl-C.

INFO
exec "$KX" serve --db "$DB" --listen "$LISTEN"
