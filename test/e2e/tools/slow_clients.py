#!/usr/bin/env python3
"""slow_clients.py - slow hostile clients against `geobatch serve`, and the service others get
meanwhile (issue 13, item 3). Python 3 standard library only; server on 127.0.0.1.

  attack PORT SRC N STOPFILE READYFILE
      Keep N connections from address SRC trickling a request's headers, one byte a second
      per connection (POST headers that never end). A connection the server closes (refused
      or cut) is opened again a second later. Write READYFILE once N connections were tried;
      stop when STOPFILE exists (or after 600 s). Print "tried T closed C".
  serve PORT N THREADS PATH
      N requests "GET PATH" (each on a new connection, from the default address) over THREADS
      threads; print "ok K of N p99_ms P max_ms M" (K: answered 200 within 5 s).
  held PID SRC
      Print how many TCP connections from address SRC process PID holds (its descriptors).
  body PORT RATE SECS AUTH
      Upload a job body at RATE bytes a second for up to SECS seconds; print "cut after S s"
      (S rounded down) when the server closed the connection first, else "STATUS after S s".
"""
import http.client
import os
import selectors
import socket
import sys
import threading
import time

HOST = "127.0.0.1"
HEAD = b"POST /6.2/jobs?app_id=appA&app_code=codeA HTTP/1.1\r\nHost: x\r\nX-Slow: "


def attack(port, src, n, stopfile, readyfile):
    sel = selectors.DefaultSelector()
    tried = closed = 0
    pending = []  # (when, slot) to reopen
    conns = {}  # slot -> (socket, bytes sent)

    def open_slot(k):
        nonlocal tried
        s = socket.socket()
        s.setblocking(False)
        try:
            s.bind((src, 0))
            s.connect_ex((HOST, port))
        except OSError:
            s.close()
            pending.append((time.monotonic() + 1, k))
            return
        tried += 1
        conns[k] = [s, 0]
        sel.register(s, selectors.EVENT_READ, k)

    for k in range(n):
        open_slot(k)
    open(readyfile, "w").close()
    end = time.monotonic() + 600
    next_tick = time.monotonic()
    parent = os.getppid()
    # stop when told, and also when the test is gone (its directory removed, or the attacker
    # handed to another parent): never outlive the test
    while (time.monotonic() < end and not os.path.exists(stopfile)
           and os.path.isdir(os.path.dirname(stopfile) or ".") and os.getppid() == parent):
        for key, _ in sel.select(timeout=0.1):
            k = key.data
            s = conns.pop(k)[0]
            sel.unregister(s)
            s.close()
            closed += 1
            pending.append((time.monotonic() + 1, k))
        now = time.monotonic()
        due = [p for p in pending if p[0] <= now]
        pending[:] = [p for p in pending if p[0] > now]
        for _, k in due:
            open_slot(k)
        if now >= next_tick:  # one byte a second on every open connection
            next_tick = now + 1
            for k, c in list(conns.items()):
                b = HEAD[c[1]:c[1] + 1] or b"a"
                try:
                    c[0].send(b)
                    c[1] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pass  # closed: seen as readable at the next select
    for c in conns.values():
        c[0].close()
    print(f"tried {tried} closed {closed}")


def serve(port, n, threads, path):
    lat = []
    ok = [0]
    mu = threading.Lock()

    def one():
        t0 = time.monotonic()
        code = 0
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=5)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            code = r.status
            c.close()
        except OSError:
            pass
        dt = time.monotonic() - t0
        with mu:
            lat.append(dt)
            if code == 200 and dt < 5:
                ok[0] += 1

    def run(k):
        for _ in range(k):
            one()

    ts = [threading.Thread(target=run, args=(n // threads,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"ok {ok[0]} of {len(lat)} p99_ms {int(p99 * 1000)} max_ms {int(lat[-1] * 1000)}")


def body(port, rate, secs, auth):
    size = rate * secs * 2
    rows, n = [b"recId|searchText\n"], 0
    while n < size:
        rows.append(b"%d|Dorfstrasse %d Triesen\n" % (len(rows), len(rows) % 40 + 1))
        n += len(rows[-1])
    data = b"".join(rows)
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(b"POST /6.2/jobs?%s&indelim=%%7C&outcols=matchLevel HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (auth.encode(), len(data)))
    t0 = time.monotonic()
    sent = 0
    step = max(1, rate // 10)  # ten pieces a second
    s.setblocking(False)
    while time.monotonic() - t0 < secs and sent < len(data):
        try:
            if s.recv(4096) == b"":
                print(f"cut after {int(time.monotonic() - t0)} s")
                return
        except BlockingIOError:
            pass
        except OSError:
            print(f"cut after {int(time.monotonic() - t0)} s")
            return
        try:
            sent += s.send(data[sent:sent + step])
        except BlockingIOError:
            pass
        except OSError:
            print(f"cut after {int(time.monotonic() - t0)} s")
            return
        time.sleep(0.1)
    el = int(time.monotonic() - t0)
    if sent < len(data):  # an honest client finishes its body at full speed
        s.setblocking(True)
        try:
            s.sendall(data[sent:])
        except OSError:
            print(f"cut after {el} s")
            return
    s.settimeout(10)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    status = got.split(b"\r\n")[0].split(b" ")[1].decode() if got else "CLOSED"
    print(f"{status} after {el} s")


def held(pid, src, samples=1):
    """Print how many TCP connections from src the server pid holds: those in every one of
    samples looks 50 ms apart. Over its per-address limit the server accepts a connection and
    closes it at once; one look may catch some of those, they are never in two."""
    have = held_once(pid, src)
    for _ in range(samples - 1):
        time.sleep(0.05)
        have &= held_once(pid, src)
    print(len(have))


def held_once(pid, src):
    """The inodes of the server's sockets connected from src."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    want = "%08X" % int.from_bytes(socket.inet_aton(src), "little")
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            col = line.split()
            if col[2].split(":")[0] == want and col[9] in inodes:
                found.add(col[9])
    return found


def main():
    m = sys.argv[1]
    if m == "attack":
        attack(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif m == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif m == "held":
        held(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    elif m == "body":
        body(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
