#!/usr/bin/env bash
# scale_out_faults.sh - the failure model of docs/scale-out.md on a real cluster: PostgreSQL
# started by the test, HAProxy round-robin over two API nodes, three `geobatch work` with a
# 4 s lease. Every job that is let finish ends byte-identical to `geobatch geocode`.
#   1. PostgreSQL restarted mid-job (pg_ctl restart -m fast) while every worker is mid-chunk:
#      nodes and workers reconnect and the job completes
#   2. a worker frozen longer than its lease (a partition): its chunk is redone by another,
#      its late result is refused, every row is counted once
#   3. an API node killed (SIGKILL) mid-upload: the client's upload fails, nothing of it is in
#      the store, the RequestId is 404 on every node, the restarted node removes its temp files
#   4. cancel and 5. delete while chunks are leased: the job ends at once, the workers drop
#      its chunks, the store keeps none of its chunk files (and, deleted, none at all)
#   6. isolation: another application gets 404 for every endpoint of a job, through both nodes
#   7. an API node killed mid-download: the download is cut (curl says so) or was whole already,
#      and the other node serves the file
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/pg.sh"
source "$(dirname "$0")/lib/cluster.sh"
e2e_init scale_out_faults
import_index "$T/li.gbx" "$LI_CSV"
split_job_input 8 # 40,000 rows and one invalid line
cluster_store
node_start 1 --chunk-rows 2000
node_start 2 --chunk-rows 2000
haproxy_start
FAIL_LOG="$T/worker1.log"
for w in 1 2 3; do worker_start $w --lease 4; done

submit() { curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?${1:-$A}&action=run&$P" | field RequestId; }
chunks_done_ge() { [ "$(psql_q "SELECT chunks_done FROM gb_jobs WHERE id = '$1'")" -ge "$2" ]; }
no_lease_of() { [ "$(psql_q "SELECT count(*) FROM gb_chunks WHERE job = '$1' AND claim <> 0")" -eq 0 ]; }
# submit_locked N PID...: a job stored while every worker is stopped (its id in ID); then
# workers PID... go on, claim chunks and wait for their input (files_lock, still held after)
# until N chunks are leased, whatever the machine's speed
submit_locked() {
    local n=$1
    shift
    kill -STOP "${WORKER_PID[@]}"
    ID=$(submit)
    [[ "$ID" =~ ^$JOBID_RE$ ]] || fail "no RequestId"
    files_lock
    kill -CONT "$@"
    wait_for 600 leased_ge "$n" || fail "workers $* never held $n leases"
}
# submit_held PID...: submit_locked until one of PID... holds a lease; they are stopped again
# holding it, and gb_files is unlocked
submit_held() {
    submit_locked 1 "$@"
    kill -STOP "$@"
    files_unlock
}

# ---- 1. PostgreSQL restarted mid-job ----
# Each worker claims a chunk and waits for its input (submit_locked): the restart cuts their
# connections mid-chunk, the locking session's with them.
submit_locked 3 "${WORKER_PID[@]}"
expect_eq "$(psql_q "SELECT chunks_done FROM gb_jobs WHERE id = '$ID'")" 0 "chunks done before the restart"
pg_restart
files_lock_cut
wait_state "$ID" completed 1200
check_split_result "$ID" 40000
expect_eq "$(psql_q "SELECT processed FROM gb_jobs WHERE id = '$ID'")" 40000 "rows counted once"
echo "1. PostgreSQL restarted mid-job: the job completed, equal to geocode"

# ---- 2. a worker frozen longer than its lease ----
# Worker 1 alone goes on until it holds a lease (submit_held); frozen then, it holds it past
# its end.
submit_held "${WORKER_PID[1]}"
kill -CONT "${WORKER_PID[2]}" "${WORKER_PID[3]}"
expired() { [ "$(psql_q "SELECT value FROM gb_counters WHERE name = 'lease_expiries'")" -ge 1 ]; }
wait_for 600 expired || fail "the frozen worker's lease was never taken over"
kill -CONT "${WORKER_PID[1]}" # its late result (or renewal) is refused
wait_state "$ID" completed 1200
check_split_result "$ID" 40000
expect_eq "$(psql_q "SELECT processed, chunks_done FROM gb_jobs WHERE id = '$ID'")" "40000|20" "rows and chunks counted once"
lost() { grep -q "lease lost\|task dropped" "$T/worker1.log" || [ "$(psql_q "SELECT count(*) FROM gb_chunks WHERE claim <> 0")" -eq 0 ]; }
wait_for 200 lost || fail "worker 1 kept its lost lease"
echo "2. a worker frozen past its lease: chunk redone by another, late result refused, counted once"

# ---- 3. an API node killed mid-upload ----
jobs_before=$(psql_q "SELECT count(*) FROM gb_jobs")
curl -s -o "$T/up.out" -w '%{http_code}' --limit-rate 200K -X POST --data-binary @"$T/in.txt" \
    "http://127.0.0.1:${NODE_PORT[1]}/6.2/jobs?$A&action=run&$P" >"$T/up.code" 2>/dev/null &
CURL=$!
in_tmp() { [ -n "$(ls "$T/node1/tmp" 2>/dev/null)" ]; }
wait_for 400 in_tmp || fail "the upload never reached node 1"
UP=$(ls "$T/node1/tmp")
kill -9 "${NODE_PID[1]}"
wait "${NODE_PID[1]}" 2>/dev/null || true
rc=0
wait "$CURL" || rc=$?
[ "$rc" -ne 0 ] || [ "$(cat "$T/up.code")" != 200 ] || fail "the upload to a killed node succeeded"
expect_eq "$(psql_q "SELECT count(*) FROM gb_jobs")" "$jobs_before" "jobs after a killed upload"
expect_eq "$(psql_q "SELECT count(*) FROM gb_files WHERE job = '$UP'")" 0 "files of the killed upload"
node_start 1 --chunk-rows 2000
for _ in 1 2; do
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$UP?$A&action=status")" 404 "the half-uploaded job"
done
expect_eq "$(ls "$T/node1/tmp" | wc -l)" 0 "temp files of node 1 after its restart"
echo "3. an API node killed mid-upload: the upload failed, nothing stored, 404 everywhere"

# ---- 4. cancel and 5. delete while chunks are leased ----
# (the workers hold leases, stopped: submit_held; the job is cancelled while they do)
for action in cancel delete; do
    submit_held "${WORKER_PID[@]}"
    if [ $action = cancel ]; then
        expect_eq "$(curl -s -X PUT "$BASE/jobs/$ID?$A&action=cancel" | field Status)" cancelled "cancel"
    else
        expect_eq "$(curl -s -X DELETE "$BASE/jobs/$ID?$A" | field Status)" deleted "delete"
    fi
    kill -CONT "${WORKER_PID[@]}"
    wait_for 600 no_lease_of "$ID" || fail "leases of the ${action}led job were never given up"
    expect_eq "$(status "$ID" | field Status)" "$([ $action = cancel ] && echo cancelled || echo deleted)" "status after $action"
    expect_eq "$(psql_q "SELECT count(*) FROM gb_files WHERE job = '$ID' AND (name LIKE 'in/%' OR name LIKE 'out/%')")" 0 "chunk files of the ${action}led job"
    [ $action = delete ] && expect_eq "$(psql_q "SELECT count(*) FROM gb_files WHERE job = '$ID'")" 0 "files of the deleted job"
    n=$(psql_q "SELECT processed FROM gb_jobs WHERE id = '$ID'")
    expect_eq "$(psql_q "SELECT processed FROM gb_jobs WHERE id = '$ID'")" "$n" "rows counted after $action"
done
ID=$(submit) # the workers go on
wait_state "$ID" completed 1200
check_split_result "$ID" 40000
echo "4, 5. cancel and delete while chunks are leased: chunks dropped, files gone, workers go on"

# ---- 6. isolation between applications, through both nodes ----
for _ in 1 2; do
    for ep in "" /result /errors /all /no-matches; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/$ID$ep?$B&action=status")
        expect_eq "$code" 404 "appB on $ep of appA's job"
    done
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$BASE/jobs/$ID?$B&action=cancel")" 404 "appB cancels"
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$BASE/jobs/$ID?$B")" 404 "appB deletes"
    expect_eq "$(curl -s "$BASE/jobs?$B" | grep -c "$ID" || true)" 0 "appA's job in appB's list"
done
expect_eq "$(status "$ID" | field Status)" completed "appA's job after appB's attempts"
echo "6. isolation: appB gets 404 for appA's job on every endpoint through both nodes"

# ---- 7. an API node killed mid-download: the client's download fails, the other node serves it ----
curl -s -o "$T/dl.zip" --limit-rate 100K "http://127.0.0.1:${NODE_PORT[2]}/6.2/jobs/$ID/all?$A" &
CURL=$!
dl_started() { [ -s "$T/dl.zip" ]; }
wait_for 400 dl_started || fail "the download never started"
kill -9 "${NODE_PID[2]}"
wait "${NODE_PID[2]}" 2>/dev/null || true
rc=0
wait "$CURL" || rc=$?
# Either curl reports the cut (18: fewer bytes than Content-Length), or everything was in the
# socket buffers already and the file is whole: never a truncated file taken for a whole one.
if [ "$rc" -eq 0 ]; then
    unzip -p "$T/dl.zip" '*_out.txt' | cmp - "$T/ref_out.txt" || fail "a cut download looked whole"
else
    expect_eq "$rc" 18 "curl's exit status for a cut download"
fi
for _ in 1 2; do # HAProxy sends every request to the node that is left once node 2 fails
    curl -s -o "$T/dl.zip" "http://127.0.0.1:${NODE_PORT[1]}/6.2/jobs/$ID/all?$A"
    unzip -p "$T/dl.zip" '*_out.txt' | cmp - "$T/ref_out.txt" || fail "all.zip from node 1 differs"
done
echo "7. an API node killed mid-download (curl exit $rc): the other node serves the job"
echo "PASS scale_out_faults"
