#!/usr/bin/env bash
# web_console_million.sh - the web console's result view on a 1,000,000-row job (100,000 under
# the sanitizers, GB_ASAN=1): headless Chromium (tools/console/million_e2e.js, set up as in
# web_console.sh) views the completed job; the view streams the result and keeps only page
# offsets, counters and a sample for the map, so the page's JS heap after loading stays under
# 32 MB while the result text is about 94 MB; the row count, the summary, and pages 1, 2, the
# last and the one before it equal `geobatch geocode` on the same rows.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init web_console_million
BUILD=$(dirname "$GB_TMP")
NODE_DIR="$BUILD/console-e2e"
TOOLS="$GB_SRC/test/e2e/tools/console"
ROWS=1000000
[ "${GB_ASAN:-0}" = 1 ] && ROWS=100000

console_driver "$NODE_DIR" "$TOOLS"

import_index "$T/li.gbx" "$LI_PBF"
python3 - "$LI_CSV" "$ROWS" >"$T/in.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
n = int(sys.argv[2])
out = sys.stdout
out.write("recId|searchText\n")
for i in range(n):
    r = rows[i % len(rows)]
    out.write(f"{i + 1}|{r['STREET']} {r['NUMBER']} {r['POSTCODE']} {r['CITY']}\n")
PY
OUTCOLS=displayLatitude,displayLongitude,locationLabel,relevance,matchLevel
make_data "$T/data" 'appA codeA'
HEALTH_TRIES=200 serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 2 --rate 0
HOST="http://127.0.0.1:$PORT"
curl -sS -o "$T/submit.xml" --data-binary @"$T/in.txt" \
    "$BASE/jobs?$A&action=run&indelim=%7C&outdelim=%7C&outcols=$OUTCOLS&outputcombined=true" ||
    fail "submit: curl exit $?"
ID=$(field RequestId <"$T/submit.xml")
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "submit: no RequestId: $(head -c 500 "$T/submit.xml")"
"$GB_BIN" geocode --index "$T/li.gbx" --indelim='|' --outdelim='|' --outcols=$OUTCOLS \
    --outputcombined=true "$T/in.txt" >"$T/ref.txt"
# the job's own long poll: each answer comes when the state or the count changes
st=x n=0
for _ in $(seq 1 2000); do
    curl -sS "$BASE/jobs/$ID/progress?$A&wait=10&status=$st&processed=$n" >"$T/progress.xml" ||
        fail "progress: curl exit $?"
    st=$(field Status <"$T/progress.xml")
    n=$(field ProcessedCount <"$T/progress.xml")
    [ "$st" = completed ] && break
    [[ "$st" =~ ^(accepted|running|submitted)$ && "$n" =~ ^[0-9]+$ ]] || fail "progress: $(cat "$T/progress.xml")"
done
[ "$st" = completed ] || fail "job not completed"
curl -s "$BASE/jobs/$ID/result?$A&outputcompressed=false" | cmp -s - "$T/ref.txt" ||
    fail "the job's result differs from geobatch geocode"

NODE_DIR="$NODE_DIR" HOST="$HOST" JOB="$ID" REF="$T/ref.txt" HEAP_MAX=32000000 \
    node "$TOOLS/million_e2e.js" || fail "browser test"
echo "web_console_million: ok"
