#!/usr/bin/env bash
# demo.sh KXMATCH DB - index the bundled Binzhou dataset, make an API token
# for each role and serve the API and the web pages in the foreground on
# 127.0.0.1:8080 ($KXMATCH_LISTEN overrides). Called by `make demo`; safe to
# run again (indexing is idempotent, the demo tokens are replaced).
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

# Tokens are stored hashed and shown once: revoke the last run's demo
# tokens and make new ones.
"$KX" token revoke --db "$DB" --label demo >/dev/null 2>&1 || true
mk() { "$KX" token create --db "$DB" --label demo "$@" 2>/dev/null; }
ent=$(mk --role enterprise --enterprise enterprise:C001)
city=$(mk --role liaison --region 371600)
county=$(mk --role liaison --region 371602)
admin=$(mk --role admin)
umask 077
cat > "$DB/demo-tokens.txt" <<TOKENS
enterprise=$ent
liaison_city=$city
liaison_county=$county
admin=$admin
TOKENS

url="http://${LISTEN/0.0.0.0/127.0.0.1}"

# This week's digests, written as .eml files (a re-run in the same week
# writes nothing new: each message goes out exactly once).
echo
echo "== this week's digests into $DB/outbox"
"$KX" digest liaison add --db "$DB" --region 371600 --email liaison@bzkx.example.cn >/dev/null
"$KX" digest send --db "$DB" --outbox "$DB/outbox" --base-url "$url"

cat <<INFO

== demo tokens (also in $DB/demo-tokens.txt; a new run replaces them)
  enterprise  enterprise:C001         $ent
  liaison     371600 滨州市           $city
  liaison     371602 滨城区           $county
  admin                               $admin

== digests: $DB/outbox/*.eml
   preview: curl -H "Authorization: Bearer $admin" '$url/v1/digests/preview?recipient=expert:E0001'
== pages: $url/  (enterprise.html, liaison.html, dashboard.html)
   API:   curl -H "Authorization: Bearer $city" '$url/v1/search?q=%E5%82%AC%E5%8C%96'
          $url/v1/openapi.json
   Stop with Ctrl-C.

INFO
exec "$KX" serve --db "$DB" --listen "$LISTEN"
