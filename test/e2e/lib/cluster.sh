# shellcheck shell=bash disable=SC2034 # sets variables for the scripts that source it
# test/e2e/lib/cluster.sh - a geobatch cluster for a test (sourced after common.sh and pg.sh):
# a PostgreSQL store (pg_start), API nodes (`geobatch serve --store ... --workers 0`, each with a
# data directory of its own that holds only temporary files and the credentials), HAProxy
# round-robin in front of them (every response carries X-Node: the node that answered), and
# `geobatch work` processes. Everything is killed on exit (common.sh's PIDS).
#   cluster_store: pg_start + geobatch store migrate
#   node_start N [serve args]: API node N on a free port; NODE_PID[N], NODE_PORT[N]
#   haproxy_start: HAProxy on a free port over every node started; sets BASE (…/6.2) to it
#   worker_start N [work args]: worker N; WORKER_PID[N]
#   wait_for TRIES CMD...: run CMD every 50 ms until it succeeds (TRIES times at most)

NODE_PID=()
NODE_PORT=()
WORKER_PID=()
HAPROXY_PID=
CLUSTER_CREDS=('appA codeA' 'appB codeB' 'appC codeC')

wait_for() {
    local tries=$1
    shift
    for _ in $(seq 1 "$tries"); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

cluster_store() {
    pg_start
    "$GB_BIN" store migrate --store "$PG_URL" >/dev/null 2>&1 || fail "store migrate"
}

node_start() { # N [serve args...]
    local n=$1
    shift
    [ -d "$T/node$n" ] || make_data "$T/node$n" "${CLUSTER_CREDS[@]}"
    [ -n "${NODE_PORT[$n]:-}" ] || NODE_PORT[$n]=$(free_port)
    "$GB_BIN" serve --index "$T/li.gbx" --data "$T/node$n" --store "$PG_URL" --workers 0 \
        --listen "127.0.0.1:${NODE_PORT[$n]}" --rate 0 --max-connections-per-ip 0 "$@" \
        2>>"$T/node$n.log" &
    NODE_PID[$n]=$!
    PIDS+=("${NODE_PID[$n]}")
    wait_health "${NODE_PORT[$n]}" 200 || { cat "$T/node$n.log" >&2; fail "node $n did not start"; }
}

haproxy_start() {
    "$GB_SRC/scripts/deps.sh" haproxy >&2
    local port n
    port=$(free_port)
    {
        printf 'global\n    maxconn 1000\ndefaults\n    mode http\n    timeout connect 5s\n'
        printf '    timeout client 120s\n    timeout server 120s\n    option http-server-close\n'
        printf 'frontend api\n    bind 127.0.0.1:%s\n    default_backend nodes\n' "$port"
        printf 'backend nodes\n    balance roundrobin\n'
        printf '    http-response set-header X-Node %%[srv_name]\n'
        for n in "${!NODE_PORT[@]}"; do
            printf '    server node%s 127.0.0.1:%s\n' "$n" "${NODE_PORT[$n]}"
        done
    } >"$T/haproxy.cfg"
    haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    PIDS+=("$HAPROXY_PID")
    wait_health "$port" 200 || { cat "$T/haproxy.log" >&2; fail "haproxy did not start"; }
    BASE="http://127.0.0.1:$port/6.2"
}

worker_start() { # N [work args...]
    local n=$1
    shift
    "$GB_BIN" work --store "$PG_URL" --index "$T/li.gbx" --threads 1 --tmp "$T" "$@" \
        2>>"$T/worker$n.log" &
    WORKER_PID[$n]=$!
    PIDS+=("${WORKER_PID[$n]}")
    wait_for 200 grep -q "work started" "$T/worker$n.log" || { cat "$T/worker$n.log" >&2; fail "worker $n did not start"; }
}

# leased: chunks held by an unexpired lease now
leased() { psql_q "SELECT count(*) FROM gb_chunks WHERE claim <> 0 AND lease_until >= clock_timestamp()"; }
# in_flight: statements of other sessions running now (the query's own session excluded)
in_flight() {
    psql_q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'
            AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
}
