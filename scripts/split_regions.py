#!/usr/bin/env python3
"""split_regions.py - one country's generated addresses as K regions, to serve as an index set
(docs/scale.md, "Queries without a country"): each `XX-scale.csv` of a `gen_zipf.py` output
directory is written as K files `XX-rNN.csv`, a row going to the region of its town's (else
its postcode's) CRC-32, so that a town's addresses stay together and a postcode that spans
towns may be in several regions, as in a real country cut into parts.

    scripts/split_regions.py GEN_DIR OUT_DIR K
    for f in OUT_DIR/*.csv; do geobatch import -o REGIONS/$(basename $f .csv).gbx $f; done
    geobatch geocode --index REGIONS queries-without-country.txt

Standard library only.
"""
import csv
import os
import sys
import zlib


def main():
    src, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(src)):
        if not name.endswith('-scale.csv'):
            continue
        cc = name.split('-')[0]
        with open(os.path.join(src, name), newline='', encoding='utf-8') as fp:
            rows = csv.reader(fp)
            header = next(rows)
            city, postcode = header.index('CITY'), header.index('POSTCODE')
            files = [open(os.path.join(out, f'{cc}-r{i:02d}.csv'), 'w', newline='',
                          encoding='utf-8') for i in range(k)]
            writers = [csv.writer(f) for f in files]
            for w in writers:
                w.writerow(header)
            for row in rows:
                key = row[city] or row[postcode]
                writers[zlib.crc32(key.encode()) % k].writerow(row)
            for f in files:
                f.close()


if __name__ == '__main__':
    main()
