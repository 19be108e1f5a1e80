#!/usr/bin/env bash
# api_load.sh - two 20,000-row jobs of two applications run while 50 clients poll their status
# without pause: every poll must get a well-formed 200 status document, both jobs complete with
# the right counts. First, alone, one 100,000-row job: prints its upload-to-completed time and
# the server's peak memory.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init api_load
POLLERS=()
on_exit 'for p in "${POLLERS[@]}"; do kill "$p" 2>/dev/null || true; done'
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA' 'appB codeB'
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 2 --rate 0

li_rows 5000 >"$T/rows.txt"
{ echo 'recId|searchText|country'; for _ in $(seq 1 20); do cat "$T/rows.txt"; done; } >"$T/in100k.txt"
{ echo 'recId|searchText|country'; for _ in $(seq 1 4); do cat "$T/rows.txt"; done; } >"$T/in.txt"
P="outcols=displayLatitude,displayLongitude,locationLabel,matchLevel"

t0=$(date +%s%N)
ID=$(curl -s -X POST --data-binary @"$T/in100k.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
t1=$(date +%s%N)
until curl -s "$BASE/jobs/$ID?$A" | grep -q '<Status>completed</Status>'; do
    [ $((($(date +%s%N) - t0) / 1000000)) -lt 60000 ] || fail "100k-row job not completed in 60 s"
    sleep 0.01
done
echo "100k-row job: upload to completed $((($(date +%s%N) - t0) / 1000000)) ms, of which the upload $(((t1 - t0) / 1000000)) ms"

t0=$(date +%s%N)
IDA=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
IDB=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$B&action=run&$P" | field RequestId)
[[ "$IDA" =~ ^$JOBID_RE$ && "$IDB" =~ ^$JOBID_RE$ ]] || fail "submit"

poll() { # N ID AUTH: poll until completed; count bad answers in $T/bad.N
    local n=$1 id=$2 auth=$3 bad=0 polls=0
    while :; do
        out=$(curl -s -w ' %{http_code}' "$BASE/jobs/$id?$auth&action=status") || { bad=$((bad + 1)); continue; }
        polls=$((polls + 1))
        [[ "$out" =~ ^'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:SearchBatch'.*'<RequestId>'$id'</RequestId>'.*' 200'$ ]] || bad=$((bad + 1))
        [[ "$out" == *"<Status>completed</Status>"* ]] && break
        sleep 0.02
    done
    echo "$bad $polls" >"$T/poll.$n"
}
for n in $(seq 1 50); do
    if [ $((n % 2)) -eq 0 ]; then poll "$n" "$IDA" "$A" &
    else poll "$n" "$IDB" "$B" &
    fi
    POLLERS+=($!)
done
for p in "${POLLERS[@]}"; do wait "$p"; done
POLLERS=()
ms=$((($(date +%s%N) - t0) / 1000000))
bad=0 polls=0
for n in $(seq 1 50); do read -r b c <"$T/poll.$n"; bad=$((bad + b)); polls=$((polls + c)); done
expect_eq "$bad" 0 "bad status answers out of $polls"
for id in "$IDA:$A" "$IDB:$B"; do
    s=$(curl -s "$BASE/jobs/${id%%:*}?${id#*:}")
    expect_eq "$(field Status <<<"$s") $(field ValidCount <<<"$s") $(field ProcessedCount <<<"$s")" "completed 20000 20000" "job ${id%%:*}"
done
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
echo "two 20k-row jobs with 50 pollers ($polls polls): both completed after $ms ms; server peak RSS ${hwm} kB"
stop_server
echo "api_load: OK"
