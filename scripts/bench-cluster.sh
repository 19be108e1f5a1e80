#!/usr/bin/env bash
# bench-cluster.sh GEOBATCH SHARED ROWS - a ROWS-row job (Liechtenstein addresses repeated) on
# the SQLite node (`serve --workers 1`) and on a PostgreSQL cluster (one API node
# `serve --workers 0`, then 1 and 2 `geobatch work --threads 1`), PostgreSQL started here as in
# the tests (test/e2e/lib/pg.sh). Per run: upload-to-completed wall time, rows/s, and the CPU
# seconds of the geocoding processes (the node, or the workers together) read from /proc, so
# that the per-worker efficiency (SQLite node CPU / cluster worker CPU) does not depend on the
# machine's load; for the cluster also PostgreSQL transactions and stored bytes per chunk, and
# PostgreSQL's own CPU (its processes at the end of the run; backends that ended are missed).
# The wall time runs from the upload's first byte to the result zip's last (upload-to-zip).
# Then the cost of the cluster-wide rate limit: wrk on the synchronous geocoder of one API node,
# --rate 0 against --rate 1000000 (a PostgreSQL statement per request), requests/s and the CPU
# of the node and of PostgreSQL per 1,000 requests.
# `make bench-cluster` (ROWS=1000000; RATE_ONLY=1: the rate-limit part only). Temporary files
# under $TMPDIR.
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
    # ROWS rows, the 5,000 over again as often as needed (no `| head`: under pipefail, the
    # writer's SIGPIPE failed the script whenever ROWS was under a multiple of 5,000)
    awk -v n="$ROWS" '{ l[NR] = $0 } END { for (i = 0; i < n; i++) print l[i % NR + 1] }' "$T/rows.txt"
} >"$T/in.txt"
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude,displayLongitude,locationLabel,matchLevel&outputcombined=true"
cpu() { # PID...: user+system CPU seconds of the processes
    local t=0 p
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
    echo "scale=2; $t / $(getconf CLK_TCK)" | bc
}
now() { date +%s.%N; }
run_job() { # BASE PIDS...: upload, wait for completed, download the zip; prints "wall cpu id"
    local base=$1 c0 t0 id
    shift
    c0=$(cpu "$@")
    t0=$(now)
    id=$(curl -s -X POST --data-binary @"$T/in.txt" "$base/jobs?$A&action=run&$P" | field RequestId)
    BASE=$base wait_state "$id" completed 100000 0.1
    curl -sf -o "$T/result.zip" "$base/jobs/$id/result?$A" || fail "download of $id"
    echo "$(echo "$(now) - $t0" | bc) $(echo "$(cpu "$@") - $c0" | bc) $id"
}
pg_pids() { # the postmaster and its children now
    local pm
    pm=$(head -1 "$PG_DIR/data/postmaster.pid")
    echo "$pm" $(ps -o pid= --ppid "$pm")
}
report() { # NAME WALL CPU
    printf '%-26s %8.1f s %10.0f rows/s %8.1f CPU s %10.0f rows/CPU-s\n' "$1" "$2" \
        "$(echo "$ROWS / $2" | bc -l)" "$3" "$(echo "$ROWS / $3" | bc -l)"
}
echo "rows=$ROWS load=$(cut -d' ' -f1-3 /proc/loadavg)"

if [ -z "${RATE_ONLY:-}" ]; then
# the SQLite node, one geocoding thread
make_data "$T/sqlite" 'appA codeA'
PORT=$(free_port)
serve "$T/li.gbx" "$T/sqlite" "$T/sqlite.log" --workers 1 --rate 0
read -r wall c _ < <(run_job "$BASE" "$SERVER_PID")
report "sqlite node, 1 thread" "$wall" "$c"
SQLITE_CPU=$c
SQLITE_WALL=$wall
stop_server
fi

cluster_store
node_start 1
for n in 1 2; do
    [ -z "${RATE_ONLY:-}" ] || break
    worker_start "$n" --lease 30
    pids=()
    for w in $(seq 1 "$n"); do pids+=("${WORKER_PID[$w]}"); done
    x0=$(psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
    p0=$(cpu $(pg_pids))
    read -r wall c id < <(run_job "http://127.0.0.1:${NODE_PORT[1]}/6.2" "${pids[@]}")
    p1=$(cpu $(pg_pids))
    x1=$(psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
    chunks=$(psql_q "SELECT nchunks FROM gb_jobs WHERE id = '$id'")
    bytes=$(psql_q "SELECT coalesce(sum(length(data)), 0) FROM gb_files WHERE job = '$id'")
    report "cluster, $n worker(s)" "$wall" "$c"
    printf '%-26s %8.0f %% of the sqlite node per worker CPU; %s transactions/chunk (all nodes); %s stored bytes/row\n' "" \
        "$(echo "100 * $SQLITE_CPU / $c" | bc -l)" "$(echo "($x1 - $x0) / $chunks" | bc)" "$(echo "$bytes / $ROWS" | bc)"
    printf '%-26s %8.2f x the sqlite node upload-to-zip; PostgreSQL CPU %.1f s (%.3f s/chunk)\n' "" \
        "$(echo "$wall / $SQLITE_WALL" | bc -l)" "$(echo "$p1 - $p0" | bc)" "$(echo "($p1 - $p0) / $chunks" | bc -l)"
done

# ---- the cost of the cluster-wide rate limit: one API node, the synchronous geocoder ----
if command -v wrk >/dev/null; then
    q="/6.2/geocode.json?$A&searchtext=Kirchstrasse%201%20Vaduz&country=LIE"
    curl -sf -o /dev/null "http://127.0.0.1:${NODE_PORT[1]}$q" || fail "sync geocode on the node"
    echo "wrk -t1 -c4 -d10s http://127.0.0.1:PORT$q"
    for rate in 0 1000000; do
        kill -TERM "${NODE_PID[1]}"
        wait "${NODE_PID[1]}" 2>/dev/null || true
        node_start 1 --rate "$rate" --burst 1000000
        curl -sf -o /dev/null "http://127.0.0.1:${NODE_PORT[1]}$q"
        n0=$(cpu "${NODE_PID[1]}")
        p0=$(cpu $(pg_pids))
        wrk -t1 -c4 -d10s "http://127.0.0.1:${NODE_PORT[1]}$q" >"$T/wrk.txt"
        n1=$(cpu "${NODE_PID[1]}")
        p1=$(cpu $(pg_pids))
        reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk.txt")
        rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$T/wrk.txt")
        lat=$(awk '$1 == "Latency" {print $2}' "$T/wrk.txt")
        non2xx=$(sed -n 's/.*Non-2xx or 3xx responses:[[:space:]]*\([0-9]*\).*/\1/p' "$T/wrk.txt")
        printf 'rate %-8s %8.0f requests/s, mean latency %s, non-2xx %s; node CPU %.3f s, PostgreSQL CPU %.3f s per 1,000 requests\n' \
            "$rate" "$rps" "$lat" "${non2xx:-0}" "$(echo "1000 * ($n1 - $n0) / $reqs" | bc -l)" "$(echo "1000 * ($p1 - $p0) / $reqs" | bc -l)"
    done
fi
