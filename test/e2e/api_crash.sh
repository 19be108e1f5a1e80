#!/usr/bin/env bash
# api_crash.sh - durability of `geobatch serve`: kill -9 in the middle of a 200,000-row job,
# restart, and the result must be byte-identical to an uninterrupted run (`geocode`); then a
# graceful SIGTERM in the middle of a job: the server exits promptly and the job resumes.
set -euo pipefail

: "${GB_BIN:?}" "${GB_SHARED:?}" "${GB_TMP:?}"
T=$(mktemp -d "$GB_TMP/api_crash.XXXXXX")
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT/6.2"
A="app_id=appA&app_code=codeA"

"$GB_BIN" import -o "$T/li.gbx" "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" 2>/dev/null
mkdir -m 700 "$T/data"
echo 'appA codeA' >"$T/data/credentials"
chmod 600 "$T/data/credentials"

start_server() {
    "$GB_BIN" serve --index "$T/li.gbx" --data "$T/data" --listen "127.0.0.1:$PORT" \
        --workers 1 --chunk-rows 2000 2>>"$T/serve.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    fail "server did not start"
}

# 5,000 real addresses (some with a bad line in between) repeated to 200,000 rows.
awk -F, 'NR>1 && NR<=5001 {printf "%d|%s %s %s|LIE\n", NR, $4, $3, $6}' \
    "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" >"$T/rows.txt"
{
    echo 'recId|searchText|country'
    for _ in $(seq 1 40); do cat "$T/rows.txt"; done
    echo 'bad|line|with|too|many|fields'
} >"$T/in.txt"
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude,locationLabel,matchLevel,relevance&outputcombined=false"
"$GB_BIN" geocode --index "$T/li.gbx" --outcols=displayLatitude,displayLongitude,locationLabel,matchLevel,relevance \
    --outputcombined=false --no-matches="$T/ref_nom.txt" "$T/in.txt" >"$T/ref_out.txt" 2>/dev/null

status() { curl -s "$BASE/jobs/$1?$A&action=status"; }
field() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p"; }

wait_running_partly() { # ID: until some but not all rows are processed
    for _ in $(seq 1 2000); do
        s=$(status "$1")
        pc=$(field ProcessedCount <<<"$s")
        st=$(field Status <<<"$s")
        [ "$st" == completed ] && fail "job completed before it could be interrupted"
        [ "$st" == running ] && [ "${pc:-0}" -gt 0 ] && { echo "$pc"; return 0; }
        sleep 0.005
    done
    fail "job never started"
}

wait_done() {
    for _ in $(seq 1 1200); do
        [ "$(status "$1" | field Status)" == completed ] && return 0
        sleep 0.05
    done
    fail "job $1 not completed"
}

check_result() { # ID
    local s
    s=$(status "$1")
    expect_eq "$(field TotalCount <<<"$s") $(field ValidCount <<<"$s") $(field InvalidCount <<<"$s") $(field ProcessedCount <<<"$s") $(field PendingCount <<<"$s")" \
        "200001 200000 1 200000 0" "counts after restart"
    expect_eq "$(($(field SuccessCount <<<"$s") + $(field ErrorCount <<<"$s")))" 200000 "success + error"
    curl -s -o "$T/r.zip" "$BASE/jobs/$1/result?$A"
    unzip -p "$T/r.zip" '*_out.txt' | cmp - "$T/ref_out.txt" || fail "result differs from an uninterrupted run"
    unzip -p "$T/r.zip" '*_err.txt' | cmp - "$T/ref_nom.txt" || fail "no-matches differ from an uninterrupted run"
    curl -s "$BASE/jobs/$1/errors?$A" | cmp - <(printf 'Line Number:200002 bad|line|with|too|many|fields\n') || fail "errors"
}

# ---- kill -9 in the middle ----
start_server
t0=$(date +%s%N)
ID=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
[[ "$ID" =~ ^[A-Za-z0-9]{32}$ ]] || fail "submit"
pc=$(wait_running_partly "$ID")
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
echo "killed with -9 at ProcessedCount=$pc"
start_server
wait_done "$ID"
check_result "$ID"
echo "200k-row job with a kill -9 and restart: $((($(date +%s%N) - t0) / 1000000)) ms"

# ---- SIGTERM in the middle: prompt exit, the job resumes at the next start ----
ID2=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
pc=$(wait_running_partly "$ID2")
t1=$(date +%s%N)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "serve exited with status $? after SIGTERM"
ms=$((($(date +%s%N) - t1) / 1000000))
[ "$ms" -lt 3000 ] || fail "graceful stop took $ms ms"
echo "SIGTERM at ProcessedCount=$pc: stopped in $ms ms"
grep -q 'serve stopped' "$T/serve.log" || fail "no clean stop logged"
start_server
wait_done "$ID2"
check_result "$ID2"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=
echo "api_crash: OK"
