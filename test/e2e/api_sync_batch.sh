#!/usr/bin/env bash
# api_sync_batch.sh - the single-address answer is the batch answer: every query of the dev kit
# (../shared/eval/dev/*/*.txt, free text and structured, positives and negatives) goes to
# /6.2/geocode.json of a real server (maxresults=1, as a job's default) and through
# `geobatch geocode` on the same index; position, label, level, type, relevance and locationId
# must be equal row for row, and a NOMATCH or FAILED row must be an empty View. Under ASan the
# first 150 rows of each file.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init api_sync_batch
data="$GB_SHARED/data"
"$GB_BIN" import -o "$T/dev.gbx" "$data/osm/liechtenstein-2026-03-29.osm.pbf" \
    "$data/osm/lauf-2020-01-15.osm.pbf" "$data/osm/prague-small-2020-01.osm.pbf" \
    "$data/openaddresses/us-ca-san-francisco-excerpt.csv" 2>/dev/null
make_data "$T/data" 'apikey KEYC'
serve "$T/dev.gbx" "$T/data" "$T/serve.log" --log-level warn --rate 0
rows=${GB_ASAN:+150}
cols=displayLatitude,displayLongitude,locationLabel,matchLevel,matchType,relevance,locationId
n=0
for q in "$GB_SHARED"/eval/dev/*/*.txt; do
    f="$T/$(basename "$(dirname "$q")")_$(basename "$q")"
    if [ -n "$rows" ]; then head -n $((rows + 1)) "$q" >"$f.in"; else cp "$q" "$f.in"; fi
    "$GB_BIN" geocode --index "$T/dev.gbx" --indelim='|' --outdelim='|' --outcols=$cols \
        --header=true "$f.in" >"$f.batch" 2>/dev/null
    python3 - "$PORT" "$f.in" "$f.batch" <<'PY' || fail "single answers differ from batch answers for $q"
import http.client, json, sys, urllib.parse
port, qfile, bfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
names = {"searchtext": "searchtext", "street": "street", "housenumber": "housenumber",
         "postalcode": "postalcode", "city": "city", "district": "district", "county": "county",
         "state": "state", "country": "country"}
lines = open(qfile, encoding="utf-8").read().splitlines()
head = lines[0].split("|")
batch = {}
bl = open(bfile, encoding="utf-8").read().splitlines()
bh = bl[0].split("|")
for l in bl[1:]:
    r = dict(zip(bh, l.split("|")))
    batch[r["recId"]] = r
conn = http.client.HTTPConnection("127.0.0.1", port)
bad = 0
for l in lines[1:]:
    f = dict(zip(head, l.split("|")))
    params = {"apiKey": "KEYC", "maxresults": "1"}
    for k, v in f.items():
        if k.lower() in names and v:
            params[names[k.lower()]] = v
    conn.request("GET", "/6.2/geocode.json?" + urllib.parse.urlencode(params))
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    b = batch[f["recId"]]
    view = doc["Response"]["View"]
    if b["matchLevel"] in ("NOMATCH", "FAILED"):
        ok = resp.status == 200 and view == []
        got = view
    else:
        r = view[0]["Result"][0] if view else None
        loc = r and r["Location"]
        got = r and (loc["DisplayPosition"]["Latitude"], loc["DisplayPosition"]["Longitude"],
                     loc["Address"]["Label"], r["MatchLevel"], r.get("MatchType", ""),
                     r["Relevance"], loc["LocationId"])
        want = (float(b["displayLatitude"]), float(b["displayLongitude"]), b["locationLabel"],
                b["matchLevel"], b["matchType"], float(b["relevance"]), b["locationId"])
        ok = resp.status == 200 and len(view[0]["Result"]) == 1 and got == want
    if not ok:
        bad += 1
        if bad <= 5:
            print("DIFF", f["recId"], l, "batch:", b, "single:", got, file=sys.stderr)
print(f"{qfile}: {len(lines) - 1} rows, {bad} differ")
sys.exit(1 if bad else 0)
PY
    n=$((n + $(wc -l <"$f.in") - 1))
done
echo "ok: $n single-address answers equal the batch answers"
