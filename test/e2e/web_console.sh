#!/usr/bin/env bash
# web_console.sh - the web console (/console, console/ in the tree) end to end: its files as
# built into the binary (bytes, content types, gzip, the Content-Security-Policy), the long
# polling endpoint it watches jobs with (/6.2/jobs/{id}/progress), then headless Chromium
# (Debian's chromium, driven by playwright-core pinned in tools/console/package-lock.json and
# installed into the build directory) against a real `geobatch serve` on the Liechtenstein OSM
# extract: tools/console/console_e2e.js signs in (a wrong credential first), uploads 10,000 rows
# and an invalid line,
# watches progress reach 100 %, compares the table, the summary and the download with
# `geobatch geocode`, cancels and deletes a job, and checks that a cell holding HTML is shown
# as text, that nothing else ran, and that the console logged no error; pages through the table
# (first, next, last: each page geocode's lines); types part of a street in the search box and
# compares the suggestions with curl's /v1/autosuggest, chooses one with the keyboard and compares
# the answer with curl's /v1/geocode, and types HTML there too. Screenshots go to
# $BUILD/console-shots/.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init web_console
BUILD=$(dirname "$GB_TMP")
SHOTS="$BUILD/console-shots"
NODE_DIR="$BUILD/console-e2e"
TOOLS="$GB_SRC/test/e2e/tools/console"

# ---- the browser and its driver (Chromium from Debian, playwright-core from npm, pinned) ----
console_driver "$NODE_DIR" "$TOOLS"

# ---- an index, 10,000 rows, and what `geobatch geocode` makes of them ----
import_index "$T/li.gbx" "$LI_PBF"
XSS='<img src=x onerror=alert(1)>'
python3 - "$LI_CSV" "$T/upload.csv" "$XSS" <<'PY'
import csv, sys
src, out, xss = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.DictReader(open(src, encoding="utf-8")))
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["Id", "Street", "Number", "Postcode", "City", "Country", "Note"])
    for i in range(10000):
        r = rows[i % len(rows)]
        rid, street = f"r{i + 1}", r["STREET"]
        if i == 4:
            rid, street = xss, xss
        w.writerow([rid, street, r["NUMBER"], r["POSTCODE"], r["CITY"], "LIE", f"note {i}"])
        if i == 99:
            f.write('bad,"open quote,x\n')  # an invalid line: it goes to the errors file
PY
[ "$(wc -l <"$T/upload.csv")" -eq 10002 ] || fail "upload.csv rows"
# what the console sends: its header line (the guessed mapping), then the file's other lines
OUTCOLS=displayLatitude,displayLongitude,locationLabel,houseNumber,street,city,postalCode,country,relevance,matchLevel,matchType
{
    echo 'recId,street,houseNumber,postalCode,city,country,'
    tail -n +2 "$T/upload.csv"
} >"$T/sent.csv"
"$GB_BIN" geocode --index "$T/li.gbx" --indelim=, --outdelim='|' --outcols=$OUTCOLS \
    --outputcombined=true --header=true --allowunknowninputcolumns=true --errors="$T/ref_errors.txt" \
    "$T/sent.csv" >"$T/ref.txt" 2>/dev/null
[ "$(cat "$T/ref_errors.txt")" == 'Line Number:102 bad,"open quote,x' ] || fail "reference errors"

# (a few rows without postcode or city have several answers: one line each)
[ "$(awk -F'|' 'NR > 1 && $2 <= 1' "$T/ref.txt" | wc -l)" -eq 10000 ] || fail "reference rows"

make_data "$T/data" "appA codeA" "apikey consolekey1"
serve "$T/li.gbx" "$T/data" "$T/serve.log" --chunk-rows 1000 --workers 1
HOST="http://127.0.0.1:$PORT"

# ---- the console's files: the bytes of console/, with their types and the headers ----
for f in index.html console.js console.css; do
    curl -s -D "$T/h" -o "$T/body" "$HOST/console/$f"
    cmp -s "$T/body" "$GB_SRC/console/$f" || fail "/console/$f differs from console/$f"
    grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self';" "$T/h" ||
        fail "/console/$f: no strict CSP"
    grep -qi '^X-Content-Type-Options: nosniff' "$T/h" || fail "/console/$f: no nosniff"
    grep -qi '^Content-Encoding' "$T/h" && fail "/console/$f: encoded for a client without gzip"
    curl -s -H 'Accept-Encoding: gzip, deflate' -D "$T/hz" -o "$T/body.gz" "$HOST/console/$f"
    grep -qi '^Content-Encoding: gzip' "$T/hz" || fail "/console/$f: not gzipped"
    gzip -dc "$T/body.gz" | cmp -s - "$GB_SRC/console/$f" || fail "/console/$f: gzip bytes"
done
curl -s -D "$T/h" -o "$T/body" -H 'Accept-Encoding: gzip;q=0' "$HOST/console"
cmp -s "$T/body" "$GB_SRC/console/index.html" || fail "/console is not index.html (or gzip;q=0 ignored)"
grep -qi '^Content-Type: text/html; charset=utf-8' "$T/h" || fail "/console content type"
expect_eq "$(curl -s -o /dev/null -w '%{content_type}' "$HOST/console/console.js")" \
    "text/javascript; charset=utf-8" "console.js content type"
expect_eq "$(curl -s -o /dev/null -w '%{content_type}' "$HOST/console/console.css")" \
    "text/css; charset=utf-8" "console.css content type"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$HOST/console/nope.js")" 404 "unknown file"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$HOST/console/..%2Fcredentials")" 404 "traversal"
# no inline script or style anywhere in the page (the CSP would block it)
grep -Eq '<script>|<script [^>]*>[^<]|<style| style=| on[a-z]+=' "$GB_SRC/console/index.html" &&
    fail "inline script or style in index.html"
grep -q 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write\|eval(' "$GB_SRC/console/console.js" &&
    fail "console.js writes HTML"

# ---- long polling: /progress answers at once on a change, waits while nothing changes ----
printf 'recId|searchText\n1|Floraweg 13 Vaduz\n' >"$T/one.txt"
id=$(curl -s --data-binary @"$T/one.txt" "$BASE/jobs?$A&outcols=matchLevel" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "upload: $id"
curl -s "$BASE/jobs/$id/progress?$A" | field Status | grep -qx submitted || fail "progress without a state"
curl -s "$BASE/jobs/$id/progress?$A&status=accepted&processed=0" | field Status | grep -qx submitted ||
    fail "progress after a state change"
# the same state: the request waits its `wait` seconds and answers the same document
t=$(curl -s -o "$T/same.xml" -w '%{time_total}' "$BASE/jobs/$id/progress?$A&status=submitted&processed=0&wait=1")
field Status <"$T/same.xml" | grep -qx submitted || fail "long poll without a change: $(cat "$T/same.xml")"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 0.95 else 1)' "$t" ||
    fail "the long poll answered after $t s without a change"
# a change ends the wait: the cancel below answers a poll that waits up to 10 s (or, when the
# cancel comes first, the poll sees the change at once)
curl -s -o "$T/poll.xml" -w '%{time_total}' "$BASE/jobs/$id/progress.json?$A&status=submitted&processed=0&wait=10" >"$T/poll.time" &
poll=$!
curl -s -X PUT "$BASE/jobs/$id?$A&action=cancel" | field Status | grep -qx cancelled || fail "cancel"
wait "$poll"
grep -q '"Status":"cancelled"' "$T/poll.xml" || fail "long poll answer: $(cat "$T/poll.xml")"
python3 -c 'import sys; sys.exit(0 if float(open(sys.argv[1]).read()) < 9.5 else 1)' "$T/poll.time" ||
    fail "the long poll waited its whole time after a change"
s=$(curl -s -w ' %{http_code}' "$BASE/jobs/$id/progress?$A&status=cancelled&processed=0&wait=10")
[[ "$s" == *"<Status>cancelled</Status>"*" 200" ]] || fail "final state: $s"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$id/progress?$A&wait=11")" 400 "wait > 10"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$id/progress?$B")" 401 "other credentials"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$id/progress")" 401 "no credentials"
curl -s -X DELETE "$BASE/jobs/$id?$A" >/dev/null

# ---- the map's outlines: /6.2/geometry.json ----
G="$BASE/geometry.json?$A&bbox=47.135,9.515,47.145,9.53"
curl -s "$G" >"$T/geom.json"
curl -s "$G" | cmp -s - "$T/geom.json" || fail "geometry differs between two calls"
python3 - "$T/geom.json" <<'PY' || fail "geometry of central Vaduz"
import json, sys
d = json.load(open(sys.argv[1]))
names = sorted(a["name"] for a in d["areas"])
assert {"Liechtenstein", "Vaduz"} <= set(names), names
assert [a["rank"] for a in d["areas"] if a["name"] == "Liechtenstein"] == [2]
streets = {s["name"] for s in d["streets"]}
assert {"Städtle", "Herrengasse"} <= streets, sorted(streets)[:20]
assert not d["truncated"] and not d["streets_omitted"]
n = 0
for f in d["areas"] + d["streets"]:
    for line in f["lines"]:
        assert len(line) >= 4 and len(line) % 2 == 0, line
        n += len(line) // 2
        for lat, lon in zip(line[0::2], line[1::2]):
            assert 46.5 < lat < 47.7 and 9.0 < lon < 10.0, (lat, lon)
assert n == d["points"], (n, d["points"])
# every street through the box has a point near it (the grid's cells are 0.005 degrees)
for s in d["streets"]:
    pts = [(l[i], l[i + 1]) for l in s["lines"] for i in range(0, len(l), 2)]
    assert any(47.125 <= a <= 47.155 and 9.505 <= b <= 9.54 for a, b in pts), s["name"]
PY
# a coarser tolerance keeps fewer points; a box of more than about 1 degree square has no streets
p1=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])' <"$T/geom.json")
p2=$(curl -s "$G&tolerance=0.001" | python3 -c 'import json,sys; print(json.load(sys.stdin)["points"])')
[ "$p2" -lt "$p1" ] || fail "tolerance 0.001 kept $p2 of $p1 points"
curl -s "$BASE/geometry.json?$A&bbox=46,8,48,11" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["streets_omitted"] and d["streets"] == [] and len(d["areas"]) > 0, d.keys()' || fail "large box"
for q in "" "bbox=47,9" "bbox=47.2,9.5,47.1,9.6" "bbox=a,b,c,d" "bbox=47,9,48,181" "bbox=47,9,48,10&tolerance=-1"; do
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/geometry.json?$A&$q")" 400 "geometry $q"
done
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/geometry.json?bbox=47,9,48,10")" 401 "geometry without credentials"

# ---- the browser ----
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
NODE_DIR="$NODE_DIR" HOST="$HOST" UPLOAD="$T/upload.csv" REF="$T/ref.txt" REF_ERRORS="$T/ref_errors.txt" SHOTS="$SHOTS" \
    XSS="$XSS" DOWNLOADS="$T/downloads" node "$TOOLS/console_e2e.js" || fail "browser test"
for s in 01-signin 02-wrong-credential 03-preview 04-progress 05-result 06-cancelled 07-deleted 08-search; do
    [ -s "$SHOTS/$s.png" ] || fail "no screenshot $s"
done
echo "web_console: ok (screenshots in $SHOTS)"
