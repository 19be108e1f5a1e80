#!/usr/bin/env bash
# faults_disk.sh - `geobatch serve` on a full disk. The data directory lives on a small tmpfs
# (root only: skipped otherwise); a filler file takes all but a chosen number of bytes, so that
# the failure hits a chosen write:
#   1. the upload itself        -> 500 SystemError document, no job, nothing left in tmp/ or jobs/
#   2. a chunk's output         -> the job ends `failed` (JobFinished set), no temp file left,
#                                  /result 404; once space is back PUT ?action=run completes it
#   3. result.txt (finalising)  -> the same (the finalisation held until the disk is filled)
#   4. the zips (finalising)    -> the same: a half-written zip is never served
# Each restarted job's result must equal `geobatch geocode` on the same input byte for byte.
# The status document has no field for a reason: the reason is logged (`job failed ... err=`),
# which this test checks too.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
if [ "$(id -u)" != 0 ]; then
    echo "faults_disk: SKIP (needs root to mount a tmpfs)"
    exit 0
fi
e2e_init faults_disk
FAIL_LOG="$T/serve.log"
MNT="$T/mnt"
on_exit 'umount "$MNT" 2>/dev/null'

mkdir "$MNT"
mount -t tmpfs -o size=24m,mode=700 tmpfs "$MNT"
DATA="$MNT/data"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$DATA" 'appA codeA'
PORT=$(free_port)
start_server() { serve "$T/li.gbx" "$DATA" "$T/serve.log" --workers 2 --chunk-rows 2000 --rate 0; }

# 20,000 real addresses plus one invalid line.
split_job_input 4

avail() { df -B1 --output=avail "$MNT" | tail -1 | tr -d ' '; }
# fill FREE: leave about FREE bytes free on the tmpfs.
fill() {
    rm -f "$MNT/filler"
    local n=$(($(avail) - $1))
    [ "$n" -gt 0 ] || fail "cannot leave $1 bytes free"
    fallocate -l "$n" "$MNT/filler"
}
unfill() { rm -f "$MNT/filler"; }
no_temp_files() { # WHAT
    local left
    workers_idle
    left=$(find "$DATA" -name '*.tmp' | wc -l)
    [ "$left" == 0 ] || fail "temp files left after $1: $(find "$DATA" -name '*.tmp')"
    expect_eq "$(ls "$DATA/tmp" | wc -l)" 0 "upload dirs left after $1"
}
check_result() { check_split_result "$1" 20000; } # ID

start_server
n_jobs() { curl -s "$BASE/jobs?$A" | grep -o '<RequestId>' | wc -l; }

# ---- 1. the upload cannot be stored: 500, no job, nothing left behind ----
fill 65536
out=$(curl -s -w ' %{http_code}' -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P")
unfill
[[ "$out" == *'type="SystemError" subtype="InternalError"><Details>Internal server error</Details></ns2:Error> 500' ]] ||
    fail "upload on a full disk: $out"
expect_eq "$(n_jobs) $(ls "$DATA/jobs" | wc -l)" "0 0" "jobs after a failed upload"
no_temp_files "a failed upload"
echo "1. upload on a full disk: 500 SystemError, no job, no files"

# ---- 2-4. a write fails while geocoding or finalising ----
OUT=$(stat -c %s "$T/ref_out.txt")
NOM=$(stat -c %s "$T/ref_nom.txt")
# The chunk case: free space after the upload, for half the chunk outputs (headroom of 256 KiB
# for the store's journal). The finalising cases hold the finalisation until the chunks are
# done, whatever the store's journal took meanwhile: header.csv, which it reads first, is a
# FIFO until the test has filled the disk; then the space left is for half of result.txt, or for
# result.txt, nomatch.txt and the report but not the zips.
H=262144
run_case() { # NAME FREE_BYTES NUMBER [hold]
    local name=$1 free=$2 hold=${4:-} id s
    id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P" | field RequestId)
    [[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit for $name"
    if [ -n "$hold" ]; then
        mv "$DATA/jobs/$id/header.csv" "$T/header.csv"
        mkfifo -m 600 "$DATA/jobs/$id/header.csv"
    else
        fill "$free"
    fi
    curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
    if [ -n "$hold" ]; then
        for _ in $(seq 1 2400); do
            [ "$(status "$id" | field ProcessedCount)" == 20000 ] && break
            sleep 0.05
        done
        expect_eq "$(status "$id" | field ProcessedCount)" 20000 "$name: chunks done"
        fill "$free"
        cat "$T/header.csv" >"$DATA/jobs/$id/header.csv" # the finaliser goes on
    fi
    for _ in $(seq 1 2400); do
        grep -q "job failed id=$id .*err=ENOSPC" "$T/serve.log" && break
        sleep 0.05
    done
    grep -q "job failed id=$id .*err=ENOSPC" "$T/serve.log" || fail "$name: no failure logged"
    # When the store could write, the job is failed now; when the full disk stopped the store
    # too, the failure is recorded as soon as there is space again (retried every second, and
    # logged first): wait for one or the other.
    for _ in $(seq 1 2400); do
        [ "$(status "$id" | field Status)" == failed ] && break
        grep -q "cannot record the end of a task id=$id" "$T/serve.log" && break
        sleep 0.05
    done
    how="recorded on the full disk"
    if [ "$(status "$id" | field Status)" != failed ]; then
        grep -q "cannot record the end of a task id=$id" "$T/serve.log" || fail "$name: failure neither recorded nor retried"
        how="recorded once space was back"
        unfill
    fi
    wait_state "$id" failed 2400
    s=$(status "$id")
    [[ "$s" == *"<JobFinished>"* ]] || fail "$name: failed job without JobFinished: $s"
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$id/result?$A")" 404 "$name: result of a failed job"
    no_temp_files "$name"
    # The failure is where it was meant to be.
    case $name in
    chunk) [ ! -e "$DATA/jobs/$id/result.txt" ] || fail "chunk case reached finalisation" ;;
    result.txt) [ ! -e "$DATA/jobs/$id/result.txt" ] && [ "$(ls "$DATA/jobs/$id/out" | wc -l)" -gt 0 ] ||
        fail "result.txt case did not fail in concat" ;;
    zip) [ -e "$DATA/jobs/$id/nomatch.txt" ] && [ ! -e "$DATA/jobs/$id/all.zip" ] ||
        fail "zip case did not fail while zipping" ;;
    esac
    unfill
    if [ -n "$hold" ]; then # header.csv a file again for the restart
        rm "$DATA/jobs/$id/header.csv"
        cp "$T/header.csv" "$DATA/jobs/$id/header.csv"
    fi
    out=$(curl -s -w ' %{http_code}' -X PUT "$BASE/jobs/$id?$A&action=run")
    [[ "$out" == *"<Status>accepted</Status>"*" 200" ]] || fail "$name: restart: $out"
    wait_state "$id" completed 2400
    check_result "$id"
    no_temp_files "$name restarted"
    [ ! -e "$DATA/jobs/$id/out" ] || fail "$name: chunk files left after completion"
    echo "$(($3)). write error in $name: failed, then PUT action=run completed it with the right result ($how)"
}
run_case chunk $((H + OUT / 2)) 2
run_case result.txt $((OUT / 2)) 3 hold
run_case zip $((OUT + NOM + 65536)) 4 hold

# ---- 5. the disk fills up completely while a job runs (the store cannot write either) ----
# The finalisation is held (header.csv a FIFO, as in cases 3 and 4) so that the job cannot end
# before the disk is full, however fast its chunks go; it goes on once the disk is full (the
# feeder waits for it to open the FIFO, and is stopped if a chunk's write failed first).
id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit for case 5"
mv "$DATA/jobs/$id/header.csv" "$T/header.csv"
mkfifo -m 600 "$DATA/jobs/$id/header.csv"
curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
for _ in $(seq 1 2000); do
    [ "$(status "$id" | field ProcessedCount)" -gt 0 ] 2>/dev/null && break
    sleep 0.005
done
head -c 64M /dev/zero >"$MNT/filler" 2>/dev/null || true # until ENOSPC
cat "$T/header.csv" >"$DATA/jobs/$id/header.csv" &
feeder=$!
# The next write of the job fails: wait until that is logged (or the job ended).
for _ in $(seq 1 2400); do
    grep -q "job failed id=$id" "$T/serve.log" && break
    case "$(status "$id" | field Status)" in completed | failed) break ;; esac
    sleep 0.05
done
s=$(status "$id" | field Status)
[ "$s" != completed ] || fail "case 5: the job completed on a full disk"
unfill
wait_state "$id" failed 2400
kill "$feeder" 2>/dev/null || true
wait "$feeder" 2>/dev/null || true
rm "$DATA/jobs/$id/header.csv" # a file again for the restart
cp "$T/header.csv" "$DATA/jobs/$id/header.csv"
no_temp_files "a disk that filled up"
curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
wait_state "$id" completed 2400
check_result "$id"
echo "5. disk full while running (status then: ${s:-no answer}): failed once space was back, PUT action=run completed it"

stop_server
echo "faults_disk: OK"
