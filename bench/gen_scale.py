#!/usr/bin/env python3
"""gen_scale.py - the deterministic scale input for `make bench`: N addresses in OpenAddresses
CSV, made from the real OpenAddresses rows of SHARED/data/openaddresses/.

    gen_scale.py SHARED OUTDIR [--rows N]      (default N = 5,000,000)

Copy k (k = 0, 1, 2, ...) of every real row is shifted in space by a grid step of 0.5 degrees
(lon += (k % 16) * 0.5, lat += (k // 16) * 0.5), and its names are made distinct so the index
holds as many different streets, towns and postcodes as a real country of that size would:
  street   "<Tag> <street>"      Tag is a pronounceable word made from k ("Bake OCTAVIA ST"
                                 in upper case when the source writes streets in upper case)
  city     "<city> <Tag>"        empty cities stay empty, as in the source
  postcode "<k><postcode>"       numeric prefix (empty stays empty)
  ID       "<id>-<k>"
Copy 0 is the real data unchanged. Rows keep their source file's country: the output is one
file per source, named like the source (the importer takes the country from the file name's
ISO prefix), e.g. OUTDIR/li-scale.csv. Rows go round-robin: copy 0 of every file, then copy 1,
..., and the last copy is cut so the total is exactly N. Prints the files and their row counts.
Standard library only.
"""
import csv
import glob
import os
import sys

SYL = ["ba", "ke", "li", "mo", "nu", "ra", "se", "ti", "vo", "da", "fe", "gu", "ha", "jo", "pi", "su"]
GRID = 16  # copies per row of the shift grid
STEP = 0.5  # degrees


def tag(k):
    """A distinct pronounceable word for copy k >= 1: k in base 16, one syllable per digit,
    at least two ("Bake" for 1, "Keba" for 16; three syllables from 256 on)."""
    s = []
    n = k
    while n or len(s) < 2:
        s.append(SYL[n % 16])
        n //= 16
    return "".join(reversed(s)).capitalize()


def load(path):
    """The rows of one OA CSV as lists in the column order LON,LAT,NUMBER,STREET,UNIT,CITY,
    DISTRICT,REGION,POSTCODE,ID,HASH (missing columns empty)."""
    cols = ["LON", "LAT", "NUMBER", "STREET", "UNIT", "CITY", "DISTRICT", "REGION", "POSTCODE", "ID", "HASH"]
    out = []
    with open(path, newline="", encoding="utf-8") as fp:
        rd = csv.reader(fp)
        head = [h.strip().upper() for h in next(rd)]
        idx = [head.index(c) if c in head else -1 for c in cols]
        for r in rd:
            if len(r) != len(head):
                continue
            row = [r[i] if i >= 0 else "" for i in idx]
            try:
                row[0] = float(row[0])
                row[1] = float(row[1])
            except ValueError:
                continue
            out.append(row)
    return out


def q(s):
    """CSV-quote a field only when it needs it."""
    if "," in s or '"' in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def main():
    args = sys.argv[1:]
    rows = 5_000_000
    if "--rows" in args:
        i = args.index("--rows")
        rows = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit("usage: gen_scale.py SHARED OUTDIR [--rows N]")
    shared, outdir = args
    srcs = sorted(glob.glob(os.path.join(shared, "data", "openaddresses", "*.csv")))
    if not srcs:
        sys.exit("gen_scale.py: no OpenAddresses CSV under " + shared)
    os.makedirs(outdir, exist_ok=True)
    data = []
    for s in srcs:
        base = os.path.basename(s)
        rs = load(s)
        upper = sum(1 for r in rs if r[3].isupper()) > len(rs) // 2
        # Pre-quote the fields that do not change between copies.
        pre = [(r[0], r[1], q(r[2]), r[3], q(r[4]), r[5], q(r[6]), q(r[7]), r[8], r[9], q(r[10])) for r in rs]
        out = os.path.join(outdir, base[:2] + "-scale.csv")
        data.append((out, pre, upper))
    fps = {}
    counts = {}
    for out, _, _ in data:
        fps[out] = open(out, "w", encoding="utf-8", newline="")
        fps[out].write("LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n")
        counts[out] = 0
    left = rows
    k = 0
    while left > 0:
        dlon = (k % GRID) * STEP
        dlat = (k // GRID) * STEP
        t = tag(k) if k else ""
        tu = t.upper()
        for out, pre, upper in data:
            if left <= 0:
                break
            chunk = pre[:left]
            lines = []
            for lon, lat, num, street, unit, city, dist, reg, pc, rid, h in chunk:
                if k:
                    street = (tu if upper else t) + " " + street
                    if city:
                        city = city + " " + (tu if upper else t)
                    if pc:
                        pc = str(k) + pc
                    rid = rid + "-" + str(k)
                lines.append("%.7f,%.7f,%s,%s,%s,%s,%s,%s,%s,%s,%s\n" % (
                    lon + dlon, lat + dlat, num, q(street), unit, q(city), dist, reg, q(pc), q(rid), h))
            fps[out].write("".join(lines))
            counts[out] += len(chunk)
            left -= len(chunk)
        k += 1
    for out, fp in fps.items():
        fp.close()
        print("%s\t%d" % (out, counts[out]))


if __name__ == "__main__":
    main()
