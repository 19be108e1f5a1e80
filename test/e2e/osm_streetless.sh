#!/usr/bin/env bash
# osm_streetless.sh - OSM objects with addr:housenumber but neither addr:street nor addr:place
# belong to the nearest named street within 100 m (import_osm_near.c), so they are found by
# address and by reverse geocoding. The objects and their nearest street are listed by an
# independent reader (tools/streetless.py, pyosmium, brute force), then:
#   - forward: "<street> <number>, <town>" (the town of the reverse answer) with the file's
#     country finds the object at house-number level within 25 m among its candidates;
#   - reverse: the object's point answers its number on that street.
# Files: the Liechtenstein extract (6 such objects of 12,559 numbered ones) and the Nominatim
# test extract (Liechtenstein 2021 and a corner of Alabama: 199 of 3,740, about 5 %).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init osm_streetless
"$GB_SRC/scripts/deps.sh" python3-pyosmium >&2
D=$GB_SHARED/data/osm
PY=/usr/bin/python3 # Debian's, where python3-pyosmium is

# check FILE CC WANT_OBJECTS WANT_WITH_STREET MIN_FOUND_PERMILLE
check() {
    local f=$1 cc=$2 want_n=$3 want_st=$4 min=$5 n st fwd rev
    local name
    name=$(basename "$f" .osm.pbf)
    "$PY" "$GB_SRC/test/e2e/tools/streetless.py" "$f" 100 >"$T/$name.obj"
    n=$(wc -l <"$T/$name.obj")
    st=$(awk -F'|' '$5 != ""' "$T/$name.obj" | wc -l)
    expect_eq "$n" "$want_n" "$name: numbered objects without a street"
    expect_eq "$st" "$want_st" "$name: of them with a named street within 100 m"
    "$GB_BIN" import --log-level warn -o "$T/$name.gbx" "$f" 2>"$T/err" || fail "import: $(cat "$T/err")"
    {
        echo "recId|prox"
        awk -F'|' '$5 != "" {printf "%d|%s,%s,30\n", NR, $2, $3}' "$T/$name.obj"
    } >"$T/$name.rev.in"
    "$GB_BIN" geocode --index "$T/$name.gbx" --mode=retrieveAddresses --maxresults=1 \
        --outcols=displayLatitude,displayLongitude,matchLevel,houseNumber,street,city \
        "$T/$name.rev.in" >"$T/$name.rev.out"
    # forward with the town, as an address is written (the town of the reverse answer): a
    # street name of several towns without one is answered ambiguous, not at a house
    {
        echo "recId|searchText|country"
        awk -F'|' -v cc="$cc" 'FNR == NR { if (FNR > 1) town[$1] = $9; next }
            $5 != "" {printf "%d|%s %s, %s|%s\n", FNR, $5, $4, town[FNR], cc}' \
            "$T/$name.rev.out" "$T/$name.obj"
    } >"$T/$name.fwd.in"
    "$GB_BIN" geocode --index "$T/$name.gbx" --maxresults=10 \
        --outcols=displayLatitude,displayLongitude,matchLevel,houseNumber,street \
        "$T/$name.fwd.in" >"$T/$name.fwd.out"
    # found: a houseNumber candidate of the object's number and street within 25 m of it
    read -r fwd rev < <(
        "$PY" - "$T/$name.obj" "$T/$name.fwd.out" "$T/$name.rev.out" <<'PY'
import math, sys
obj = {}
for i, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    oid, lat, lon, num, street, _ = line.rstrip("\n").split("|")
    if street:
        obj[str(i)] = (float(lat), float(lon), num, street)
def found(path):
    ok = set()
    for line in list(open(path, encoding="utf-8"))[1:]:
        f = line.rstrip("\n").split("|")
        if f[0] not in obj or f[5] != "houseNumber":
            continue
        lat, lon, num, street = obj[f[0]]
        d = math.hypot((float(f[3]) - lat) * 111195,
                       (float(f[4]) - lon) * 111195 * math.cos(math.radians(lat)))
        if d <= 25 and f[6].lower() == num.lower() and f[7] == street:
            ok.add(f[0])
    return len(ok)
print(found(sys.argv[2]), found(sys.argv[3]))
PY
    )
    echo "$name: $n without a street, $st with one within 100 m: found forward $fwd, reverse $rev"
    [ $((fwd * 1000)) -ge $((st * min)) ] || fail "$name: forward found $fwd of $st"
    [ $((rev * 1000)) -ge $((st * min)) ] || fail "$name: reverse found $rev of $st"
}

check "$D/liechtenstein-2026-03-29.osm.pbf" LIE 6 6 1000
check "$D/nominatim-apidb-test-2021.osm.pbf" LIE 199 197 950

# deterministic: the same index with 1 and 2 decoding threads
"$GB_BIN" import --log-level warn --threads 2 -o "$T/t2.gbx" "$D/nominatim-apidb-test-2021.osm.pbf"
cmp "$T/nominatim-apidb-test-2021.gbx" "$T/t2.gbx" || fail "1 and 2 threads differ"
echo "osm_streetless: ok"
