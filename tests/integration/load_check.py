#!/usr/bin/python3
"""load_check.py - the checker of test_load.sh.

    load_check.py URL TOKEN EXPORT LOG

LOG is what load.lua wrote: per need, its acknowledged writes in the order
the server applied them ("ack ID create|update BODY", "ack ID move PARTNER
STAGE", "ack ID delete"), and at most one write still in flight when wrk
stopped ("sent ..."). EXPORT is `kxmatch export --kind need` of the data
directory; URL a server on it (restarted after the load), asked for the
pipeline as TOKEN (an admin's).

For every need the stored state must be the one its acknowledged writes
leave, or, when one was in flight, the one that write leaves: a live need
holds every field of its last acknowledged body and nothing else, a deleted
one is gone, and each pipeline pair of a live need has the stage of its
last acknowledged move, with no pair that no move made; and no need of the
script's is stored that the log does not name. Prints "ok: ..." or the
problems, and exits 1 on a problem.
"""
import json
import sys
import urllib.parse
import urllib.request

SERVER_FIELDS = {"kind", "id", "lang", "updated"}


def pipeline(url, token):
    """Every pair of the pipeline: need key -> {partner: stage}."""
    pairs, page = {}, 1
    while True:
        q = urllib.parse.urlencode({"per_page": 1000, "page": page})
        req = urllib.request.Request(url + "/v1/pipeline?" + q,
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=60) as r:
            o = json.load(r)
        for e in o["entries"]:
            pairs.setdefault(e["need"], {})[e["partner"]] = e["stage"]
        if page * 1000 >= o["total"]:
            return pairs
        page += 1


def after(ops):
    """The state a sequence of writes leaves: None (no need), (body,
    {partner: stage}), or a string saying why no state can follow."""
    s = None
    for op in ops:
        if isinstance(s, str):
            break
        if op[0] == "create":
            s = (json.loads(op[1]), {}) if s is None else "a second create"
        elif s is None:
            s = "a %s of no need" % op[0]
        elif op[0] == "update":
            s = (json.loads(op[1]), s[1])
        elif op[0] == "move":
            s[1][op[1]] = op[2]
        else:
            s = None
    return s


def differs(want, rec, pairs):
    """What is wrong with (rec, pairs) for state want, or None."""
    if isinstance(want, str):
        return "the log acknowledges " + want
    if want is None:
        if rec is not None:
            return "deleted, still there"
        if pairs:
            return "deleted, pipeline still lists %s" % pairs
        return None
    body, stages = want
    if rec is None:
        return "missing"
    for k, v in body.items():
        if rec.get(k) != v:
            return "%s is %r, want %r" % (k, rec.get(k), v)
    extra = set(rec) - set(body) - SERVER_FIELDS
    if extra:
        return "fields nobody wrote: %s" % sorted(extra)
    if pairs != stages:
        return "pipeline %s, want %s" % (pairs, stages)
    return None


def main():
    url, token, export, log = sys.argv[1:5]
    acked, inflight = {}, {}
    for line in open(log, encoding="utf-8"):
        w = line.rstrip("\n").split("\t")
        if w[0] == "ack":
            acked.setdefault(w[1], []).append(w[2:])
        else:
            if w[1] in inflight:
                print("log: two writes of %s in flight" % w[1])
                return 1
            inflight[w[1]] = w[2:]
    records = {}
    for line in open(export, encoding="utf-8"):
        o = json.loads(line)
        records[o["id"]] = o
    pairs = pipeline(url, token)
    bad, writes, live, flying, took = [], 0, 0, 0, 0
    for nid in sorted(set(acked) | set(inflight)):
        done = acked.get(nid, [])
        writes += len(done)
        rec = records.get(nid)
        got = pairs.get("need:" + nid, {})
        problem = differs(after(done), rec, got)
        if problem and nid in inflight:
            flying += 1
            if not differs(after(done + [inflight[nid]]), rec, got):
                problem, took = None, took + 1
        elif nid in inflight:
            flying += 1
        if problem:
            bad.append("%s: %s (acknowledged: %s)" %
                       (nid, problem, [op[0] for op in done]))
        live += rec is not None
    # Nothing but what the script wrote: our needs are all in the log.
    strays = [k for k in records if k.startswith("LD") and
              k not in acked and k not in inflight]
    if strays:
        bad.append("needs nobody acknowledged: %s" % strays[:5])
    if bad:
        print("%d problems: %s" % (len(bad), "; ".join(bad[:8])))
        return 1
    print("ok: %d needs, %d acknowledged writes all there, %d live; "
          "%d writes in flight at the end (%d of them applied)" %
          (len(set(acked) | set(inflight)), writes, live, flying, took))
    return 0


if __name__ == "__main__":
    sys.exit(main())
