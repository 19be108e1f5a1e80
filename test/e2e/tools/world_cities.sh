#!/usr/bin/env bash
# world_cities.sh INDEX WORKDIR - test/cases/world_cities.tsv geocoded on INDEX (one result
# each, with `geobatch geocode`; GB_BIN and GB_SRC from the environment): every query must
# answer at city, district or postcode level in the expected country within 30 km of the
# expected centre. Prints the count right and every wrong answer; exit 1 if any is wrong.
set -euo pipefail
idx=${1:?usage: world_cities.sh INDEX WORKDIR}
dir=${2:?}
mkdir -p "$dir"
W=$GB_SRC/test/cases/world_cities.tsv
{
    echo "recId|searchText|country"
    grep -v '^#' "$W" | awk -F'\t' '{printf "%d|%s|%s\n", NR, $1, $2}'
} >"$dir/q.txt"
"$GB_BIN" geocode --index "$idx" --maxresults=1 \
    --outcols=displayLatitude,displayLongitude,matchLevel,country,city "$dir/q.txt" >"$dir/out.txt"
python3 - "$W" "$dir/out.txt" <<'PY'
import math, sys
want = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8") if not l.startswith("#")]
got = {}
for l in list(open(sys.argv[2], encoding="utf-8"))[1:]:
    f = l.rstrip("\n").split("|")
    got.setdefault(f[0], f)
bad = []
for i, (q, cc, wcc, lat, lon) in enumerate(want, 1):
    f = got.get(str(i))
    if not f or f[5] not in ("city", "district", "postalCode"):
        bad.append(f"{q!r} ({cc or 'no country'}): {f[5] if f else 'no row'}")
        continue
    lat, lon = float(lat), float(lon)
    d = math.hypot((float(f[3]) - lat) * 111.195,
                   (float(f[4]) - lon) * 111.195 * math.cos(math.radians(lat)))
    if f[6] != wcc or d > 30:
        bad.append(f"{q!r} ({cc or 'no country'}): {f[7]}, {f[6]} at {d:.0f} km, want {wcc}")
print(f"world cities: {len(want) - len(bad)} of {len(want)} right")
for b in bad:
    print("  wrong:", b)
sys.exit(1 if bad else 0)
PY
