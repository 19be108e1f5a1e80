#!/usr/bin/env bash
# index_set.sh - several indexes served as one, on the real data: the four dev areas
# (Liechtenstein, Lauf, north-east Prague from OSM, San Francisco from OpenAddresses), each
# imported alone, given to `geobatch geocode` as four --index options and as a directory,
# answer every query of the accuracy kit (../shared/eval/dev, 21,000 queries, three candidates
# each, every column that a set could get wrong, locationId included) with the very lines of
# the merged index (each names its country, so each is asked of one member); without their
# country too (every member may be asked; the merged index of four countries reads a query in
# the languages of the country whose street it names, as each member reads its own), and a
# query that gives its postcode and town is asked of the one member that knows them (--stats'
# indexes_asked_per_row); so do 4,215 queries that mix the areas on six members (the four,
# the US ZIP centroids and GeoNames' cities). Reverse geocoding (addresses and areas)
# around real addresses gives the merged index's lines too. A
# job run by `geobatch serve --index DIR` gives the same bytes as the CLI. Replacing one
# member's file changes only that member's answers. Bad --index values are refused.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init index_set
D=$GB_SHARED/data
mkdir "$T/set"
imp() { "$GB_BIN" import --log-level error -o "$@" 2>/dev/null; }
imp "$T/set/1-li.gbx" "$D/osm/liechtenstein-2026-03-29.osm.pbf"
imp "$T/set/2-lauf.gbx" "$D/osm/lauf-2020-01-15.osm.pbf"
imp "$T/set/3-prague.gbx" "$D/osm/prague-small-2020-01.osm.pbf"
imp "$T/set/4-sf.gbx" "$D/openaddresses/us-ca-san-francisco-excerpt.csv"
"$GB_BIN" merge --log-level error -o "$T/merged.gbx" "$T"/set/*.gbx
MEMBERS=(--index "$T/set/1-li.gbx" --index "$T/set/2-lauf.gbx" --index "$T/set/3-prague.gbx"
    --index "$T/set/4-sf.gbx")
COLS=displayLatitude,displayLongitude,matchLevel,matchType,matchCode,relevance,houseNumber,street,district,city,postalCode,county,state,country,locationLabel,locationId,mapViewTopLeftLatitude,mapViewBottomRightLongitude,matchQualityCountry,matchQualityCity,matchQualityStreet,matchQualityHouseNumber,matchQualityPostalCode
geo() { "$GB_BIN" geocode --indelim='|' --outdelim='|' --outcols=$COLS --maxresults=3 "$@"; }

# ---- the accuracy kit's queries: set (options, directory) and merged index, line for line ----
QFILES=("$GB_SHARED"/eval/dev/*/*.txt)
MIN_LINES=21000
if [ -n "${GB_ASAN:-}" ]; then # the sanitizers' run: three query files of each area
    QFILES=("$GB_SHARED"/eval/dev/*/{struct_clean,free_typo,neg_bad_street}.txt)
    MIN_LINES=4000
fi
n=0
for q in "${QFILES[@]}"; do
    name=$(basename "$(dirname "$q")")-$(basename "$q")
    geo --index "$T/merged.gbx" "$q" >"$T/m-$name"
    geo "${MEMBERS[@]}" "$q" >"$T/s-$name"
    cmp -s "$T/m-$name" "$T/s-$name" ||
        { diff "$T/m-$name" "$T/s-$name" | head -6 >&2; fail "$name: the set differs from the merged index"; }
    n=$((n + $(wc -l <"$T/m-$name") - 1))
done
[ "$n" -gt "$MIN_LINES" ] || fail "only $n result lines"
q=$GB_SHARED/eval/dev/liechtenstein/free_typo.txt
geo --index "$T/set" "$q" | cmp -s - "$T/m-liechtenstein-free_typo.txt" || fail "--index DIR differs"
# a set is more than one member answering: the merged index finds each area's addresses
grep -q '|DEU|' "$T/m-lauf-struct_clean.txt" && grep -q '|LIE|' "$T/m-liechtenstein-struct_clean.txt" ||
    fail "the merged index lacks an area"

# ---- the same queries without their country: the very lines of the merged index ----
lines=0
for q in "${QFILES[@]}"; do
    name=$(basename "$(dirname "$q")")-$(basename "$q")
    python3 -c 'import sys
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    f = l.rstrip("\n").split("|")
    print("|".join(f[:-1]))' "$q" >"$T/nc-$name"
    geo --index "$T/merged.gbx" "$T/nc-$name" >"$T/ncm-$name"
    geo "${MEMBERS[@]}" "$T/nc-$name" >"$T/ncs-$name"
    cmp -s "$T/ncm-$name" "$T/ncs-$name" ||
        { diff "$T/ncm-$name" "$T/ncs-$name" | head -6 >&2; fail "$name without its country: the set differs"; }
    lines=$((lines + $(wc -l <"$T/ncm-$name")))
done
[ "$lines" -gt "$MIN_LINES" ] || fail "only $lines answer lines without a country"
# ... those that give their postcode and town are asked of the one member that knows them
# (geocode --stats counts the members asked); a misspelt street costs more, nothing narrows a
# street that is nowhere
asked() {
    "$GB_BIN" geocode "${MEMBERS[@]}" --stats --indelim='|' --outdelim='|' \
        --outcols=displayLatitude "$1" 2>&1 >/dev/null |
        sed -n 's/.*indexes_asked_per_row=\([0-9.]*\).*/\1/p'
}
for f in "$T"/nc-*-free_clean.txt "$T"/nc-*-struct_clean.txt; do
    [ -e "$f" ] || continue # the sanitizers' run has no free_clean
    [ "$(asked "$f")" = 1.00 ] || fail "$(basename "$f"): $(asked "$f") members a query"
done
# (2.11 before a swap that makes a digraph was searched for: more misspelt streets are found in
# the member that has them before the others are asked)
[ "$(asked "$T/nc-liechtenstein-free_typo.txt")" = 2.06 ] || fail "free_typo: $(asked "$T/nc-liechtenstein-free_typo.txt") members a query"

# ---- queries that mix the areas, on six members: the very lines of their merged index ----
# (a street of one area with another's postcode or town, names in several areas; with the US
# ZIP centroids and GeoNames' cities as members too: docs/scale.md, "Members read a query as
# one index over the set reads it")
imp "$T/zip.gbx" "$D/postcodes/us-zcta-2021-centroids.json"
imp "$T/gn.gbx" "$D/geonames/cities.json"
SIX=("${MEMBERS[@]}" --index "$T/zip.gbx" --index "$T/gn.gbx")
"$GB_BIN" merge --log-level error -o "$T/merged6.gbx" "$T"/set/*.gbx "$T/zip.gbx" "$T/gn.gbx"
python3 "$GB_SRC/scripts/cross_area_queries.py" "$GB_SHARED" "$T/cross.txt" >/dev/null
geo --maxresults=5 --index "$T/merged6.gbx" "$T/cross.txt" >"$T/cross-m"
geo --maxresults=5 "${SIX[@]}" "$T/cross.txt" >"$T/cross-s"
cmp -s "$T/cross-m" "$T/cross-s" ||
    { diff "$T/cross-m" "$T/cross-s" | head -6 >&2; fail "cross-area queries: the set differs"; }
[ "$(wc -l <"$T/cross-m")" -gt 4215 ] || fail "only $(wc -l <"$T/cross-m") cross-area lines"

# ---- reverse geocoding, addresses and areas, around real addresses and far from them ----
python3 - "$D/openaddresses" "$T/rev.txt" <<'PY'
import csv, random, sys
random.seed(7)
rows = []
for f in ['li-liechtenstein-2026.csv', 'de-lauf-2020.csv', 'cz-prague-ne-2020.csv',
          'us-ca-san-francisco-excerpt.csv']:
    r = list(csv.DictReader(open(f'{sys.argv[1]}/{f}', encoding='utf-8')))
    rows += [(float(x['LAT']) + random.uniform(-.002, .002), float(x['LON']) + random.uniform(-.002, .002))
             for x in random.sample(r, 250)]
rows += [(47.0, 9.0), (0.0, 0.0), (50.0, 14.0), (49.5, 11.3), (47.14, 9.52)]
with open(sys.argv[2], 'w') as f:
    f.write('recId|prox\n')
    for i, (a, b) in enumerate(rows):
        f.write(f'{i}|{a:.6f},{b:.6f},{[50, 250, 1000][i % 3]}\n')
PY
for mode in retrieveAddresses retrieveAreas; do
    geo --index "$T/merged.gbx" --mode=$mode --maxresults=4 --outcols=$COLS,distance "$T/rev.txt" >"$T/rm-$mode"
    geo "${MEMBERS[@]}" --mode=$mode --maxresults=4 --outcols=$COLS,distance "$T/rev.txt" >"$T/rs-$mode"
    cmp -s "$T/rm-$mode" "$T/rs-$mode" ||
        { diff "$T/rm-$mode" "$T/rs-$mode" | head -6 >&2; fail "reverse $mode: the set differs"; }
done
grep -q '|houseNumber|' "$T/rm-retrieveAddresses" || fail "no reverse address answer"

# ---- a routed query: a country named is asked of its member only ----
"$GB_BIN" geocode "${MEMBERS[@]}" --query "Floraweg 13, 9490 Vaduz, Liechtenstein" >"$T/q.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["houseNumber"]=="13" and d[0]["country"]=="LIE", d' "$T/q.json"

# ---- the server: a job over the directory gives the CLI's bytes ----
make_data "$T/data" "appA codeA"
q=$GB_SHARED/eval/dev/lauf/free_typo.txt
serve "$T/set" "$T/data" "$T/serve.log" --workers 2
grep -q 'index set members=4' "$T/serve.log" || fail "serve did not open the set: $(tail -2 "$T/serve.log")"
P="indelim=%7C&outdelim=%7C&outcols=$COLS&maxresults=3"
ID=$(curl -s -X POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$q" | field RequestId)
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "no job id"
wait_state "$ID" completed
curl -s -o "$T/r.zip" "$BASE/jobs/$ID/result?$A"
unzip -p "$T/r.zip" '*_out.txt' | cmp - "$T/m-lauf-free_typo.txt" || fail "the server's result differs"
stop_server

# ---- replacing one member changes only its answers ----
imp "$T/set/2-lauf.gbx" "$D/osm/nominatim-monaco-latest.osm.pbf" # Lauf out, Monaco in
geo --index "$T/set" "$GB_SHARED/eval/dev/liechtenstein/free_typo.txt" |
    cmp -s - "$T/m-liechtenstein-free_typo.txt" || fail "another member's answers changed"
geo --index "$T/set" "$GB_SHARED/eval/dev/lauf/struct_clean.txt" >"$T/lauf-gone"
grep -q '|DEU|' "$T/lauf-gone" && fail "Lauf still answers after its member was replaced"

# ---- refusals: a missing index, an empty directory, a corrupt member ----
mkdir "$T/empty"
set +e
geo --index "$T/set" --index "$T/nope.gbx" "$q" >/dev/null 2>"$T/e1"; rc1=$?
geo --index "$T/empty" "$q" >/dev/null 2>"$T/e2"; rc2=$?
set -e
expect_eq "$rc1" 1 "a missing member"
grep -qF "$T/nope.gbx" "$T/e1" || fail "missing member message: $(cat "$T/e1")"
expect_eq "$rc2" 1 "an empty directory"
grep -qF "$T/empty: no index (*.gbx) in the directory" "$T/e2" || fail "empty dir message: $(cat "$T/e2")"
echo "ok"
