#!/usr/bin/env bash
# test_digest_http.sh - the digests through the server: GET
# /v1/digests/preview obeys roles and shows what was sent; the
# List-Unsubscribe link of a real message asks on GET, unsubscribes on POST,
# and the next week's plan leaves that recipient out.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
mkdir -p "$WORK/data"
cp "$DATA"/*.jsonl "$WORK/data/"
"$KX" index --db "$DB" --quiet "$WORK/data"/*.jsonl

# Two weeks, so that the second can be planned after unsubscribing.
W1=2026-W48
W2=2026-W49
admin=$("$KX" token create --db "$DB" --role admin | grep -o 'kx_[0-9a-f]*' | head -1)
near=$("$KX" token create --db "$DB" --role liaison --region 371600 | grep -o 'kx_[0-9a-f]*' | head -1)
far=$("$KX" token create --db "$DB" --role liaison --region 110000 | grep -o 'kx_[0-9a-f]*' | head -1)
[ -n "$admin" ] && [ -n "$near" ] && [ -n "$far" ] && pass "tokens created" || fail "tokens: [$admin] [$near] [$far]"
expect_rc "send week 1 to an outbox" 0 "$KX" digest send --db "$DB" --week $W1 --outbox "$WORK/out" --base-url http://kx.example
# A recipient in Binzhou (so that the city's liaison may preview it), its
# message and the unsubscribe link in it.
read -r recipient eml unsub < <(python3 - "$KX" "$DB" "$WORK/out" <<'PY'
import sys, glob, json, re, subprocess, email
from email import policy
kx, db, out = sys.argv[1:4]
for f in sorted(glob.glob(out + '/*.eml')):
    m = email.message_from_binary_file(open(f, 'rb'), policy=policy.default)
    key = str(m['X-Kxmatch-Digest']).split()[-1]
    if not key.startswith(('expert:', 'academician:', 'enterprise:', 'society:')):
        continue
    rec = json.loads(subprocess.run([kx, 'get', '--db', db, key], capture_output=True, text=True).stdout)
    if rec.get('region', '').startswith('3716'):
        link = re.search(r'<([^>]*)>', str(m['List-Unsubscribe'])).group(1)
        print(key, f, link)
        break
PY
)
[ -n "$eml" ] && pass "a message to $recipient was written" || fail "no .eml for a Binzhou recipient"
token=${unsub##*token=}
expect_contains "the link carries a token" "$unsub" "/v1/digests/unsubscribe?token="
sent_subject=$(python3 -c '
import sys, email
from email import policy
print(str(email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)["Subject"]))' "$eml")

# An organisation's name with markup in it, which pages must escape.
printf '[organisation]\nname = 测试<科协>&\n' > "$WORK/kxmatch.conf"
serve_start --config "$WORK/kxmatch.conf" --db "$DB" && pass "server up"

code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
expect_eq "preview without a token: 401" "$(code "$URL/v1/digests/preview?recipient=$recipient&week=$W1")" 401
expect_eq "preview as admin: 200" "$(code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=$recipient&week=$W1")" 200
subject=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["subject"])' "$WORK/body")
[ -n "$subject" ] && pass "preview has a subject: $subject" || fail "preview has no subject: $(cat "$WORK/body")"
expect_eq "preview shows what was sent" "$subject" "$sent_subject"
expect_eq "preview by a liaison of the city: 200" "$(code -H "Authorization: Bearer $near" "$URL/v1/digests/preview?recipient=$recipient&week=$W1")" 200
far_code=$(code -H "Authorization: Bearer $far" "$URL/v1/digests/preview?recipient=$recipient&week=$W1")
expect_eq "preview by a liaison of another region: 403" "$far_code" 403
expect_eq "preview of an unknown key: 404" "$(code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=expert:NOPE&week=$W1")" 404
expect_eq "preview of a malformed key: 400" "$(code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=nokind&week=$W1")" 400
expect_eq "preview with an unknown parameter: 400" "$(code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=$recipient&x=1")" 400

# Previews never carry a recipient's token, and show a liaison only needs
# that the same token can read: every recipient of the week, previewed by
# the liaisons of two counties and of the city, against GET /v1/needs.
county=$("$KX" token create --db "$DB" --role liaison --region 371602 | grep -o 'kx_[0-9a-f]*' | head -1)
other=$("$KX" token create --db "$DB" --role liaison --region 371625 | grep -o 'kx_[0-9a-f]*' | head -1)
"$KX" digest recipients --db "$DB" --week $W1 > "$WORK/recipients.txt"
verdict=$(python3 - "$URL" "$W1" "$WORK/recipients.txt" "$admin" "$near" "$county" "$other" <<'PY'
import json, re, sys, urllib.request, urllib.error, urllib.parse
url, week, rfile, admin, *liaisons = sys.argv[1:]
recipients = open(rfile).read().split()
def get(path, tok):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + tok})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
bad, shown, withheld, needs_seen = [], 0, 0, 0
readable = {}
for tok in [admin] + liaisons:
    for rcp in recipients:
        code, body = get("/v1/digests/preview?" + urllib.parse.urlencode({"recipient": rcp, "week": week}), tok)
        if code in (403, 404):
            if "error" not in body:
                bad.append(f"{rcp}: {code} without an error body")
            continue
        if code != 200:
            bad.append(f"{rcp}: {code}")
            continue
        shown += tok != admin
        if "message" in body:
            bad.append(f"{rcp}: the raw message (with its token) is shown")
        for f in ("text", "html"):
            for t in re.findall(r"token=([0-9A-Za-z]*)", body.get(f, "")):
                if t != "redacted":
                    bad.append(f"{rcp}: a token in {f}")
        if tok == admin:
            if body.get("withheld") != 0:
                bad.append(f"{rcp}: admin had {body.get('withheld')} withheld")
            continue
        withheld += body.get("withheld", 0)
        for need in set(re.findall(r"\?need=([^\s\"&<]+)", body.get("text", "") + body.get("html", ""))):
            needs_seen += 1
            k = (tok, need)
            if k not in readable:
                readable[k] = get("/v1/needs/" + urllib.parse.quote(need), tok)[0]
            if readable[k] != 200:
                bad.append(f"{rcp}: shows {need}, which this liaison gets {readable[k]} for")
print(f"ok: {shown} previews shown to liaisons, {needs_seen} needs in them readable, {withheld} items withheld" if not bad and shown and withheld and needs_seen else
      f"{len(bad)} problems, {shown} shown, {withheld} withheld: " + "; ".join(bad[:5]))
PY
)
expect_contains "previews show liaisons only needs they may read, and no tokens" "$verdict" "ok: "
echo "     $verdict"

# The link from the message: GET asks, POST unsubscribes.
link="$URL/v1/digests/unsubscribe?token=$token"
H='Accept: text/html,application/xhtml+xml'
expect_eq "unsubscribe link, GET: 200" "$(code -H "$H" "$link")" 200
expect_contains "GET asks before it acts" "$(cat "$WORK/body")" "<form method=\"post\""
expect_contains "in the site's style" "$(cat "$WORK/body")" '<link rel="stylesheet" href="/style.css">'
expect_contains "the organisation's name, escaped" "$(cat "$WORK/body")" "测试&lt;科协&gt;&amp;"
case "$(cat "$WORK/body")" in *"<科协>"*) fail "the name went into the page as markup" ;; *) pass "no markup from the configuration" ;; esac
expect_eq "GET for a script: JSON" "$(code "$link"; cat "$WORK/body")" '200{"unsubscribed":false}'
expect_eq "GET changed nothing" "$(code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=$recipient&week=$W1" >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("frequency"))' "$WORK/body")" weekly
expect_eq "one-click POST: 200" "$(code -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data 'List-Unsubscribe=One-Click' "$link")" 200
expect_eq "a bad token: 404" "$(code -X POST --data 'List-Unsubscribe=One-Click' "$URL/v1/digests/unsubscribe?token=00000000000000000000000000000000")" 404
expect_eq "no token: 400" "$(code -X POST "$URL/v1/digests/unsubscribe")" 400
expect_eq "a bad token in a browser: 404" "$(code -H "$H" "$URL/v1/digests/unsubscribe?token=00000000000000000000000000000000")" 404
expect_contains "a page that says so, not JSON" "$(cat "$WORK/body")" "退订链接无效"
expect_eq "a malformed token in a browser: 400" "$(code -H "$H" "$URL/v1/digests/unsubscribe?token=nope")" 400
expect_eq "the link again, in a browser" "$(code -H "$H" "$link")" 200
expect_contains "says it is already off" "$(cat "$WORK/body")" "您此前已退订"
expect_contains "and offers the way back" "$(cat "$WORK/body")" "resubscribe=1"
expect_eq "resubscribe: 200" "$(code -X POST -H "$H" "$link&resubscribe=1")" 200
expect_contains "resubscribe: says so" "$(cat "$WORK/body")" "已恢复每周推荐"
code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=$recipient&week=$W1" >/dev/null
expect_eq "frequency is weekly again" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("frequency"))' "$WORK/body")" weekly
expect_eq "resubscribe=2: 400" "$(code -X POST "$link&resubscribe=2")" 400
expect_eq "unsubscribe again: 200" "$(code -X POST --data 'List-Unsubscribe=One-Click' "$link")" 200
code -H "Authorization: Bearer $admin" "$URL/v1/digests/preview?recipient=$recipient&week=$W1" >/dev/null
expect_eq "frequency is off after the POST" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("frequency"))' "$WORK/body")" off
serve_stop

# Next week's plan leaves the recipient out.
expect_rc "plan week 2" 0 "$KX" digest send --db "$DB" --week $W2 --outbox "$WORK/out2" --base-url http://kx.example
expect_rc "recipients of week 2" 0 "$KX" digest recipients --db "$DB" --week $W2
case "$OUT" in *"\"$recipient\""*|*" $recipient"*) fail "$recipient still gets week 2" ;; *) pass "$recipient gets no week-2 digest" ;; esac
finish
