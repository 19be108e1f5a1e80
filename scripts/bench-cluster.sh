#!/usr/bin/env bash
# bench-cluster.sh GEOBATCH SHARED ROWS - a ROWS-row job (Liechtenstein addresses repeated) on
# the SQLite node (`serve --workers 1`) and on a PostgreSQL cluster (one API node
# `serve --workers 0`, then 1 and 2 `geobatch work --threads 1`), PostgreSQL started here as in
# the tests (test/e2e/lib/pg.sh). Per run: upload-to-completed wall time, rows/s, and the CPU
# seconds of the geocoding processes (the node, or the workers together) read from /proc, so
# that the per-worker efficiency (SQLite node CPU / cluster worker CPU) does not depend on the
# machine's load; for the cluster also PostgreSQL transactions and stored bytes per chunk.
# `make bench-cluster` (ROWS=1000000). Temporary files under $TMPDIR.
set -euo pipefail
GB_BIN=$(realpath "$1")
GB_SHARED=$(realpath "$2")
ROWS=${3:-1000000}
GB_SRC=$(cd "$(dirname "$0")/.." && pwd)
GB_TMP=${TMPDIR:-/tmp}
export GB_BIN GB_SHARED GB_SRC GB_TMP
source "$GB_SRC/test/e2e/lib/common.sh"
source "$GB_SRC/test/e2e/lib/pg.sh"
source "$GB_SRC/test/e2e/lib/cluster.sh"
e2e_init bench-cluster
import_index "$T/li.gbx" "$LI_CSV"
li_rows 5000 >"$T/rows.txt"
{
    echo 'recId|searchText|country'
    for _ in $(seq 1 $(((ROWS + 4999) / 5000))); do cat "$T/rows.txt"; done | head -n "$ROWS"
} >"$T/in.txt"
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude,locationLabel,matchLevel&outputcombined=true"
cpu() { # PID...: user+system CPU seconds of the processes
    local t=0 p
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo "scale=2; $t / $(getconf CLK_TCK)" | bc
}
now() { date +%s.%N; }
run_job() { # BASE PIDS...: upload, wait for completed; prints "wall cpu"
    local base=$1 c0 t0 id
    shift
    c0=$(cpu "$@")
    t0=$(now)
    id=$(curl -s -X POST --data-binary @"$T/in.txt" "$base/jobs?$A&action=run&$P" | field RequestId)
    BASE=$base wait_state "$id" completed 100000 0.1
    echo "$(echo "$(now) - $t0" | bc) $(echo "$(cpu "$@") - $c0" | bc) $id"
}
report() { # NAME WALL CPU
    printf '%-26s %8.1f s %10.0f rows/s %8.1f CPU s %10.0f rows/CPU-s\n' "$1" "$2" \
        "$(echo "$ROWS / $2" | bc -l)" "$3" "$(echo "$ROWS / $3" | bc -l)"
}
echo "rows=$ROWS load=$(cut -d' ' -f1-3 /proc/loadavg)"

# the SQLite node, one geocoding thread
make_data "$T/sqlite" 'appA codeA'
PORT=$(free_port)
serve "$T/li.gbx" "$T/sqlite" "$T/sqlite.log" --workers 1 --rate 0
read -r wall c _ < <(run_job "$BASE" "$SERVER_PID")
report "sqlite node, 1 thread" "$wall" "$c"
SQLITE_CPU=$c
stop_server

cluster_store
node_start 1
for n in 1 2; do
    worker_start "$n" --lease 30
    pids=()
    for w in $(seq 1 "$n"); do pids+=("${WORKER_PID[$w]}"); done
    x0=$(psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
    read -r wall c id < <(run_job "http://127.0.0.1:${NODE_PORT[1]}/6.2" "${pids[@]}")
    x1=$(psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
    chunks=$(psql_q "SELECT nchunks FROM gb_jobs WHERE id = '$id'")
    bytes=$(psql_q "SELECT coalesce(sum(length(data)), 0) FROM gb_files WHERE job = '$id'")
    report "cluster, $n worker(s)" "$wall" "$c"
    printf '%-26s %8.0f %% of the sqlite node per worker CPU; %s transactions/chunk (all nodes); %s stored bytes/row\n' "" \
        "$(echo "100 * $SQLITE_CPU / $c" | bc -l)" "$(echo "($x1 - $x0) / $chunks" | bc)" "$(echo "$bytes / $ROWS" | bc)"
done
