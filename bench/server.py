#!/usr/bin/env python3
"""server.py - the server figures of `make bench`, against a running `geobatch serve`.

    server.py --port P --key K --input FILE [--pid SERVER_PID] [--conns 32] [--seconds 10]
              [--wrk PATH] [--tmp DIR]

1. Job: POST /6.2/jobs?action=run with FILE as the body (the same parameters as the CLI runs),
   poll GET /6.2/jobs/ID?action=status every 0.1 s until the job is final, then GET
   /6.2/jobs/ID/result and check that the zip's result_*_out.txt has a line per input row.
   Times: upload (POST answered), processing (to "completed"), download, total.
   Status requests made while the job runs are timed too (latency while geocoding). With
   --pid, the server's CPU seconds for the job (/proc/PID/stat) and its peak RSS (VmHWM).
2. Status under load: GET ?action=status of the finished job for --seconds with --conns
   keep-alive connections, through wrk when --wrk is given (wrk -t2 -c CONNS --latency),
   otherwise through Python threads (one connection each; the client then competes with the
   server for the two cores, so its latencies are an upper bound).
Prints "key<TAB>value" lines (seconds, ms, req/s, KB). Exit 1 when the job fails.
Standard library only.
"""
import http.client
import os
import re
import subprocess
import sys
import threading
import time
import zipfile

PARAMS = ("indelim=%7C&outdelim=%7C&outputcombined=true&header=true"
          "&outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance")


def opt(args, name, default):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i : i + 2]
        return v
    return default


def pct(vals, p):
    if not vals:
        return 0.0
    vals = sorted(vals)
    return vals[min(len(vals) - 1, int(round(p * (len(vals) - 1))))]


def vmhwm(pid):
    try:
        with open("/proc/%s/status" % pid) as fp:
            for ln in fp:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_s(pid):
    """User + system CPU seconds of process pid so far (0 when unknown)."""
    try:
        with open("/proc/%s/stat" % pid) as fp:
            f = fp.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def out(k, v):
    print("%s\t%s" % (k, v), flush=True)


def load_python(port, path, conns, seconds):
    lat = []
    lock = threading.Lock()
    errors = [0]
    stop = time.monotonic() + seconds

    def worker():
        mine, bad = [], 0
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - t)
        c.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad

    th = [threading.Thread(target=worker) for _ in range(conns)]
    t0 = time.perf_counter()
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.perf_counter() - t0
    out("load_tool", "python-threads")
    out("load_requests", len(lat))
    out("load_errors", errors[0])
    out("load_rps", "%.0f" % (len(lat) / wall))
    out("load_p50_ms", "%.2f" % (pct(lat, 0.5) * 1e3))
    out("load_p99_ms", "%.2f" % (pct(lat, 0.99) * 1e3))
    out("load_max_ms", "%.2f" % (max(lat) * 1e3 if lat else 0))


def unit_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    if not m:
        return 0.0
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def load_wrk(wrk, port, path, conns, seconds):
    r = subprocess.run([wrk, "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency",
                        "http://127.0.0.1:%d%s" % (port, path)], capture_output=True, text=True)
    txt = r.stdout
    out("load_tool", "wrk")
    m = re.search(r"Requests/sec:\s*([\d.]+)", txt)
    out("load_rps", "%.0f" % float(m.group(1)) if m else "?")
    m = re.search(r"(\d+) requests in", txt)
    out("load_requests", m.group(1) if m else "?")
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", txt)
    out("load_errors", m.group(1) if m else "0")
    for p, k in (("50%", "load_p50_ms"), ("99%", "load_p99_ms")):
        m = re.search(r"^\s*%s\s+(\S+)" % re.escape(p), txt, re.M)
        out(k, "%.2f" % unit_ms(m.group(1)) if m else "?")
    m = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", txt)
    out("load_max_ms", "%.2f" % unit_ms(m.group(1)) if m else "?")


def main():
    args = sys.argv[1:]
    port = int(opt(args, "--port", "0"))
    key = opt(args, "--key", "")
    path = opt(args, "--input", "")
    pid = opt(args, "--pid", "")
    conns = int(opt(args, "--conns", "32"))
    seconds = int(opt(args, "--seconds", "10"))
    wrk = opt(args, "--wrk", "")
    tmp = opt(args, "--tmp", "/tmp")
    if args or not port or not key or not path:
        sys.exit(__doc__)
    rows = 0
    with open(path, "rb") as fp:
        for _ in fp:
            rows += 1
    rows -= 1  # header
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    cpu0 = cpu_s(pid) if pid else 0.0
    t0 = time.perf_counter()
    with open(path, "rb") as fp:
        c.request("POST", "/6.2/jobs?action=run&apiKey=%s&%s" % (key, PARAMS), body=fp,
                  headers={"Content-Type": "text/plain", "Content-Length": str(os.path.getsize(path))})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
    t_up = time.perf_counter()
    m = re.search(r"<RequestId>([A-Za-z0-9]+)</RequestId>", body)
    if r.status != 200 or not m:
        out("error", "submit: HTTP %d %s" % (r.status, body[:300]))
        return 1
    job = m.group(1)
    spath = "/6.2/jobs/%s?action=status&apiKey=%s" % (job, key)
    lat, state = [], ""
    while True:
        t = time.perf_counter()
        c.request("GET", spath)
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        lat.append(time.perf_counter() - t)
        m = re.search(r"<Status>(\w+)</Status>", body)
        state = m.group(1) if m else "?"
        if state in ("completed", "failed", "cancelled", "deleted") or r.status != 200:
            break
        if time.perf_counter() - t0 > 1800:
            state = "timeout"
            break
        time.sleep(0.1)
    t_done = time.perf_counter()
    if state != "completed":
        out("error", "job %s ended %s (HTTP %d): %s" % (job, state, r.status, body[:300]))
        return 1
    zpath = os.path.join(tmp, "result.zip")
    c.request("GET", "/6.2/jobs/%s/result?apiKey=%s" % (job, key))
    r = c.getresponse()
    with open(zpath, "wb") as fp:
        while True:
            b = r.read(1 << 20)
            if not b:
                break
            fp.write(b)
    t_zip = time.perf_counter()
    c.close()
    if r.status != 200:
        out("error", "result: HTTP %d" % r.status)
        return 1
    lines, names = 0, []
    with zipfile.ZipFile(zpath) as z:
        names = z.namelist()
        for n in names:
            if n.endswith("_out.txt"):
                with z.open(n) as fp:
                    for _ in fp:
                        lines += 1
    out("job_rows", rows)
    out("job_id", job)
    out("upload_s", "%.2f" % (t_up - t0))
    out("process_s", "%.2f" % (t_done - t_up))
    out("download_s", "%.2f" % (t_zip - t_done))
    out("total_s", "%.2f" % (t_zip - t0))
    out("job_rate", "%.0f" % (rows / max(1e-9, t_zip - t0)))
    out("zip_bytes", os.path.getsize(zpath))
    out("zip_members", ",".join(names))
    out("result_lines", lines)
    out("status_polls", len(lat))
    out("status_busy_p50_ms", "%.2f" % (pct(lat, 0.5) * 1e3))
    out("status_busy_max_ms", "%.2f" % (max(lat) * 1e3))
    if pid:
        cpu = cpu_s(pid) - cpu0
        out("server_cpu_s", "%.2f" % cpu)
        out("server_rate_per_cpu_s", "%.0f" % (rows / max(0.01, cpu)))
        out("server_vmhwm_kb", vmhwm(pid))
    os.unlink(zpath)
    if wrk:
        load_wrk(wrk, port, spath, conns, seconds)
    else:
        load_python(port, spath, conns, seconds)
    if pid:
        out("server_vmhwm_after_load_kb", vmhwm(pid))
    return 0 if lines >= rows + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
