#!/usr/bin/env bash
# demo.sh KXMATCH DB - index the bundled Binzhou dataset and show kxmatch at
# work on it. Called by `make demo`.
set -euo pipefail
KX=${1:?usage: demo.sh KXMATCH DB}
DB=${2:?usage: demo.sh KXMATCH DB}
cd "$(dirname "$0")/.."

echo "== indexing datasets/binzhou into $DB"
"$KX" index --db "$DB" datasets/binzhou/*.jsonl
"$KX" stats --db "$DB"
echo
echo "== kxmatch search --kind expert 聚丙烯 催化剂"
"$KX" search --db "$DB" --kind expert --top 5 聚丙烯 催化剂
echo
echo "== kxmatch search --industry 26 --kind need 废水"
"$KX" search --db "$DB" --industry 26 --kind need --top 5 废水
