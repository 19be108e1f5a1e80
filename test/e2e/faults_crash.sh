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

source "$(dirname "$0")/lib/common.sh"
e2e_init faults_crash
FAIL_LOG="$T/serve.log"
CURL_PID=
on_exit '[ -n "$CURL_PID" ] && kill -9 "$CURL_PID" 2>/dev/null'
DATA="$T/data"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$DATA" 'appA codeA'
PORT=$(free_port)
start_server() { serve "${1:-$T/li.gbx}" "$DATA" "$T/serve.log" --workers 2 --chunk-rows 5000 --rate 0; } # [INDEX]

# 100,000 real addresses plus one invalid line.
split_job_input 20

wait_done() { wait_state "$1" completed; }
check_result() { # ID
    check_split_result "$1" 100000
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
    [[ "$up" =~ ^$JOBID_RE$ ]] || fail "upload $round never reached the disk"
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
# watch_kill NAME PID READY: watch every job directory for NAME and kill -9 PID the moment it
# appears; print that directory's name and its files then. Started before the job is submitted
# (READY is created once it is looking), so that it cannot start after the file has come and
# gone. A file lives a few milliseconds: a loaded machine may not run the watcher within them,
# which it sees when the file NAME becomes (NAME less ".tmp") appears in a directory where it
# saw no NAME: then it exits 3, and the job is tried again (the window missed; no failure).
watch_kill() {
    python3 - "$DATA/jobs" "$@" <<'EOF'
import glob, os, sys, time
jobs, name, pid, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
final = name[:-len(".tmp")]
before = set(glob.glob(os.path.join(jobs, "*", final)))
open(ready, "w").close()
end = time.monotonic() + 60
while time.monotonic() < end:
    hit = glob.glob(os.path.join(jobs, "*", name))
    if hit:
        os.kill(pid, 9)
        d = os.path.dirname(hit[0])
        print(os.path.basename(d), " ".join(sorted(f for f in os.listdir(d) if "." in f)))
        sys.exit(0)
    if set(glob.glob(os.path.join(jobs, "*", final))) - before:
        sys.exit(3)
    time.sleep(0.0002)
sys.exit("never saw " + name)
EOF
}
n=2
for target in result.txt.tmp all.zip.tmp; do
    for try in 1 2 3 4 5 6 7 8; do
        rm -f "$T/ready"
        watch_kill "$target" "$SERVER_PID" "$T/ready" >"$T/seen" &
        wpid=$!
        while [ ! -e "$T/ready" ]; do
            kill -0 "$wpid" 2>/dev/null || fail "the watcher for $target did not start"
            sleep 0.01
        done
        id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
        [[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit"
        wst=0
        wait "$wpid" || wst=$?
        [ "$wst" -eq 3 ] || break
        wait_done "$id" # missed: this job completes, the next one is watched
    done
    [ "$wst" -eq 0 ] || fail "watcher for $target (status $wst after $try tries)"
    read -r dir seen <"$T/seen"
    expect_eq "$dir" "$id" "the job whose $target was seen"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
    [[ "$seen" != *result.zip* || "$target" == all.zip.tmp ]] || fail "killed too late: $seen"
    start_server
    wait_done "$id"
    check_result "$id"
    echo "$n. kill -9 while writing $target (files then: $seen; try $try): completed after restart, result = geocode"
    n=$((n + 1))
done

# ---- 4. a bad index at start: refuse, leave the jobs alone ----
id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit"
stop_server
# the files and the store's rows, less what every start changes: the lock (the holder's pid)
# and the store's start epoch (claims of an earlier run are told apart by it). A flip that only
# the sections' checksums see is found after the server has started (the index opens in
# O(sections)): it stops with status 1 having changed nothing else.
snap() {
    (cd "$DATA" && find . -type f ! -name 'jobs.db*' ! -name lock | sort | xargs md5sum)
    python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).iterdump():
    if not row.startswith("INSERT INTO \"meta\" VALUES(\x27epoch\x27"):
        print(row)' "$DATA/jobs.db" | md5sum
}
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

stop_server
echo "faults_crash: OK"
