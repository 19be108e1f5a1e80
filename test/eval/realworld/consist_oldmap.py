#!/usr/bin/python3
"""consist_oldmap.py - the map older than the data: every Liechtenstein 2026 address geocoded
against an index of the 2024 OpenStreetMap extract alone.

  consist_oldmap.py GEOBATCH WORK_DIR [--max-false-precision F] [--details FILE]

Reads ../shared/data (GB_SHARED): openaddresses/li-liechtenstein-2026.csv (the queries and their
true points) and osm/liechtenstein-2024-03-04.osm.pbf (read with pyosmium, Debian's
python3-pyosmium, to know which addresses the old map has). Imports the 2024 extract into
WORK_DIR/li2024.gbx, geocodes every 2026 address twice (structured fields, and free text
"Street N, PC City"), and scores:
  false precision  a house-level answer more than 100 m from every 2026 point of that address
                   (street, number, postcode, city): all addresses count;
  missing          an address the 2024 map does not have (no object with that house number and
                   street in that postcode or within 1 km (a house moved is not missing), nor with
                   that number and no street within 150 m of the 2026 point, nor with that number
                   on any street within 60 m):
                   it must be answered, and at street, postcode, district or city level; a
                   number with a suffix ("40a") where the old map has the plain number and no
                   suffix of it may be answered at that plain number's house, the building's
                   plot (docs/consistency.md), which false precision bounds like any house.
Exit 0 when false precision <= the maximum and every missing address is answered that way, 1 when
not, 2 when the geocoder cannot be run.
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys
import unicodedata

HOUSE_TOL_M = 100.0
NEAR_M = 150.0
MOVED_M = 1000.0
SAME_M = 60.0
COARSE = {'street', 'postalcode', 'district', 'city'}


def fold(s):
    s = unicodedata.normalize('NFKD', s or '').lower().replace('ß', 'ss')
    s = ''.join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r'str\.?\b', 'strasse', s)
    return re.sub(r'[^0-9a-z]', '', s)


def dist_m(a, b):
    r = 6371008.8
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def old_addresses(pbf):
    """(number, street) -> [points] of every addr:housenumber object of the 2024 extract, and
    (number, None) -> the points of that number on any street."""
    import osmium

    out = {}

    class H(osmium.SimpleHandler):
        def add(self, tags, pt):
            hn = tags.get('addr:housenumber')
            if hn and pt:
                out.setdefault((fold(hn), fold(tags.get('addr:street', ''))), []).append(pt)
                out.setdefault((fold(hn), None), []).append(pt)
                pc = tags.get('addr:postcode')
                if pc:
                    out.setdefault((fold(hn), fold(tags.get('addr:street', '')), pc), []).append(pt)

        def node(self, n):
            self.add(n.tags, (n.location.lat, n.location.lon) if n.location.valid() else None)

        def way(self, w):
            pts = [(n.lat, n.lon) for n in w.nodes if n.location.valid()]
            if pts:
                self.add(w.tags, (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)))
            else:
                self.add(w.tags, None)

        def area(self, a):  # multipolygon relations (closed ways came as ways)
            if a.from_way():
                return
            pts = [(n.lat, n.lon) for ring in a.outer_rings() for n in ring if n.location.valid()]
            if pts:
                self.add(a.tags, (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)))

    H().apply_file(pbf, locations=True)
    return out


def in_old_map(old, row, pt):
    """That number on that street in that postcode or within MOVED_M (a house the map has, moved
    or not), on no street within NEAR_M, or on any street within SAME_M (a street spelt another
    way, "St." for "Sankt")."""
    if row['POSTCODE'] and (fold(row['NUMBER']), fold(row['STREET']), row['POSTCODE']) in old:
        return True  # there, if somewhere else: a house the map has, moved
    for street, near in ((fold(row['STREET']), MOVED_M), ('', NEAR_M), (None, SAME_M)):
        for p in old.get((fold(row['NUMBER']), street), ()):
            if dist_m(p, pt) <= near:
                return True
    return False


def address_key(r):
    return fold(r['STREET']), fold(r['NUMBER']), r['POSTCODE'], fold(r['CITY'])


def plain_of_suffixed(number, got):
    """Whether got answers number with a suffix ("40a", "40 bis") at its plain number's house."""
    m = re.match(r'^(\d+)\s*[A-Za-z]', number.strip())
    return bool(m) and got[0] == 'housenumber' and got[3].strip() == m.group(1)


def geocode(gb, idx, path, out):
    cols = 'displayLatitude,displayLongitude,matchLevel,matchType,relevance,street,houseNumber,postalCode,city'
    with open(out, 'w') as f:
        subprocess.run([gb, 'geocode', '--index', idx, '--indelim=|', '--outdelim=|', '--outcols=' + cols,
                        '--outputcombined=true', '--header=true', '--maxresults=1', path], stdout=f, check=True)
    ans = {}
    with open(out) as f:
        rd = csv.DictReader(f, delimiter='|')
        for r in rd:
            if r['SeqNumber'] == '1':
                lvl = r['matchLevel'].lower()
                ans[r['recId']] = None if lvl in ('', 'nomatch', 'failed') else (
                    lvl, (float(r['displayLatitude']), float(r['displayLongitude'])),
                    f"{r['matchType']} {r['relevance']} {r['street']} {r['houseNumber']}, {r['postalCode']} {r['city']}",
                    r['houseNumber'])
    return ans


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('geobatch')
    ap.add_argument('work')
    ap.add_argument('--max-false-precision', type=float, default=0.001)
    ap.add_argument('--details')
    a = ap.parse_args()
    data = os.path.join(os.environ.get('GB_SHARED', os.path.join(os.path.dirname(__file__), '../../../../shared')), 'data')
    os.makedirs(a.work, exist_ok=True)
    idx = os.path.join(a.work, 'li2024.gbx')
    try:
        subprocess.run([a.geobatch, 'import', '-o', idx, os.path.join(data, 'osm/liechtenstein-2024-03-04.osm.pbf')],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'import failed: {e}')
        return 2
    old = old_addresses(os.path.join(data, 'osm/liechtenstein-2024-03-04.osm.pbf'))
    rows = []
    with open(os.path.join(data, 'openaddresses/li-liechtenstein-2026.csv'), encoding='utf-8') as f:
        for r in csv.DictReader(f):
            if r['NUMBER'] and r['STREET']:
                rows.append(r)
    st = os.path.join(a.work, 'struct.txt')
    fr = os.path.join(a.work, 'free.txt')
    with open(st, 'w') as fs, open(fr, 'w') as ff:
        fs.write('recId|street|houseNumber|postalCode|city|country\n')
        ff.write('recId|searchText\n')
        for i, r in enumerate(rows):
            fs.write(f"{i}|{r['STREET']}|{r['NUMBER']}|{r['POSTCODE']}|{r['CITY']}|LIE\n")
            place = ' '.join(x for x in (r['POSTCODE'], r['CITY']) if x)
            ff.write(f"{i}|{r['STREET']} {r['NUMBER']}" + (f", {place}" if place else '') + '\n')
    # every point of an address is a true answer (several buildings can share one)
    points = {}
    for r in rows:
        points.setdefault(address_key(r), []).append((float(r['LAT']), float(r['LON'])))
    rc = 0
    det = open(a.details, 'w') if a.details else None
    for name, path in (('structured', st), ('free', fr)):
        try:
            ans = geocode(a.geobatch, idx, path, os.path.join(a.work, name + '.out'))
        except (OSError, subprocess.CalledProcessError) as e:
            print(f'geocode failed: {e}')
            return 2
        n = fp = missing = miss_ok = present = present_house = 0
        for i, r in enumerate(rows):
            pt = (float(r['LAT']), float(r['LON']))
            got = ans.get(str(i))
            house = got is not None and got[0] == 'housenumber'
            err = min(dist_m(got[1], p) for p in points[address_key(r)]) if got else None
            n += 1
            bad = house and err > HOUSE_TOL_M
            fp += bad
            if in_old_map(old, r, pt):
                present += 1
                present_house += house and not bad
                why = 'false precision' if bad else ''
            else:
                missing += 1
                ok = got is not None and (got[0] in COARSE or plain_of_suffixed(r['NUMBER'], got))
                miss_ok += ok
                why = '' if ok else 'missing, answered ' + (got[0] if got else 'NOMATCH')
                why += ' (false precision)' if bad else ''
            if det and why:
                det.write(f"{name}\t{why}\t{r['STREET']} {r['NUMBER']}, {r['POSTCODE']} {r['CITY']}\t"
                          f"{got[0] if got else 'NOMATCH'}\t{'' if err is None else round(err)}\t{got[2] if got else ''}\n")
        fpr = fp / max(1, n)
        print(f'{name}: n={n} false_precision={fpr:.4f} ({fp}) present_in_2024={present} '
              f'present_house_ok={present_house / max(1, present):.3f} missing={missing} '
              f'missing_coarse={miss_ok / max(1, missing):.4f} ({miss_ok})')
        if fpr > a.max_false_precision:
            print(f'THRESHOLD FAILED: {name} false precision {fpr:.4f} > {a.max_false_precision}')
            rc = 1
        if miss_ok < missing:
            print(f'THRESHOLD FAILED: {name}: {missing - miss_ok} missing addresses not answered at '
                  f'street, postcode or city level')
            rc = 1
    return rc


if __name__ == '__main__':
    sys.exit(main())
