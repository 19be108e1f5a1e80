#!/usr/bin/env python3
"""Queries and truth for a city's street-range layer, and their score.

  street_ranges.py make CENTERLINES.geojson ADDRESSES.csv CITY REGION OUTDIR
  street_ranges.py score OUTDIR/truth.tsv RESULT.txt [--min-house R] [--min-street R]

make: every distinct address of Cambridge MA's Master Address Database (number, suffix, street,
type, direction; its sixth column, "156-R Auburn St", is the query: "156-R Auburn St, Cambridge,
MA"; in queries_lower.txt the same in lower case without commas; in queries_name.txt, for the
addresses the database names a place at, that name as a line before them: "Gold Star Mothers
Swimming Pool, 123 Berkshire St, Cambridge, MA"; in queries_typo.txt with two letters of the
street's longest word swapped: "58 Fyaette St", "148 Thrid St") whose street is a centerline's
name or alias. Its truth is worked out here from the layer,
not by geobatch: when a side's range of such a centerline holds the number (between its ends,
of its parity when the ends agree; -1 and 0 are no number), the answer must be that house at
the place the number falls along the line by length, within 25 m of one such place, with the
side's ZIP; otherwise the number is on no range, and the honest answer is the street, never a
house.

score: prints the figures (of the addresses the result file answers) and exits 1 when a share
is below its minimum.

  street_ranges.py reverse OUTDIR/reverse_truth.tsv RESULT.txt MIN

reverse: reverse.txt (made by make) holds, for each address that one range holds in the middle
half of a line of 40 m or more, the point 6 m beside where its number falls, on the range's side;
the answer must be that number on that street (its share at least MIN).
"""
import csv
import json
import math
import sys


def load_lines(path):
    """Centerlines by upper-case name (and alias): [(coords, sides)], sides = [(from, to, zip)]."""
    by_name = {}
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    for feat in features:
        p = feat["properties"]
        g = feat.get("geometry") or {}
        if g.get("type") == "LineString":
            coords = g["coordinates"]
        elif g.get("type") == "MultiLineString":
            coords = [pt for part in g["coordinates"] for pt in part]
        else:
            continue
        sides = []
        for a, b, z, side in (("L_From", "L_To", "ZIP_Left", 1), ("R_From", "R_To", "ZIP_Right", -1)):
            x, y = p.get(a) or 0, p.get(b) or 0
            x, y = max(x, 0), max(y, 0)
            if x == 0 and y == 0:
                continue
            sides.append((x or y, y or x, p.get(z) or "", side))
        names = [n.upper() for n in (p.get("Street"), p.get("Alias")) if n]
        for name in names:
            by_name.setdefault(name, []).append((coords, sides, names))
    return by_name


def metres(lat1, lon1, lat2, lon2):
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return 6371008.8 * math.hypot(math.radians(lat2 - lat1), math.radians(lon2 - lon1) * k)


def point_along(coords, frac, beside=0.0):
    """The point at frac of the line's length (coords are [lon, lat]), moved beside metres to
    the left of the line (to the right when negative), looking along it."""
    seg = [metres(a[1], a[0], b[1], b[0]) for a, b in zip(coords, coords[1:])]
    want, acc = frac * sum(seg), 0.0
    for (a, b), d in zip(zip(coords, coords[1:]), seg):
        if acc + d >= want and d > 0:
            t = (want - acc) / d
            lat, lon = a[1] + t * (b[1] - a[1]), a[0] + t * (b[0] - a[0])
            k = math.cos(math.radians(lat))
            dx, dy = (b[0] - a[0]) * k, b[1] - a[1]
            norm = math.hypot(dx, dy)
            # left of (dx, dy) is (-dy, dx); metres to degrees of latitude
            step = beside / 111195.0
            return lat + step * dx / norm, lon + step * -dy / norm / k
        acc += d
    return coords[-1][1], coords[-1][0]


def places_of(lines, number, beside=0.0):
    """Where number falls on every range that holds it: [(lat, lon, zip)]; beside metres
    off the line on the range's side when beside is given."""
    out = []
    for coords, sides, names in lines:
        for a, b, z, side in sides:
            lo, hi = min(a, b), max(a, b)
            if not lo <= number <= hi:
                continue
            if a % 2 == b % 2 and number % 2 != a % 2:
                continue
            frac = 0.5 if a == b else (number - a) / (b - a)
            lat, lon = point_along(coords, frac, beside * side)
            out.append((lat, lon, z, frac, sum(metres(p[1], p[0], q[1], q[0])
                                               for p, q in zip(coords, coords[1:])), names))
    return out


def transposed(full, n):
    """full ("58 Fayette St") with two neighbouring letters of its street's longest word (five
    letters or more) swapped, never the first: "58 Fyaette St"; the place is the n-th of the
    word's places in turn. None when the word is shorter or the swap changes nothing."""
    words = full.split(" ")
    k = max(range(1, len(words)), key=lambda i: len(words[i]), default=0)
    w = words[k] if k else ""
    if len(w) < 5 or not w.isalpha():
        return None
    p = 1 + n % (len(w) - 2)
    if w[p] == w[p + 1]:
        return None
    words[k] = w[:p] + w[p + 1] + w[p] + w[p + 2:]
    return " ".join(words)


def make(centerlines, addresses, city, region, outdir):
    by_name = load_lines(centerlines)
    seen = set()
    n_house = n_street = n_unknown = 0
    with open(addresses, encoding="utf-8-sig", newline="") as f, \
            open(f"{outdir}/queries.txt", "w", encoding="utf-8") as q, \
            open(f"{outdir}/queries_lower.txt", "w", encoding="utf-8") as ql, \
            open(f"{outdir}/queries_name.txt", "w", encoding="utf-8") as qp, \
            open(f"{outdir}/queries_typo.txt", "w", encoding="utf-8") as qt, \
            open(f"{outdir}/reverse.txt", "w", encoding="utf-8") as rq, \
            open(f"{outdir}/reverse_truth.tsv", "w", encoding="utf-8") as rt, \
            open(f"{outdir}/truth.tsv", "w", encoding="utf-8") as t:
        q.write("recId|searchText\n")
        ql.write("recId|searchText\n")
        qp.write("recId|searchText\n")
        qt.write("recId|searchText\n")
        rq.write("recId|prox\n")
        t.write("recId\texpect\tplaces\n")
        for row in csv.reader(f):
            number, suffix, name, typ, direction, full = row[1:7]
            key = (number, suffix, name, typ, direction)
            if key in seen or not number.isdigit():
                continue
            seen.add(key)
            street = " ".join(x for x in (name, typ, direction) if x)
            lines = by_name.get(street)
            if not lines:
                n_unknown += 1
                continue
            places = [p[:3] for p in places_of(lines, int(number))]
            rid = f"c{len(seen):05d}"
            q.write(f"{rid}|{full}, {city}, {region}\n")
            ql.write(f"{rid}|{full.lower()} {city.lower()} {region.lower()}\n")
            if row[7]:  # the place's name, as a line before the address
                qp.write(f"{rid}|{row[7]}, {full}, {city}, {region}\n")
            slip = transposed(full, len(seen))
            if slip:
                qt.write(f"{rid}|{slip}, {city}, {region}\n")
            beside = places_of(lines, int(number), 6.0)
            # one range holds it, in the middle half of a line of 40 m or more: no corner's
            # other street nor the next stretch's range as near
            if len(beside) == 1 and not suffix and 0.25 <= beside[0][3] <= 0.75 and \
                    beside[0][4] >= 40:
                lat, lon = beside[0][:2]
                rq.write(f"{rid}|{lat:.7f},{lon:.7f},50\n")
                rt.write(f"{rid}\t{number}\t{';'.join(beside[0][5])}\n")
            if places:
                n_house += 1
                t.write(rid + "\thouse\t" + ";".join(f"{a:.7f},{o:.7f},{z}" for a, o, z in places)
                        + "\n")
            else:
                n_street += 1
                t.write(rid + "\tstreet\t\n")
    print(f"street_ranges: {n_house} numbers on a range, {n_street} on none, "
          f"{n_unknown} addresses on streets the layer does not name (left out)")


def score(truth_path, result_path, min_house, min_street):
    truth = {}
    with open(truth_path, encoding="utf-8") as f:
        next(f)
        for line in f:
            rid, expect, places = line.rstrip("\n").split("\t")
            pts = [p.split(",") for p in places.split(";")] if places else []
            truth[rid] = (expect, [(float(a), float(o), z) for a, o, z in pts])
    answers = {}
    with open(result_path, encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="|")
        head = [h.lower() for h in next(rows)]
        col = {h: i for i, h in enumerate(head)}
        for r in rows:
            if r[col["seqnumber"]] in ("1", "0"):
                answers.setdefault(r[col["recid"]], r)
    house = house_ok = zip_ok = street = street_ok = 0
    misses = []
    for rid, (expect, pts) in truth.items():
        if rid not in answers:
            continue  # a query file of some of the addresses
        r = answers.get(rid)
        level = r[col["matchlevel"]] if r else ""
        if expect == "house":
            house += 1
            if level != "houseNumber":
                misses.append((rid, expect, level))
                continue
            lat, lon = float(r[col["displaylatitude"]]), float(r[col["displaylongitude"]])
            best = min(pts, key=lambda p: metres(lat, lon, p[0], p[1]))
            if metres(lat, lon, best[0], best[1]) <= 25:
                house_ok += 1
                zip_ok += r[col["postalcode"]] == best[2]
            else:
                misses.append((rid, expect, f"{metres(lat, lon, best[0], best[1]):.0f} m"))
        else:
            street += 1
            if level == "street":
                street_ok += 1
            else:
                misses.append((rid, expect, level))
    h = house_ok / house if house else 0.0
    s = street_ok / street if street else 0.0
    print(f"street_ranges: houses within 25 m {house_ok}/{house} = {h:.4f} "
          f"(their ZIP right: {zip_ok}); numbers on no range answered as the street "
          f"{street_ok}/{street} = {s:.4f}")
    for m in misses[:10]:
        print("  miss:", *m)
    ok = h >= min_house and s >= min_street
    if not ok:
        print(f"street_ranges: below the minimum (houses {min_house}, streets {min_street})")
    return 0 if ok else 1


def score_reverse(truth_path, result_path, minimum):
    """Reverse geocoding 6 m beside the house, on its range's side: that number on that
    street (under its name or its alias)."""
    truth = {}
    with open(truth_path, encoding="utf-8") as f:
        for line in f:
            rid, number, streets = line.rstrip("\n").split("\t")
            truth[rid] = (number, streets.split(";"))
    right = total = 0
    misses = []
    with open(result_path, encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="|")
        head = [h.lower() for h in next(rows)]
        col = {h: i for i, h in enumerate(head)}
        for r in rows:
            rid = r[col["recid"]]
            if rid not in truth or r[col["seqnumber"]] not in ("0", "1"):
                continue
            total += 1
            got = (r[col["housenumber"]], r[col["street"]].upper())
            if got[0] == truth[rid][0] and got[1] in truth[rid][1]:
                right += 1
            else:
                misses.append((rid, truth[rid], got))
    share = right / total if total else 0.0
    print(f"street_ranges: reverse, the number on its side {right}/{total} = {share:.4f}")
    for m in misses[:10]:
        print("  miss:", *m)
    return 0 if share >= minimum and total == len(truth) else 1


def main(argv):
    if len(argv) == 5 and argv[1] == "reverse":
        return score_reverse(argv[2], argv[3], float(argv[4]))
    if len(argv) == 7 and argv[1] == "make":
        make(*argv[2:7])
        return 0
    if len(argv) >= 4 and argv[1] == "score":
        mins = {"--min-house": 0.0, "--min-street": 0.0}
        rest = argv[4:]
        for i in range(0, len(rest) - 1, 2):
            mins[rest[i]] = float(rest[i + 1])
        return score(argv[2], argv[3], mins["--min-house"], mins["--min-street"])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
