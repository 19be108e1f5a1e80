#!/usr/bin/env bash
# scale_out_limits.sh - the per-application limits hold for a cluster, not per node
# (docs/scale-out.md, "Limits"): a PostgreSQL started by the test, HAProxy round-robin over two
# API nodes, every request of the test through HAProxy.
#   1. --rate 1 --burst 6: one token bucket per application in PostgreSQL. Of 12 requests that
#      alternate between the nodes, at most 6 + (seconds taken) pass; both nodes answer 429
#      ExceededUsageLimit once the cluster's bucket is empty; another application is not limited.
#      (Per node, each node had its own bucket of 6: all 12 passed.) With --rate 20 --burst 8 a
#      node takes 2 tokens a statement and spends the second without going to PostgreSQL
#      (within --rate-lease); a token not spent within a lease of 1 s is dropped.
#   2. --max-jobs-per-app 2: four uploads of one application held open at once, two on each
#      node, then finished: exactly two jobs are stored, two uploads get 429. (Each node counted
#      its own uploads in progress: all four were stored.)
#   3. --max-disk-per-app on a PostgreSQL store: the application's bytes are a running total in
#      the store, equal to the bytes of its stored files at every step (upload, run, results,
#      delete); an upload that would pass the quota is 413 at once on either node, a start over
#      it too, a delete frees the space; two uploads that each fit but not together, committed
#      on both nodes at the same instant: one stored, one 413. (The quota walked the node's job
#      directories, which hold nothing on a PostgreSQL store: nothing was ever refused.)
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/pg.sh"
source "$(dirname "$0")/lib/cluster.sh"
e2e_init scale_out_limits
import_index "$T/li.gbx" "$LI_CSV"
cluster_store
FAIL_LOG="$T/node1.log"
err_doc() { # TYPE SUBTYPE DETAILS
    printf '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:Error xmlns:ns2="http://www.navteq.com/lbsp/Errors/1" type="%s" subtype="%s"><Details>%s</Details></ns2:Error>' "$1" "$2" "$3"
}
# restart_nodes ARGS...: both API nodes again, on their ports (HAProxy keeps them), with ARGS
restart_nodes() {
    for n in 1 2; do
        if [ -n "${NODE_PID[$n]:-}" ]; then
            kill -TERM "${NODE_PID[$n]}"
            wait "${NODE_PID[$n]}" 2>/dev/null || true
        fi
        node_start "$n" --min-body-rate 0 "$@"
    done
}
# app_bytes APP: the store's running total; files_bytes APP: the bytes of the app's stored files
app_bytes() { psql_q "SELECT coalesce((SELECT bytes FROM gb_apps WHERE app = '$1'), 0)"; }
files_bytes() {
    psql_q "SELECT coalesce(sum(octet_length(f.data)), 0) FROM gb_files f JOIN gb_jobs j ON j.id = f.job WHERE j.app = '$1'"
}
check_total() { expect_eq "$(app_bytes "$1")" "$(files_bytes "$1")" "running total of $1's bytes ($2)"; }

# ---- 1. rate limit per application, cluster-wide ----
restart_nodes --rate 1 --burst 6
haproxy_start
t0=$(date +%s.%N)
for i in $(seq 1 12); do
    curl -s -D "$T/h$i" -o "$T/b$i" "$BASE/jobs?$A"
done
t1=$(date +%s.%N)
ok=0
refused_by=
for i in $(seq 1 12); do
    code=$(head -1 "$T/h$i" | cut -d' ' -f2)
    node=$(tr -d '\r' <"$T/h$i" | sed -n 's/^x-node: //Ip')
    if [ "$code" == 200 ]; then
        ok=$((ok + 1))
    else
        expect_eq "$code $(cat "$T/b$i")" "429 $(err_doc ApplicationError ExceededUsageLimit 'Too many requests for this application')" "request $i"
        expect_eq "$(tr -d '\r' <"$T/h$i" | sed -n 's/^retry-after: //Ip')" 1 "Retry-After of request $i"
        refused_by="$refused_by $node"
    fi
done
# a full bucket of 6, and at most 1 token a second since (rounded up)
max=$(python3 -c "import math; print(6 + math.ceil($t1 - $t0))")
[ "$ok" -ge 6 ] && [ "$ok" -le "$max" ] || fail "requests that passed: $ok (expected 6 to $max in $(python3 -c "print(round($t1 - $t0, 2))") s)"
[[ "$refused_by" == *node1* && "$refused_by" == *node2* ]] || fail "nodes that refused: [$refused_by]"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/jobs?$B")" 200 "appB while appA is limited"
expect_eq "$(psql_q "SELECT app FROM gb_rate ORDER BY app" | tr '\n' ' ')" "appA appB " "buckets in the store"
ONE="$ok of 12 requests passed in $(python3 -c "print(round($t1 - $t0, 2))") s"
# --rate 20 --burst 8: a node takes min(20/10, 8/4) = 2 tokens a statement and spends the
# second without one (within --rate-lease of the take: 600 s here, so that no stall of a loaded
# machine between the two requests can end it; with the default 1 s this check once failed)
restart_nodes --rate 20 --burst 8 --rate-lease 600
C="app_id=appC&app_code=codeC"
node_get() { curl -s -o /dev/null -w '%{http_code}' "http://${NODE_HOST[$1]}:${NODE_PORT[$1]}/6.2/jobs?$C"; }
bucket() { psql_q "SELECT got || ' ' || at FROM gb_rate WHERE app = 'appC'"; }
expect_eq "$(node_get 1)" 200 "appC on node 1"
b1=$(bucket)
expect_eq "${b1%% *} $(psql_q "SELECT tokens FROM gb_rate WHERE app = 'appC'")" "2 6" "node 1's first take from a full bucket of 8"
expect_eq "$(node_get 1)" 200 "appC on node 1 again"
expect_eq "$(bucket)" "$b1" "the bucket after node 1 spent its second token (no statement)"
expect_eq "$(node_get 2)" 200 "appC on node 2"
b2=$(bucket)
[ "${b2%% *}" == 2 ] && [ "$b2" != "$b1" ] || fail "node 2's take: [$b2] after [$b1]"
# --rate-lease 1: the token node 1 took and did not spend is dropped after a second (a wait
# that can only be longer than the lease, never shorter), so its next request takes again
restart_nodes --rate 20 --burst 8 --rate-lease 1
expect_eq "$(node_get 1)" 200 "appC on node 1 with a lease of 1 s"
b3=$(bucket)
sleep 1.2
expect_eq "$(node_get 1)" 200 "appC on node 1 after its lease"
b4=$(bucket)
[ "${b4%% *}" == 2 ] && [ "$b4" != "$b3" ] || fail "node 1's take after its lease: [$b4] after [$b3]"
echo "1. --rate 1 --burst 6 over two nodes: $ONE, both nodes refused the rest; --rate 20 --burst 8: tokens taken 2 a statement, held for --rate-lease"

# ---- 2. --max-jobs-per-app 2 through both nodes at once ----
restart_nodes --rate 0 --max-jobs-per-app 2
li_rows 300 | { echo 'recId|searchText|country'; cat; } >"$T/in300.txt"
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude&outputcombined=false"
UPS=()
for k in 1 2 3 4; do # headers and part of the body, then each waits on its FIFO
    mkfifo "$T/rest$k"
    { head -c 2000 "$T/in300.txt"; cat "$T/rest$k"; } |
        curl -s -w '%{http_code}' -o "$T/up$k.out" -X POST -T - "$BASE/jobs?$A&$P" >"$T/uc$k" &
    UPS+=($!)
    on_exit "kill ${UPS[-1]} 2>/dev/null; timeout 1 sh -c ': >\"$T/rest$k\"' 2>/dev/null"
done
in_progress() { [ "$(find "$T/node1/tmp" "$T/node2/tmp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)" == "$1" ]; }
wait_for 1200 in_progress 4 || fail "four uploads in progress: $(find "$T/node1/tmp" "$T/node2/tmp" -mindepth 1 -maxdepth 1 | wc -l)"
for k in 1 2 3 4; do
    tail -c +2001 "$T/in300.txt" >"$T/rest$k"
    wait "${UPS[$((k - 1))]}" || fail "upload $k: curl failed"
done
LIMITDOC=$(err_doc ApplicationError ExceededUsageLimit 'Too many jobs in progress for this application (limit 2)')
stored=0
refused=0
for k in 1 2 3 4; do
    code=$(cat "$T/uc$k")
    case "$code" in
    200) [[ "$(field Status <"$T/up$k.out")" == submitted ]] || fail "upload $k: $(cat "$T/up$k.out")"; stored=$((stored + 1)) ;;
    429) expect_eq "$(cat "$T/up$k.out")" "$LIMITDOC" "refused upload $k"; refused=$((refused + 1)) ;;
    *) fail "upload $k: $code $(cat "$T/up$k.out")" ;;
    esac
done
expect_eq "$stored $refused" "2 2" "uploads stored and refused"
expect_eq "$(psql_q "SELECT count(*) FROM gb_jobs WHERE app = 'appA'")" 2 "appA's jobs in the store"
in_progress 0 || fail "temporary files of the refused uploads left on the nodes"
out=$(curl -s -w ' %{http_code}' -X POST --data-binary @"$T/in300.txt" "$BASE/jobs?$A&$P")
expect_eq "$out" "$LIMITDOC 429" "a third job after two submitted"
echo "2. --max-jobs-per-app 2: four uploads held open on two nodes at once, 2 stored, 2 refused (429)"

# ---- 3. --max-disk-per-app on the PostgreSQL store ----
check_total appA "two submitted jobs"
U2=$(app_bytes appA)
U=$((U2 / 2))
S=$(stat -c %s "$T/in300.txt")
Q=$((U2 + U / 2))
restart_nodes --rate 0 --max-disk-per-app "$Q"
worker_start 1
QUOTA="Disk quota of this application exceeded"
for n in 1 2; do # both nodes know the store's total
    out=$(curl -s -D "$T/qh" -w ' %{http_code}' -X POST --data-binary @"$T/in300.txt" "$BASE/jobs?$A&$P")
    expect_eq "$out" "$(err_doc ApplicationError ExceededUsageLimit "$QUOTA: $U2 of $Q bytes in use, the request needs $S more; delete jobs to free space") 413" "upload over the quota ($n)"
done
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/in300.txt" "$BASE/jobs?$B&$P")" 200 "appB under its own quota"
mapfile -t J < <(psql_q "SELECT id FROM gb_jobs WHERE app = 'appA' ORDER BY seq")
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$BASE/jobs/${J[0]}?$A")" 200 "delete of ${J[0]}"
check_total appA "after a delete"
expect_eq "$(app_bytes appA)" "$((U2 - U))" "bytes after the delete"
ID=$(curl -s -X POST --data-binary @"$T/in300.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "no RequestId after the delete"
wait_state "$ID" completed 1200
check_total appA "after a job ran"
used=$(app_bytes appA)
[ "$used" -gt "$Q" ] || fail "results did not take appA over its quota ($used of $Q)"
for n in 1 2; do
    out=$(curl -s -w ' %{http_code}' -X PUT "$BASE/jobs/${J[1]}?$A&action=run")
    expect_eq "$out" "$(err_doc ApplicationError ExceededUsageLimit "$QUOTA: $used of $Q bytes in use; delete jobs to free space") 413" "start over the quota ($n)"
done
# two uploads (no Content-Length) that each fit but not together, held open on both nodes, then
# committed at once: the store lets one pass
for id in "$ID" "${J[1]}"; do curl -s -o /dev/null -X DELETE "$BASE/jobs/$id?$A"; done
check_total appA "after two deletes"
expect_eq "$(app_bytes appA)" 0 "bytes with no job"
UPS=()
for k in 5 6; do
    mkfifo "$T/rest$k"
    { head -c 2000 "$T/in300.txt"; cat "$T/rest$k"; head -n 200 "$T/in300.txt" | tail -n +2; } |
        curl -s -w '%{http_code}' -o "$T/up$k.out" -X POST -T - "$BASE/jobs?$A&$P" >"$T/uc$k" &
    UPS+=($!)
    on_exit "kill ${UPS[-1]} 2>/dev/null; timeout 1 sh -c ': >\"$T/rest$k\"' 2>/dev/null"
done
wait_for 1200 in_progress 2 || fail "two uploads in progress"
for k in 5 6; do tail -c +2001 "$T/in300.txt" >"$T/rest$k" & done
for k in 5 6; do wait "${UPS[$((k - 5))]}" || fail "upload $k: curl failed"; done
codes=$(for k in 5 6; do cat "$T/uc$k"; echo; done | sort | tr '\n' ' ')
expect_eq "$codes" "200 413 " "two uploads committed at once under the quota"
for k in 5 6; do
    if [ "$(cat "$T/uc$k")" == 413 ]; then
        grep -q "subtype=\"ExceededUsageLimit\"><Details>$QUOTA: " "$T/up$k.out" || fail "answer of upload $k: $(cat "$T/up$k.out")"
    fi
done
expect_eq "$(psql_q "SELECT count(*) FROM gb_jobs WHERE app = 'appA' AND state <> 5")" 1 "appA's jobs stored"
check_total appA "after the race"
[ "$(app_bytes appA)" -le "$Q" ] || fail "the store passed the quota: $(app_bytes appA) of $Q"
echo "3. --max-disk-per-app $Q on PostgreSQL: a running total equal to the stored bytes; 413 on both nodes; two uploads at once: one stored"
echo "PASS scale_out_limits"
