#!/usr/bin/env bash
# api_million.sh - one 1,000,000-row job through a real server: it completes, its result is
# byte-identical to `geobatch geocode` on the same input, and the server's peak memory stays
# under 300 MB above the index size (the index is mapped, so its pages count in RSS).
# Under the sanitizers (GB_ASAN=1) the job has 100,000 rows: the same checks, a tenth of the time.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
ROWS=1000000
[ "${GB_ASAN:-0}" = 1 ] && ROWS=100000
e2e_init api_million
import_index "$T/li.gbx" "$LI_PBF"
make_data "$T/data" 'appA codeA'
HEALTH_TRIES=200 serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 2 --rate 0

# Free-form and structured-looking rows from the real addresses, repeated to ROWS rows.
python3 - "$LI_CSV" "$ROWS" >"$T/in.txt" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")) if r["STREET"] and r["NUMBER"]]
n = int(sys.argv[2])
out = sys.stdout
out.write("recId|searchText|country\n")
for i in range(n):
    r = rows[i % len(rows)]
    out.write(f"{i}|{r['STREET']} {r['NUMBER']}, {r['POSTCODE']} {r['CITY']}|LIE\n")
PY
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude,locationLabel,matchLevel,matchType,relevance&outputcombined=true"
t0=$(date +%s%N)
ID=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "submit: no RequestId"
deadline=$((ROWS / 1000 * 2 + 120)) # seconds: generous for a loaded 2-core machine
until curl -s "$BASE/jobs/$ID?$A" | grep -q '<Status>completed</Status>'; do
    [ $((($(date +%s%N) - t0) / 1000000000)) -lt $deadline ] || fail "job not completed in $deadline s"
    sleep 0.2
done
ms=$((($(date +%s%N) - t0) / 1000000))
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
index_kb=$(($(stat -c %s "$T/li.gbx") / 1024))
echo "$ROWS-row job: upload to completed $ms ms; server peak RSS $((hwm_kb / 1024)) MB, index $((index_kb / 1024)) MB"
[ $((hwm_kb - index_kb)) -lt $((300 * 1024)) ] || fail "peak RSS $hwm_kb KB is 300 MB or more above the index"

curl -s -o "$T/result.txt" "$BASE/jobs/$ID/result?$A&outputcompressed=false"
"$GB_BIN" geocode --index "$T/li.gbx" --indelim='|' --outdelim='|' \
    --outcols=displayLatitude,displayLongitude,locationLabel,matchLevel,matchType,relevance \
    --outputcombined=true "$T/in.txt" >"$T/cli.txt"
cmp -s "$T/result.txt" "$T/cli.txt" || fail "server result differs from geobatch geocode"
lines=$(wc -l <"$T/result.txt")
[ "$lines" -ge $((ROWS + 1)) ] || fail "result has $lines lines for $ROWS rows"
echo "ok: $ROWS rows, result identical to the CLI ($lines lines)"
