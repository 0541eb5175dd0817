#!/usr/bin/env bash
# test_http_framing.sh - request framing as an attacker sends it, on raw
# sockets: two ways to tell where a body ends (request smuggling), an
# encoding we cannot read, and what libmicrohttpd itself cannot parse.
# Ours answer 400 with the JSON error body before reading the body;
# libmicrohttpd's own refusals answer 4xx/5xx and close; the server keeps
# answering others throughout.
set -u
source "$(dirname "$0")/lib.sh" "$@"
DB="$WORK/db"
"$KX" index --quiet --db "$DB" "$DATA"/*.jsonl
serve_start --db "$DB" && pass "server up" || { finish; exit 1; }
port=${URL##*:}

verdict=$(python3 - "$port" <<'PY'
import json, socket, sys
port = int(sys.argv[1])
H = b"POST /v1/needs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
ours = {
    "Content-Length and chunked": H + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "Content-Length twice": H + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "Transfer-Encoding gzip": H + b"Transfer-Encoding: gzip\r\n\r\n{}",
    "Transfer-Encoding twice": H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}
theirs = {
    "negative Content-Length": H + b"Content-Length: -1\r\n\r\n{}",
    "bad chunk size": H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "Content-Length past 64 bits": H + b"Content-Length: 99999999999999999999\r\n\r\n{}",
}
def ask(raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(raw)
    data = b""
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except socket.timeout:
        pass
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, head, body
bad = []
for name, raw in ours.items():
    status, head, body = ask(raw)
    try:
        err = json.loads(body)["error"]
    except Exception:
        err = None
    if status != 400 or not err or err.get("code") != "bad_input" or not err.get("message"):
        bad.append(f"{name}: {status} {body[:80]!r}")
for name, raw in theirs.items():
    status, head, body = ask(raw)
    if not 400 <= status < 600:
        bad.append(f"{name}: {status}")
status, head, body = ask(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
if status != 200:
    bad.append(f"healthz afterwards: {status}")
print("ok" if not bad else "; ".join(bad))
PY
)
expect_eq "framing: ours refused with the JSON error body, theirs refused, server up" "$verdict" ok
serve_stop
expect_eq "server stops cleanly" "$?" 0
finish
