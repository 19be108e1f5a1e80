#!/usr/bin/env bash
# identical.sh BIN SHARED OUT - the refactoring check: builds one index per shared dataset (and
# the dev kit's combined index), geocodes every dev-kit query file with it, and writes one
# "sha256  name" line per index and per result to OUT/sums.txt. Two binaries that behave the same
# give the same sums.txt:  diff OLD/sums.txt NEW/sums.txt
set -euo pipefail
bin=${1:?usage: identical.sh BIN SHARED OUT}
shared=${2:?usage: identical.sh BIN SHARED OUT}
out=${3:?usage: identical.sh BIN SHARED OUT}
mkdir -p "$out/idx" "$out/res"
d=$shared/data
sets=()
for f in "$d"/osm/* "$d"/openaddresses/*.csv "$d"/tiger/*.csv "$d"/postcodes/*.json \
    "$d"/geonames/cities.json; do
    sets+=("$f")
done
for f in "${sets[@]}"; do
    n=$(basename "$f")
    "$bin" import -o "$out/idx/$n.gbx" "$f" >"$out/idx/$n.log" 2>&1 || echo "import failed: $n" >>"$out/idx/failed"
done
"$bin" import -o "$out/idx/dev.gbx" "$d/osm/liechtenstein-2026-03-29.osm.pbf" "$d/osm/lauf-2020-01-15.osm.pbf" \
    "$d/osm/prague-small-2020-01.osm.pbf" "$d/openaddresses/us-ca-san-francisco-excerpt.csv" >"$out/idx/dev.log" 2>&1
cols=displayLatitude,displayLongitude,locationLabel,street,houseNumber,postalCode,city,district,county,state,country,matchLevel,matchType,matchCode,relevance,seqNumber,seqLength
for area in "$shared"/eval/dev/*/; do
    a=$(basename "$area")
    for q in "$area"*.txt; do
        "$bin" geocode --index "$out/idx/dev.gbx" --indelim='|' --outdelim='|' --outcols=$cols \
            --outputcombined=true --header=true "$q" >"$out/res/$a-$(basename "$q")"
    done
done
(cd "$out" && sha256sum idx/*.gbx res/* ; cat idx/failed 2>/dev/null || true) >"$out/sums.txt"
wc -l <"$out/sums.txt"
