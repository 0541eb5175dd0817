#!/usr/bin/env python3
"""authz_matrix.py - the authorization matrix of test_authz.sh: every route
of the table in api/http/server.c against every kind of caller.

  authz_matrix.py fixtures SRC OUT.jsonl   the needs the PUT and DELETE
                                           probes change, one set per caller
  authz_matrix.py expire DUMP TOKEN        rewrites `mdb_dump -s tokens`
                                           output so that TOKEN expired in 2001
  authz_matrix.py run SRC URL TOKENS       the matrix, TOKENS holding lines
                                           "CALLER TOKEN"

`run` prints one line per check, "ok WHAT" or "FAIL WHAT: WHY", then
"# done ..."; its exit status is 1 if anything failed. The routes come from
server.c's table, not from a list here: a route that the table has and
MATRIX below does not (or that openapi.json does not document) fails, and
so does an entry of MATRIX that the table no longer has.

The expectations are written from the rules (api/core/auth.h, the
handlers), never from what the server answers. Every write goes to an id of
its own caller's, so that no result depends on the order of the cells, and
a write that is refused is read back to show that it changed nothing.
Python 3 standard library only.
"""
import hashlib
import http.client
import json
import os
import random
import re
import sys
import urllib.parse

WEEK = "2026-W48"           # the digest week test_authz.sh plans
X, Y, Z = "enterprise:C001", "enterprise:C003", "enterprise:C002"
UNKNOWN = "NOPE-authz"      # an id no record has
UNSUB = "0" * 32            # an unsubscribe token no recipient has
WEB = "GET (web pages)"     # the table's last entry: any other GET path

# Who calls. role None: no valid token (the route must answer 401).
CALLERS = [
    ("none", None, None),          # no Authorization header
    ("bad", None, None),           # well-formed, never issued
    ("revoked", None, None),       # an admin token, revoked
    ("expired", None, None),       # an admin token, expired
    ("entX", "enterprise", X),     # enterprise C001 (Zhanhua county)
    ("entY", "enterprise", Y),     # enterprise C003 (Bincheng county)
    ("liaX", "liaison", "371603"),  # county of X: 沾化区
    ("liaY", "liaison", "371602"),  # county of Y: 滨城区
    ("city", "liaison", "371600"),  # 滨州市, both counties
    ("town", "liaison", "371603107"),  # X's township, not C002's
    ("admin", "admin", None),
    ("expX", "expert", "expert:E0005"),   # an expert's account token
    ("soc", "society", "society:S001"),   # a society contact's
]
PEOPLE_TOKENS = {"expX", "soc"}  # tokens made by a person's account
PIPELINE_TARGETS = ("XP", "XC", "XB", "YP", "ZP")  # pairs are made for
FIXTURE_TAGS = [("PUT", "public"), ("PUTC", "confidential"),
                ("PUTM", "public"), ("DEL", "public"),
                ("DELC", "confidential")]


# ---- the data ---------------------------------------------------------------

def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Data:
    """The dataset's records the probes aim at."""

    def __init__(self, src):
        d = os.path.join(src, "datasets", "binzhou")
        self.needs = {"need:" + r["id"]: r
                      for r in load_jsonl(os.path.join(d, "needs.jsonl"))}
        self.ent_region = {"enterprise:" + r["id"]: r.get("region")
                           for r in load_jsonl(os.path.join(d,
                                                            "enterprises.jsonl"))}
        self.experts = load_jsonl(os.path.join(d, "experts.jsonl"))

        def pick(ent, vis):
            for r in self.needs.values():
                if (r["enterprise"] == ent and r.get("visibility", "public") == vis
                        and r.get("status", "open") == "open"):
                    return r
            raise SystemExit("no %s open need of %s in the dataset" % (vis, ent))
        self.XP, self.XC = pick(X, "public"), pick(X, "confidential")
        self.YP, self.YC = pick(Y, "public"), pick(Y, "confidential")
        self.ZP = pick(Z, "public")
        # X's need located in Y's county: its liaison reads it by the
        # need's region, X's liaison by the enterprise's (a fixture)
        self.XB = {"kind": "need", "id": "C001-XB", "name": "authz need of X in 371602",
                   "enterprise": X, "visibility": "public", "status": "open",
                   "text": "授权矩阵测试用需求 聚丙烯", "region": self.ent_region[Y],
                   "updated": "2026-01-01"}
        self.needs["need:" + self.XB["id"]] = self.XB
        self.targets = {"XP": self.XP, "XC": self.XC, "XB": self.XB,
                        "YP": self.YP, "YC": self.YC, "ZP": self.ZP}
        # partners in X's county: digest recipients its liaison may
        # preview (test_authz.sh plans the week)
        self.partners_in_x = [
            r for f in ("experts", "societies")
            for r in load_jsonl(os.path.join(d, f + ".jsonl"))
            if within(r.get("region"), "371603")]


def fixture_id(tag, caller):
    return "C001-%s-%s" % (tag, caller)


def fixture_name(tag, caller):
    return "authz fixture %s %s" % (tag, caller)


def write_fixtures(src, out):
    data = Data(src)
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(data.XB, ensure_ascii=False) + "\n")
        for caller, _, _ in CALLERS:
            for tag, vis in FIXTURE_TAGS:
                rec = {"kind": "need", "id": fixture_id(tag, caller),
                       "name": fixture_name(tag, caller), "enterprise": X,
                       "visibility": vis, "status": "open",
                       "text": "授权矩阵测试用需求 催化裂化 丙烯",
                       "industries": data.XP.get("industries", []),
                       "region": data.ent_region[X], "updated": "2026-01-01"}
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def expire_dump(path, token):
    """Sets the expiry of token's record in an mdb_dump (bytevalue) file."""
    key = hashlib.sha256(token.encode()).hexdigest()
    lines = open(path).read().split("\n")
    done = False
    for i, line in enumerate(lines):
        if line.strip() == key and i + 1 < len(lines):
            rec = json.loads(bytes.fromhex(lines[i + 1].strip()))
            rec["expires"] = "2001-01-01T00:00:00Z"
            lines[i + 1] = " " + json.dumps(rec, separators=(",", ":")).encode().hex()
            done = True
    if not done:
        raise SystemExit("token %s... not in %s" % (token[:11], path))
    open(path, "w").write("\n".join(lines))


# ---- regions ----------------------------------------------------------------

def sig(scope):
    """The prefix every code within a GB/T 2260 scope starts with."""
    if len(scope) == 6 and scope.endswith("0000"):
        return scope[:2]
    if len(scope) == 6 and scope.endswith("00"):
        return scope[:4]
    return scope


def within(code, scope):
    return bool(code) and bool(scope) and code.startswith(sig(scope))


# ---- the server's route table and the API description ----------------------

def strip_comments(c):
    """C text without its comments; string literals (which hold "/*" in
    route patterns) kept whole."""
    return re.sub(r'"(?:\\.|[^"\\])*"|/\*.*?\*/|//[^\n]*',
                  lambda m: m.group(0) if m.group(0).startswith('"') else " ",
                  c, flags=re.S)


def route_table(src):
    """[(key, roles)] in table order: key "METHOD /path" (WEB for the
    catch-all), roles a set of role names (empty: no token needed)."""
    path = os.path.join(src, "api", "http", "server.c")
    text = open(path, encoding="utf-8").read()
    m = re.search(r"static const struct route routes\[\]\s*=\s*\{(.*?)\n\};",
                  text, re.S)
    if not m:
        raise ValueError("no `static const struct route routes[]` in " + path)
    body = strip_comments(m.group(1))
    entry = re.compile(r'\{\s*"(\w+)"\s*,\s*(NULL|"[^"]*")\s*,\s*(\w+)\s*,'
                       r'\s*"([^"]*)"\s*,\s*([^{}]*?)\s*\}')
    found = entry.findall(body)
    if len(found) != len(re.findall(r"\{", body)):
        raise ValueError("%s: %d route entries, %d parsed: the table's shape "
                         "changed, update route_table()" %
                         (path, len(re.findall(r"\{", body)), len(found)))
    defs = {}
    for f in (path, os.path.join(src, "api", "core", "auth.h")):
        for name, val in re.findall(r"^#define\s+(\w+)\s+(.+?)\s*$",
                                    open(f, encoding="utf-8").read(), re.M):
            defs[name] = val

    def roles(expr, depth=0):
        expr = expr.strip()
        if depth > 8:
            raise ValueError("roles macro loop at " + expr)
        m = re.fullmatch(r"\(?\s*1u?\s*<<\s*API_ROLE_(\w+)\s*\)?", expr)
        if m:
            return {m.group(1).lower()}
        if expr == "0":
            return set()
        out = set()
        for tok in re.findall(r"[A-Za-z_]\w*", expr):
            if tok not in defs:
                raise ValueError("roles: unknown name %s" % tok)
            out |= roles(defs[tok], depth + 1)
        return out

    table = []
    for method, p, _fn, _name, r in found:
        key = WEB if p == "NULL" else "%s %s" % (method, p.strip('"'))
        table.append((key, roles(r)))
    return table


def openapi_ops(src):
    """{"METHOD /path-with-*": operation} from api/openapi.json."""
    with open(os.path.join(src, "api", "openapi.json"), encoding="utf-8") as f:
        doc = json.load(f)
    ops = {}
    for p, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, dict):
                ops["%s %s" % (method.upper(), re.sub(r"\{[^}]*\}", "*", p))] = op
    return ops


# ---- HTTP -------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    def err(self):
        e = self.json.get("error") if isinstance(self.json, dict) else None
        return e if isinstance(e, dict) else None

    def short(self):
        return "%d %s" % (self.status, self.body[:160].decode("utf-8", "replace"))


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None
        self.count = 0

    def request(self, token, method, path, body=None, headers=None):
        h = dict(headers or {})
        if token is not None and "Authorization" not in h:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            h.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port,
                                                       timeout=10)
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                out = Resp(r.status, {k.lower(): v for k, v in r.getheaders()},
                           r.read())
                self.count += 1
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return out
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise


def needs_named(text):
    """The need keys a digest message links to."""
    return sorted({"need:" + i for i in re.findall(r"[?&]need=([\w.-]+)", text)})


def q(path, **params):
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


# ---- probes -----------------------------------------------------------------

class Probe:
    """One request of a cell. expect: a status, or "hidden": a 404 that
    reads as the one for `unknown` does, but for the id.
    check(resp) and after(allowed) return None or what is wrong; after reads
    back what a write should (or, refused, should not) have changed."""

    def __init__(self, label, method, path, expect, body=None, check=None,
                 after=None, unknown=None, secret=None):
        self.label, self.method, self.path, self.expect = label, method, path, expect
        self.body, self.check, self.after = body, check, after
        # unknown: (method, path, body, id) of the same request for a
        # record that does not exist; secret: the id it stands in for
        self.unknown, self.secret = unknown, secret


class Matrix:
    def __init__(self, src, url, tokens):
        self.data = Data(src)
        self.http = Client(url)
        self.tok = tokens
        self.caller = {name: (role, scope) for name, role, scope in CALLERS}
        self.admin = tokens["admin"]
        # the partner of the pairs run() seeds, and each caller's own one
        # for its writes
        self.seed_partner = "expert:" + self.data.experts[0]["id"]
        self.partner = {name: "expert:" + self.data.experts[20 + i]["id"]
                        for i, (name, _, _) in enumerate(CALLERS)}
        self.MATRIX = {
            "GET /healthz": (None, self.p_public("/healthz")),
            "GET /metrics": (None, self.p_public("/metrics")),
            "GET /v1/openapi.json": (None, self.p_public("/v1/openapi.json")),
            "GET /v1/site": (None, self.p_public("/v1/site")),
            "GET /v1/whoami": (PEOPLE, self.p_whoami),
            "POST /v1/session": (None, self.p_session_post),
            "DELETE /v1/session": (PEOPLE, self.p_session_delete),
            "POST /v1/session/link": (None, self.p_session_link),
            "POST /v1/session/redeem": (None, self.p_session_redeem),
            "POST /v1/tokens": (PEOPLE, self.p_token_post),
            "GET /v1/users": ({"admin"}, self.p_users_list),
            "POST /v1/users": ({"admin"}, self.p_users_post),
            "PUT /v1/users/*": ({"admin"}, self.p_user_put),
            "GET /v1/me/record": (PARTNER, self.p_me_record_get),
            "PUT /v1/me/record": (PARTNER, self.p_me_record_put),
            "GET /v1/me/matches": (PARTNER, self.p_me_matches),
            "GET /v1/me/proposals": (PARTNER, self.p_me_proposals),
            "POST /v1/me/answers": (PARTNER, self.p_me_answer),
            "GET /v1/answers": (None, self.p_answer_get),
            "POST /v1/answers": (None, self.p_answer_post),
            "GET /v1/taxonomy/*": (PEOPLE, self.p_taxonomy),
            "GET /v1/needs": (ANY, self.p_needs_list),
            "POST /v1/needs": (WRITERS, self.p_need_post),
            "GET /v1/needs/*": (ANY | PARTNER, self.p_need_get),
            "PUT /v1/needs/*": (WRITERS, self.p_need_put),
            "DELETE /v1/needs/*": (WRITERS, self.p_need_delete),
            "GET /v1/needs/*/matches": (ANY, self.p_need_matches),
            "GET /v1/search": (ANY, self.p_search),
            "GET /v1/records/*/*": (ANY, self.p_record_get),
            "GET /v1/*/*/matches": (BROKERS, self.p_partner_matches),
            "POST /v1/pipeline": (BROKERS, self.p_pipeline_post),
            "GET /v1/pipeline": (BROKERS, self.p_pipeline_list),
            "GET /v1/stats": (BROKERS, self.p_stats),
            "GET /v1/audit": ({"admin"}, self.p_audit),
            "GET /v1/digests/preview": (BROKERS, self.p_digest_preview),
            "GET /v1/digests/unsubscribe": (None, self.p_unsub_get),
            "POST /v1/digests/unsubscribe": (None, self.p_unsub_post),
            WEB: (None, self.p_public("/")),
        }

    # -- helpers --

    def as_admin(self, method, path, body=None):
        return self.http.request(self.admin, method, path, body)

    def need_now(self, key):
        """What the store holds for a need (admin's view), or None."""
        r = self.as_admin("GET", "/v1/records/need/" + key.split(":", 1)[1])
        return r.json["record"] if r.status == 200 else None

    def meta(self, key):
        """A need's record (enterprise, region, visibility): the dataset's
        or a target's (the matrix never changes those), else read now."""
        return self.data.needs.get(key) or self.need_now(key)

    def rule(self, c, need):
        """The documented read rule (auth.h) for caller c and a need record:
        200, 403, or "hidden" (answered as if it did not exist)."""
        role, scope = self.caller[c]
        conf = need.get("visibility", "public") == "confidential"
        if role == "admin":
            return 200
        if role == "enterprise" and need.get("enterprise") == scope:
            return 200
        if role in ("expert", "society") and not conf:
            return 200  # a partner reads what is published
        if role == "liaison" and not conf and (
                within(need.get("region"), scope) or
                within(self.data.ent_region.get(need.get("enterprise")), scope)):
            return 200
        return "hidden" if conf else 403

    def write_rule(self, c, need):
        """PUT/DELETE: its own enterprise or an admin (once it can read it)."""
        role, scope = self.caller[c]
        if role == "admin" or (role == "enterprise" and need.get("enterprise") == scope):
            return 200
        return "hidden" if need.get("visibility") == "confidential" else 403

    def visible_ok(self, c, rows, what):
        """None if caller c may read every need in rows (dicts with key,
        enterprise, region, visibility), else what it may not."""
        for row in rows:
            if self.rule(c, row) != 200:
                return "%s holds %s (%s, %s, %s), which %s may not read" % (
                    what, row.get("key"), row.get("enterprise"),
                    row.get("region"), row.get("visibility", "public"), c)
        return None

    def need_rows(self, c, **params):
        """Every need GET /v1/needs lists for c, or a string saying why not."""
        r = self.http.request(self.tok[c], "GET", q("/v1/needs", per_page=500,
                                                    **params))
        if r.status != 200 or not r.json:
            return "GET /v1/needs: %s" % r.short()
        rows = r.json.get("needs", [])
        if r.json.get("total") != len(rows):
            return "GET /v1/needs: total %s, %d rows" % (r.json.get("total"), len(rows))
        return rows

    # -- the probes of each route, for caller c --

    def p_public(self, path):
        def probes(c):
            return [Probe(path, "GET", path, 200)]
        return probes

    def p_whoami(self, c):
        role, scope = self.caller[c]

        def check(r):
            j = r.json or {}
            if j.get("role") != role:
                return "role %r, want %r" % (j.get("role"), role)
            if role == "enterprise" and j.get("enterprise") != scope:
                return "enterprise %r, want %r" % (j.get("enterprise"), scope)
            if role == "liaison" and j.get("region") != scope:
                return "region %r, want %r" % (j.get("region"), scope)
            return None
        return [Probe("whoami", "GET", "/v1/whoami", 200, check=check)]

    # -- people: sessions, accounts, a partner's own pages --

    def p_session_post(self, c):
        # a wrong password, at an address of the caller's own (failures
        # are counted per address): refused whatever token comes with it
        body = {"email": "nobody-%s@example.cn" % c.lower(),
                "password": "not the password"}
        return [Probe("wrong password", "POST", "/v1/session", 401, body=body,
                      check=None)]

    def p_session_delete(self, c):
        def check(r):
            return None if (r.json or {}).get("signed_out") is False else \
                "a token's DELETE /v1/session ended a session: " + r.short()
        return [Probe("with a token", "DELETE", "/v1/session", 200, check=check)]

    def p_session_link(self, c):
        # this server has no smtp_url: it says so, for every caller
        return [Probe("no mail set up", "POST", "/v1/session/link", 503,
                      body={"email": "authz-expert@example.cn"})]

    def p_session_redeem(self, c):
        return [Probe("unknown link", "POST", "/v1/session/redeem", 401,
                      body={"link": "0" * 64})]

    def p_token_post(self, c):
        def check(r):
            j = r.json or {}
            if j.get("role") != self.caller[c][0] or not str(j.get("token", "")).startswith("kx_"):
                return "token %r" % j
            w = self.http.request(j["token"], "GET", "/v1/whoami")
            if w.status != 200 or (w.json or {}).get("user") is None:
                return "the new token does not act as the person: " + w.short()
            return None
        return [Probe("own token", "POST", "/v1/tokens",
                      201 if c in PEOPLE_TOKENS else 403,
                      body={"label": "authz " + c}, check=check)]

    def no_secrets(self, r):
        if b"argon2" in r.body or b'"pw"' in r.body:
            return "a password hash in the reply"
        return None

    def p_users_list(self, c):
        def check(r):
            users = (r.json or {}).get("users")
            if not isinstance(users, list) or not any(
                    u.get("email") == "authz-expert@example.cn" for u in users):
                return "the expert's account is not listed"
            return self.no_secrets(r)
        return [Probe("list", "GET", "/v1/users", 200, check=check)]

    def p_users_post(self, c):
        email = "authz-new-%s@example.cn" % c.lower()

        def after(allowed):
            r = self.as_admin("GET", "/v1/users")
            there = any(u.get("email") == email for u in (r.json or {}).get("users", []))
            return None if there == allowed else "%s %s" % (
                email, "missing" if allowed else "created by a refused POST")
        return [Probe("add", "POST", "/v1/users", 201,
                      body={"email": email, "name": "授权 " + c, "role": "liaison",
                            "region": "371603"},
                      check=self.no_secrets, after=after)]

    def p_user_put(self, c):
        return [Probe("unknown account", "PUT", "/v1/users/u_00000000", 404,
                      body={"name": "nobody"})]

    def p_me_record_get(self, c):
        scope = self.caller[c][1]

        def check(r):
            rec = (r.json or {}).get("record", {})
            key = "%s:%s" % (rec.get("kind"), rec.get("id"))
            return None if key == scope else "record %s, want %s" % (key, scope)
        return [Probe("own", "GET", "/v1/me/record", 200, check=check)]

    def p_me_record_put(self, c):
        tags = ["授权矩阵", c]

        def after(allowed):
            scope = self.caller[c][1]
            if not scope:
                return None
            r = self.as_admin("GET", "/v1/records/" + scope.replace(":", "/"))
            got = (r.json or {}).get("record", {}).get("tags")
            return None if (got == tags) == allowed else "tags now %r" % got
        return [Probe("own tags", "PUT", "/v1/me/record", 200,
                      body={"tags": tags}, after=after)]

    def p_me_matches(self, c):
        def check(r):
            m = (r.json or {}).get("matches")
            if not isinstance(m, list):
                return "no matches"
            for e in m:
                need = self.meta(e.get("key"))
                if need and need.get("visibility") == "confidential":
                    return "a confidential need %s" % e.get("key")
            return None
        return [Probe("own", "GET", "/v1/me/matches", 200, check=check)]

    def p_me_proposals(self, c):
        return [Probe("own", "GET", "/v1/me/proposals", 200,
                      check=lambda r: None if isinstance((r.json or {}).get("proposals"), list)
                      else "no proposals")]

    def p_me_answer(self, c):
        d = self.data
        return [Probe("public need", "POST", "/v1/me/answers", 201,
                      body={"need": "need:" + d.ZP["id"], "answer": "interested",
                            "note": "authz " + c}),
                Probe("confidential need", "POST", "/v1/me/answers", 404,
                      body={"need": "need:" + d.XC["id"], "answer": "interested"})]

    def p_answer_get(self, c):
        return [Probe("forged link", "GET", q("/v1/answers", t="00." + "0" * 64), 403)]

    def p_answer_post(self, c):
        return [Probe("forged link", "POST", "/v1/answers", 403,
                      body={"t": "00." + "0" * 64, "answer": "interested"})]

    def p_taxonomy(self, c):
        return [Probe("region", "GET", "/v1/taxonomy/region", 200),
                Probe("unknown taxonomy", "GET", "/v1/taxonomy/" + UNKNOWN, 404)]

    def p_needs_list(self, c):
        role, scope = self.caller[c]
        d = self.data

        def check_all(r):
            rows = (r.json or {}).get("needs")
            if rows is None:
                return "no needs in " + r.short()
            bad = self.visible_ok(c, rows, "the list")
            if bad:
                return bad
            keys = {row["key"] for row in rows}
            for name, need in d.targets.items():
                k = "need:" + need["id"]
                if (self.rule(c, need) == 200) != (k in keys):
                    return "%s (%s) %s listed" % (k, name,
                                                  "is" if k in keys else "is not")
            return None

        other = Y if scope == X else X

        def check_filtered(r):
            rows = (r.json or {}).get("needs")
            if rows is None:
                return "no needs in " + r.short()
            want = scope if role == "enterprise" else other
            for row in rows:
                if row.get("enterprise") != want:
                    return "?enterprise=%s lists %s of %s" % (
                        other, row.get("key"), row.get("enterprise"))
            return self.visible_ok(c, rows, "the filtered list")
        return [Probe("all", "GET", q("/v1/needs", per_page=500), 200,
                      check=check_all),
                Probe("?enterprise=other", "GET",
                      q("/v1/needs", per_page=500, enterprise=other), 200,
                      check=check_filtered)]

    def p_need_get(self, c):
        out = []
        for name, need in self.data.targets.items():
            def check(r, need=need):
                rec = (r.json or {}).get("record", {})
                return None if rec.get("id") == need["id"] else "record %r" % rec.get("id")
            out.append(Probe(name, "GET", "/v1/needs/" + need["id"],
                             self.rule(c, need), check=check,
                             unknown=("GET", "/v1/needs/" + UNKNOWN, None, UNKNOWN),
                             secret=need["id"]))
        out.append(Probe("unknown", "GET", "/v1/needs/" + UNKNOWN, 404))
        return out

    def p_need_matches(self, c):
        out = []
        for name, need in self.data.targets.items():
            out.append(Probe(name, "GET", "/v1/needs/%s/matches" % need["id"],
                             self.rule(c, need),
                             check=lambda r: None if isinstance(
                                 (r.json or {}).get("matches"), list) else "no matches",
                             unknown=("GET", "/v1/needs/%s/matches" % UNKNOWN, None,
                                      UNKNOWN),
                             secret=need["id"]))
        out.append(Probe("unknown", "GET", "/v1/needs/%s/matches" % UNKNOWN, 404))
        return out

    def p_need_post(self, c):
        role, scope = self.caller[c]
        d = self.data
        own_ent = scope if role == "enterprise" else X
        other = X if scope == Y else Y

        def stored_key(given):
            if role == "enterprise":
                return "need:%s-%s" % (scope.split(":")[1], given)
            return "need:" + given

        def nothing_at(given):
            def after(allowed):
                if allowed:
                    return None
                for k in {"need:" + given, "need:C001-" + given,
                          "need:C003-" + given}:
                    if self.need_now(k) is not None:
                        return "a refused POST stored %s" % k
                return None
            return after

        def created(given, ent):
            def check(r):
                j = r.json or {}
                if j.get("key") != stored_key(given):
                    return "stored as %r, want %r" % (j.get("key"), stored_key(given))
                if j.get("record", {}).get("enterprise") != ent:
                    return "enterprise %r, want %r" % (
                        j.get("record", {}).get("enterprise"), ent)
                return None

            def after(allowed):
                if not allowed:
                    return nothing_at(given)(False)
                rec = self.need_now(stored_key(given))
                if not rec or rec.get("enterprise") != ent:
                    return "read back %s: %r" % (stored_key(given), rec)
                return None
            return check, after

        def body(given, ent, name):
            b = {"id": given, "name": name}
            if ent is not None:
                b["enterprise"] = ent
            return b

        out = []
        g = "P1-" + c
        chk, aft = created(g, own_ent)
        out.append(Probe("own", "POST", "/v1/needs", 201,
                         body=body(g, None if role == "enterprise" else X,
                                   "authz post " + c), check=chk, after=aft))
        g = "P2-" + c
        chk, aft = created(g, other)
        out.append(Probe("for another enterprise", "POST", "/v1/needs",
                         403 if role == "enterprise" else 201,
                         body=body(g, other, "authz foreign " + c),
                         check=chk, after=aft if role != "enterprise" else nothing_at(g)))
        # An id that is another enterprise's need: a new need of the
        # caller's own (ids are scoped), or for an admin 409; the other's
        # need is untouched either way.
        tgt = d.YP if scope == X else d.XP
        orig = tgt["name"]

        def untouched(allowed, tgt=tgt, orig=orig):
            rec = self.need_now("need:" + tgt["id"])
            if not rec or rec.get("name") != orig or rec.get("enterprise") != tgt["enterprise"]:
                return "need:%s changed: %r" % (tgt["id"], rec and rec.get("name"))
            # (C003-N... may be entY's own, made by this probe of its)
            for k in ("need:C001-" + tgt["id"], "need:C003-" + tgt["id"]):
                mine = not allowed and self.need_now(k)
                if mine and mine.get("name") == "authz collide " + c:
                    return "a refused POST stored %s" % k
            return None
        chk, _ = created(tgt["id"], own_ent)
        out.append(Probe("with another's need id", "POST", "/v1/needs",
                         201 if role == "enterprise" else 409,
                         body=body(tgt["id"], None if role == "enterprise" else X,
                                   "authz collide " + c),
                         check=chk if role == "enterprise" else None,
                         after=untouched))
        return out

    def fixture_after(self, tag, c, changed):
        """after() for a PUT/DELETE of fixture tag: changed(rec) says whether
        rec (None if gone) shows the write; refused, it must be as made."""
        key = "need:" + fixture_id(tag, c)
        vis = dict(FIXTURE_TAGS)[tag]

        def after(allowed):
            rec = self.need_now(key)
            if allowed:
                return None if changed(rec) else "read back %s: %r" % (
                    key, rec and {k: rec.get(k) for k in ("name", "enterprise")})
            if (not rec or rec.get("name") != fixture_name(tag, c) or
                    rec.get("enterprise") != X or
                    rec.get("visibility", "public") != vis):
                return "a refused write changed %s: %r" % (key, rec)
            return None
        return after

    def p_need_put(self, c):
        role, _ = self.caller[c]
        out = []
        for tag, vis in FIXTURE_TAGS[:2]:
            fid = fixture_id(tag, c)
            b = {"name": "renamed by " + c, "visibility": vis,
                 "region": self.data.ent_region[X]}
            if role != "enterprise":
                b["enterprise"] = X
            out.append(Probe(tag, "PUT", "/v1/needs/" + fid,
                             self.write_rule(c, {"enterprise": X, "visibility": vis}),
                             body=b, secret=fid,
                             unknown=("PUT", "/v1/needs/" + fixture_id("PUTN", c),
                                      b, fixture_id("PUTN", c)),
                             after=self.fixture_after(
                                 tag, c, lambda r: r and r.get("name") == "renamed by " + c)))
        # Moving a need to another enterprise: an admin only.
        fid = fixture_id("PUTM", c)
        out.append(Probe("move to another enterprise", "PUT", "/v1/needs/" + fid,
                         200 if role == "admin" else 403,
                         body={"name": "moved by " + c, "enterprise": Y},
                         after=self.fixture_after(
                             "PUTM", c, lambda r: r and r.get("enterprise") == Y)))
        fid = fixture_id("PUTN", c)

        def not_made(allowed, fid=fid):
            rec = self.need_now("need:" + fid)
            return None if rec is None else "PUT made need:%s" % fid
        b = {"name": "made by " + c}
        if role != "enterprise":
            b["enterprise"] = X
        out.append(Probe("unknown", "PUT", "/v1/needs/" + fid, 404, body=b,
                         after=not_made))
        return out

    def p_need_delete(self, c):
        out = []
        for tag, vis in FIXTURE_TAGS[3:]:
            fid = fixture_id(tag, c)
            out.append(Probe(tag, "DELETE", "/v1/needs/" + fid,
                             self.write_rule(c, {"enterprise": X, "visibility": vis}),
                             secret=fid,
                             unknown=("DELETE", "/v1/needs/" + fixture_id("DELN", c),
                                      None, fixture_id("DELN", c)),
                             after=self.fixture_after(tag, c, lambda r: r is None)))
        out.append(Probe("unknown", "DELETE", "/v1/needs/" + fixture_id("DELN", c), 404))
        return out

    def p_search(self, c):
        role, scope = self.caller[c]

        def check_default(r):
            hits = (r.json or {}).get("hits")
            if hits is None:
                return "no hits in " + r.short()
            needs = [h for h in hits if h.get("kind") == "need"]
            if role == "enterprise" and needs:
                return "an enterprise's search shows %s" % needs[0]["key"]
            return self.visible_ok(c, needs, "search")

        def check_needs(r):
            hits, page = [], 1
            while True:
                rr = r if page == 1 else self.http.request(
                    self.tok[c], "GET", q("/v1/search", kind="need", per_page=100,
                                          page=page, facets=0))
                if rr.status != 200 or not rr.json:
                    return "page %d: %s" % (page, rr.short())
                hits += rr.json.get("hits", [])
                if page * 100 >= rr.json.get("total", 0):
                    break
                page += 1
            bad = self.visible_ok(c, hits, "search kind=need")
            if bad:
                return bad
            # Counts tell of what is left out too.
            if r.json.get("total") != len(hits):
                return "total %r, but %d hits" % (r.json.get("total"), len(hits))
            for f in (r.json.get("facets") or {}).get("kind", []):
                if f.get("value") == "need" and f.get("count") != len(hits):
                    return "the kind facet counts %r needs, %d hits" % (
                        f.get("count"), len(hits))
            if r.json.get("facets_exact"):
                for f in (r.json.get("facets") or {}).get("region", []):
                    n = sum(within(h.get("region"), f.get("value")) for h in hits)
                    if f.get("count") != n:
                        return "the region facet counts %r in %s, %d hits are" % (
                            f.get("count"), f.get("value"), n)
            rows = self.need_rows(c)
            if isinstance(rows, str):
                return rows
            got, want = {h["key"] for h in hits}, {row["key"] for row in rows}
            if got != want:
                return "search and GET /v1/needs disagree: %s" % sorted(got ^ want)[:4]
            return None
        return [Probe("default", "GET", q("/v1/search", per_page=100), 200,
                      check=check_default),
                Probe("kind=need", "GET", q("/v1/search", kind="need", per_page=100),
                      403 if role == "enterprise" else 200,
                      check=check_needs)]

    def p_record_get(self, c):
        role, scope = self.caller[c]
        d = self.data
        out = []
        for name, need in d.targets.items():
            out.append(Probe("need " + name, "GET", "/v1/records/need/" + need["id"],
                             self.rule(c, need),
                             unknown=("GET", "/v1/records/need/" + UNKNOWN, None, UNKNOWN),
                             secret=need["id"]))
        for ent in (X, Y):
            eid = ent.split(":")[1]

            def has_email(r):
                rec = (r.json or {}).get("record", {})
                return None if "email" in rec else "no email on its own record"
            out.append(Probe("enterprise " + eid, "GET", "/v1/records/enterprise/" + eid,
                             403 if role == "enterprise" and ent != scope else 200,
                             check=has_email))

        def redacted(field):
            def check(r):
                rec = (r.json or {}).get("record", {})
                if role == "enterprise" and field in rec:
                    return "%s shown to an enterprise" % field
                if role != "enterprise" and field not in rec:
                    return "%s missing" % field
                return None
            return check
        out.append(Probe("expert", "GET", "/v1/records/expert/" + d.experts[0]["id"],
                         200, check=redacted("email")))
        out.append(Probe("society", "GET", "/v1/records/society/S001", 200,
                         check=redacted("contact")))
        out.append(Probe("unknown", "GET", "/v1/records/expert/" + UNKNOWN, 404))
        return out

    def p_partner_matches(self, c):
        def check(r):
            ms = (r.json or {}).get("matches")
            if not isinstance(ms, list):
                return "no matches in " + r.short()
            rows = []
            for m in ms:
                meta = self.meta(m["key"])
                if meta is None:
                    return "matches %s, which does not exist" % m["key"]
                rows.append(dict(meta, key=m["key"]))
            return self.visible_ok(c, rows, "the matches")
        e = self.data.experts[0]["id"]
        return [Probe("expert", "GET", q("/v1/expert/%s/matches" % e, top=50), 200,
                      check=check),
                Probe("unknown", "GET", "/v1/expert/%s/matches" % UNKNOWN, 404)]

    def pipeline_entries(self, need, partner):
        r = self.as_admin("GET", q("/v1/pipeline", need=need, partner=partner))
        return r.json.get("entries", []) if r.status == 200 and r.json else None

    def p_pipeline_post(self, c):
        partner = self.partner[c]
        out = []
        for name in PIPELINE_TARGETS:
            need = self.data.targets[name]
            nk = "need:" + need["id"]

            def after(allowed, nk=nk):
                es = self.pipeline_entries(nk, partner)
                if es is None:
                    return "cannot read the pipeline back"
                if allowed and not (len(es) == 1 and es[0].get("stage") == "shortlisted"
                                    and es[0].get("by") == self.tok[c][:11]):
                    return "read back %s %s: %r" % (nk, partner, es)
                if not allowed and es:
                    return "a refused POST stored %s %s" % (nk, partner)
                return None
            want = self.rule(c, need)
            out.append(Probe(name, "POST", "/v1/pipeline", 201 if want == 200 else want,
                             body={"need": nk, "partner": partner,
                                   "stage": "shortlisted"},
                             after=after,
                             secret=need["id"],
                             unknown=("POST", "/v1/pipeline",
                                      {"need": "need:" + UNKNOWN, "partner": partner,
                                       "stage": "shortlisted"}, UNKNOWN)))
        out.append(Probe("unknown need", "POST", "/v1/pipeline", 404,
                         body={"need": "need:" + UNKNOWN, "partner": partner,
                               "stage": "shortlisted"}))
        return out

    def p_pipeline_list(self, c):
        def rows_of(entries):
            rows = []
            for e in entries:
                meta = self.meta(e["need"])
                if meta is None:
                    return None, "lists %s, which does not exist" % e["need"]
                rows.append(dict(meta, key=e["need"]))
            return rows, None

        def check(r):
            entries = (r.json or {}).get("entries")
            if entries is None:
                return "no entries in " + r.short()
            rows, bad = rows_of(entries)
            if bad:
                return bad
            bad = self.visible_ok(c, rows, "the pipeline")
            if bad:
                return bad
            seeded = {e["need"] for e in entries
                      if e.get("partner") == self.seed_partner}
            for name, need in self.data.targets.items():
                k = "need:" + need["id"]
                if name in PIPELINE_TARGETS and (self.rule(c, need) == 200) != (k in seeded):
                    return "the seeded entry of %s (%s) %s listed" % (
                        k, name, "is" if k in seeded else "is not")
            return None

        def check_csv(r):
            text = r.body.decode("utf-8", "replace")
            if not r.headers.get("content-type", "").startswith("text/csv"):
                return "content type %r" % r.headers.get("content-type")
            for name, need in self.data.targets.items():
                k = "need:" + need["id"]
                if self.rule(c, need) != 200 and k in text:
                    return "the CSV holds %s (%s)" % (k, name)
            return None
        return [Probe("json", "GET", q("/v1/pipeline", per_page=1000), 200, check=check),
                Probe("csv", "GET", q("/v1/pipeline", format="csv"), 200,
                      check=check_csv)]

    def p_stats(self, c):
        role, scope = self.caller[c]

        def check(r):
            j = r.json or {}
            if j.get("scope") != (scope if role == "liaison" else "all"):
                return "scope %r" % j.get("scope")
            rows = self.need_rows(c)
            if isinstance(rows, str):
                return rows

            def county(row):
                g = row.get("region") or self.data.ent_region.get(row.get("enterprise"))
                return (g[:6] if len(g) > 6 else g) if g else ""
            for line in j.get("by_county", []):
                n = sum(county(row) == line.get("code") for row in rows)
                if line.get("needs") != n:
                    return "by_county counts %r needs in %r, %d are listed" % (
                        line.get("needs"), line.get("code"), n)
            n = (j.get("totals") or {}).get("needs")
            if n != len(rows):
                return "totals.needs %r, but GET /v1/needs lists %d" % (n, len(rows))
            return None
        return [Probe("stats", "GET", "/v1/stats", 200, check=check)]

    def p_audit(self, c):
        return [Probe("audit", "GET", q("/v1/audit", limit=5), 200,
                      check=lambda r: None if isinstance((r.json or {}).get("entries"),
                                                         list) else "no entries")]

    def p_digest_preview(self, c):
        role, scope = self.caller[c]
        d = self.data

        def pv(recipient):
            return q("/v1/digests/preview", recipient=recipient, week=WEEK)

        def expect(recipient, region):
            """403 outside the liaison's region, and when the message names
            no need it may read (there would be nothing left to show)."""
            if role == "admin":
                return 200
            if not within(region, scope):
                return 403
            if not any(self.rule(c, self.data.needs[k]) == 200
                       for k in self.digest_needs(recipient)):
                return 403
            return 200

        def clean(recipient):
            def check(r):
                j = r.json or {}
                text = (j.get("text") or "") + (j.get("html") or "")
                if re.search(r"token=(?!redacted)[0-9A-Za-z]", text):
                    return "a recipient's unsubscribe token is shown"
                rows = [dict(d.needs[k], key=k) for k in needs_named(text)]
                bad = self.visible_ok(c, rows, "the message")
                if bad:
                    return bad
                hidden = [k for k in self.digest_needs(recipient)
                          if self.rule(c, d.needs[k]) != 200]
                if hidden and not j.get("withheld"):
                    return "withheld %r, while %s may not read %s" % (
                        j.get("withheld"), c, hidden)
                return None
            return check

        partner, pregion = self.digest_partner()
        unknown = ("GET", pv("need:" + UNKNOWN), None, UNKNOWN)
        out = [Probe(label, "GET", pv(rcp), expect(rcp, region), check=clean(rcp))
               for label, rcp, region in [
                   ("enterprise X", X, d.ent_region[X]),
                   ("enterprise Y", Y, d.ent_region[Y]),
                   ("partner in X's county", partner, pregion),
                   ("liaison:371603", "liaison:371603", "371603")]]
        # A need is no recipient; another's confidential one must read as
        # one that does not exist.
        for label, need in [("confidential need of Y", d.YC),
                            ("confidential need of X", d.XC)]:
            out.append(Probe(label, "GET", pv("need:" + need["id"]),
                             404 if role == "admin" else "hidden",
                             unknown=unknown, secret=need["id"]))
        return out

    def digest_needs(self, recipient, must=True):
        """The needs recipient's message names, as an admin reads it
        (cached: the plan is fixed, and holds dataset needs only); None
        if it gets none this week and not must."""
        cache = self.__dict__.setdefault("_digest_needs", {})
        if recipient not in cache:
            r = self.as_admin("GET", q("/v1/digests/preview", recipient=recipient,
                                       week=WEEK))
            if r.status == 404 and not must:
                return None
            if r.status != 200 or not r.json:
                raise RuntimeError("admin preview of %s: %s" % (recipient, r.short()))
            cache[recipient] = needs_named((r.json.get("text") or "") +
                                           (r.json.get("html") or ""))
            for k in cache[recipient]:
                if k not in self.data.needs:
                    raise RuntimeError("the plan names %s, not of the dataset: plan "
                                       "before indexing the fixtures" % k)
        return cache[recipient]

    def digest_partner(self):
        """(key, region) of a partner of X's county whose message names both
        a need of the county and one outside it, which a county liaison's
        preview must leave out."""
        if not hasattr(self, "_digest_partner"):
            for rec in self.data.partners_in_x:
                key = "%s:%s" % (rec["kind"], rec["id"])
                regions = [self.data.needs[k].get("region")
                           for k in self.digest_needs(key, must=False) or []]
                if (any(within(g, "371603") for g in regions) and
                        any(not within(g, "371603") for g in regions)):
                    self._digest_partner = key, rec["region"]
                    break
            else:
                raise RuntimeError("no digest of a partner in 371603 names needs "
                                   "there and elsewhere: the previews would "
                                   "check nothing")
        return self._digest_partner

    def p_unsub_get(self, c):
        # GET only looks, but an unknown token is still unknown (a browser
        # gets a page saying so, this client the JSON error)
        return [Probe("bogus token", "GET",
                      q("/v1/digests/unsubscribe", token=UNSUB), 404),
                Probe("no token", "GET", "/v1/digests/unsubscribe", 400)]

    def p_unsub_post(self, c):
        return [Probe("bogus token", "POST",
                      q("/v1/digests/unsubscribe", token=UNSUB), 404),
                Probe("no token", "POST", "/v1/digests/unsubscribe", 400)]

    # -- running --

    def expected(self, gate, c, probe):
        role, _ = self.caller[c]
        if gate is not None and role is None:
            return 401
        if gate is not None and role not in gate:
            return 403
        return probe.expect

    def run_probe(self, c, probe, want):
        tok = self.tok.get(c)
        r = self.http.request(tok, probe.method, probe.path, probe.body)
        allowed = isinstance(want, int) and 200 <= want < 300
        status = 404 if want == "hidden" else want
        if r.status != status:
            return "%s %s: got %s, want %s" % (probe.method, probe.path, r.short(), want)
        if status >= 400:
            e = r.err()
            code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status)
            if not e or (code and e.get("code") != code):
                return "%s %s: %d without a JSON error %r: %s" % (
                    probe.method, probe.path, status, code, r.short())
            if status == 401 and not r.headers.get("www-authenticate", "").startswith("Bearer"):
                return "401 without WWW-Authenticate: Bearer"
        if want == "hidden":
            um, up, ub, uid = probe.unknown
            u = self.http.request(tok, um, up, ub)
            e, ue = r.err() or {}, u.err() or {}
            msg = e.get("message", "").replace(probe.secret, uid)
            if u.status != 404 or (msg, e.get("field")) != (ue.get("message"),
                                                             ue.get("field")):
                return ("%s %s: the 404 tells it from an unknown one: [%s] vs "
                        "[%s]" % (probe.method, probe.path, r.short(), u.short()))
        if allowed and probe.check:
            bad = probe.check(r)
            if bad:
                return "%s %s: %s" % (probe.method, probe.path, bad)
        if probe.after:
            bad = probe.after(allowed)
            if bad:
                return "%s %s: %s" % (probe.method, probe.path, bad)
        return None


ANY = {"enterprise", "liaison", "admin"}
PARTNER = {"expert", "society"}
PEOPLE = ANY | PARTNER
WRITERS = {"enterprise", "admin"}
BROKERS = {"liaison", "admin"}


def say(ok, what, why=""):
    print(("ok   %s" % what) if ok else ("FAIL %s: %s" % (what, why)), flush=True)
    return ok


def run(src, url, tokens_file):
    tokens = {}
    for line in open(tokens_file):
        if line.strip():
            name, tok = line.split()
            tokens[name] = tok
    tokens["none"] = None
    failed = 0
    m = Matrix(src, url, tokens)

    # The table against the matrix and the API description.
    table = route_table(src)
    keys = [k for k, _ in table]
    ops = openapi_ops(src)
    failed += not say(len(table) > 10, "route table read from server.c: %d routes" %
                      len(table), "too few")
    for k, roles in table:
        if not say(k in m.MATRIX, "%s has expectations in the matrix" % k,
                   "a route the matrix does not check: add it to MATRIX in "
                   "authz_matrix.py"):
            failed += 1
        if k == WEB:
            continue  # the pages: any GET path outside /v1, not an API route
        op = ops.get(k)
        if not say(op is not None, "%s is in openapi.json" % k,
                   "undocumented: add it to api/openapi.json"):
            failed += 1
            continue
        resp = set(op.get("responses", {}))
        # A route that asks for a token documents the 401 of a missing one;
        # one that does not may answer 401 for its own reasons (a wrong
        # password, an expired link), never "give a token".
        asks = "401" in resp and op["responses"]["401"].get("$ref", "").endswith(
            "/Unauthorized")
        failed += not say(("401" in resp) == bool(roles) if roles else not asks,
                          "%s: openapi.json %s 401, as the table %s a token" % (
                              k, "lists" if roles else "does not ask for a token with its",
                              "asks for" if roles else "does not ask for"),
                          "responses %s, roles %s" % (sorted(resp), sorted(roles) or "none"))
        gate = m.MATRIX.get(k, (None,))[0]
        if gate is not None and gate != ANY:
            failed += not say("403" in resp, "%s: openapi.json lists 403" % k,
                              "responses %s" % sorted(resp))
    for k in m.MATRIX:
        failed += not say(k in keys, "matrix entry %s is a route of the table" % k,
                          "not in server.c's table: stale, or the table changed")
    for k, roles in table:
        gate = m.MATRIX.get(k, (None,))[0]
        failed += not say((gate or set()) == roles,
                          "%s: the table's roles %s are the matrix's" % (
                              k, sorted(roles) or "none"),
                          "matrix %s" % sorted(gate or set()))
    # Header forms: only "Bearer TOKEN" (any case) authenticates.
    adm = tokens["admin"]
    for label, h, want in [
            ("Basic scheme", "Basic " + adm, 401),
            ("token with junk after it", "Bearer %sx" % adm, 401),
            ("upper-case hex", "Bearer kx_" + adm[3:].upper(), 401),
            ("bare token", adm, 401),
            ("empty bearer", "Bearer ", 401),
            ("lower-case scheme", "bearer " + adm, 200)]:
        r = m.http.request(None, "GET", "/v1/whoami", headers={"Authorization": h})
        failed += not say(r.status == want, "Authorization: %s -> %d" % (label, want),
                          r.short())
    r = m.http.request(tokens["expired"], "GET", "/v1/whoami")
    failed += not say("expired" in ((r.err() or {}).get("message", "")),
                      "an expired token is told so", r.short())

    # Seeded pipeline pairs for the listings (admin, before any cell).
    for name in PIPELINE_TARGETS:
        r = m.as_admin("POST", "/v1/pipeline",
                       {"need": "need:" + m.data.targets[name]["id"],
                        "partner": m.seed_partner, "stage": "contacted"})
        failed += not say(r.status in (200, 201), "seed pipeline pair for " + name,
                          r.short())

    cells = [(k, c) for k in keys if k in m.MATRIX for c, _, _ in CALLERS]
    seed = os.environ.get("AUTHZ_SHUFFLE")
    if seed:
        random.Random(seed).shuffle(cells)
        print("# cells shuffled with AUTHZ_SHUFFLE=%s" % seed)
    nprobe = 0
    for k, c in cells:
        gate, probes = m.MATRIX[k]
        problems = []
        # A crash fails the probe (or the cell), not the run.
        try:
            plist = probes(c)
        except Exception as e:
            plist = []
            problems.append("making the probes: %s: %s" % (type(e).__name__, e))
        for p in plist:
            want = m.expected(gate, c, p)
            nprobe += 1
            try:
                bad = m.run_probe(c, p, want)
            except Exception as e:
                bad = "%s %s: %s: %s" % (p.method, p.path, type(e).__name__, e)
            if bad:
                problems.append("[%s] %s" % (p.label, bad))
        ok = not problems
        failed += not say(ok, "%-28s x %-7s" % (k, c), "; ".join(problems))
    print("# done: %d cells (%d routes x %d callers), %d probes, %d requests, "
          "%d failed checks" % (len(cells), len(cells) // len(CALLERS),
                                len(CALLERS), nprobe, m.http.count, failed))
    return 1 if failed else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "fixtures":
        write_fixtures(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "expire":
        expire_dump(argv[2], argv[3])
        return 0
    if len(argv) == 5 and argv[1] == "run":
        return run(argv[2], argv[3], argv[4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
