#!/usr/bin/env bash
# faults_crash.sh - `geobatch serve` killed with -9 at the awkward moments, and started with a
# bad index:
#   1. during an upload: the half-received upload is discarded at the next start (no job, its
#      RequestId is 404, nothing left in tmp/ or jobs/); repeated, temp files do not accumulate
#   2. while result.txt is being assembled, and 3. while the zips are being written (a watcher
#      kills the server the moment the temp file appears): after a restart the job completes
#      and its result equals `geobatch geocode` byte for byte
#   4. a truncated, bit-flipped, replaced (a CSV) or missing index: non-zero exit, a message
#      naming the index, the job store untouched; with the good index the job completes.
# (kill -9 while geocoding: api_crash.sh.)
set -euo pipefail

: "${GB_BIN:?}" "${GB_SHARED:?}" "${GB_TMP:?}"
T=$(mktemp -d "$GB_TMP/faults_crash.XXXXXX")
SERVER_PID=
CURL_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
    [ -n "$CURL_PID" ] && kill -9 "$CURL_PID" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    tail -5 "$T/serve.log" >&2 || true
    exit 1
}
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT/6.2"
A="app_id=appA&app_code=codeA"
DATA="$T/data"
"$GB_BIN" import -o "$T/li.gbx" "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" 2>/dev/null
mkdir -m 700 "$DATA"
echo 'appA codeA' >"$DATA/credentials"
chmod 600 "$DATA/credentials"

start_server() { # [INDEX]
    "$GB_BIN" serve --index "${1:-$T/li.gbx}" --data "$DATA" --listen "127.0.0.1:$PORT" \
        --workers 2 --chunk-rows 5000 --rate 0 2>>"$T/serve.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    fail "server did not start"
}
kill9() {
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# 100,000 real addresses plus one invalid line.
awk -F, 'NR>1 && NR<=5001 {printf "%d|%s %s %s|LIE\n", NR, $4, $3, $6}' \
    "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" >"$T/rows.txt"
{
    echo 'recId|searchText|country'
    for _ in $(seq 1 20); do cat "$T/rows.txt"; done
    echo 'bad|line|with|too|many|fields'
} >"$T/in.txt"
COLS=displayLatitude,displayLongitude,locationLabel,matchLevel,relevance
P="indelim=%7C&outdelim=%7C&outcols=$COLS&outputcombined=false"
"$GB_BIN" geocode --index "$T/li.gbx" --outcols=$COLS --outputcombined=false \
    --no-matches="$T/ref_nom.txt" "$T/in.txt" >"$T/ref_out.txt" 2>/dev/null

status() { curl -s "$BASE/jobs/$1?$A&action=status"; }
field() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p"; }
wait_done() {
    local s
    for _ in $(seq 1 600); do
        s=$(status "$1" | field Status)
        [ "$s" == completed ] && return 0
        [ "$s" == failed ] && fail "job $1 failed"
        sleep 0.05
    done
    fail "job $1 not completed (last: $s)"
}
check_result() { # ID
    local s
    s=$(status "$1")
    expect_eq "$(field TotalCount <<<"$s") $(field ProcessedCount <<<"$s") $(field PendingCount <<<"$s")" \
        "100001 100000 0" "counts of $1"
    curl -s -o "$T/r.zip" "$BASE/jobs/$1/result?$A"
    unzip -p "$T/r.zip" '*_out.txt' | cmp - "$T/ref_out.txt" || fail "result of $1 differs from geocode"
    unzip -p "$T/r.zip" '*_err.txt' | cmp - "$T/ref_nom.txt" || fail "no-matches of $1 differ"
    curl -s -o "$T/all.zip" "$BASE/jobs/$1/all?$A"
    unzip -tq "$T/all.zip" >/dev/null || fail "all.zip of $1 is not a valid zip"
    expect_eq "$(find "$DATA/jobs/$1" -name '*.tmp' | wc -l)" 0 "temp files in the job dir of $1"
}
n_jobs() { curl -s "$BASE/jobs?$A" | grep -o '<RequestId>' | wc -l; }

# ---- 1. kill -9 during an upload (three times) ----
start_server
for round in 1 2 3; do
    curl -s -o /dev/null --limit-rate 1M -X POST --data-binary @"$T/in.txt" \
        "$BASE/jobs?$A&action=run&$P" &
    CURL_PID=$!
    up=
    for _ in $(seq 1 400); do
        up=$(ls "$DATA/tmp")
        [ -n "$up" ] && [ -n "$(ls "$DATA/tmp/$up/in" 2>/dev/null)" ] && break
        sleep 0.005
    done
    [[ "$up" =~ ^[A-Za-z0-9]{32}$ ]] || fail "upload $round never reached the disk"
    kill9
    wait "$CURL_PID" 2>/dev/null || true
    CURL_PID=
    start_server
    expect_eq "$(ls "$DATA/tmp" | wc -l) $(ls "$DATA/jobs" | wc -l) $(n_jobs)" "0 0 0" "after a crash in upload $round"
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$up?$A&action=status")" 404 "the half-uploaded job"
done
grep -q "removed unfinished upload id=$up" "$T/serve.log" || fail "no cleanup logged"
echo "1. kill -9 during an upload (x3): discarded at restart, RequestId 404, tmp/ and jobs/ empty"

# ---- 2, 3. kill -9 the moment a temp file of the finalisation appears ----
# watch JOB_DIR NAME PID: kill -9 PID when JOB_DIR/NAME exists; print the files seen then.
watch_kill() {
    python3 - "$@" <<'EOF'
import os, sys, time
d, name, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
end = time.monotonic() + 40
while time.monotonic() < end:
    if os.path.exists(os.path.join(d, name)):
        os.kill(pid, 9)
        print(" ".join(sorted(f for f in os.listdir(d) if "." in f)))
        sys.exit(0)
    time.sleep(0.0002)
sys.exit("never saw " + name)
EOF
}
n=2
for target in result.txt.tmp all.zip.tmp; do
    id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
    [[ "$id" =~ ^[A-Za-z0-9]{32}$ ]] || fail "submit"
    seen=$(watch_kill "$DATA/jobs/$id" "$target" "$SERVER_PID") || fail "watcher for $target"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    [[ "$seen" != *result.zip* || "$target" == all.zip.tmp ]] || fail "killed too late: $seen"
    start_server
    wait_done "$id"
    check_result "$id"
    echo "$n. kill -9 while writing $target (files then: $seen): completed after restart, result = geocode"
    n=$((n + 1))
done

# ---- 4. a bad index at start: refuse, leave the jobs alone ----
id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P" | field RequestId)
[[ "$id" =~ ^[A-Za-z0-9]{32}$ ]] || fail "submit"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=
snap() { (cd "$DATA" && find . -type f ! -name 'jobs.db*' | sort | xargs md5sum && md5sum jobs.db); }
snap >"$T/before"
size=$(stat -c %s "$T/li.gbx")
head -c $((size / 2)) "$T/li.gbx" >"$T/truncated.gbx"
cp "$T/li.gbx" "$T/flipped.gbx"
printf '\x5a' | dd of="$T/flipped.gbx" bs=1 seek=$((size * 2 / 3)) conv=notrunc status=none
cmp -s "$T/li.gbx" "$T/flipped.gbx" && fail "the flip changed nothing"
cp "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" "$T/replaced.gbx"
for bad in truncated flipped replaced missing; do
    rc=0
    timeout 20 "$GB_BIN" serve --index "$T/$bad.gbx" --data "$DATA" --listen "127.0.0.1:$PORT" \
        2>"$T/bad.err" || rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "$bad index: exit status $rc"
    grep -q "$T/$bad.gbx" "$T/bad.err" || fail "$bad index: message does not name it: $(cat "$T/bad.err")"
    snap | cmp -s - "$T/before" || fail "$bad index: the job store changed"
    echo "   $bad index: exit $rc, $(head -1 "$T/bad.err")"
done
start_server
curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
wait_done "$id"
check_result "$id"
echo "4. bad index refused (4 kinds), store untouched; with the good index the job completed"

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=
echo "faults_crash: OK"
