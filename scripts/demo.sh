#!/usr/bin/env bash
# demo.sh KXMATCH DB - the demo's week (scripts/demo-week.sh: the bundled
# Binzhou dataset indexed, a person's account per role, this week's
# digests written), then serve the API and the web pages in the
# foreground on 127.0.0.1:8080 ($KXMATCH_LISTEN overrides), printing one
# password-less sign-in link per person. Called by `make demo`; safe to
# run again (indexing is idempotent, the accounts are kept, the links are
# new each run).
set -euo pipefail
KX=${1:?usage: demo.sh KXMATCH DB}
DB=${2:?usage: demo.sh KXMATCH DB}
LISTEN=${KXMATCH_LISTEN:-127.0.0.1:8080}
url="http://${LISTEN/0.0.0.0/127.0.0.1}"
"$(dirname "$0")/demo-week.sh" "$KX" "$DB" "$url"
cd "$(dirname "$0")/.."
# The pages name the organisation of the demo's configuration.
export KXMATCH_CONFIG=datasets/binzhou/kxmatch.conf

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
