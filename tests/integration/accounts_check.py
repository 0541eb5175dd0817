#!/usr/bin/env python3
"""accounts_check.py URL SINKDIR OUTBOX CLILINK - the HTTP side of
test_accounts.sh: sessions, links, CSRF, throttling, sign-out, disabled
accounts, a partner's own record and answers, one-click answer links and
the audit log. Prints "ok WHAT" or "FAIL WHAT: WHY" per check, then
"# done"; exits 1 if a check failed. Python 3 standard library only."""
import base64
import email
import email.policy
import glob
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

URL, SINK, OUTBOX, CLILINK = sys.argv[1:5]
failed = 0
seen_bodies = []


def say(ok, what, why=""):
    global failed
    print(("ok   %s" % what) if ok else ("FAIL %s: %s" % (what, why)), flush=True)
    failed += not ok
    return ok


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        seen_bodies.append(body)
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    def err(self):
        e = (self.json or {}).get("error") if isinstance(self.json, dict) else None
        return e or {}

    def short(self):
        return "%d %s" % (self.status, self.body[:200].decode("utf-8", "replace"))


def call(method, path, body=None, cookie=None, csrf=None, token=None, headers=None):
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        h.setdefault("Content-Type", "application/json")
    if cookie:
        h["Cookie"] = cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(URL + path, data=data, method=method, headers=h)
    try:
        r = urllib.request.urlopen(req, timeout=30)
        return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def sign_in(addr, password):
    r = call("POST", "/v1/session", {"email": addr, "password": password})
    if r.status != 200:
        return r, None, None
    cookie = r.headers["Set-Cookie"].split(";")[0]
    return r, cookie, r.json["csrf"]


# ---- password sign-in, the cookie, whoami ----------------------------------------
r, ck, csrf = sign_in("expert@example.cn", "expert password 1")
say(r.status == 200, "the expert signs in by password", r.short())
sc = r.headers.get("Set-Cookie", "")
say("HttpOnly" in sc and "SameSite=Lax" in sc and "Path=/" in sc and "Secure" not in sc,
    "the cookie is HttpOnly, SameSite=Lax, not Secure over http", sc)
w = call("GET", "/v1/whoami", cookie=ck)
say(w.status == 200 and w.json.get("name") == "孙立峰" and w.json.get("role") == "expert"
    and w.json.get("record") == "expert:E0001" and w.json.get("session") is True
    and w.json.get("csrf") == csrf, "whoami with the cookie names the person", w.short())
r2, _, _ = sign_in("EXPERT@example.cn", "expert password 1")
say(r2.status == 200, "the address signs in in any case", r2.short())

# ---- wrong passwords: the same answer as an unknown address, then slowed down ----
a = call("POST", "/v1/session", {"email": "expert@example.cn", "password": "wrong password!"})
b = call("POST", "/v1/session", {"email": "nobody-at-all@example.cn", "password": "wrong password!"})
say(a.status == 401 and b.status == 401 and a.err().get("message") == b.err().get("message"),
    "a wrong password and an unknown address answer alike", "%s / %s" % (a.short(), b.short()))
call("POST", "/v1/session", {"email": "expert@example.cn", "password": "wrong again!!"})
call("POST", "/v1/session", {"email": "expert@example.cn", "password": "and again!!!"})
c = call("POST", "/v1/session", {"email": "expert@example.cn", "password": "expert password 1"})
say(c.status == 429 and int(c.headers.get("Retry-After", "0")) >= 1,
    "after 3 failures even the right password waits (429, Retry-After)", c.short())
say(c.err().get("code") == "rate_limited", "the 429 carries the JSON error", c.short())
time.sleep(int(c.headers.get("Retry-After", "1")) + 0.2)
r3, ck3, csrf3 = sign_in("expert@example.cn", "expert password 1")
say(r3.status == 200, "after the wait the right password signs in again", r3.short())
say(call("POST", "/v1/session", {"email": "expert@example.cn"}).status == 400,
    "no password: 400")
bad = call("POST", "/v1/session", {"email": "expert@example.cn", "password": "x", "extra": 1})
say(bad.status == 400 and bad.err().get("field") == "extra", "an unknown field: 400 naming it", bad.short())
d = call("POST", "/v1/session", {"email": "ent2@example.cn", "password": "enterprise password"})
say(d.status == 403 and "disabled" in d.err().get("message", ""),
    "a disabled account is told so (right password)", d.short())

# ---- CSRF and Origin on writes with the cookie --------------------------------------
x = call("PUT", "/v1/me/record", {"tags": ["拒绝标签"]}, cookie=ck)
say(x.status == 403 and x.err().get("field") == "X-CSRF-Token", "a write without X-CSRF-Token: 403", x.short())
x = call("PUT", "/v1/me/record", {"tags": ["拒绝标签"]}, cookie=ck, csrf="0" * 64)
say(x.status == 403, "a write with a wrong X-CSRF-Token: 403", x.short())
x = call("PUT", "/v1/me/record", {"tags": ["拒绝标签"]}, cookie=ck, csrf=csrf,
         headers={"Origin": "http://evil.example"})
say(x.status == 403 and "another site" in x.err().get("message", ""),
    "a cookie sent from another origin: 403", x.short())
x = call("PUT", "/v1/me/record", {"tags": ["拒绝标签"]}, cookie=ck, csrf=csrf,
         headers={"Origin": "http://kx.example.cn.evil.example"})
say(x.status == 403, "an Origin that only starts like this site's: 403", x.short())
x = call("PUT", "/v1/me/record", {"digest": "weekly"}, cookie=ck, csrf=csrf,
         headers={"Origin": "http://kx.example.cn"})
say(x.status == 200, "the configured site's own Origin (behind a proxy) is this site", x.short())
x = call("PUT", "/v1/me/record", {"tags": ["拒绝标签"]}, cookie=ck, csrf=csrf3)
say(x.status == 403, "the CSRF token of another session does not do", x.short())
rec = call("GET", "/v1/me/record", cookie=ck)
say("拒绝标签" not in json.dumps(rec.json.get("record", {}).get("tags", []), ensure_ascii=False),
    "nothing refused was written", rec.short())

# ---- the expert's own record ------------------------------------------------------
x = call("PUT", "/v1/me/record", {"tags": ["催化裂化", "多产丙烯", "自助修改"], "capacity": 2, "digest": "off"},
         cookie=ck, csrf=csrf, headers={"Origin": URL})
say(x.status == 200 and x.json["record"].get("capacity") == 2 and x.json.get("digest") == "off",
    "the expert changes tags, capacity and digest frequency", x.short())
g = call("GET", "/v1/me/record", cookie=ck)
say(g.json["record"].get("tags") == ["催化裂化", "多产丙烯", "自助修改"] and g.json.get("digest") == "off",
    "read back", g.short())
for body, field in [({"email": "x@y.cn"}, "email"), ({"name": "别人"}, "name"),
                    ({"industries": ["9999"]}, "industries[0]"), ({"capacity": -1}, "capacity"),
                    ({"digest": "daily"}, "digest")]:
    x = call("PUT", "/v1/me/record", body, cookie=ck, csrf=csrf)
    say(x.status == 400 and x.err().get("field") == field,
        "PUT /v1/me/record %s: 400 naming %s" % (list(body)[0], field), x.short())
x = call("PUT", "/v1/me/record", {"digest": "weekly"}, cookie=ck, csrf=csrf)
say(x.status == 200 and x.json.get("digest") == "weekly", "digest back on", x.short())
m = call("GET", "/v1/me/matches", cookie=ck)
needs = [e["key"] for e in (m.json or {}).get("matches", [])]
say(m.status == 200 and needs and all(k.startswith("need:") for k in needs),
    "the expert sees the open needs that fit", m.short())
say(call("GET", "/v1/search?q=x", cookie=ck).status == 403, "an expert may not search")
say(call("GET", "/v1/pipeline", cookie=ck).status == 403, "an expert may not read the pipeline")
p = call("GET", "/v1/me/proposals", cookie=ck)
props = (p.json or {}).get("proposals", [])
say(p.status == 200 and props and all(x.get("need_name") for x in props),
    "the week's proposals to the expert, with their needs' names", p.short())

# ---- answers -----------------------------------------------------------------------
target = props[0]["need"] if props else needs[0]
x = call("POST", "/v1/me/answers", {"need": target, "answer": "interested", "note": "下周可面谈"},
         cookie=ck, csrf=csrf)
say(x.status in (200, 201) and x.json.get("stage") == "interested" and x.json.get("by_name") == "孙立峰",
    "interested: the pair moves to stage interested, by the person", x.short())
ra, cka, csrfa = sign_in("admin@example.cn", "admin password 1")
# pairs in conflict of interest are not brokered (issue 15)
for partner, why in [("expert:E0014", "conflict of interest with this enterprise"),
                     ("expert:X901", "works for this enterprise"),
                     ("society:S044", "belongs to this enterprise")]:
    x = call("POST", "/v1/pipeline", {"need": "need:N0001", "partner": partner,
                                      "stage": "shortlisted"}, cookie=cka, csrf=csrfa)
    say(x.status == 409 and why in x.err().get("message", ""),
        "a pair in conflict of interest is refused: %s" % partner, x.short())
x = call("POST", "/v1/pipeline", {"need": "need:N0001", "partner": "society:S044",
                                  "stage": "declined"}, cookie=cka, csrf=csrfa)
say(x.status in (200, 201), "declining such a pair is allowed", x.short())
mm = call("GET", "/v1/me/matches?top=50", cookie=ck)
own = [e for e in (mm.json or {}).get("matches", []) if e.get("key") == target]
say(own and own[0].get("stage") == "interested" and own[0].get("note") == "下周可面谈",
    "the expert's matches show the answer given", mm.short())
pl = call("GET", "/v1/pipeline?partner=expert:E0001", cookie=cka)
row = [e for e in (pl.json or {}).get("entries", []) if e.get("need") == target]
say(row and row[0].get("stage") == "interested" and row[0].get("note") == "下周可面谈",
    "the liaison's pipeline shows it with the note", pl.short())
for body, want, what in [
        ({"need": target, "answer": "maybe"}, 400, "an answer that is neither"),
        ({"need": "need:NOPE", "answer": "declined"}, 404, "an unknown need"),
        ({"need": target, "answer": "declined", "partner": "result:R0099"}, 403, "someone else's result"),
        ({"need": target, "answer": "declined", "note": "长" * 200}, 413, "a note too long")]:
    x = call("POST", "/v1/me/answers", body, cookie=ck, csrf=csrf)
    say(x.status == want, "%s: %d" % (what, want), x.short())

# ---- one-click answers from the digest ----------------------------------------------
links = []
for f in sorted(glob.glob(OUTBOX + "/*.eml")):
    msg = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    links += [(msg["To"].addresses[0].addr_spec, u)
              for u in re.findall(r"一键回复（有意向 / 不合适）：(\S+)", text)]
say(len(links) > 10, "the digests carry one-click answer links (%d)" % len(links))
say(all("/answer.html#t=" in u for _, u in links), "each opens the answer page", links[:1])
mine = [u for a, u in links if a == "sun.lifeng@upc.example.cn" or "E0001" in u] or [links[0][1]]
tok = links[0][1].split("#t=", 1)[1]
g1 = call("GET", "/v1/answers?t=" + tok)
say(g1.status == 200 and g1.json.get("need_name") and g1.json.get("answered") is None,
    "GET shows the proposal and changes nothing", g1.short())
g2 = call("GET", "/v1/answers?t=" + tok)
say(g2.json == g1.json, "a second GET (a mail scanner) still changes nothing", g2.short())
forged = tok[:-1] + ("0" if tok[-1] != "0" else "1")
say(call("GET", "/v1/answers?t=" + forged).status == 403, "a forged signature: 403")
payload = bytes.fromhex(tok.split(".")[0]).decode()
need_k, partner_k, rcpt_k, exp_k = payload.split(" ")
other = "expert:E0002" if rcpt_k != "expert:E0002" else "expert:E0003"
rebound = " ".join([need_k, partner_k, other, exp_k]).encode().hex() + "." + tok.split(".")[1]
stretched = " ".join([need_k, partner_k, rcpt_k, str(int(exp_k) + 86400 * 365)]).encode().hex() \
    + "." + tok.split(".")[1]
say(call("GET", "/v1/answers?t=" + stretched).status == 403, "a token with its expiry moved: 403")
say(call("POST", "/v1/answers", {"t": rebound, "answer": "declined"}).status == 403,
    "a token bound to another pair or person: 403")
a1 = call("POST", "/v1/answers", {"t": tok, "answer": "declined", "note": "方向不符"})
say(a1.status in (200, 201) and a1.json.get("stage") == "declined",
    "POST answers: declined", a1.short())
a2 = call("POST", "/v1/answers", {"t": tok, "answer": "interested"})
say(a2.status == 409, "the same link answers only once (replay: 409)", a2.short())
g3 = call("GET", "/v1/answers?t=" + tok)
say((g3.json or {}).get("answered", {}).get("answer") == "declined", "GET then says how it was answered",
    g3.short())

# a local expert's digest with answer links, as the city's liaison sees it
pv = None
for f in sorted(glob.glob(OUTBOX + "/*.eml")):
    msg = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    rcpt = str(msg["X-Kxmatch-Digest"]).split()[-1]
    if not rcpt.startswith("expert:") or "一键回复" not in msg.get_body(("plain",)).get_content():
        continue
    pv = call("GET", "/v1/digests/preview?recipient=%s&week=2026-W48" % rcpt,
              token=os.environ["KX_CITY_TOKEN"])
    if pv.status == 200:
        break
say(pv is not None and pv.status == 200 and "answer.html#t=redacted" in pv.body.decode()
    and not re.search(r"#t=[0-9a-f]{16}", pv.body.decode()),
    "a preview for someone else carries no working answer links (they would answer as the expert)",
    pv and pv.short())

# ---- sign-in links by mail ----------------------------------------------------------
before = len(glob.glob(SINK + "/*.eml"))
x = call("POST", "/v1/session/link", {"email": "zhang.wei@example.cn"})
y = call("POST", "/v1/session/link", {"email": "nobody-here@example.cn"})
say(x.status == 202 and y.status == 202 and x.json == y.json,
    "a link is asked for: the same 202 for a known and an unknown address", x.short() + " / " + y.short())
mails = sorted(glob.glob(SINK + "/*.eml"))
say(len(mails) == before + 1, "exactly one mail went out (none for the unknown address)", len(mails))
msg = email.message_from_bytes(open(mails[-1], "rb").read(), policy=email.policy.default)
say(msg["To"].addresses[0].addr_spec == "zhang.wei@example.cn" and "张伟" in str(msg["To"]),
    "to the account's address and name", str(msg["To"]))
body = msg.get_body(("plain",)).get_content()
m = re.search(r"http://kx\.example\.cn/signin\.html#link=([0-9a-f]{64})", body)
say(m is not None and "15 分钟" in body, "the mail carries the link and says it expires in 15 minutes", body[:300])
secret = m.group(1) if m else "0" * 64
r1 = call("POST", "/v1/session/redeem", {"link": secret})
say(r1.status == 200 and r1.json.get("name") == "张伟" and r1.json.get("region") == "371602",
    "the link signs the liaison officer in", r1.short())
ckl = r1.headers.get("Set-Cookie", "").split(";")[0]
r2 = call("POST", "/v1/session/redeem", {"link": secret})
say(r2.status == 401 and "used already" in r2.err().get("message", ""),
    "the link works once", r2.short())
cli = open(CLILINK).read().strip()
r4 = call("POST", "/v1/session/redeem", {"link": cli})
say(r4.status == 200, "a link printed by `kxmatch user link` signs in too", r4.short())
say(call("POST", "/v1/session/redeem", {"link": "zz"}).status == 401, "a malformed link: 401")

# ---- the person's own token, the audit, sign-out --------------------------------------
t = call("POST", "/v1/tokens", {"label": "my script"}, cookie=ckl,
         csrf=(call("GET", "/v1/whoami", cookie=ckl).json or {}).get("csrf"))
say(t.status == 201 and t.json.get("role") == "liaison", "a person makes their own token", t.short())
tk = (t.json or {}).get("token")
w = call("GET", "/v1/whoami", token=tk)
say(w.status == 200 and w.json.get("name") == "张伟" and w.json.get("region") == "371602"
    and w.json.get("session") is False and "csrf" not in w.json,
    "the token acts as the person, with no CSRF token", w.short())
x = call("POST", "/v1/pipeline", {"need": "need:N0010", "partner": "expert:E0002", "stage": "shortlisted"},
         token=tk)
say(x.status in (200, 201), "a write with the person's token needs no CSRF header", x.short())
au = call("GET", "/v1/audit?limit=200", cookie=cka)
ent = [e for e in (au.json or {}).get("entries", []) if e.get("what") == "pipeline.shortlisted"
       and e.get("key") == "need:N0010 expert:E0002"]
say(ent and ent[0].get("name") == "张伟" and ent[0].get("who", "").startswith("kx_"),
    "the audit log names the person and the token", au.short())
mine = [e for e in (au.json or {}).get("entries", []) if e.get("what") == "pipeline.interested"
        and e.get("name") == "孙立峰"]
say(mine, "the expert's answer is in the audit log under the expert's name")
failed_in = [e for e in (au.json or {}).get("entries", []) if e.get("what") == "signin.failed"]
say(len(failed_in) >= 3, "failed sign-ins are in the audit log", len(failed_in))
o = call("DELETE", "/v1/session", cookie=ck, csrf=csrf)
say(o.status == 200 and o.json.get("signed_out") is True and "Max-Age=0" in o.headers.get("Set-Cookie", ""),
    "sign-out ends the session and clears the cookie", o.short())
say(call("GET", "/v1/whoami", cookie=ck).status == 401, "the old cookie no longer signs in")
say(call("GET", "/v1/whoami", cookie=ck3).status == 200, "the person's other session goes on")

# ---- the administrator's accounts ----------------------------------------------------
u = call("POST", "/v1/users", {"email": "wang.fang@example.cn", "name": "王芳", "role": "liaison",
                               "region": "371603107"}, cookie=cka, csrf=csrfa)
say(u.status == 201 and u.json.get("region") == "371603107", "the admin adds a township officer", u.short())
dup = call("POST", "/v1/users", {"email": "WANG.FANG@example.cn", "name": "x", "role": "admin"},
           cookie=cka, csrf=csrfa)
say(dup.status == 409, "an address taken: 409", dup.short())
sh = call("POST", "/v1/users", {"email": "pw@example.cn", "name": "x", "role": "admin", "password": "short"},
          cookie=cka, csrf=csrfa)
say(sh.status == 400 and sh.err().get("field") == "password", "a short password: 400", sh.short())
uid = (u.json or {}).get("id", "u_00000000")
dis = call("PUT", "/v1/users/" + uid, {"disabled": True}, cookie=cka, csrf=csrfa)
say(dis.status == 200 and dis.json.get("disabled") is True, "the admin disables an account", dis.short())
me = (call("GET", "/v1/whoami", cookie=cka).json or {}).get("user")
self_dis = call("PUT", "/v1/users/" + me, {"disabled": True}, cookie=cka, csrf=csrfa)
say(self_dis.status == 409, "an admin cannot disable their own account", self_dis.short())
lst = call("GET", "/v1/users", cookie=cka)
say(lst.status == 200 and len(lst.json.get("users", [])) >= 8, "the admin lists the accounts", lst.short())
nope = call("GET", "/v1/users", cookie=ckl)
say(nope.status == 403, "a liaison officer may not list accounts", nope.short())
# a disabled account's session stops at once
rs, cks, _ = sign_in("soc@example.cn", "society password")
socid = (rs.json or {}).get("user", "u_00000000")
call("PUT", "/v1/users/" + socid, {"disabled": True}, cookie=cka, csrf=csrfa)
say(call("GET", "/v1/whoami", cookie=cks).status == 401, "disabling ends the account's sessions")

# ---- nothing shows a hash, a session id or someone else's address ----------------------
allb = b"".join(seen_bodies)
say(b"argon2" not in allb, "no reply ever held a password hash")
say(ck.split("=", 1)[1].encode() not in b"".join(seen_bodies[1:]), "no reply ever held a session id")
print("# done")
sys.exit(1 if failed else 0)
