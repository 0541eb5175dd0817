#!/usr/bin/python3
"""slow_clients.py - slow and idle HTTP clients against `kxmatch serve`
(issue 19): the checks test_slow_clients.sh makes, and a measurement.

    slow_clients.py flood URL --mode trickle|idle --count N
                    [--from ADDR | --addr-base ADDR --per-addr K]
                    [--hold S] [--settle S] [--reconnect] [--probe-from ADDR]
    slow_clients.py deadline URL --mode headers|body [--from ADDR] [--wait S]
    slow_clients.py reuseport URL
    slow_clients.py measure KXMATCH [--counts 500,1010,...] [--hold S]
                    [--per-addr K] [-- SERVE_ARGS...]

flood opens N connections to URL's host and port, each bound to a loopback
source address (all from --from, or K per address counting up from
--addr-base, default 127.0.1.1 and 50), and holds them --settle seconds
(default 1), then --hold seconds more (default 2) while a probe from
--probe-from asks GET /healthz every half second and gives each answer one
second. "trickle" sends one byte of a request header that never ends per
connection per second, "idle" sends nothing. It prints one line of
key=value: opened, closed (connections the server closed or refused while
held), reconnects, probes, probe_ok (answered 200 within 1 s),
probe_max_ms (-1 if one got no answer in time). --reconnect reopens every
closed connection at once, as a determined client would.

deadline opens one connection that sends its request headers ("headers":
one byte every 0.25 s, never finishing) or its body ("body": complete
headers announcing 100,000 bytes, then one byte every 0.25 s) and prints
closed_after=SECONDS when the server closes it, closed_after=none if it
has not after --wait seconds.

reuseport tries to bind URL's address with SO_REUSEADDR and SO_REUSEPORT, as
a second server joining the port would; prints "bound" (exit 0) or
"refused: ERRNO" (exit 1).

measure runs flood with --reconnect (settle 2 s, hold 12 s: past the
default header deadline) for each mode and each N of --counts against a
fresh `KXMATCH serve` (an empty data directory, SERVE_ARGS added) and
prints per mode the largest N for which every /healthz probe was answered
within 1 s, as it was for every smaller N. Connections come K per source address (127.0.1.1 and
up, default 50, below the server's per-address limit) so that it is the
server's total limit that is measured; the probe comes from 127.0.0.2.
"""
import argparse
import errno
import ipaddress
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TRICKLE_HEAD = b"GET /healthz HTTP/1.1\r\nHost: kx\r\nX-Slow: "


def host_port(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


def raise_nofile():
    # Thousands of connections need as many descriptors as the hard limit
    # allows; the usual soft limit of 1,024 would end the flood early.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def healthz(host, port, src, timeout=1.0):
    """Milliseconds until a 200 answer to GET /healthz, or None."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: kx\r\n"
                  b"Connection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                return None
            s.settimeout(left)
            chunk = s.recv(4096)
            if not chunk:
                return None
            data += chunk
        if not data.startswith(b"HTTP/1.1 200"):
            return None
        ms = (time.monotonic() - t0) * 1000
        return ms if ms <= timeout * 1000 else None
    except OSError:
        return None
    finally:
        s.close()


class Prober(threading.Thread):
    """GET /healthz every interval seconds until stopped."""

    def __init__(self, host, port, src, interval=0.5):
        super().__init__(daemon=True)
        self.host, self.port, self.src = host, port, src
        self.interval = interval
        self.results = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            self.results.append(healthz(self.host, self.port, self.src))
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - t0)))


def addresses(args, count):
    if args.from_addr:
        return [args.from_addr] * count
    base = ipaddress.IPv4Address(args.addr_base)
    return [str(base + i // args.per_addr) for i in range(count)]


def flood(url, mode, srcs, hold, reconnect, probe_from, settle=1.0):
    """Holds len(srcs) connections for hold seconds; returns the figures."""
    host, port = host_port(url)
    sel = selectors.DefaultSelector()
    conns = {}          # socket -> [source address, bytes of header sent]
    stats = {"opened": 0, "closed": 0, "reconnects": 0}

    def open_one(src):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((src, 0))
            s.connect_ex((host, port))
        except OSError:
            s.close()
            return False
        sel.register(s, selectors.EVENT_READ)
        conns[s] = [src, 0]
        stats["opened"] += 1
        return True

    def drop(s):
        sel.unregister(s)
        src = conns.pop(s)[0]
        s.close()
        stats["closed"] += 1
        if reconnect and open_one(src):
            stats["reconnects"] += 1

    for src in srcs:
        open_one(src)
    prober = None
    t_start = time.monotonic()
    next_tick = t_start
    end = t_start + settle + hold
    while True:
        now = time.monotonic()
        if prober is None and probe_from and now >= t_start + settle:
            prober = Prober(host, port, probe_from)
            prober.start()
        if now >= end:
            break
        if mode == "trickle" and now >= next_tick:
            next_tick += 1.0
            for s, st in list(conns.items()):
                byte = TRICKLE_HEAD[st[1]:st[1] + 1] or b"a"
                try:
                    if s.send(byte) == 1:
                        st[1] += 1
                except (BlockingIOError, InterruptedError):
                    pass        # not connected yet, or the buffer is full
                except OSError:
                    drop(s)
        timeout = min(end, next_tick if mode == "trickle" else end) - now
        for key, _ in sel.select(max(0.0, min(timeout, 0.1))):
            s = key.fileobj
            try:
                if s.recv(4096):
                    continue    # an answer (an error page) is not a close
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                pass
            drop(s)
    if prober:
        prober.stop.set()
        prober.join()
    for s in list(conns):
        s.close()
    res = prober.results if prober else []
    ok = [r for r in res if r is not None]
    stats["probes"] = len(res)
    stats["probe_ok"] = len(ok)
    stats["probe_max_ms"] = (-1 if len(ok) < len(res) or not res
                             else round(max(ok)))
    return stats


def cmd_flood(args):
    raise_nofile()
    st = flood(args.url, args.mode, addresses(args, args.count), args.hold,
               args.reconnect, args.probe_from, args.settle)
    print(" ".join("%s=%s" % kv for kv in st.items()))
    return 0


def cmd_deadline(args):
    host, port = host_port(args.url)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((args.from_addr or "127.0.0.1", 0))
    s.connect((host, port))
    t0 = time.monotonic()
    if args.mode == "body":
        s.sendall(b"POST /v1/needs HTTP/1.1\r\nHost: kx\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n")
        pending = b"{" + b" " * 99999
    else:
        pending = TRICKLE_HEAD + b"a" * 100000
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    closed = None
    while closed is None and time.monotonic() - t0 < args.wait:
        try:
            s.send(pending[:1])
            pending = pending[1:]
        except OSError:
            closed = time.monotonic() - t0
            break
        for _ in sel.select(0.25):
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed = time.monotonic() - t0
    s.close()
    print("closed_after=%s" % ("none" if closed is None
                               else "%.2f" % closed))
    return 0


def cmd_reuseport(args):
    host, port = host_port(args.url)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        s.bind((host, port))
        s.listen(1)
    except OSError as e:
        print("refused: %s" % errno.errorcode.get(e.errno, e.errno))
        return 1
    finally:
        s.close()
    print("bound")
    return 0


def serve(kx, db, extra):
    p = subprocess.Popen([kx, "serve", "--db", db, "--listen",
                          "127.0.0.1:0"] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on "):
        p.kill()
        raise SystemExit("kxmatch serve did not start")
    return p, line.split()[-1]


def cmd_measure(args):
    raise_nofile()
    counts = [int(n) for n in args.counts.split(",")]
    best = {}
    print("mode     N      closed  reconnects  probes  ok  max_ms  verdict")
    for mode in ("trickle", "idle"):
        best[mode], held = 0, True
        for n in counts:
            with tempfile.TemporaryDirectory(prefix="kx_slow_") as db:
                p, url = serve(args.kxmatch, db, args.serve_args)
                try:
                    srcs = [str(ipaddress.IPv4Address("127.0.1.1")
                                + i // args.per_addr) for i in range(n)]
                    st = flood(url, mode, srcs, args.hold, True,
                               "127.0.0.2", settle=args.settle)
                finally:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
            ok = st["probes"] > 0 and st["probe_ok"] == st["probes"]
            # The largest N with every smaller N served as well.
            if ok and held:
                best[mode] = n
            held = held and ok
            print("%-7s %5d %7d %11d %7d %3d %7d  %s" % (
                mode, n, st["closed"], st["reconnects"], st["probes"],
                st["probe_ok"], st["probe_max_ms"],
                "served" if ok else "NOT SERVED"), flush=True)
    for mode in ("trickle", "idle"):
        print("largest N of %s connections with every /healthz answered "
              "within 1 s: %s" % (mode, best[mode] or "none of those tried"))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("url")
    f.add_argument("--mode", choices=("trickle", "idle"), required=True)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--from", dest="from_addr")
    f.add_argument("--addr-base", default="127.0.1.1")
    f.add_argument("--per-addr", type=int, default=50)
    f.add_argument("--hold", type=float, default=2.0)
    f.add_argument("--reconnect", action="store_true")
    f.add_argument("--settle", type=float, default=1.0)
    f.add_argument("--probe-from")
    d = sub.add_parser("deadline")
    d.add_argument("url")
    d.add_argument("--mode", choices=("headers", "body"), required=True)
    d.add_argument("--from", dest="from_addr")
    d.add_argument("--wait", type=float, default=6.0)
    r = sub.add_parser("reuseport")
    r.add_argument("url")
    m = sub.add_parser("measure")
    m.add_argument("kxmatch")
    m.add_argument("--counts", default="500,1010,2000,4000,8000")
    m.add_argument("--hold", type=float, default=12.0)
    m.add_argument("--settle", type=float, default=2.0)
    m.add_argument("--per-addr", type=int, default=50)
    m.add_argument("serve_args", nargs="*")
    args = ap.parse_args()
    return {"flood": cmd_flood, "deadline": cmd_deadline,
            "reuseport": cmd_reuseport, "measure": cmd_measure}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
