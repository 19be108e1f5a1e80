#!/usr/bin/env python3
"""consist_realworld.py - real-world writing styles of postcodes, regions and towns, generated
from ../shared/data at test time (nothing copied), scored with the accuracy kit's score.py.

  consist_realworld.py GEOBATCH WORK_DIR

Two indexes: the dev areas (Liechtenstein 2026, Lauf, north-east Prague, San Francisco), and
Liechtenstein from its OpenAddresses file with the postcodes taken out (an index that has never
heard of 9490). The variants, 300 sampled addresses each (seed 1, addresses whose points lie
within 100 m of each other; the rules, never the records, decide what is written):

  pc_prefix       postcode after its country's prefix: "FL-9490 Vaduz", "D-91207", "DE-91207",
                  "CZ-190 00" (Czech written with its space)
  zip4            US ZIP+4, with a hyphen or a space: "CA 94103-0412", "CA 94103 0412"
  region          a US state or German Land after the town: "San Francisco, CA",
                  "San Francisco, California", "Lauf a.d.Pegnitz, Bayern", "..., BY"
  pc_absent       Liechtenstein addresses against the index without postcodes
  wrong_town      a Liechtenstein street with a town (and that town's postcode, or none) where no
                  street of that name is: the answer must be that postcode or town, never a
                  house (kind bad_street of score.py: expected level postalCode or city)
  pc_absent_town  "9490 Vaduz" against the index without postcodes: the town (city level)

Thresholds (exit 1 when one fails): every positive variant within25 >= 0.95, wrong_town and
pc_absent_town level_acc >= 0.95, overall false precision <= 0.002.
"""
import collections
import csv
import math
import os
import random
import re
import subprocess
import sys
import unicodedata

N = 300
SEED = 1
VARIANTS_POS = ('pc_prefix', 'zip4', 'region', 'pc_absent')


def fold(s):
    s = unicodedata.normalize('NFKD', s or '').lower().replace('ß', 'ss')
    return re.sub(r'[^0-9a-z]', '', ''.join(c for c in s if not unicodedata.combining(c)))


def dist_m(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def addresses(path):
    """(street, number, postcode, city) -> points, for rows that have all four."""
    out = collections.OrderedDict()
    with open(path, encoding='utf-8') as f:
        for r in csv.DictReader(f):
            if r['STREET'] and r['NUMBER'] and r['POSTCODE'] and r['CITY'] and not r['UNIT']:
                out.setdefault((r['STREET'], r['NUMBER'], r['POSTCODE'], r['CITY']), []).append(
                    (float(r['LAT']), float(r['LON'])))
    return [(k, v) for k, v in out.items() if all(dist_m(v[0], p) <= 100 for p in v)]


def sample(rng, items, n=N):
    return rng.sample(items, min(n, len(items)))


def title(s):
    return ' '.join(w.capitalize() for w in s.split())


class Writer:
    def __init__(self, work):
        self.work = work
        self.files = {}
        self.truth = []

    def add(self, index, variant, kind, query, pts, level):
        key = (index, variant)
        if key not in self.files:
            self.files[key] = []
        rid = f'{variant}-{len(self.files[key]):05d}'
        self.files[key].append((rid, query))
        self.truth.append(dict(recId=rid, variant=variant, kind=kind, query=query,
                               expected_points=';'.join(f'{a:.7f},{b:.7f}' for a, b in pts),
                               expected_level=level, street_bbox=''))

    def write(self):
        for (index, variant), rows in self.files.items():
            with open(os.path.join(self.work, f'{index}.{variant}.txt'), 'w', encoding='utf-8') as f:
                f.write('recId|searchText\n')
                for rid, q in rows:
                    f.write(f'{rid}|{q}\n')
        with open(os.path.join(self.work, 'truth.tsv'), 'w', encoding='utf-8', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(self.truth[0]), delimiter='\t', lineterminator='\n')
            w.writeheader()
            w.writerows(self.truth)


def generate(data, work):
    rng = random.Random(SEED)
    oa = os.path.join(data, 'openaddresses')
    li = addresses(os.path.join(oa, 'li-liechtenstein-2026.csv'))
    lauf = addresses(os.path.join(oa, 'de-lauf-2020.csv'))
    prague = addresses(os.path.join(oa, 'cz-prague-ne-2020.csv'))
    sf = addresses(os.path.join(oa, 'us-ca-san-francisco-excerpt.csv'))
    w = Writer(work)
    # pc_prefix
    for (st, hn, pc, city), pts in sample(rng, li, N // 3):
        w.add('dev', 'pc_prefix', 'pos', f'{st} {hn}, FL-{pc} {city}', pts, 'houseNumber')
    for i, ((st, hn, pc, city), pts) in enumerate(sample(rng, lauf, N // 3)):
        w.add('dev', 'pc_prefix', 'pos', f'{st} {hn}, {"D" if i % 2 else "DE"}-{pc} {city}', pts, 'houseNumber')
    for (st, hn, pc, city), pts in sample(rng, prague, N // 3):
        w.add('dev', 'pc_prefix', 'pos', f'{st} {hn}, CZ-{pc[:3]} {pc[3:]} {city}', pts, 'houseNumber')
    # zip4
    for i, ((st, hn, pc, city), pts) in enumerate(sample(rng, sf)):
        plus4 = f'{rng.randrange(10000):04d}'
        sep = '-' if i % 2 else ' '
        w.add('dev', 'zip4', 'pos', f'{hn} {title(st)}, {title(city)}, CA {pc}{sep}{plus4}', pts, 'houseNumber')
    # region
    for i, ((st, hn, pc, city), pts) in enumerate(sample(rng, sf, N // 2)):
        w.add('dev', 'region', 'pos', f'{hn} {title(st)}, {title(city)}, {"California" if i % 2 else "CA"}', pts,
              'houseNumber')
    for i, ((st, hn, pc, city), pts) in enumerate(sample(rng, lauf, N // 2)):
        w.add('dev', 'region', 'pos', f'{st} {hn}, {city}, {"Bayern" if i % 2 else "BY"}', pts, 'houseNumber')
    # pc_absent: the index without postcodes
    for (st, hn, pc, city), pts in sample(rng, li):
        w.add('nopc', 'pc_absent', 'pos', f'{st} {hn}, {pc} {city}', pts, 'houseNumber')
    # towns of Liechtenstein: their postcodes, streets and address points
    town_pc = collections.defaultdict(collections.Counter)
    town_streets = collections.defaultdict(set)
    town_pts = collections.defaultdict(list)
    street_pts = collections.defaultdict(list)
    for (st, hn, pc, city), pts in li:
        town_pc[city][pc] += 1
        town_streets[city].add(fold(st))
        town_pts[city].extend(pts)
        street_pts[fold(st)].extend(pts)
    towns = sorted(t for t in town_pc if len(town_pts[t]) >= 50)
    for (st, hn, pc, city), pts in sample(rng, li):
        # a town with no street of that name, and none of that name within 1.5 km of it
        far = [t for t in towns if fold(st) not in town_streets[t] and
               min(dist_m(a, b) for a in street_pts[fold(st)][::3] for b in town_pts[t][::7]) > 1500]
        if not far:
            continue
        t = rng.choice(far)
        tpc = town_pc[t].most_common(1)[0][0]
        q = f'{st} {hn}, {tpc} {t}' if rng.random() < 0.5 else f'{st} {hn}, {t}'
        w.add('dev', 'wrong_town', 'bad_street', q, [], 'postalCode,city')
    for t in towns:
        for pc, _ in town_pc[t].most_common(2):
            w.add('nopc', 'pc_absent_town', 'bad_street', f'{pc} {t}', [], 'city')
    w.write()
    return li


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    gb, work = sys.argv[1], sys.argv[2]
    shared = os.environ.get('GB_SHARED', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../../shared'))
    data = os.path.join(shared, 'data')
    os.makedirs(work, exist_ok=True)
    generate(data, work)
    # the index without postcodes: the Liechtenstein OpenAddresses file with POSTCODE emptied
    nopc_csv = os.path.join(work, 'li-nopc.csv')
    with open(os.path.join(data, 'openaddresses/li-liechtenstein-2026.csv'), encoding='utf-8') as f, \
            open(nopc_csv, 'w', encoding='utf-8', newline='') as g:
        rd = csv.DictReader(f)
        wr = csv.DictWriter(g, fieldnames=rd.fieldnames, lineterminator='\n')
        wr.writeheader()
        for r in rd:
            r['POSTCODE'] = ''
            wr.writerow(r)
    idx = {'dev': os.path.join(work, 'dev.gbx'), 'nopc': os.path.join(work, 'nopc.gbx')}
    srcs = {'dev': [os.path.join(data, p) for p in ('osm/liechtenstein-2026-03-29.osm.pbf', 'osm/lauf-2020-01-15.osm.pbf',
                                                    'osm/prague-small-2020-01.osm.pbf',
                                                    'openaddresses/us-ca-san-francisco-excerpt.csv')],
            'nopc': [nopc_csv]}
    try:
        for k in idx:
            subprocess.run([gb, 'import', '-o', idx[k]] + srcs[k], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
        results = []
        for name in sorted(os.listdir(work)):
            if not name.endswith('.txt') or name.count('.') != 2:
                continue
            ix = name.split('.')[0]
            out = os.path.join(work, 'results', name)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, 'w') as f:
                subprocess.run([gb, 'geocode', '--index', idx[ix], '--indelim=|', '--outdelim=|',
                                '--outcols=displayLatitude,displayLongitude,matchLevel,matchType,relevance',
                                '--outputcombined=true', '--header=true', os.path.join(work, name)],
                               stdout=f, stderr=subprocess.DEVNULL, check=True)
            results.append(out)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f'geobatch failed: {e}')
        return 2
    args = [sys.executable, os.path.join(shared, 'eval/score.py'), '--truth', os.path.join(work, 'truth.tsv'),
            '--details', os.path.join(work, 'details.tsv'), '--result'] + results
    for v in VARIANTS_POS:
        args += ['--min', f'{v}.within25=0.95']
    args += ['--min', 'wrong_town.level_acc=0.95', '--min', 'pc_absent_town.level_acc=0.95',
             '--max', 'overall.false_precision=0.002']
    return subprocess.run(args).returncode


if __name__ == '__main__':
    sys.exit(main())
