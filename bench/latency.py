#!/usr/bin/env python3
"""latency.py - approximate the per-record latency tail of `geobatch geocode` on one core.

    latency.py BIN INDEX FAMILY_FILE... [--chunk 100] [--keep 10] [--target-ms 10]

The binary has no per-record timer, so this measures CPU time (user + system, from wait4) of
whole processes and narrows down in three levels:
 1. the distinct rows of the given query files (one input layout per call) are cut into
    groups of --chunk rows; each group, repeated so the run costs about --target-ms, is
    geocoded by its own `--threads 1` process; per-row cost = (cpu - empty run) / rows;
 2. the --keep slowest groups are cut into groups of --chunk/10 rows and timed the same way;
 3. every row of the --keep slowest of those is timed alone.
Each row gets the cost of the smallest group it was timed in. From that distribution it prints
(tab-separated, one per line): rows, startup_ms, mean_us, p50_us, p99_us, p999_us, max_us, and
"slow<TAB>us<TAB>row" for the five slowest rows. The tail is a lower-bound estimate: a slow row
inside a fast group is only seen as part of its group's mean. Standard library only.
"""
import os
import subprocess
import sys
import tempfile

GEOCODE = ["--indelim=|", "--outdelim=|", "--outputcombined=true", "--header=true", "--threads=1",
           "--outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance"]


def cpu_run(argv):
    """CPU seconds (user + sys) of one child process; raises on failure."""
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError("geocode failed (%d): %s" % (p.returncode, err.strip()[-300:]))
    return ru.ru_utime + ru.ru_stime


def timed(bin_, index, head, rows, repeat, tmp):
    path = os.path.join(tmp, "chunk.txt")
    with open(path, "w", encoding="utf-8") as fp:
        fp.write(head + "\n")
        n = 0
        for _ in range(repeat):
            for r in rows:
                n += 1
                fp.write("L%07d|%s\n" % (n, r))
    return cpu_run([bin_, "geocode", "--index", index] + GEOCODE + [path])


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    i = min(len(sorted_vals) - 1, max(0, int(round(p * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def main():
    args = sys.argv[1:]
    opt = {"--chunk": 100, "--keep": 10, "--target-ms": 10}
    for k in list(opt):
        if k in args:
            i = args.index(k)
            opt[k] = int(args[i + 1])
            del args[i : i + 2]
    if len(args) < 3:
        sys.exit(__doc__)
    bin_, index, files = args[0], args[1], args[2:]
    head, rows = None, []
    for f in files:
        with open(f, encoding="utf-8") as fp:
            lines = fp.read().split("\n")
        if head is None:
            head = lines[0]
        elif lines[0] != head:
            sys.exit("latency.py: mixed layouts: %s" % f)
        rows.extend(ln.split("|", 1)[1] for ln in lines[1:] if "|" in ln)
    target = opt["--target-ms"] / 1000.0
    with tempfile.TemporaryDirectory() as tmp:
        base = min(timed(bin_, index, head, [], 1, tmp) for _ in range(5))

        def cost_of(group, guess):
            """Mean CPU seconds per row of group; guess (s/row) sets the repeat count."""
            rep = int(min(1000, max(3, target / max(guess * len(group), 1e-7))))
            t = timed(bin_, index, head, group, rep, tmp)
            return max(0.0, t - base) / (len(group) * rep)

        cost = [0.0] * len(rows)
        # level: list of (first, last) index ranges with their guessed cost per row
        size = opt["--chunk"]
        groups = [(i, min(len(rows), i + size), 2e-5) for i in range(0, len(rows), size)]
        while groups:
            timedg = []
            for a, b, guess in groups:
                c = cost_of(rows[a:b], guess)
                for i in range(a, b):
                    cost[i] = c
                timedg.append((c, a, b))
            if size == 1:
                break
            timedg.sort(reverse=True)
            size = max(1, size // 10)
            groups = [(i, min(b, i + size), c) for c, a, b in timedg[: opt["--keep"]]
                      for i in range(a, b, size)]
        cost = list(zip(cost, rows))
    vals = sorted(c for c, _ in cost)
    us = lambda s: "%.1f" % (s * 1e6)
    print("rows\t%d" % len(vals))
    print("startup_ms\t%.2f" % (base * 1e3))
    print("mean_us\t%s" % us(sum(vals) / max(1, len(vals))))
    print("p50_us\t%s" % us(pct(vals, 0.50)))
    print("p99_us\t%s" % us(pct(vals, 0.99)))
    print("p999_us\t%s" % us(pct(vals, 0.999)))
    print("max_us\t%s" % us(vals[-1] if vals else 0))
    for c, r in sorted(cost, key=lambda x: -x[0])[:5]:
        print("slow\t%s\t%s" % (us(c), r))


if __name__ == "__main__":
    main()
