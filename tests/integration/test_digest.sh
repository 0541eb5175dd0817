#!/usr/bin/env bash
# test_digest.sh - weekly digests end to end on the Binzhou dataset, through
# a real SMTP server (python3-aiosmtpd, tests/integration/smtp_sink.py) on
# 127.0.0.1: the plan respects capacities, per-need limits, the threshold,
# declined pairs and earlier weeks, and beats greedy; messages arrive once
# each, to the right people, as valid MIME with Chinese intact and
# List-Unsubscribe headers; a re-run sends nothing; runs killed right
# after the server took a message repeat only that message, once; a server that is down leaves
# everything planned and a later run delivers it; 4xx is retried, 5xx is
# recorded; AUTH comes from the environment; unsubscribing through the
# token stops the next week's mail; --outbox writes .eml files.
set -u
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
SINK="$SRC/tests/integration/smtp_sink.py"
DB="$WORK/db"
W1=2026-W48 W2=2026-W49 W3=2026-W50 W4=2026-W51 W5=2026-W52

if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    fail "python3-aiosmtpd is not installed (scripts/install-deps.sh)"
    finish
    exit 1
fi

SINK_PID=
start_sink() { # DIR [OPTIONS...]: starts a server; sets SINK_PID, PORT
    local d=$1
    shift
    mkdir -p "$d"
    rm -f "$d/port"
    "$PY" "$SINK" --dir "$d" "$@" 2>>"$WORK/sink.err" &
    SINK_PID=$!
    for _ in $(seq 300); do
        [ -s "$d/port" ] && break
        sleep 0.1
    done
    PORT=$(cat "$d/port" 2>/dev/null)
    [ -n "$PORT" ] || fail "SMTP sink did not start: $(cat "$WORK/sink.err")"
}
stop_sink() {
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
    SINK_PID=
}
trap 'stop_sink; rm -rf "$WORK"' EXIT
received() { # DIR: number of messages the sink accepted
    if [ -f "$1/log.jsonl" ]; then grep -c . "$1/log.jsonl"; else echo 0; fi
}
outbox_count() { # WEEK STATE
    "$KX" digest status --db "$DB" --week "$1" --json |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["counts"][sys.argv[1]])' "$2"
}

# One snapshot of the dataset for indexing and for checking against.
mkdir "$WORK/data"
cp "$DATA"/*.jsonl "$WORK/data/"
DATA="$WORK/data"
"$KX" index --db "$DB" "$DATA"/*.jsonl >/dev/null || fail "index"
expect_rc "liaison add" 0 "$KX" digest liaison add --db "$DB" --region 371600 --email liaison@bzkx.example.cn

# The organisation, sender and site come from a configuration file, as
# they do for an installed service; the errors below check what happens
# without one.
cat > "$WORK/kxmatch.conf" <<'CONF'
[organisation]
name = 滨州市科学技术协会
short_name = 滨州科协
base_url = http://kx.example.cn
[mail]
from = digest@bzkx.example.cn
CONF
export KXMATCH_CONFIG="$WORK/kxmatch.conf"

# ---- errors a user can hit -------------------------------------------------
expect_rc "missing data directory" 4 "$KX" digest plan --db "$WORK/none" --week $W1
expect_rc "bad week" 3 "$KX" digest plan --db "$DB" --week 2026-48
expect_contains "bad week message" "$OUT" "expected YYYY-Www"
expect_rc "week 53 of a 52-week year" 3 "$KX" digest plan --db "$DB" --week 2025-W53
expect_rc "bad threshold" 3 "$KX" digest plan --db "$DB" --threshold 2
expect_rc "send needs a destination" 2 "$KX" digest send --db "$DB" --week $W1
expect_rc "not an SMTP URL" 3 "$KX" digest send --db "$DB" --week $W1 --smtp http://127.0.0.1:25
expect_rc "preview without a plan" 4 "$KX" digest preview --db "$DB" --week 2026-W40 expert:E0001
expect_rc "unknown token" 4 "$KX" digest unsubscribe --db "$DB" 0123456789abcdef0123456789abcdef
expect_rc "malformed token" 3 "$KX" digest unsubscribe --db "$DB" nope
expect_rc "bad frequency" 3 "$KX" digest frequency --db "$DB" expert:E0001 daily
expect_rc "frequency of an unknown key" 4 "$KX" digest frequency --db "$DB" expert:NOPE off
expect_rc "liaison with a bad region" 3 "$KX" digest liaison add --db "$DB" --region 999999 --email a@b.cn
expect_rc "liaison with a bad address" 3 "$KX" digest liaison add --db "$DB" --region 371600 --email "a b"
printf 'url = smtp://127.0.0.1:25\npassword = x\n' > "$WORK/smtp.conf"
chmod 644 "$WORK/smtp.conf"
expect_rc "config file with a readable password" 3 "$KX" digest send --db "$DB" --week $W1 --smtp-config "$WORK/smtp.conf"
expect_contains "config file message" "$OUT" "chmod 600"
# Mail for real people must link to a site they can reach and come from
# an address they can answer: over SMTP, no loopback base URL and no
# localhost sender (exit 3, before anything is planned or sent).
printf '[mail]\nfrom = digest@bzkx.example.cn\n' > "$WORK/nosite.conf"
expect_rc "no base URL: refused" 3 "$KX" --config "$WORK/nosite.conf" digest send --db "$DB" --week $W1 --smtp smtp://127.0.0.1:25
expect_contains "no base URL: says what to set" "$OUT" "base_url in [organisation]"
expect_rc "a loopback base URL: refused" 3 "$KX" digest send --db "$DB" --week $W1 --smtp smtp://127.0.0.1:25 --base-url http://localhost:8080
expect_rc "an IPv6 loopback base URL: refused" 3 "$KX" digest send --db "$DB" --week $W1 --smtp smtp://127.0.0.1:25 --base-url 'http://[::1]/'
expect_rc "a localhost sender: refused" 3 "$KX" digest send --db "$DB" --week $W1 --smtp smtp://127.0.0.1:25 --from kxmatch@localhost
expect_contains "a localhost sender: says what to set" "$OUT" "from in [mail]"
printf '[organisation]\nbase_url = https://kx.example.cn\n' > "$WORK/nofrom.conf"
expect_rc "no sender: refused" 3 "$KX" digest send --config "$WORK/nofrom.conf" --db "$DB" --week $W1 --smtp smtp://127.0.0.1:25
expect_eq "refusals planned and sent nothing" "$(outbox_count $W1 planned) $(outbox_count $W1 sent)" "0 0"
printf '[mail]\nfrom = a@b.cn\nfrm = c@d.cn\n' > "$WORK/typo.conf"
expect_rc "a misspelt key in the configuration" 3 "$KX" --config "$WORK/typo.conf" digest status --db "$DB"
expect_contains "the misspelt key: file, line and key" "$OUT" "typo.conf:3: frm"
expect_rc "a named configuration that is missing" 4 "$KX" --config "$WORK/none.conf" digest status --db "$DB"

# ---- the plan --------------------------------------------------------------
# A declined pair that week 1 would otherwise propose stays out, and a
# pipeline move in the week reaches the liaison.
cp -r "$DB" "$WORK/scratch"
"$KX" digest plan --db "$WORK/scratch" --week $W1 --json > "$WORK/scratch.json"
# Matching is shared out among threads; the plan must not depend on how many.
"$KX" digest plan --db "$WORK/scratch" --week $W1 --threads 1 --json > "$WORK/scratch1.json"
"$KX" digest plan --db "$WORK/scratch" --week $W1 --threads 3 --json > "$WORK/scratch3.json"
same_pairs=$("$PY" -c '
import json,sys
a,b=(json.load(open(f))["pairs"] for f in sys.argv[1:3])
print("same" if a==b and len(a)>0 else "differ: %d vs %d pairs" % (len(a), len(b)))' "$WORK/scratch1.json" "$WORK/scratch3.json")
expect_eq "the plan on 1 and on 3 threads" "$same_pairs" "same"
expect_rc "bad thread count" 3 "$KX" digest plan --db "$WORK/scratch" --week $W1 --threads 0
# Pipeline entries as the API writes them: "<need> <partner>".
declined=$("$PY" -c 'import json,sys; p=json.load(open(sys.argv[1]))["pairs"][0]; print(p["need"]+"|"+p["partner"])' "$WORK/scratch.json")
contacted=$("$PY" -c 'import json,sys; p=json.load(open(sys.argv[1]))["pairs"][-1]; print(p["need"]+"|"+p["partner"])' "$WORK/scratch.json")
printf '%s\n{"need":"%s","partner":"%s","stage":"declined","updated":"2026-11-20T10:00:00Z"}\n%s\n{"need":"%s","partner":"%s","stage":"contacted","updated":"2026-11-24T08:00:00Z"}\n' \
    "${declined/|/ }" "${declined%|*}" "${declined#*|}" "${contacted/|/ }" "${contacted%|*}" "${contacted#*|}" |
    mdb_load -T -s pipeline "$DB/lmdb" || fail "mdb_load pipeline"
expect_rc "plan week 1" 0 "$KX" digest plan --db "$DB" --week $W1
expect_contains "plan prints the comparison" "$OUT" "greedy (baseline)"
echo "$OUT" | sed 's/^/    /'
"$KX" digest plan --db "$DB" --week $W1 --json > "$WORK/plan1.json"
check_plan() { # PLAN.JSON: capacities, limits, threshold, eligibility
    "$PY" - "$1" "$DATA" "$declined $contacted" <<'PY'
import json, sys, glob, collections
plan = json.load(open(sys.argv[1]))
recs = {}
for f in glob.glob(sys.argv[2] + "/*.jsonl"):
    for l in open(f):
        r = json.loads(l)
        recs[r["kind"] + ":" + r["id"]] = r
pairs = plan["pairs"]
bad = []
per_partner = collections.Counter(p["partner"] for p in pairs)
per_need = collections.Counter(p["need"] for p in pairs)
for k, n in per_partner.items():
    kind = k.split(":")[0]
    cap = recs[k].get("capacity", 3) if kind in ("expert", "academician") else \
        5 if kind == "society" else 3
    if n > cap:
        bad.append("%s has %d > capacity %d" % (k, n, cap))
for k, n in per_need.items():
    if n > 5:
        bad.append("%s has %d > 5 partners" % (k, n))
for p in pairs:
    need = recs[p["need"]]
    if need.get("status", "open") != "open" or need.get("visibility") == "confidential":
        bad.append("%s is not open and public" % p["need"])
    if p["score"] < 0.3:
        bad.append("%s|%s scores %s" % (p["need"], p["partner"], p["score"]))
    if p["need"] + "|" + p["partner"] in sys.argv[3].split():
        bad.append("pipeline pair %s|%s proposed" % (p["need"], p["partner"]))
s = plan["stats"]
if s["exact"]["total"] + 1e-9 < s["greedy"]["total"] and s["exact"]["covered"] <= s["greedy"]["covered"]:
    bad.append("exact worse than greedy")
if s["exact"]["covered"] < s["greedy"]["covered"]:
    bad.append("exact covers fewer needs than greedy")
if s["score_only"]["total"] + 1e-9 < s["greedy"]["total"]:
    bad.append("score-only optimum below greedy")
if len(pairs) != s["exact"]["pairs"] or not pairs:
    bad.append("stored pairs %d, reported %d" % (len(pairs), s["exact"]["pairs"]))
print("; ".join(bad) if bad else "ok")
PY
}
expect_eq "week 1 plan: capacities, limits, threshold, eligibility" "$(check_plan "$WORK/plan1.json")" ok
expect_eq "pairs in the pipeline were seen and left out" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["skipped"]["in_pipeline"])' "$WORK/plan1.json")" 2

# ---- week 1 over SMTP --------------------------------------------------------
start_sink "$WORK/s1"
expect_rc "send week 1" 0 "$KX" digest send --db "$DB" --week $W1 --smtp "smtp://127.0.0.1:$PORT" --from digest@bzkx.example.cn --base-url http://kx.example.cn
echo "$OUT" | sed 's/^/    /'
n1=$(outbox_count $W1 sent)
expect_eq "every message of week 1 arrived" "$(received "$WORK/s1")" "$n1"
[ "$n1" -gt 100 ] && pass "week 1 has $n1 messages" || fail "week 1 has only $n1 messages"
expect_rc "re-run week 1" 0 "$KX" digest send --db "$DB" --week $W1 --smtp "smtp://127.0.0.1:$PORT"
expect_contains "re-run sends nothing" "$OUT" "0 delivered"
expect_eq "still one copy each" "$(received "$WORK/s1")" "$n1"
expect_rc "plan of a sent week is final" 1 "$KX" digest plan --db "$DB" --week $W1
expect_contains "final plan message" "$OUT" "its plan is final"

# Parse every message with Python's email package and check it against the
# plan and the records.
"$KX" digest preview --db "$DB" --week $W1 --json expert:E0001 > "$WORK/preview.json"
verdict=$("$PY" - "$WORK/s1" "$WORK/plan1.json" "$DATA" "$WORK/preview.json" <<'PY'
import email, email.policy, json, sys, glob, re, collections
d, plan, data, preview = sys.argv[1:5]
recs = {}
for f in glob.glob(data + "/*.jsonl"):
    for l in open(f):
        r = json.loads(l)
        recs[r["kind"] + ":" + r["id"]] = r
pairs = json.load(open(plan))["pairs"]
log = [json.loads(l) for l in open(d + "/log.jsonl")]
bad, ids, seen = [], set(), collections.Counter()
by_rcpt = {}
for e in log:
    raw = open(d + "/" + e["file"], "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    who = m["X-Kxmatch-Digest"].split()[1]
    seen[who] += 1
    by_rcpt[who] = (m, raw)
    if m.defects:
        bad.append("%s: defects %s" % (who, m.defects))
    if m.get_content_type() != "multipart/alternative":
        bad.append("%s: %s" % (who, m.get_content_type()))
    parts = [p.get_content_type() for p in m.iter_parts()]
    if parts != ["text/plain", "text/html"]:
        bad.append("%s: parts %s" % (who, parts))
    if m["Message-ID"] in ids:
        bad.append("repeated Message-ID " + m["Message-ID"])
    ids.add(m["Message-ID"])
    if not str(m["Subject"]).startswith("【滨州科协】2026年第48周"):
        bad.append("%s: subject %r" % (who, str(m["Subject"])))
    if "=?UTF-8?B?" not in raw.decode("ascii").split("\r\n\r\n")[0]:
        bad.append("%s: subject not encoded" % who)
    lu, lup = m["List-Unsubscribe"], m["List-Unsubscribe-Post"]
    if not lu or not re.fullmatch(r"<http://kx\.example\.cn/v1/digests/unsubscribe\?token=[0-9a-f]{32}>", str(lu).strip()):
        bad.append("%s: List-Unsubscribe %r" % (who, lu))
    if str(lup) != "List-Unsubscribe=One-Click":
        bad.append("%s: List-Unsubscribe-Post %r" % (who, lup))
    if not m["Date"] or m["MIME-Version"] != "1.0":
        bad.append("%s: Date/MIME-Version" % who)
    # the envelope and the To: header name the recipient's own address
    kind = who.split(":")[0]
    want = "liaison@bzkx.example.cn" if kind == "liaison" else \
        recs[who]["contact"] if kind == "society" else recs[who]["email"]
    if e["rcpt_tos"] != [want] or m["To"].addresses[0].addr_spec != want:
        bad.append("%s: to %s / %s, want %s" % (who, e["rcpt_tos"], m["To"], want))
    if e["mail_from"] != "digest@bzkx.example.cn":
        bad.append("%s: envelope from %s" % (who, e["mail_from"]))
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    if kind in ("expert", "academician", "enterprise", "society") and recs[who]["name"] not in text:
        bad.append("%s: name not in text" % who)
    if "退订" not in text or "<html" not in html:
        bad.append("%s: footer or html missing" % who)
    # one item per need, and the subject counts those items (issue 18 item 6)
    if kind in ("expert", "academician", "society"):
        links = re.findall(r"详情：(\S+)", text)
        if len(links) != len(set(links)):
            bad.append("%s: a need listed twice" % who)
        cnt = re.search(r"(?:为您推荐|匹配) (\d+) 项", str(m["Subject"]))
        if not cnt or int(cnt.group(1)) != len(links):
            bad.append("%s: subject %r for %d needs" % (who, str(m["Subject"]), len(links)))
    if kind == "enterprise":
        for p in pairs:
            if recs[p["need"]]["enterprise"] == who:
                addr = recs[p["partner"]].get("email") or recs[p["partner"]].get("contact")
                if addr and (addr in text or addr in html):
                    bad.append("%s: partner address %s leaked" % (who, addr))
# every partner-side recipient and every enterprise in the plan got mail,
# naming every need proposed to it, in both parts
expect = collections.defaultdict(set)
for p in pairs:
    k = p["partner"]
    r = p["recipient"]
    expect[r].add(recs[p["need"]]["name"])
    expect[recs[p["need"]]["enterprise"]].add(recs[k]["name"])
for who, names in expect.items():
    if who not in by_rcpt:
        bad.append("%s got nothing" % who)
        continue
    m = by_rcpt[who][0]
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    for n in names:
        if n not in text:
            bad.append("%s: %r missing from text" % (who, n))
        esc = n.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        if esc not in html:
            bad.append("%s: %r missing from html" % (who, n))
if any(v != 1 for v in seen.values()):
    bad.append("copies: %s" % [k for k, v in seen.items() if v != 1])
if not any(k.startswith("liaison:") for k in seen) or not any(k.startswith("society:") for k in seen):
    bad.append("no liaison or society digest")
# the pipeline move reached the liaison
lt = by_rcpt["liaison:371600"][0].get_body(("plain",)).get_content()
if "已婉拒" not in lt or "已联系" not in lt:
    bad.append("liaison summary lacks the pipeline moves")
# preview shows exactly what was sent
pv = json.load(open(preview))
if pv["state"] != "sent" or pv["message"].encode() != by_rcpt["expert:E0001"][1]:
    bad.append("preview differs from the message sent")
sessions = {e["session"] for e in log}
if len(sessions) != 1:
    bad.append("%d SMTP connections for %d messages" % (len(sessions), len(log)))
print("; ".join(bad[:8]) if bad else "ok")
PY
)
expect_eq "week 1 messages: valid MIME, right people, Chinese intact, one connection" "$verdict" ok
stop_sink

# ---- frequencies: fortnightly hears the even ISO weeks, monthly the week
# whose Monday is among a month's first seven days (issue 14)
cp -r "$DB" "$WORK/freq"
expect_rc "fortnightly" 0 "$KX" digest frequency --db "$WORK/freq" expert:E0002 fortnightly
expect_rc "monthly" 0 "$KX" digest frequency --db "$WORK/freq" expert:E0003 monthly
expect_rc "an unknown frequency" 3 "$KX" digest frequency --db "$WORK/freq" expert:E0003 daily
heard() { # WEEK: which of E0002, E0003 the week's plan proposes to
    "$KX" digest plan --db "$WORK/freq" --week "$1" --json | "$PY" -c '
import json,sys
r={p["recipient"] for p in json.load(sys.stdin)["pairs"]}
print(" ".join(k for k in ("expert:E0002","expert:E0003") if k in r) or "none")'
}
expect_eq "2026-W50 (even; Monday 12-07): both" "$(heard 2026-W50)" "expert:E0002 expert:E0003"
expect_eq "2026-W51 (odd; Monday 12-14): neither" "$(heard 2026-W51)" "none"
expect_eq "2026-W52 (even; Monday 12-21): the fortnightly one" "$(heard 2026-W52)" "expert:E0002"
rm -rf "$WORK/freq"

# ---- week 2: killed mid-send, then re-run: at most one repeat per crash ----
# An expert who switched digests off is not proposed to anyone either.
expect_rc "frequency off" 0 "$KX" digest frequency --db "$DB" expert:E0001 off
"$KX" digest plan --db "$DB" --week $W2 --json > "$WORK/plan2.json"
expect_rc "no preview of mail that will not be composed" 4 "$KX" digest preview --db "$DB" --week $W2 expert:E0001
expect_contains "saying why" "$OUT" "switched the weekly digest off"
expect_rc "the copy sent before it is still shown" 0 "$KX" digest preview --db "$DB" --week $W1 expert:E0001
expect_eq "week 2 plan" "$(check_plan "$WORK/plan2.json")" ok
expect_eq "a partner switched off is left out" "$("$PY" -c '
import json,sys
p=json.load(open(sys.argv[1]))
print(sum(x["partner"]=="expert:E0001" or x["recipient"]=="expert:E0001" for x in p["pairs"]),
      p["stats"]["skipped"]["unsubscribed"] > 0)' "$WORK/plan2.json")" "0 True"
expect_eq "week 2 proposes no pair of week 1" "$("$PY" -c '
import json,sys
a={(p["need"],p["partner"]) for p in json.load(open(sys.argv[1]))["pairs"]}
b={(p["need"],p["partner"]) for p in json.load(open(sys.argv[2]))["pairs"]}
print(len(a&b))' "$WORK/plan1.json" "$WORK/plan2.json")" 0
# Week 1 reported both moves; the one of 11-24 lies in week 2's window too
# but is not news any more. Moved again, it is (issue 18 item 6).
moves_of() { "$PY" -c 'import json,sys; print(" ".join(sorted(m["need"]+"|"+m["partner"]+"|"+m["stage"] for m in json.load(open(sys.argv[1]))["moves"])) or "none")' "$1"; }
expect_eq "week 1 reported both moves" "$(moves_of "$WORK/plan1.json" | wc -w)" 2
expect_eq "week 2 repeats no move of week 1" "$(moves_of "$WORK/plan2.json")" none
printf '%s\n{"need":"%s","partner":"%s","stage":"agreement_signed","updated":"2026-12-01T09:00:00Z"}\n' \
    "${contacted/|/ }" "${contacted%|*}" "${contacted#*|}" |
    mdb_load -T -s pipeline "$DB/lmdb" || fail "mdb_load pipeline"
"$KX" digest plan --db "$DB" --week $W2 --json > "$WORK/plan2.json"
expect_eq "week 2 reports the pair moved again" "$(moves_of "$WORK/plan2.json")" "$contacted|agreement_signed"
# The worst moment to crash, five times: the sink keeps message 20, 30, ...
# and kills the sender before it can read the 250. Each such message goes
# out once more on the next run (the README's "at most one repeat per
# crash"), with the same Message-ID; nothing is lost.
KILLS=5
start_sink "$WORK/s2" --kill-at 20,30,40,50,60 --kill-pidfile "$WORK/sender.pid" --slow 10:200
killed=0
for run in $(seq $((KILLS + 1))); do
    # The sink answers the first run's first messages slowly, so that a
    # second sender meets it.
    "$KX" digest send --db "$DB" --week $W2 \
        --smtp "smtp://127.0.0.1:$PORT" > "$WORK/send.out" 2> "$WORK/send.err" &
    echo $! > "$WORK/sender.pid"
    if [ "$run" -eq 1 ]; then
        for _ in $(seq 600); do
            [ "$(received "$WORK/s2")" -ge 2 ] && break
            sleep 0.05
        done
        expect_rc "a second sender is refused" 5 "$KX" digest send --db "$DB" --week $W2 --smtp "smtp://127.0.0.1:$PORT"
    fi
    wait $!
    rc=$?
    [ $rc -eq 137 ] && killed=$((killed + 1))
    if [ $run -eq 1 ] && [ $rc -eq 137 ]; then
        expect_eq "after a crash, the message in flight is marked sending" "$(outbox_count $W2 sending)" 1
    fi
    [ $rc -eq 137 ] || break
done
expect_eq "the sender was killed $KILLS times, then finished" "$killed $rc" "$KILLS 0"
expect_contains "the last run says a message went out again" "$(cat "$WORK/send.err")" "went out again"
# The liaison summary of a week with no new needs: its sections are
# numbered from 一、, scores are percentages as on the pages, and stages
# have the pages' names (issue 18 item 6).
expect_eq "liaison summary: numbered from 一、, scores in %, the pages' stage names" "$("$KX" digest preview --db "$DB" --week $W2 --json liaison:371600 | "$PY" -c '
import json, re, sys
t = json.load(sys.stdin)["text"]
heads = re.findall(r"^([一二三四五六])、", t, re.M)
bad = []
if "新增需求 0 项" not in t: bad.append("the week has new needs: the case is not tested")
if not heads or "一二三四五六"[:len(heads)] != "".join(heads): bad.append("sections " + "".join(heads))
if re.search(r"匹配度：\d\.\d|（[^）]* \d\.\d\d）", t): bad.append("a score as 0.xx")
if "入围" in t: bad.append("入围 for 候选")
print("; ".join(bad) or "ok")')" ok
n2=$(outbox_count $W2 sent)
expect_eq "nothing left planned or sending" "$(outbox_count $W2 planned) $(outbox_count $W2 sending)" "0 0"
dups=$("$PY" -c '
import json,sys,email,collections
d=sys.argv[1]
c=collections.Counter()
body={}
for l in open(d+"/log.jsonl"):
    raw=open(d+"/"+json.loads(l)["file"],"rb").read()
    mid=email.message_from_bytes(raw)["Message-ID"]
    c[mid]+=1
    if body.setdefault(mid, raw) != raw:
        print("a repeat differs from the first copy"); sys.exit()
print(len(c), sum(c.values()) - len(c), max(c.values()))' "$WORK/s2")
echo "     week 2: $n2 messages; distinct, repeats, most copies of one: $dups"
expect_eq "each message arrived, $KILLS kills gave $KILLS repeats, none twice" "$dups" "$n2 $KILLS 2"
stop_sink

# ---- week 3: server down, then up --------------------------------------------
start_sink "$WORK/s3"
dead=$PORT
stop_sink
expect_rc "server down: unavailable" 7 "$KX" digest send --db "$DB" --week $W3 --smtp "smtp://127.0.0.1:$dead"
n3=$(outbox_count $W3 planned)
[ "$n3" -gt 0 ] && pass "server down: $n3 messages stay planned" || fail "nothing planned"
expect_eq "server down: nothing sent" "$(outbox_count $W3 sent)" 0
start_sink "$WORK/s3"
expect_rc "server up: send" 0 "$KX" digest send --db "$DB" --week $W3 --smtp "smtp://127.0.0.1:$PORT"
expect_eq "server up: everything delivered" "$(received "$WORK/s3")" "$n3"
expect_eq "server up: all sent" "$(outbox_count $W3 sent)" "$n3"
stop_sink

# ---- STARTTLS when the server offers it ----------------------------------------
# A self-signed certificate for 127.0.0.1: trusted through cainfo in the
# SMTP configuration file, refused without it (no fallback to plain text).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" \
    -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
start_sink "$WORK/s6" --tls "$WORK/cert.pem:$WORK/key.pem"
W7=2027-W01
expect_rc "STARTTLS with an untrusted certificate" 7 "$KX" digest send --db "$DB" --week $W7 --smtp "smtp://127.0.0.1:$PORT"
expect_eq "nothing went out in clear text" "$(received "$WORK/s6")" 0
printf 'url = smtp://127.0.0.1:%s\ncainfo = %s\n' "$PORT" "$WORK/cert.pem" > "$WORK/tls.conf"
expect_rc "STARTTLS with cainfo from the configuration file" 0 "$KX" digest send --db "$DB" --week $W7 --smtp-config "$WORK/tls.conf"
expect_eq "every message went over TLS" "$("$PY" -c '
import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; print(len(l) > 0 and all(x["tls"] for x in l))' "$WORK/s6/log.jsonl")" True
stop_sink

# ---- week 4: AUTH from the environment, over TLS only; 4xx retried, 5xx recorded
# A password never crosses a link in clear text: towards a server that
# offers no STARTTLS, a send with credentials fails before AUTH.
start_sink "$WORK/s4plain" --auth kx:s3cret
expect_rc "a password without TLS: refused" 7 env KXMATCH_SMTP_USER=kx KXMATCH_SMTP_PASSWORD=s3cret \
    "$KX" digest send --db "$DB" --week $W4 --smtp "smtp://127.0.0.1:$PORT"
expect_contains "a password without TLS: says why" "$OUT" "offers no STARTTLS"
expect_eq "a password without TLS: nothing sent" "$(received "$WORK/s4plain")" 0
stop_sink
start_sink "$WORK/s4" --auth kx:s3cret --tempfail 2 --reject wang --tls "$WORK/cert.pem:$WORK/key.pem"
printf 'url = smtp://127.0.0.1:%s\ncainfo = %s\n' "$PORT" "$WORK/cert.pem" > "$WORK/tls4.conf"
expect_rc "AUTH required, none given" 1 "$KX" digest send --db "$DB" --week $W4 --smtp-config "$WORK/tls4.conf"
expect_contains "AUTH message" "$OUT" "authentication failed"
n4=$(outbox_count $W4 planned)
expect_rc "wrong password" 1 env KXMATCH_SMTP_USER=kx KXMATCH_SMTP_PASSWORD=wrong \
    "$KX" digest send --db "$DB" --week $W4 --smtp-config "$WORK/tls4.conf"
expect_eq "refused logins send nothing" "$(outbox_count $W4 planned)" "$n4"
expect_rc "AUTH from the environment" 0 env KXMATCH_SMTP_USER=kx KXMATCH_SMTP_PASSWORD=s3cret \
    "$KX" digest send --db "$DB" --week $W4 --smtp-config "$WORK/tls4.conf" --retry-delay-ms 20
failed=$(outbox_count $W4 failed)
[ "$failed" -gt 0 ] && pass "5xx recipients recorded as failed ($failed)" || fail "no failed messages"
expect_eq "the rest delivered" "$(( $(received "$WORK/s4") + failed ))" "$n4"
expect_eq "deliveries were authenticated, over TLS" "$("$PY" -c '
import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; print({x["auth_user"] for x in l}, all(x["tls"] for x in l))' "$WORK/s4/log.jsonl")" "{'kx'} True"
reason=$("$KX" digest status --db "$DB" --week $W4 | grep '^failed' | head -1)
expect_contains "failure reason kept" "$reason" "550 5.1.1"
expect_eq "the first message needed three tries" "$("$KX" digest status --db "$DB" --week $W4 --json |
    "$PY" -c 'import json,sys; print(max(m["attempts"] for m in json.load(sys.stdin)["messages"]))')" 3
stop_sink
start_sink "$WORK/s4b" --tempfail 1000
expect_rc "4xx that persists: deferred" 7 "$KX" digest send --db "$DB" --week $W5 --smtp "smtp://127.0.0.1:$PORT" --attempts 2 --retry-delay-ms 1
expect_eq "deferred messages stay planned" "$(outbox_count $W5 sent)" 0
stop_sink

# ---- unsubscribe: the token in week 1's mail stops a later week's --------------
start_sink "$WORK/s5"
expect_rc "deferred messages go out on the next run" 0 "$KX" digest send --db "$DB" --week $W5 --smtp "smtp://127.0.0.1:$PORT"
expect_eq "deferred then delivered" "$(received "$WORK/s5")" "$(outbox_count $W5 sent)"
stop_sink
W6=2026-W53
# A copy taken before unsubscribing shows who would hear in week 53.
cp -r "$DB" "$WORK/control"
"$KX" digest plan --db "$WORK/control" --week $W6 >/dev/null
"$KX" digest recipients --db "$WORK/control" --week $W6 > "$WORK/control.txt"
read -r target tok <<< "$("$PY" - "$WORK/s1" "$WORK/control.txt" <<'PY'
import json, sys, email, email.policy, re
d, later = sys.argv[1], set(open(sys.argv[2]).read().split())
for l in open(d + "/log.jsonl"):
    m = email.message_from_bytes(open(d + "/" + json.loads(l)["file"], "rb").read(),
                                 policy=email.policy.default)
    who = m["X-Kxmatch-Digest"].split()[1]
    if who.startswith("enterprise:") and who in later:
        print(who, re.search(r"token=([0-9a-f]{32})", str(m["List-Unsubscribe"])).group(1))
        break
PY
)"
if [ -z "${target:-}" ]; then
    fail "no enterprise of week 1 hears anything in week 53"
else
    expect_rc "$target would hear in week 53" 0 "$KX" digest preview --db "$WORK/control" --week $W6 "$target"
    expect_rc "unsubscribe through the token" 0 "$KX" digest unsubscribe --db "$DB" "$tok"
    expect_contains "unsubscribe names the recipient" "$OUT" "$target: off"
    expect_rc "week 53 to an outbox directory" 0 "$KX" digest send --db "$DB" --week $W6 --outbox "$WORK/eml"
    files=$(ls "$WORK/eml" | grep -c '\.eml$')
    [ "$files" -gt 0 ] && pass "week 53: $files .eml files" || fail "week 53 wrote nothing"
    expect_eq ".eml files match the outbox" "$files" "$(outbox_count $W6 sent)"
    file=$(echo "$target" | tr ':' '_')
    [ ! -e "$WORK/eml/${W6}_$file.eml" ] && pass "no week 53 mail for $target" \
        || fail "$target still got mail in week 53"
    expect_eq "an .eml file parses" "$("$PY" -c '
import email,email.policy,sys,glob
m=email.message_from_bytes(open(sorted(glob.glob(sys.argv[1]+"/*.eml"))[0],"rb").read(),policy=email.policy.default)
print(m.get_content_type(), len(list(m.iter_parts())), not m.defects)' "$WORK/eml")" "multipart/alternative 2 True"
fi

# ---- record text in headers; addresses checked when indexed and when sent ----
# An expert whose name and organisation carry CR LF, NEL, LINE SEPARATOR
# and a would-be Bcc:, an enterprise whose name carries PARAGRAPH
# SEPARATOR, a bidi override and CR LF, and a need of that enterprise that
# reaches the expert (JSON escapes, as a record line would have them).
# Every message must parse under Python's strict policy, no header having
# a defect or decoding to a control character, line or paragraph separator
# or bidi control.
CTL="$WORK/ctl"
GOJI='盐碱地枸杞根腐病生物防治与微生物菌剂研发,开展黄河三角洲盐碱地枸杞根腐病病原鉴定、拮抗菌筛选、菌剂田间试验与示范推广。'
printf '%s\n' \
    '{"kind":"enterprise","id":"CX1","name":"滨州\u2029测试\u202e枸杞\r\n有限公司","email":"cx1+digest@farm.example.com","region":"371602","industries":["0151"],"text":"'"$GOJI"'"}' \
    '{"kind":"need","id":"NX1","name":"盐碱地枸杞根腐病\r\n生物防治","enterprise":"enterprise:CX1","region":"371602","industries":["0151"],"tags":["枸杞","根腐病","生物防治","盐碱地"],"text":"'"$GOJI"'"}' \
    '{"kind":"expert","id":"EX1","name":"赵\r\n伟\u0085明\u2028Bcc: x@evil.example","org":"滨州\r\n学院\u0085生物\u2028工程系","title":"教授","email":"zhao.wm@bzu.example.cn","region":"371602","capacity":3,"industries":["0151"],"tags":["枸杞","根腐病","生物防治","盐碱地"],"text":"'"$GOJI"'"}' \
    > "$WORK/ctl.jsonl"
expect_rc "index records with control characters in names" 0 "$KX" index --db "$CTL" "$DATA"/*.jsonl "$WORK/ctl.jsonl"
expect_contains "every dataset address passes the mailbox rule" "$OUT" "rejected 0"
expect_rc "plan a week with hostile names" 0 "$KX" digest plan --db "$CTL" --week $W1
# An outbox entry whose address no longer passes (composed before the rule,
# or edited): marked failed with the reason, never offered to the server.
printf '%s\n{"state":"planned","to":"old address@bzu.example.cn","from":"digest@bzkx.example.cn","subject":"x","message":"x","attempts":0}\n' \
    "$W1|expert:E0001" | mdb_load -T -s outbox "$CTL/lmdb" || fail "mdb_load outbox"
start_sink "$WORK/s7"
expect_rc "send a week with hostile names" 0 "$KX" digest send --db "$CTL" --week $W1 --smtp "smtp://127.0.0.1:$PORT" --from digest@bzkx.example.cn
stop_sink
ctl=$("$KX" digest status --db "$CTL" --week $W1 --json | "$PY" -c '
import json,sys
s=json.load(sys.stdin)
f=[m for m in s["messages"] if m["state"]=="failed"]
print(s["counts"]["sent"], len(f), f and f[0]["recipient"], bool(f) and "holds a space" in f[0].get("reason",""))')
expect_eq "the bad outbox address is failed naming the rule, everything else sent" "$ctl" "$(received "$WORK/s7") 1 expert:E0001 True"
expect_eq "the bad address never reached the server" "$(grep -c 'old address' "$WORK/s7/log.jsonl")" 0
verdict=$("$PY" - "$WORK/s7" <<'PY'
import email, email.policy, json, re, sys
d = sys.argv[1]
forbidden = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
want = {"expert:EX1": "赵 伟 明 Bcc: x@evil.example",
        "enterprise:CX1": "滨州 测试枸杞 有限公司"}
bad, seen = [], set()
for l in open(d + "/log.jsonl"):
    e = json.loads(l)
    raw = open(d + "/" + e["file"], "rb").read()
    try:
        m = email.message_from_bytes(raw, policy=email.policy.strict)
        who = str(m["X-Kxmatch-Digest"]).split()[1]
        seen.add(who)
        for part in m.walk():
            if part.defects:
                bad.append("%s: defects %s" % (who, part.defects))
            for k, v in part.items():  # parses every header, strictly
                if v.defects:
                    bad.append("%s: %s: defects %s" % (who, k, v.defects))
                if forbidden.search(str(v)):
                    bad.append("%s: %s decodes to %r" % (who, k, str(v)))
        if len(m.get_all("To")) != 1 or m.get_all("Bcc"):
            bad.append("%s: headers %s" % (who, m.keys()))
        to = m["To"].addresses
        if len(to) != 1 or to[0].addr_spec != e["rcpt_tos"][0]:
            bad.append("%s: To %r, envelope %s" % (who, to, e["rcpt_tos"]))
        elif who in want and to[0].display_name != want[who]:
            bad.append("%s: display name %r" % (who, to[0].display_name))
    except Exception as x:
        bad.append("%s: %s: %s" % (e["file"], type(x).__name__, x))
bad += [who + " got nothing" for who in want if who not in seen]
print("; ".join(bad[:6]) if bad else "ok")
PY
)
expect_eq "hostile names: every header parses strictly, none decodes to a control or separator" "$verdict" ok
# Addresses are checked when a record is indexed, naming the field and rule.
printf '%s\n' '{"kind":"expert","id":"EB1","name":"坏地址","email":"a@b@c.cn"}' \
    '{"kind":"society","id":"SB1","name":"坏学会","contact":"office@bz-.example.cn"}' \
    '{"kind":"enterprise","id":"CB1","name":"坏企业","email":"x@[192.0.2.1]"}' > "$WORK/bad.jsonl"
expect_rc "records with bad addresses are refused" 3 "$KX" index --db "$CTL" "$WORK/bad.jsonl"
expect_contains "bad email: field and rule" "$OUT" 'bad.jsonl:1: email: expected an e-mail address like name@example.org, got "a@b@c.cn": the address holds more than one @'
expect_contains "bad contact: field and rule" "$OUT" 'bad.jsonl:2: contact:'
expect_contains "bad contact: the rule" "$OUT" "may not begin or end with a hyphen"
expect_contains "address literal refused" "$OUT" "bad.jsonl:3: email:"
expect_rc "liaison address with CR LF refused" 3 "$KX" digest liaison add --db "$CTL" --region 371600 --email $'a@b.cn\r\nBcc: x@y.cn'
expect_contains "liaison address message names the rule" "$OUT" "control character"
finish
