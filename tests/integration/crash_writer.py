#!/usr/bin/python3
"""crash_writer.py - the writers and the checker of test_crash.sh.

    crash_writer.py write URL TOKEN ROUND LOG   writes until the server dies
    crash_writer.py check URL TOKEN LOG...      checks what survived

write: three threads, each creating needs one after another (POST), then
renaming each (PUT), moving it into the pipeline (POST /v1/pipeline) and
deleting every third one (DELETE). Before each request a "sent" line, after
a 2xx answer an "ack" line goes to LOG (flushed), so the checker knows
which writes were acknowledged and which one of each thread was in flight
when the server was killed. A thread stops at its first connection error.

check: for every need, the state after its last acknowledged write must be
what the server holds, or (if the next write was in flight) the state after
that one; nothing else, and no half of a write. Prints "ok: ..." or the
problems.
"""
import json
import sys
import threading
import urllib.error
import urllib.request

PARTNER = "expert:E0001"


def call(url, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None


def write(url, token, rnd, log):
    lock = threading.Lock()
    out = open(log, "a")

    def note(*words):
        with lock:
            out.write(" ".join(words) + "\n")
            out.flush()

    def thread(t):
        n = 0
        while True:
            n += 1
            nid = "CR%s%d%04d" % (rnd, t, n)
            steps = [("POST", "/v1/needs", {
                         "id": nid, "name": "崩溃测试 kxcrashprobe v1",
                         "enterprise": "enterprise:C001", "region": "371603",
                         "text": "崩溃测试 kxcrashprobe"}, "v1"),
                     ("PUT", "/v1/needs/" + nid, {
                         "name": "崩溃测试 kxcrashprobe v2",
                         "enterprise": "enterprise:C001", "region": "371603",
                         "text": "崩溃测试 kxcrashprobe"}, "v2"),
                     ("POST", "/v1/pipeline", {
                         "need": "need:" + nid, "partner": PARTNER,
                         "stage": "shortlisted"}, "pipe")]
            if n % 3 == 0:
                steps.append(("DELETE", "/v1/needs/" + nid, None, "gone"))
            for method, path, body, state in steps:
                note("sent", nid, state)
                try:
                    code, _ = call(url, token, method, path, body)
                except Exception:
                    return  # the server is gone
                if 200 <= code < 300:
                    note("ack", nid, state)
                else:
                    note("refused", nid, state, str(code))
                    return

    ts = [threading.Thread(target=thread, args=(t,)) for t in range(3)]
    for x in ts:
        x.start()
    for x in ts:
        x.join()


def held(url, token, nid):
    """The server's state of need nid: "gone" (or never there), "v1", "v2",
    each with "+pipe" when the pipeline holds its pair."""
    code, o = call(url, token, "GET", "/v1/needs/" + nid)
    if code == 404:
        return "gone"
    if code != 200:
        return "error %d" % code
    name = o["record"]["name"]
    state = "v2" if name.endswith("v2") else "v1" if name.endswith("v1") else "?" + name
    code, p = call(url, token, "GET", "/v1/pipeline?need=need:" + nid)
    if code == 200 and any(e["partner"] == PARTNER for e in p["entries"]):
        state += "+pipe"
    return state


def after(states):
    """The state a sequence of writes leaves."""
    s = "gone"
    for w in states:
        s = {"v1": "v1", "v2": "v2" + ("+pipe" if s.endswith("+pipe") else ""),
             "pipe": s.split("+")[0] + "+pipe", "gone": "gone"}[w]
    return s


def check(url, token, logs):
    ops = {}
    for log in logs:
        for line in open(log):
            w = line.split()
            ops.setdefault(w[1], []).append((w[0], w[2]))
    bad, acked, inflight, live = [], 0, 0, 0
    for nid, seq in sorted(ops.items()):
        done = [s for kind, s in seq if kind == "ack"]
        sent = [s for kind, s in seq if kind == "sent"]
        acked += len(done)
        allowed = {after(done)}
        if len(sent) > len(done):  # the last one was in flight
            inflight += 1
            allowed.add(after(done + [sent[len(done)]]))
        got = held(url, token, nid)
        live += got != "gone"
        if got not in allowed:
            bad.append("%s: holds %s, acknowledged %s, allowed %s" %
                       (nid, got, done, sorted(allowed)))
    if bad:
        print("; ".join(bad[:8]))
    else:
        print("ok: %d needs, %d acknowledged writes all there, %d in flight "
              "at a kill each whole or absent, %d live" %
              (len(ops), acked, inflight, live))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(*sys.argv[2:6])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4:])
