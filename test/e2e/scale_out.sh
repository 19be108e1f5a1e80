#!/usr/bin/env bash
# scale_out.sh - geobatch as a cluster on PostgreSQL (docs/scale-out.md), every component real:
# a PostgreSQL started by the test, HAProxy round-robin in front of two API nodes
# (`serve --store postgresql://... --workers 0`, each with a data directory of its own), three
# `geobatch work` processes with a 4 s lease.
#   1. consecutive requests reach different nodes; a job uploaded through HAProxy completes and
#      its result, no-matches, errors and all.zip equal `geobatch geocode`'s, whichever node
#      serves them; the nodes' disks hold no job file afterwards (only PostgreSQL does);
#      the status names the index that answered
#   2. SIGKILL a worker while it holds a lease (mid-chunk): the lease expires, another worker
#      redoes the chunk, /metrics counts the expiry, and the result is byte-identical
#   3. a worker with another index takes no chunk of a job started on this one
#   4. 20 jobs from 3 applications at once through HAProxy: each equals geocode, each is seen
#      by its own application only (status, list)
# Where the machine allows it (root, `ip netns`), every node and worker runs in a network
# namespace of its own, linked by a veth pair to this one, where only PostgreSQL and HAProxy
# run: the nodes cannot reach each other, nor PostgreSQL's loopback address; otherwise they are
# separate processes with separate directories. The first line of output says which mode ran.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/pg.sh"
source "$(dirname "$0")/lib/cluster.sh"
e2e_init scale_out
import_index "$T/li.gbx" "$LI_CSV"
split_job_input 8 # 40,000 rows and one invalid line
cluster_netns
cluster_store
node_start 1 --chunk-rows 2000
node_start 2 --chunk-rows 2000
haproxy_start
FAIL_LOG="$T/worker1.log"
for w in 1 2 3; do worker_start $w --lease 4; done
if [ "$CLUSTER_MODE" == netns ]; then # what a node's namespace reaches: PostgreSQL, nothing else
    ns1=${NS_OF_NODE[1]}
    ip netns exec "$ns1" curl -s --max-time 2 -o /dev/null "http://${NODE_HOST[2]}:${NODE_PORT[2]}/health" &&
        fail "node 1's namespace reaches node 2"
    ip netns exec "$ns1" "$PG_BIN/psql" -X -q -t -A -d "$PG_URL" -c 'SELECT 1' >/dev/null 2>&1 &&
        fail "node 1's namespace reaches PostgreSQL on 127.0.0.1"
    expect_eq "$(ip netns exec "$ns1" "$PG_BIN/psql" -X -q -t -A -d "${PG_URL/127.0.0.1/${NODE_HOST[1]%.2}.1}" -c 'SELECT 1')" 1 "PostgreSQL from node 1's namespace"
    expect_eq "$(psql_q "SELECT count(DISTINCT client_addr) FROM pg_stat_activity WHERE client_addr << '$PG_HBA_NET'")" 5 "PostgreSQL clients: two nodes and three workers, each from its own address"
    echo "0. mode netns: nodes and workers in $NS_LINKS network namespaces, each linked only to PostgreSQL and HAProxy"
else
    echo "0. mode processes: separate processes with separate directories (no network namespaces here)"
fi

# ---- 1. round-robin, a job through the cluster ----
nodes=$(for _ in 1 2 3 4; do curl -s -D - -o /dev/null "$BASE/jobs?$A" | tr -d '\r' | sed -n 's/^x-node: //Ip'; done | tr '\n' ' ')
case "$nodes" in "node1 node2 node1 node2 " | "node2 node1 node2 node1 ") ;; *) fail "nodes that answered four requests: [$nodes]" ;; esac
ID=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "no RequestId"
wait_state "$ID" completed 1200
check_split_result "$ID" 40000
for _ in 1 2; do # both nodes serve every file
    curl -s "$BASE/jobs/$ID/errors?$A" >"$T/errors.txt"
    expect_eq "$(cat "$T/errors.txt")" "Line Number:40002 bad|line|with|too|many|fields" "errors of $ID"
    curl -s "$BASE/jobs/$ID/result?$A&outputcompressed=false" | cmp - "$T/ref_out.txt" || fail "plain result differs"
done
IX=$(status "$ID" | field IndexId)
[[ "$IX" =~ ^[0-9a-f]{8}-[0-9a-f]+$ ]] || fail "IndexId in the status: [$IX]"
expect_eq "$(psql_q "SELECT index_id FROM gb_jobs WHERE id = '$ID'")" "$IX" "the job's index in the store"
expect_eq "$(find "$T/node1" "$T/node2" -type f ! -name credentials ! -name lock | wc -l)" 0 "files on the nodes' disks"
expect_eq "$(psql_q "SELECT count(*) FROM gb_files WHERE job = '$ID' AND (name LIKE 'in/%' OR name LIKE 'out/%')")" 0 "chunk files left in the store"
expect_eq "$(psql_q "SELECT count(*) FROM gb_chunks WHERE job = '$ID' AND done")" 20 "chunks done"
echo "1. round-robin over two nodes; a 40,000-row job through HAProxy equals geocode; no job file on the nodes"

# ---- 2. SIGKILL a worker that holds a lease ----
# All workers stopped (SIGSTOP) while the job is stored; gb_files locked (files_lock), worker 1
# alone goes on: it claims a chunk and waits for the chunk's input, and is killed holding the
# lease: it dies mid-chunk whatever the machine's speed.
kill -STOP "${WORKER_PID[1]}" "${WORKER_PID[2]}" "${WORKER_PID[3]}"
ID2=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
[[ "$ID2" =~ ^$JOBID_RE$ ]] || fail "no RequestId for job 2"
files_lock
kill -CONT "${WORKER_PID[1]}"
wait_for 600 leased_ge 1 || fail "worker 1 never held a lease"
kill -9 "${WORKER_PID[1]}"
wait "${WORKER_PID[1]}" 2>/dev/null || true
files_unlock
kill -CONT "${WORKER_PID[2]}" "${WORKER_PID[3]}"
wait_state "$ID2" completed 1200
check_split_result "$ID2" 40000
exp=$(curl -s "${BASE%/6.2}/metrics" | sed -n 's/^geobatch_lease_expiries_total //p')
[ "${exp:-0}" -ge 1 ] || fail "no lease expiry counted (got '$exp')"
expect_eq "$(psql_q "SELECT processed FROM gb_jobs WHERE id = '$ID2'")" 40000 "rows counted once"
echo "2. SIGKILL of a worker mid-chunk: its lease expired, the chunk was redone, result equals geocode"

# ---- 3. index identity: a worker with another index takes nothing of this job ----
kill -TERM "${WORKER_PID[2]}" "${WORKER_PID[3]}"
wait "${WORKER_PID[2]}" "${WORKER_PID[3]}" 2>/dev/null || true
head -2001 "$LI_CSV" >"$T/other.csv"
import_index "$T/other.gbx" "$T/other.csv"
# Worker 4 (this index) claims a chunk, which starts the job on its index, and waits for the
# chunk's input (files_lock): the job has 20 chunks to do all the while worker 5 looks.
ID3=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
[[ "$ID3" =~ ^$JOBID_RE$ ]] || fail "no RequestId for job 3"
files_lock
worker_start 4 --lease 4
wait_for 600 leased_ge 1 || fail "job 3 did not start"
expect_eq "$(psql_q "SELECT index_id FROM gb_jobs WHERE id = '$ID3'")" "$IX" "job 3's index"
claims() { psql_q "SELECT string_agg(k || ':' || claim, ',' ORDER BY k) FROM gb_chunks WHERE job = '$ID3' AND claim <> 0"; }
claims_before=$(claims)
WORKER_INDEX="$T/other.gbx" worker_start 5 --threads 2 --lease 4 --log-level debug
# it looks for work at start, when LISTEN connects, and once a lease: wait for five looks
# (or until it claims a chunk, which the next line reports)
looked() { [ "$(grep -c 'claim none' "$T/worker5.log")" -ge 5 ] || [ "$(claims)" != "$claims_before" ]; }
wait_for 400 looked || fail "worker 5 did not look for work"
expect_eq "$(claims)" "$claims_before" "chunks claimed while a worker with another index looked"
expect_eq "$(psql_q "SELECT chunks_done FROM gb_jobs WHERE id = '$ID3'")" 0 "chunks done while locked"
files_unlock
wait_state "$ID3" completed 1200
check_split_result "$ID3" 40000
echo "3. a worker with another index took no chunk of a job started on this one"
# ---- 4. 20 jobs from 3 applications at once through HAProxy ----
kill -TERM "${WORKER_PID[5]}"
wait "${WORKER_PID[5]}" 2>/dev/null || true
for w in 6 7; do worker_start $w --lease 4; done
head -2001 "$T/in.txt" >"$T/small.txt" # a header and 2,000 rows
"$GB_BIN" geocode --index "$T/li.gbx" --outcols=$COLS --outputcombined=false \
    --no-matches="$T/small_nom.txt" "$T/small.txt" >"$T/small_out.txt" 2>/dev/null
AUTHS=("$A" "$B" "app_id=appC&app_code=codeC")
IDS=()
UPIDS=()
for i in $(seq 0 19); do
    curl -s -X POST --data-binary @"$T/small.txt" "$BASE/jobs?${AUTHS[$((i % 3))]}&action=run&$P" >"$T/sub$i.xml" &
    UPIDS+=($!)
done
for p in "${UPIDS[@]}"; do wait "$p" || fail "an upload failed"; done
for i in $(seq 0 19); do
    id=$(field RequestId <"$T/sub$i.xml")
    [[ "$id" =~ ^$JOBID_RE$ ]] || fail "upload $i: $(cat "$T/sub$i.xml")"
    IDS+=("$id")
done
for i in $(seq 0 19); do
    auth=${AUTHS[$((i % 3))]}
    wait_state "${IDS[$i]}" completed 2400 0.05 "$auth"
    curl -s -o "$T/r.zip" "$BASE/jobs/${IDS[$i]}/result?$auth"
    unzip -p "$T/r.zip" '*_out.txt' | cmp - "$T/small_out.txt" || fail "result of job $i differs"
    other=${AUTHS[$(((i + 1) % 3))]}
    expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs/${IDS[$i]}?$other&action=status")" 404 "job $i seen by another application"
done
for a in "${AUTHS[@]}"; do
    app=$(sed 's/app_id=\([^&]*\).*/\1/' <<<"$a")
    expect_eq "$(curl -s "$BASE/jobs?$a" | grep -o '<RequestId>' | wc -l)" \
        "$(psql_q "SELECT count(*) FROM gb_jobs WHERE app = '$app'")" "jobs listed for $app"
done
echo "4. 20 jobs from 3 applications at once: each equals geocode, each visible to its application only"
echo "PASS scale_out"
