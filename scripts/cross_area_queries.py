#!/usr/bin/env python3
"""cross_area_queries.py - queries that mix areas, to compare an index set with its merged index
(docs/scale.md, "Index sets"): for 150 addresses of each OpenAddresses file of the dev areas,
the street and number alone, with another area's postcode, with another area's town, the street
alone, a postcode with a town of another area, the postcode alone, the town alone; and every
street name found in two areas, alone and with the numbers 1 and 5. Deterministic (seed 5).

    scripts/cross_area_queries.py SHARED OUT.txt

OUT.txt is a HERE 6.2 input (recId|searchText). Compare, e.g.:
    geobatch geocode --index merged.gbx --maxresults=5 --outcols=... OUT.txt >m.txt
    geobatch geocode --index a.gbx --index b.gbx ... --maxresults=5 --outcols=... OUT.txt >s.txt
Standard library only.
"""
import collections
import csv
import random
import sys

FILES = ['li-liechtenstein-2026.csv', 'de-lauf-2020.csv', 'cz-prague-ne-2020.csv',
         'us-ca-san-francisco-excerpt.csv']


def main():
    shared, out = sys.argv[1], sys.argv[2]
    random.seed(5)
    by, rows = collections.defaultdict(set), {}
    for f in FILES:
        r = list(csv.DictReader(open(f'{shared}/data/openaddresses/{f}', encoding='utf-8')))
        rows[f] = r
        for x in r:
            by[x['STREET'].lower()].add(f)
    qs = []
    for f in FILES:
        for x in random.sample(rows[f], 150):
            y = random.choice(rows[random.choice(FILES)])
            qs += [f"{x['STREET']} {x['NUMBER']}", f"{x['STREET']} {x['NUMBER']}, {y['POSTCODE']}",
                   f"{x['STREET']} {x['NUMBER']}, {y['CITY']}", x['STREET'],
                   f"{y['POSTCODE']} {x['CITY']}", x['POSTCODE'], x['CITY']]
    for s in [s for s, v in by.items() if len(v) >= 2]:
        qs += [s, s + ' 1', s + ' 5']
    with open(out, 'w', encoding='utf-8') as fp:
        fp.write('recId|searchText\n')
        for i, q in enumerate(qs):
            fp.write(f'{i}|{q}\n')
    print(f'{out}: {len(qs)} queries')


if __name__ == '__main__':
    main()
