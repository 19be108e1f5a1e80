#!/usr/bin/env bash
# api_load.sh - two 20,000-row jobs of two applications run while 50 clients poll their status
# without pause: every poll must get a well-formed 200 status document, both jobs complete with
# the right counts. First, alone, one 100,000-row job: prints its upload-to-completed time and
# the server's peak memory.
set -euo pipefail

: "${GB_BIN:?}" "${GB_SHARED:?}" "${GB_TMP:?}"
T=$(mktemp -d "$GB_TMP/api_load.XXXXXX")
SERVER_PID=
POLLERS=()
cleanup() {
    for p in "${POLLERS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT/6.2"
"$GB_BIN" import -o "$T/li.gbx" "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" 2>/dev/null
mkdir -m 700 "$T/data"
printf 'appA codeA\nappB codeB\n' >"$T/data/credentials"
chmod 600 "$T/data/credentials"
"$GB_BIN" serve --index "$T/li.gbx" --data "$T/data" --listen "127.0.0.1:$PORT" --workers 2 \
    --rate 0 2>"$T/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.05; done

awk -F, 'NR>1 && NR<=5001 {printf "%d|%s %s %s|LIE\n", NR, $4, $3, $6}' \
    "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" >"$T/rows.txt"
{ echo 'recId|searchText|country'; for _ in $(seq 1 20); do cat "$T/rows.txt"; done; } >"$T/in100k.txt"
{ echo 'recId|searchText|country'; for _ in $(seq 1 4); do cat "$T/rows.txt"; done; } >"$T/in.txt"
P="outcols=displayLatitude,displayLongitude,locationLabel,matchLevel"
field() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p"; }

t0=$(date +%s%N)
ID=$(curl -s -X POST --data-binary @"$T/in100k.txt" "$BASE/jobs?app_id=appA&app_code=codeA&action=run&$P" | field RequestId)
t1=$(date +%s%N)
until curl -s "$BASE/jobs/$ID?app_id=appA&app_code=codeA" | grep -q '<Status>completed</Status>'; do
    [ $((($(date +%s%N) - t0) / 1000000)) -lt 60000 ] || fail "100k-row job not completed in 60 s"
    sleep 0.01
done
echo "100k-row job: upload to completed $((($(date +%s%N) - t0) / 1000000)) ms, of which the upload $(((t1 - t0) / 1000000)) ms"

t0=$(date +%s%N)
IDA=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?app_id=appA&app_code=codeA&action=run&$P" | field RequestId)
IDB=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?app_id=appB&app_code=codeB&action=run&$P" | field RequestId)
[[ "$IDA" =~ ^[A-Za-z0-9]{32}$ && "$IDB" =~ ^[A-Za-z0-9]{32}$ ]] || fail "submit"

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
    if [ $((n % 2)) -eq 0 ]; then poll "$n" "$IDA" "app_id=appA&app_code=codeA" &
    else poll "$n" "$IDB" "app_id=appB&app_code=codeB" &
    fi
    POLLERS+=($!)
done
for p in "${POLLERS[@]}"; do wait "$p"; done
POLLERS=()
ms=$((($(date +%s%N) - t0) / 1000000))
bad=0 polls=0
for n in $(seq 1 50); do read -r b c <"$T/poll.$n"; bad=$((bad + b)); polls=$((polls + c)); done
expect_eq "$bad" 0 "bad status answers out of $polls"
for id in "$IDA:app_id=appA&app_code=codeA" "$IDB:app_id=appB&app_code=codeB"; do
    s=$(curl -s "$BASE/jobs/${id%%:*}?${id#*:}")
    expect_eq "$(field Status <<<"$s") $(field ValidCount <<<"$s") $(field ProcessedCount <<<"$s")" "completed 20000 20000" "job ${id%%:*}"
done
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
echo "two 20k-row jobs with 50 pollers ($polls polls): both completed after $ms ms; server peak RSS ${hwm} kB"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=
echo "api_load: OK"
