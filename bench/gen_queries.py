#!/usr/bin/env python3
"""gen_queries.py - geocoding inputs for `make bench`, built from the eval queries of
SHARED/eval/dev/*/ (the four dev areas; the same queries run-dev.sh scores).

    gen_queries.py SHARED OUTDIR [--rows N ...] [--variant-rows M]

Families (by input layout):
  struct  recId|street|houseNumber|postalCode|city|country   from struct_*.txt
  free    recId|searchText|country                          from free_*.txt and neg_*.txt
For each N in --rows (default 1000000 and 100000) writes OUTDIR/struct-N.txt and
OUTDIR/free-N.txt: the family's rows of all areas in a fixed order (area, then variant, then
line), repeated until N rows, with new unique recIds (S0000001..., F0000001...).
With --variant-rows M (default 20000) also writes OUTDIR/variant-<name>.txt per variant file
name (struct_clean, free_typo, neg_garbage, ...): that variant's rows of all areas repeated to
M rows, for per-variant rates. Prints one line per file: path, rows.
Deterministic; standard library only.
"""
import glob
import os
import sys

HEAD = {"struct": "recId|street|houseNumber|postalCode|city|country",
        "free": "recId|searchText|country"}


def family(variant):
    return "struct" if variant.startswith("struct_") else "free"


def read_rows(path):
    """The data rows of one query file without their recId (the header is checked)."""
    with open(path, encoding="utf-8") as fp:
        lines = fp.read().split("\n")
    if lines[0].strip() != HEAD[family(os.path.basename(path)[:-4])]:
        sys.exit("gen_queries.py: unexpected header in %s: %s" % (path, lines[0]))
    return [ln.split("|", 1)[1] for ln in lines[1:] if ln.strip() and "|" in ln]


def write(path, head, pool, n, prefix):
    with open(path, "w", encoding="utf-8") as fp:
        fp.write(head + "\n")
        buf = []
        for i in range(n):
            buf.append("%s%07d|%s\n" % (prefix, i + 1, pool[i % len(pool)]))
            if len(buf) >= 100000:
                fp.write("".join(buf))
                buf = []
        fp.write("".join(buf))
    print("%s\t%d" % (path, n))


def main():
    args = sys.argv[1:]
    rows, vrows = [], 20000
    while "--rows" in args:
        i = args.index("--rows")
        rows.append(int(args[i + 1]))
        del args[i : i + 2]
    if "--variant-rows" in args:
        i = args.index("--variant-rows")
        vrows = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit("usage: gen_queries.py SHARED OUTDIR [--rows N ...] [--variant-rows M]")
    shared, outdir = args
    rows = rows or [1000000, 100000]
    files = sorted(glob.glob(os.path.join(shared, "eval", "dev", "*", "*.txt")))
    if not files:
        sys.exit("gen_queries.py: no query files under %s/eval/dev" % shared)
    os.makedirs(outdir, exist_ok=True)
    variants = {}
    for f in files:
        v = os.path.basename(f)[:-4]
        variants.setdefault(v, []).extend(read_rows(f))
    pools = {"struct": [], "free": []}
    for f in files:  # area order, then variant order
        pools[family(os.path.basename(f)[:-4])].extend(read_rows(f))
    for n in rows:
        write(os.path.join(outdir, "struct-%d.txt" % n), HEAD["struct"], pools["struct"], n, "S")
        write(os.path.join(outdir, "free-%d.txt" % n), HEAD["free"], pools["free"], n, "F")
    if vrows > 0:
        for v in sorted(variants):
            write(os.path.join(outdir, "variant-%s.txt" % v), HEAD[family(v)], variants[v], vrows, "V")
    print("pool\tstruct=%d\tfree=%d" % (len(pools["struct"]), len(pools["free"])), file=sys.stderr)


if __name__ == "__main__":
    main()
