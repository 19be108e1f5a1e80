#!/usr/bin/env bash
# api_lookup.sh - /v1/lookup and 6.2 search.json?locationid= find every kind of answer again
# (address point, interpolated number, street, locality, postcode, country, area), on one index
# and on an index set whose second member answers (its area ids renumbered by the set): every
# item of every answer below, looked up by its id, is that item again (title, id, resultType,
# address, position, access, mapView); 6.2 gives the same Location and Address; ids that name
# nothing are 404 / an empty View.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init api_lookup
import_index "$T/li.gbx" "$LI_PBF"
import_index "$T/lauf.gbx" "$GB_SHARED/data/osm/lauf-2020-01-15.osm.pbf"
import_index "$T/mc.gbx" "$GB_SHARED/data/osm/nominatim-monaco-latest.osm.pbf"
make_data "$T/data" 'apikey KEYC'

check() { # LABEL QUERIES...: each query's items looked up again
    python3 - "$PORT" "$1" "${@:2}" <<'EOF'
import json, sys, urllib.parse, urllib.request

port, label, queries = sys.argv[1], sys.argv[2], sys.argv[3:]
H = f"http://127.0.0.1:{port}"

def get(path):
    try:
        with urllib.request.urlopen(H + path + "&apiKey=KEYC") as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)

KEEP = ("title", "id", "resultType", "houseNumberType", "localityType",
        "administrativeAreaType", "address", "position", "access", "mapView")
kinds, n = set(), 0
for q in queries:
    status, doc = get(q)
    assert status == 200 and doc.get("items"), f"{label}: {q}: {status} {doc}"
    for item in doc["items"]:
        st, again = get("/v1/lookup?id=" + urllib.parse.quote(item["id"]))
        want = {k: item[k] for k in KEEP if k in item}
        got = {k: again[k] for k in KEEP if k in again} if st == 200 else again
        assert st == 200 and got == want, f"{label}: {q}: lookup {item['id']}: {st}\n got  {got}\n want {want}"
        st, r62 = get("/6.2/search.json?locationid=" + urllib.parse.quote(item["id"]))
        res = r62["Response"]["View"][0]["Result"] if st == 200 and r62["Response"]["View"] else []
        assert len(res) == 1 and res[0]["Location"]["LocationId"] == item["id"] and \
            res[0]["Location"]["Address"]["Label"] == item["title"], f"{label}: 6.2 {item['id']}: {r62}"
        kinds.add(item["id"][0])
        n += 1
print(f"ok: {label}: {n} items found again, kinds {''.join(sorted(kinds))}")
EOF
}

LI_QUERIES=(
    "/v1/geocode?q=St%C3%A4dtle%201%2C%209490%20Vaduz&limit=5"
    "/v1/geocode?q=Landstrasse&limit=16"
    "/v1/geocode?q=9490&limit=3"
    "/v1/geocode?q=Vaduz&limit=5"
    "/v1/geocode?q=Schaan&limit=5"
    "/v1/geocode?q=Liechtenstein&limit=1"
    "/v1/autosuggest?q=Iradu&at=47.06,9.50&limit=5"
    "/v1/revgeocode?at=47.1412167,9.5212545&limit=5")
OTHER_QUERIES=(
    "/v1/geocode?q=Adam-Kraft-Stra%C3%9Fe%2015%2C%20Lauf&limit=3"
    "/v1/geocode?q=Ahornstra%C3%9Fe%2022%2C%20Lauf&limit=3"
    "/v1/geocode?q=Birkenstra%C3%9Fe%205%2C%20Lauf&limit=3"
    "/v1/geocode?q=Ahornstra%C3%9Fe%2C%20Lauf&limit=3"
    "/v1/geocode?q=91207&limit=3"
    "/v1/geocode?q=Lauf%20an%20der%20Pegnitz&limit=3"
    "/v1/revgeocode?at=49.5106,11.2779&limit=3"
    "/v1/geocode?q=Monaco&limit=3"
    "/v1/revgeocode?at=43.7384,7.4246&limit=3")

# ---- one index ----
serve "$T/li.gbx" "$T/data" "$T/serve.log" --log-level warn --rate 0
check "one index" "${LI_QUERIES[@]}" | tee "$T/out1"
grep -q 'kinds ACKPS' "$T/out1" || fail "one index: not every kind was checked: $(cat "$T/out1")"

# areas: 6.2 reversegeocode retrieveAreas answers 'R' ids
areas() { # PORT LAT,LON: the area id there, and the same result looked up again
    local id
    id=$(curl -s "http://127.0.0.1:$1/6.2/reversegeocode.json?prox=$2&mode=retrieveAreas&apiKey=KEYC" |
        sed -n 's/.*"LocationId":"\([^"]*\)".*/\1/p')
    case "$id" in R*) ;; *) fail "no area id at $2: [$id]" ;; esac
    a=$(curl -s "http://127.0.0.1:$1/6.2/reversegeocode.json?prox=$2&mode=retrieveAreas&apiKey=KEYC" |
        sed -E 's/.*"View":\[(.*)\]\}\}$/\1/; s/"Distance":[0-9.]+,//')
    b=$(curl -s "http://127.0.0.1:$1/6.2/search.json?locationid=$id&apiKey=KEYC" |
        sed -E 's/.*"View":\[(.*)\]\}\}$/\1/')
    expect_eq "$b" "$a" "area $id at $2 looked up again"
}
areas "$PORT" 47.1412167,9.5212545
areas "$PORT" 47.2385,9.5223

# ids that name nothing
for id in Sffffffff00000000 A80b52ccd00000001 I80b52ccd00009999 Cffffffff00000000 \
    Pffffffff00000000 K0000000000000000 K000fffff00000000 R0000000e00000099 R00ffffff00000008 \
    X80b52ccd00000000 S80b52ccd0000000 S80b52ccd000000000; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/lookup?id=$id&apiKey=KEYC")
    expect_eq "$code" 404 "lookup of $id"
    view=$(curl -s "http://127.0.0.1:$PORT/6.2/search.json?locationid=$id&apiKey=KEYC" | grep -o '"View":\[\]')
    expect_eq "$view" '"View":[]' "6.2 locationid $id"
done
stop_server
PORT=

# ---- an index set: Lauf and Monaco are the second and third members (their hashes, and
# Monaco's area ids renumbered after Liechtenstein's) ----
serve "$T/li.gbx" "$T/data" "$T/serve2.log" --index "$T/lauf.gbx" --index "$T/mc.gbx" \
    --log-level warn --rate 0
check "set, first member" "${LI_QUERIES[@]}" | tee "$T/out2"
grep -q 'kinds ACKPS' "$T/out2" || fail "set: not every kind was checked: $(cat "$T/out2")"
check "set, other members" "${OTHER_QUERIES[@]}" | tee "$T/out3"
grep -q 'kinds ACIKPS' "$T/out3" || fail "set, Lauf: not every kind was checked: $(cat "$T/out3")"
areas "$PORT" 47.1412167,9.5212545
areas "$PORT" 43.7384,7.4246
echo "ok: lookup"
