#!/usr/bin/env bash
# faults_restart.sh - restarting a failed job while one of its chunks is still being geocoded
# (issue 13, item 1). The chunk in flight is held deterministically: its input file is replaced
# by a FIFO, so the worker that claimed it waits in open() until the test writes the input. Another
# chunk's input is removed, so the job fails meanwhile; the input is put back and the job restarted
# with PUT ?action=run. The restart must not hand out the chunk in flight (before the fix it did:
# two workers then read the one FIFO or wrote one out/<k>.out.tmp, and the job completed with a
# wrong result), the other chunks must be done while it is held, and once the held chunk gets its
# input the job completes with exactly the result of `geobatch geocode`.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init faults_restart
FAIL_LOG="$T/serve.log"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA'
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 2 --chunk-rows 2000 --rate 0

li_rows 6000 | { echo 'recId|searchText|country'; cat; } >"$T/in.txt"
COLS=displayLatitude,displayLongitude,locationLabel,matchLevel
P="indelim=%7C&outdelim=%7C&outcols=$COLS&outputcompressed=false"
"$GB_BIN" geocode --index "$T/li.gbx" --outcols=$COLS "$T/in.txt" >"$T/ref.txt" 2>/dev/null

id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit"
J="$T/data/jobs/$id"
expect_eq "$(ls "$J/in")" "$(printf '0.csv\n1.csv\n2.csv')" "chunk files"
mv "$J/in/0.csv" "$T/in0.csv"
mkfifo -m 600 "$J/in/0.csv" # the worker that claims chunk 0 waits until the test writes it
mv "$J/in/1.csv" "$T/in1.csv" # chunk 1 fails: the job fails while chunk 0 is held

curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
wait_for_failed() {
    local s=
    for _ in $(seq 1 1200); do
        s=$(status "$id" | field Status)
        [ "$s" == failed ] && return 0
        sleep 0.05
    done
    fail "job not failed (last: $s)"
}
wait_for_failed
grep -q "job failed id=$id task=chunk chunk=1 err=ENOENT" "$T/serve.log" || fail "chunk 1's failure not logged"

mv "$T/in1.csv" "$J/in/1.csv"
out=$(curl -s -w ' %{http_code}' -X PUT "$BASE/jobs/$id?$A&action=run")
[[ "$out" == *"<Status>accepted</Status>"*" 200" ]] || fail "restart: $out"
# Chunks 1 and 2 are done while chunk 0 is still held: the restart gave chunk 0 to nobody else
# (before the fix the free worker took chunk 0 again, the lowest one not done, and waited on it
# too).
for _ in $(seq 1 1200); do
    [ "$(status "$id" | field ProcessedCount)" == 4000 ] && break
    sleep 0.05
done
expect_eq "$(status "$id" | field ProcessedCount) $(status "$id" | field Status)" "4000 running" \
    "chunks 1 and 2 done while chunk 0 is in flight"
cat "$T/in0.csv" >"$J/in/0.csv" # the held worker reads its input now
wait_state "$id" completed 1200
s=$(status "$id")
expect_eq "$(field ProcessedCount <<<"$s") $(field PendingCount <<<"$s")" "6000 0" "counts"
curl -s -o "$T/res.txt" "$BASE/jobs/$id/result?$A&outputcompressed=false"
cmp "$T/res.txt" "$T/ref.txt" || fail "result differs from geocode"
expect_eq "$(wc -l <"$T/res.txt")" "$(wc -l <"$T/ref.txt")" "result lines"
expect_eq "$(find "$T/data" -name '*.tmp' | wc -l)" 0 "temp files left"
[ ! -e "$J/out" ] || fail "chunk files left after completion"
echo "restart while a chunk is in flight: the chunk stayed with its worker, result = geocode"
# ---- cancel: the chunk files go at once (issue 13, item 5), also those of a chunk in flight ----
id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit 2"
J="$T/data/jobs/$id"
mv "$J/in/0.csv" "$T/in0.csv"
mkfifo -m 600 "$J/in/0.csv"
curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
for _ in $(seq 1 1200); do
    [ "$(status "$id" | field ProcessedCount)" == 4000 ] && break
    sleep 0.05
done
expect_eq "$(status "$id" | field ProcessedCount)" 4000 "chunks 1 and 2 done, chunk 0 held"
exec 7>"$J/in/0.csv" # meets the worker waiting to read it; the worker now waits for data
out=$(curl -s -w ' %{http_code}' -X PUT "$BASE/jobs/$id?$A&action=cancel")
[[ "$out" == *"<Status>cancelled</Status>"*" 200" ]] || fail "cancel: $out"
expect_eq "$(ls "$J")" "$(printf 'errors.txt\nheader.csv')" "job files right after the cancel"
cat "$T/in0.csv" >&7 # the held worker geocodes its chunk now, after the cancel
exec 7>&-
# Its output has nowhere to go (out/ is gone): it drops the chunk and leaves nothing behind.
for _ in $(seq 1 1200); do
    curl -s "http://127.0.0.1:$PORT/metrics" | grep -qx 'geobatch_workers_busy 1' || break
    sleep 0.05
done
expect_eq "$(ls "$J")" "$(printf 'errors.txt\nheader.csv')" "job files once the worker let go"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$id/errors?$A")" 200 "/errors of a cancelled job"
echo "cancel: chunk files removed at once, the held chunk dropped"
echo "faults_restart: OK"
