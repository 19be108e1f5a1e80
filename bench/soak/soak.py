#!/usr/bin/env python3
"""soak.py - a mixed load against a real `geobatch serve` for a given number of minutes.

Why: the e2e tests each check one thing for seconds; this runs everything at once for minutes
(uploads of 10 to 200,000 rows, status polling, downloads, cancels, deletes, server restarts with
SIGTERM and kill -9 in between) and then checks every completed job's result against
`geobatch geocode` on the same input and parameters, byte for byte. It prints jobs and rows,
errors (exit 1 unless 0), the server's peak RSS, and its open file descriptors and the disk use
of the data directory at start and at end (finished jobs are deleted through the API, so the
files must not grow; the store keeps one small row per job).

Bounded: loopback only; every loop has a count or a deadline. Python 3 standard library only.
Usage: soak.py --bin GEOBATCH --shared SHARED_DIR --minutes M --work DIR
"""
import argparse
import glob
import io
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zipfile

APPS = [("soakA", "codeA"), ("soakB", "codeB")]
SIZES = [10, 37, 500, 2000, 9000, 30000, 80000, 200000]
SIZE_WEIGHTS = [6, 6, 6, 5, 4, 3, 2, 1]
PARAMS = [  # (API query parameters, the same for `geobatch geocode`)
    {"indelim": "|", "outdelim": "|", "outcols": "displayLatitude,displayLongitude,matchLevel,relevance",
     "outputcombined": "true"},
    {"indelim": "|", "outdelim": ",", "outcols": "displayLatitude,displayLongitude,locationLabel,matchLevel",
     "outputcombined": "false"},
    {"indelim": "|", "outdelim": "|", "outcols": "displayLatitude,displayLongitude,street,houseNumber,city,postalCode",
     "outputcombined": "true", "maxresults": "3"},
]
CLIENTS = 4
HTTP_TIMEOUT = 120


class Stats:
    def __init__(self):
        self.mu = threading.Lock()
        self.c = {}
        self.errors = []

    def add(self, k, n=1):
        with self.mu:
            self.c[k] = self.c.get(k, 0) + n

    def error(self, msg):
        with self.mu:
            self.errors.append(msg)
        print("ERROR: " + msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    """The server process; restarts keep the port and the data directory."""

    def __init__(self, args, index, data, port, stats):
        self.args, self.index, self.data, self.port, self.stats = args, index, data, port, stats
        self.proc = None
        self.peak_kb = 0
        self.mu = threading.Lock()
        self.up = threading.Event()
        self.log = open(os.path.join(args.work, "serve.log"), "ab")

    def start(self):
        cmd = [self.args.bin, "serve", "--index", self.index, "--data", self.data,
               "--listen", "127.0.0.1:%d" % self.port, "--workers", "2", "--chunk-rows", "5000",
               "--rate", "0", "--retention-days", "1", "--log-level", "warn"]
        self.proc = subprocess.Popen(cmd, stderr=self.log)
        for _ in range(200):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/health" % self.port, timeout=2).read()
                self.up.set()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise SystemExit("server did not start")

    def sample(self):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
        except OSError:
            pass

    def nfds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def stop(self, how):
        self.up.clear()
        self.sample()
        t0 = time.monotonic()
        if how == "kill":
            self.proc.kill()
            self.proc.wait()
        else:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout=30)
                if rc != 0:
                    self.stats.error("serve exited with %d after SIGTERM" % rc)
            except subprocess.TimeoutExpired:
                self.stats.error("serve did not stop within 30 s of SIGTERM")
                self.proc.kill()
                self.proc.wait()
        self.stats.add("restarts_" + how)
        return time.monotonic() - t0


class Client:
    def __init__(self, server, stats):
        self.server, self.stats = server, stats
        self.base = "http://127.0.0.1:%d/6.2" % server.port

    def req(self, method, path, app, query=None, body=None, deadline=60.0):
        """One request, retried while the server is down (connection errors only).
        Return (status, bytes); (None, b"") when it could not be sent before the deadline.
        A POST that dies with the connection is not retried: it returns (0, b"")."""
        q = {"app_id": app[0], "app_code": app[1]}
        q.update(query or {})
        url = self.base + path + "?" + "&".join(
            "%s=%s" % (k, urllib.request.quote(str(v), safe=",")) for k, v in q.items())
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            self.server.up.wait(timeout=max(0.1, end - time.monotonic()))
            r = urllib.request.Request(url, data=body, method=method)
            try:
                with urllib.request.urlopen(r, timeout=HTTP_TIMEOUT) as resp:
                    data = resp.read()
                    self.stats.add("requests")
                    return resp.status, data
            except urllib.error.HTTPError as e:
                self.stats.add("requests")
                return e.code, e.read()
            except (urllib.error.URLError, OSError, ConnectionError):
                self.stats.add("connection_errors")
                if method == "POST":
                    return 0, b""
                time.sleep(0.2)
        return None, b""


def field(doc, name):
    m = re.search(rb"<%s>([^<]*)</%s>" % (name.encode(), name.encode()), doc)
    return m.group(1).decode() if m else None


def load_groups(shared):
    """Query rows from the dev kit, grouped by header line."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(shared, "eval", "dev", "*", "*.txt"))):
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        head = lines[0]
        groups.setdefault(head, []).extend(l for l in lines[1:] if l)
    return [(h, rows) for h, rows in groups.items()]


class Job:
    pass


def run_job(cli, stats, rng, groups, work, seq, verify_q):
    head, rows = rng.choice(groups)
    n = rng.choices(SIZES, SIZE_WEIGHTS)[0]
    start = rng.randrange(len(rows))
    body = [head] + [rows[(start + i) % len(rows)] for i in range(n)]
    if rng.random() < 0.3:
        body.insert(rng.randrange(1, len(body)), b"bad|line|" + b"x|" * 8)  # an invalid line
    data = b"\n".join(body) + b"\n"
    params = dict(rng.choice(PARAMS))
    app = rng.choice(APPS)
    fate = rng.random()  # < 0.1 cancel, < 0.15 delete while running, else complete
    submit_only = rng.random() < 0.2
    q = dict(params)
    if not submit_only:
        q["action"] = "run"
    st, doc = cli.req("POST", "/jobs", app, q, data)
    if st == 0:
        stats.add("uploads_interrupted")  # the server went away during the upload
        return
    if st != 200:
        stats.error("upload of %d rows: HTTP %s %r" % (n, st, doc[:200]))
        return
    jid = field(doc, "RequestId")
    stats.add("jobs_submitted")
    if submit_only:
        st, doc = cli.req("PUT", "/jobs/%s" % jid, app, {"action": "run"})
        if st != 200:
            stats.error("PUT run %s: HTTP %s %r" % (jid, st, doc[:200]))
            return
    t_end = time.monotonic() + 600
    acted = False
    while time.monotonic() < t_end:
        st, doc = cli.req("GET", "/jobs/%s" % jid, app, {"action": "status"})
        if st != 200:
            stats.error("status %s: HTTP %s %r" % (jid, st, doc[:200]))
            return
        stats.add("polls")
        state = field(doc, "Status")
        if state in ("completed", "cancelled", "deleted", "failed"):
            break
        if not acted and fate < 0.15 and state == "running":
            acted = True
            if fate < 0.1:
                st, d2 = cli.req("PUT", "/jobs/%s" % jid, app, {"action": "cancel"})
                ok = st == 200 or (st == 400 and b"CANNOT CANCEL" in d2)
                stats.add("cancels")
            else:
                st, d2 = cli.req("DELETE", "/jobs/%s" % jid, app)
                ok = st == 200
                stats.add("deletes_running")
            if not ok:
                stats.error("cancel/delete %s: HTTP %s %r" % (jid, st, d2[:200]))
        time.sleep(0.1 if n < 10000 else 0.3)
    else:
        stats.error("job %s (%d rows) not finished in 600 s" % (jid, n))
        return
    if state == "failed":
        stats.error("job %s failed" % jid)
    elif state == "completed":
        if field(doc, "ProcessedCount") != str(n):
            stats.error("job %s: ProcessedCount %s, expected %d" % (jid, field(doc, "ProcessedCount"), n))
        compressed = rng.random() < 0.7
        qq = {} if compressed else {"outputcompressed": "false"}
        st, res = cli.req("GET", "/jobs/%s/result" % jid, app, qq)
        if st != 200:
            stats.error("result %s: HTTP %s" % (jid, st))
        else:
            out, nom = res, None
            try:
                if compressed:
                    z = zipfile.ZipFile(io.BytesIO(res))
                    names = z.namelist()
                    out = z.read([x for x in names if x.endswith("_out.txt")][0])
                    errs = [x for x in names if x.endswith("_err.txt")]
                    nom = z.read(errs[0]) if errs else None
            except (zipfile.BadZipFile, IndexError, KeyError) as e:
                stats.error("result %s: bad zip: %s" % (jid, e))
                out = None
            if out is not None:
                j = Job()
                j.id, j.params, j.rows = jid, params, n
                j.input = os.path.join(work, "in-%d.txt" % seq)
                with open(j.input, "wb") as f:
                    f.write(data)
                j.out = os.path.join(work, "out-%d.txt" % seq)
                with open(j.out, "wb") as f:
                    f.write(out)
                j.nom = None
                if nom is not None:
                    j.nom = os.path.join(work, "nom-%d.txt" % seq)
                    with open(j.nom, "wb") as f:
                        f.write(nom)
                verify_q.append(j)
                stats.add("jobs_completed")
                stats.add("rows_completed", n)
        if rng.random() < 0.3:
            for what in ("all", "errors", "no-matches"):
                st, _ = cli.req("GET", "/jobs/%s/%s" % (jid, what), app)
                if st != 200:
                    stats.error("%s %s: HTTP %s" % (what, jid, st))
                stats.add("downloads")
    else:
        stats.add("jobs_" + state)
    st, doc = cli.req("DELETE", "/jobs/%s" % jid, app)
    if st != 200:
        stats.error("delete %s: HTTP %s %r" % (jid, st, doc[:200]))


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return total


def job_files(data):
    n = 0
    for root, _, files in os.walk(os.path.join(data, "jobs")):
        n += len(files)
    for root, _, files in os.walk(os.path.join(data, "tmp")):
        n += len(files)
    return n


def verify(args, index, stats, j, threads):
    """Compare one completed job's downloaded result with `geobatch geocode` on its input."""
    cmd = [args.bin, "geocode", "--index", index, "--threads", str(threads)]
    cmd += ["--%s=%s" % (k, v) for k, v in j.params.items()]
    nomf = j.out + ".refnom"
    if j.params.get("outputcombined") == "false":
        cmd.append("--no-matches=" + nomf)
    cmd.append(j.input)
    ref = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    with open(j.out, "rb") as f:
        got = f.read()
    if got != ref:
        stats.error("job %s (%d rows): result differs from geocode" % (j.id, j.rows))
    if j.nom is not None:
        with open(j.nom, "rb") as f, open(nomf, "rb") as g:
            if f.read() != g.read():
                stats.error("job %s: no-matches differ from geocode" % j.id)
    for p in (j.input, j.out, j.nom, nomf):
        if p and os.path.exists(p):
            os.unlink(p)
    stats.add("verified")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    stats = Stats()
    rng0 = random.Random(args.seed)
    index = os.path.join(args.work, "soak.gbx")
    oa = sorted(glob.glob(os.path.join(args.shared, "data", "openaddresses", "*.csv")))
    subprocess.run([args.bin, "import", "-o", index] + oa, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    groups = load_groups(args.shared)
    data = os.path.join(args.work, "data")
    os.makedirs(data, mode=0o700)
    with open(os.path.join(data, "credentials"), "w") as f:
        for a, c in APPS:
            f.write("%s %s\n" % (a, c))
    os.chmod(os.path.join(data, "credentials"), 0o600)
    server = Server(args, index, data, free_port(), stats)
    server.start()
    time.sleep(0.3)
    fds0, du0 = server.nfds(), du(data)
    deadline = time.monotonic() + args.minutes * 60
    verify_q = []
    seq = [0]
    seq_mu = threading.Lock()

    def client_main(k):
        rng = random.Random(args.seed * 1000 + k)
        cli = Client(server, stats)
        while time.monotonic() < deadline:
            with seq_mu:
                seq[0] += 1
                s = seq[0]
            try:
                run_job(cli, stats, rng, groups, args.work, s, verify_q)
            except Exception as e:  # a bug in the driver or an unexpected answer
                stats.error("client %d: %r" % (k, e))

    load_done = threading.Event()

    def verifier_main():
        # One geocode at a time while the load runs (one thread), the rest after it (two).
        while True:
            try:
                j = verify_q.pop(0)
            except IndexError:
                if load_done.is_set():
                    return
                time.sleep(0.2)
                continue
            verify(args, index, stats, j, 2 if load_done.is_set() else 1)

    verifier = threading.Thread(target=verifier_main)
    verifier.start()
    threads = [threading.Thread(target=client_main, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    # Restarts: every 15 to 30 s, alternating SIGTERM and kill -9; sample memory meanwhile.
    hows = ["term", "kill"]
    next_restart = time.monotonic() + rng0.uniform(15, 30)
    while time.monotonic() < deadline:
        server.sample()
        time.sleep(0.5)
        if time.monotonic() >= next_restart and time.monotonic() < deadline - 10:
            how = hows[stats.c.get("restarts_term", 0) + stats.c.get("restarts_kill", 0) & 1]
            took = server.stop(how)
            print("restart (%s, stop took %.2f s)" % (how, took), flush=True)
            server.start()
            next_restart = time.monotonic() + rng0.uniform(15, 30)
    for t in threads:
        t.join(timeout=900)
        if t.is_alive():
            stats.error("a client did not finish")
    # Jobs accepted whose answer was lost in a crash: not errors, but they must not stay behind.
    cli = Client(server, stats)
    for app in APPS:
        st, doc = cli.req("GET", "/jobs", app, {"limit": "1000"})
        for jid, state in re.findall(rb"<RequestId>([A-Za-z0-9]{32})</RequestId></MetaInfo><Status>(\w+)<",
                                     doc):
            if state != b"deleted":
                stats.add("orphans_deleted")
                cli.req("DELETE", "/jobs/%s" % jid.decode(), app)
    time.sleep(1.0)
    server.sample()
    fds1, du1, left = server.nfds(), du(data), job_files(data)
    db = {f: os.path.getsize(os.path.join(data, f)) // 1024 for f in os.listdir(data)
          if f.startswith("jobs.db")}
    server.stop("term")
    load_done.set()
    verifier.join()
    c = stats.c
    print("soak: %.1f min, %d clients, restarts: %d SIGTERM + %d kill -9" % (
        args.minutes, CLIENTS, c.get("restarts_term", 0) - 1, c.get("restarts_kill", 0)))
    print("jobs: %d submitted, %d completed (%d rows) and verified against geocode: %d; "
          "%d cancelled, %d deleted while running, %d uploads cut by a restart, %d orphans" % (
              c.get("jobs_submitted", 0), c.get("jobs_completed", 0), c.get("rows_completed", 0),
              c.get("verified", 0), c.get("jobs_cancelled", 0), c.get("jobs_deleted", 0),
              c.get("uploads_interrupted", 0), c.get("orphans_deleted", 0)))
    print("requests: %d (%d status polls, %d extra downloads), connection errors during restarts: %d" % (
        c.get("requests", 0), c.get("polls", 0), c.get("downloads", 0), c.get("connection_errors", 0)))
    print("server peak RSS: %d kB" % server.peak_kb)
    print("open fds: start %d, end %d" % (fds0, fds1))
    print("data dir disk use: start %d kB, end %d kB (job files left: %d; store: %s kB)" % (
        du0 // 1024, du1 // 1024, left, ", ".join("%s %d" % kv for kv in sorted(db.items()))))
    if left:
        stats.error("%d job files left after every job was deleted" % left)
    if fds1 > fds0:
        stats.error("open fds grew from %d to %d" % (fds0, fds1))
    print("errors: %d" % len(stats.errors))
    return 1 if stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
