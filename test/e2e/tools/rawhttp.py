#!/usr/bin/env python3
"""rawhttp.py - hostile HTTP clients for the e2e scripts (Python 3 standard library only).

curl refuses to send malformed HTTP, so these speak raw sockets to a server on 127.0.0.1.
Every mode is bounded in time and prints one line that the calling script compares exactly.

  send PORT                 send stdin as-is, half-close, print "STATUS <first body line>"
                            ("CLOSED" when the server closed without an answer)
  whole PORT                send stdin as-is and half-close, then read: print "SENT <STATUS
                            <first body line>>", or "CUT <...>" when the server closed before
                            it had all of it (a reset that can destroy its answer)
  abort PORT N              send stdin's first N bytes, then close the socket (no answer read)
  slow PORT hdr|body SECS   send one byte a second (headers, or a body after complete headers)
                            and print "closed after S s" (rounded down) or "open after SECS s"
  idle PORT N SECS          hold N idle connections, print how many the server closed within
                            SECS seconds: "closed K of N"
  flood PORT N QUERY        open N connections at once, send "GET QUERY" on each, print
                            "answered A refused R other O codes C" (C: sorted distinct codes)
"""
import os
import socket
import sys
import time

HOST = "127.0.0.1"
SRC = None  # source address for "idle" (env RAWHTTP_SRC, e.g. 127.0.0.2), else the default


def connect(port):
    s = socket.socket()
    s.settimeout(8)
    if SRC:
        s.bind((SRC, 0))
    s.connect((HOST, port))
    return s


def read_answer(s, limit=8.0):
    """Read until the server closes (or limit seconds); return the bytes."""
    s.settimeout(limit)
    data = b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            got = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not got:
            break
        data += got
        # One answer is enough: stop once the declared body is in.
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length" and len(body) >= int(v):
                    return data
    return data


def summary(data):
    if not data:
        return "CLOSED"
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")
    code = status[1].decode() if len(status) > 1 else "?"
    first = body.split(b"\n")[0].decode("utf-8", "replace")
    return f"{code} {first}".rstrip()


def mode_send(port):
    req = sys.stdin.buffer.read()
    s = socket.create_connection((HOST, port), timeout=8)
    try:
        s.sendall(req)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the server may answer and close before reading everything
    print(summary(read_answer(s)))
    s.close()


def mode_whole(port):
    req = sys.stdin.buffer.read()
    s = socket.create_connection((HOST, port), timeout=8)
    sent = "SENT"
    try:
        s.sendall(req)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        sent = "CUT"
    print(sent, summary(read_answer(s)))
    s.close()


def mode_abort(port, n):
    req = sys.stdin.buffer.read()[:n]
    s = socket.create_connection((HOST, port), timeout=8)
    s.sendall(req)
    time.sleep(0.2)
    # RST rather than FIN: the peer sees the connection die, as when a client crashes.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()
    print("aborted")


def mode_slow(port, what, secs):
    s = socket.create_connection((HOST, port), timeout=8)
    if what == "hdr":
        data = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    else:
        s.sendall(b"POST /6.2/jobs?app_id=appA&app_code=codeA&indelim=%7C&outcols=matchLevel"
                  b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n")
        data = b"recId|searchText\n1|" + b"a" * 9000
    t0 = time.monotonic()
    s.settimeout(1.0)
    for b in data:
        if time.monotonic() - t0 > secs:
            print(f"open after {secs} s")
            return
        try:
            s.send(bytes([b]))
            s.recv(4096)  # returns only when the server closed (b"") or answered
            break
        except socket.timeout:
            continue
        except OSError:
            break
    # A load on the machine can only make the server later, never earlier: the lower bound is
    # the check, secs only keeps a broken server from hanging the test.
    took = time.monotonic() - t0
    print("closed after 1 s or more" if took >= 1.0 else f"closed early, after {took:.2f} s")


def mode_idle(port, n, secs):
    """Open n connections, send nothing, and count those the server closes within secs (a
    bound against a hang, not a speed check); with RAWHTTP_MIN_SECS also count those closed
    sooner than that after their own connect ("early")."""
    min_secs = float(os.environ.get("RAWHTTP_MIN_SECS", "0"))
    socks, opened = [], []
    for _ in range(n):
        socks.append(connect(port))
        opened.append(time.monotonic())
    ready = os.environ.get("RAWHTTP_READY")  # a file made once every connection is open
    if ready:
        open(ready, "w").close()
    for s in socks:
        s.setblocking(False)
    closed = set()
    early = 0
    end = time.monotonic() + secs
    while time.monotonic() < end and len(closed) < n:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if s.recv(1) != b"":
                    continue
            except BlockingIOError:
                continue
            except OSError:
                pass
            closed.add(i)
            early += time.monotonic() - opened[i] < min_secs
        time.sleep(0.1)
    print(f"closed {len(closed)} of {n}" + (f", {early} early" if min_secs else ""))
    for s in socks:
        s.close()


def mode_flood(port, n, query):
    import selectors

    sel = selectors.DefaultSelector()
    socks = []
    refused = 0
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((HOST, port))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            s.close()
            continue
        socks.append(s)
    req = f"GET {query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    bufs = {}
    for s in socks:
        bufs[s] = b""
        sel.register(s, selectors.EVENT_WRITE)
    sent = set()
    codes = set()
    answered = other = 0
    end = time.monotonic() + 60  # a bound against a hang, not a speed check
    while bufs and time.monotonic() < end:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                if s not in sent:
                    s.send(req)
                    sent.add(s)
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                got = s.recv(65536)
            except OSError:
                got = b""
            if got:
                bufs[s] += got
                continue
            data = bufs.pop(s)
            sel.unregister(s)
            s.close()
            if data.startswith(b"HTTP/1.1 "):
                answered += 1
                codes.add(data[9:12].decode())
            elif not data:
                refused += 1  # accepted over the limit and closed at once
            else:
                other += 1
    other += len(bufs)  # still open after 60 s: a hang
    for s in bufs:
        s.close()
    print(f"answered {answered} refused {refused} other {other} codes {','.join(sorted(codes))}")


def main():
    global SRC
    import os

    SRC = os.environ.get("RAWHTTP_SRC")
    a = sys.argv[1:]
    if a[0] == "send":
        mode_send(int(a[1]))
    elif a[0] == "whole":
        mode_whole(int(a[1]))
    elif a[0] == "abort":
        mode_abort(int(a[1]), int(a[2]))
    elif a[0] == "slow":
        mode_slow(int(a[1]), a[2], float(a[3]))
    elif a[0] == "idle":
        mode_idle(int(a[1]), int(a[2]), float(a[3]))
    elif a[0] == "flood":
        mode_flood(int(a[1]), int(a[2]), a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
