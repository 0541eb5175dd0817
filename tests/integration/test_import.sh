#!/usr/bin/env bash
# test_import.sh - `kxmatch import FILE.csv` (issue 15, a contract): a
# spreadsheet saved as CSV whose header row names the record format's
# fields becomes records through index's path; bad sheets and bad rows are
# refused with file, row and field, and write nothing.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
expect_rc "index the dataset" 0 "$KX" index --quiet --db "$DB" "$DATA"/*.jsonl
count() { "$KX" stats --db "$DB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["by_kind"]["expert"])'; }
before=$(count)

# As Excel's "CSV UTF-8" writes it: a byte order mark, CRLF, quoted cells
# with commas, quotes and line breaks, a list cell, a formula-looking cell.
printf '\xef\xbb\xbfkind,id,name,org,title,region,email,tags,industries,capacity,text\r\n' > "$WORK/experts.csv"
printf 'expert,X001,王建国,滨州学院,教授,371602,wang@bzu.example.cn,"冬枣保鲜; 冷链；气调",0151,2,"从事果蔬采后生理与保鲜,""冷链""物流\r\n及贮藏技术"\r\n' >> "$WORK/experts.csv"
printf 'expert,X002,"=HYPERLINK(""http://evil.example"")",某单位,,371603,li@example.cn,,,,\r\n' >> "$WORK/experts.csv"
printf ',,,,,,,,,,\r\n' >> "$WORK/experts.csv"
expect_rc "import a sheet of experts" 0 "$KX" import --db "$DB" "$WORK/experts.csv"
expect_contains "says what it did" "$OUT" "added 2,"
expect_eq "two experts more" "$(count)" "$((before + 2))"
rec=$("$KX" get --db "$DB" expert:X001)
expect_eq "cells become fields: list split, number, text with its line break" \
    "$(echo "$rec" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["tags"], r["capacity"], r["industries"], "\n" in r["text"], "\"冷链\"" in r["text"])')" \
    "['冬枣保鲜', '冷链', '气调'] 2 ['0151'] True True"
expect_eq "a formula is imported as its text, never run" \
    "$("$KX" get --db "$DB" expert:X002 | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')" \
    '=HYPERLINK("http://evil.example")'
expect_contains "and is found by search" "$("$KX" search --db "$DB" --kind expert 冬枣保鲜)" "expert:X001"
expect_rc "importing again changes nothing" 0 "$KX" import --db "$DB" "$WORK/experts.csv"
expect_contains "unchanged" "$OUT" "unchanged 2"
printf 'id,name,level,members\nS901,滨州市冷链物流学会,municipal,expert:X001;expert:E0001\n' > "$WORK/soc.csv"
expect_rc "no kind column: --kind gives it" 0 "$KX" import --db "$DB" --kind society "$WORK/soc.csv"
expect_contains "the members list" "$("$KX" get --db "$DB" society:S901)" '"members":["expert:X001","expert:E0001"]'

# ---- refused, each naming file, row and field, and nothing written -----------
refused() { # WHAT CONTENT EXPECTED-MESSAGE [ARGS]
    printf "$2" > "$WORK/bad.csv"
    local n0 rc
    n0=$(count)
    expect_rc "$1: refused" 3 "$KX" import --db "$DB" "${@:4}" "$WORK/bad.csv"
    expect_contains "$1: says where" "$OUT" "$3"
    expect_eq "$1: nothing written" "$(count)" "$n0"
}
refused "a column that is no field" 'kind,id,name,colour\nexpert,X010,a,red\n' 'bad.csv:1: column 4, "colour", is not a field'
refused "a column twice" 'kind,id,name,name\nexpert,X010,a,b\n' 'column "name" is there twice'
refused "no kind" 'id,name\nX010,a\n' 'no "kind" column'
refused "a number that is not one" 'kind,id,name,capacity\nexpert,X010,a,many\n' 'bad.csv:2: capacity: expected a whole number, got "many"'
refused "an unknown code, two rows down" 'kind,id,name,industries\nexpert,X010,a,0151\nexpert,X011,b,9999\n' 'bad.csv:3: industries[0]: unknown GB/T 4754-2017 industry code "9999"'
refused "a required field left empty" 'kind,id,name\nexpert,X010,\n' 'bad.csv:2: name: required field "name" is missing'
refused "a quote never closed" 'kind,id,name\nexpert,X010,"a\n' 'a quote not closed'
refused "not UTF-8 (a GBK export)" 'kind,id,name\nexpert,X010,\xb9\xfa\n' 'bad.csv:2: name: column 3 is not UTF-8'
refused "an unknown enterprise for a need" 'kind,id,name,enterprise\nneed,N9900,测试需求,enterprise:C999\n' 'bad.csv:2'
refused "an empty file" '' 'no header row'
refused "an unknown --kind" 'id,name\nX010,a\n' 'not a kind' --kind boss
head -c 17000000 /dev/zero | tr '\0' 'a' > "$WORK/big.csv"
expect_rc "a file over 16 MiB" 3 "$KX" import --db "$DB" "$WORK/big.csv"
expect_contains "says the limit" "$OUT" "at most 16 MiB"
expect_rc "a file that is not there" 4 "$KX" import --db "$DB" "$WORK/none.csv"
printf 'kind,id,name\nexpert,X020,a\n' > "$WORK/ok.csv"
printf 'kind,id,name,capacity\nexpert,X021,b,x\n' > "$WORK/bad2.csv"
expect_rc "one bad sheet of two: nothing of either" 3 "$KX" import --db "$DB" "$WORK/ok.csv" "$WORK/bad2.csv"
expect_rc "X020 was not written" 4 "$KX" get --db "$DB" expert:X020
serve_start --db "$DB" || { finish; exit 1; }
expect_rc "the data directory in use by serve" 5 "$KX" import --db "$DB" "$WORK/ok.csv"
serve_stop
finish
