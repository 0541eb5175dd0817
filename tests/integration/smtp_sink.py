#!/usr/bin/python3
"""smtp_sink.py - a real SMTP server for the digest tests (Debian's
python3-aiosmtpd) that keeps every message it accepts.

    smtp_sink.py --dir DIR [--auth USER:PASS] [--reject SUBSTR]
                 [--tempfail N] [--tls CERT:KEY]
                 [--kill-at N,N... --kill-pidfile FILE] [--slow N:MS]

Listens on 127.0.0.1 on a free port and writes the port to DIR/port once
it accepts connections. Each accepted message is written to DIR/NNNN.eml
(the bytes as received) and described by one JSON line in DIR/log.jsonl:
{"file", "mail_from", "rcpt_tos", "session", "auth_user", "tls"}. Options:
--auth requires AUTH with these credentials, --reject answers 550 to
recipients containing SUBSTR, --tempfail answers 451 to the first N DATA
commands, --tls offers STARTTLS with this certificate and requires it.
--kill-at makes the Nth accepted message (counting every one) the worst
moment for a sender to crash: the message is kept, then the process whose
pid is in --kill-pidfile gets SIGKILL before it can read the 250 reply.
--slow N:MS answers the first N messages MS milliseconds late (a slow
server, so that a test can meet a sender in the middle of its run).
Stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, directory, reject, tempfail, kill_at=(), pidfile=None,
                 slow=(0, 0)):
        self.dir = directory
        self.slow_n, self.slow_ms = slow
        self.kill_at = set(kill_at)
        self.pidfile = pidfile
        self.reject = reject
        self.tempfail = tempfail
        self.count = 0
        self.sessions = {}
        self.lock = threading.Lock()

    def session_id(self, session):
        with self.lock:
            return self.sessions.setdefault(id(session), len(self.sessions) + 1)

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.reject and self.reject in address:
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.tempfail > 0:
                self.tempfail -= 1
                return "451 4.3.0 Temporary failure, try again later"
            self.count += 1
            n = self.count
        if n <= self.slow_n:
            await asyncio.sleep(self.slow_ms / 1000)
        name = "%04d.eml" % n
        path = os.path.join(self.dir, name)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        user = getattr(session, "login_data", None)
        if isinstance(user, bytes):
            user = user.decode()
        line = {"file": name, "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "session": self.session_id(session), "auth_user": user,
                "tls": session.ssl is not None}
        with self.lock, open(os.path.join(self.dir, "log.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")
            f.flush()
        if n in self.kill_at:
            with open(self.pidfile) as f:
                os.kill(int(f.read()), signal.SIGKILL)
        return "250 2.0.0 Message accepted for delivery"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--auth")
    ap.add_argument("--reject")
    ap.add_argument("--tempfail", type=int, default=0)
    ap.add_argument("--tls")
    ap.add_argument("--kill-at", default="")
    ap.add_argument("--kill-pidfile")
    ap.add_argument("--slow", default="0:0")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    kwargs = {}
    if a.auth:
        user, password = a.auth.split(":", 1)

        def check(server, session, envelope, mechanism, auth_data):
            ok = (auth_data.login == user.encode()
                  and auth_data.password == password.encode())
            # handled=False: aiosmtpd itself answers 535 on failure
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs = {"authenticator": check, "auth_required": True,
                  "auth_require_tls": False}
    if a.tls:
        cert, key = a.tls.split(":", 1)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs.update({"tls_context": ctx, "require_starttls": True})
    kill_at = [int(n) for n in a.kill_at.split(",") if n]
    slow = tuple(int(x) for x in a.slow.split(":", 1))
    handler = Sink(a.dir, a.reject, a.tempfail, kill_at, a.kill_pidfile, slow)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            **kwargs)
    controller.start()
    with open(os.path.join(a.dir, "port.tmp"), "w") as f:
        f.write("%d\n" % controller.port)
    os.rename(os.path.join(a.dir, "port.tmp"), os.path.join(a.dir, "port"))
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
