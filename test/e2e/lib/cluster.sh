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
#   files_lock / files_unlock: a session of the test's own holds gb_files exclusively in
#     between; a worker that claims a chunk then waits to read the chunk's input, its lease
#     held and renewed: a worker caught mid-chunk by a condition, not by a race with a poll;
#     files_lock_cut closes it when a restart of PostgreSQL ended the session
#   cluster_netns: before cluster_store, when the machine allows it (root, `ip netns`): every
#     node and worker started afterwards runs in a network namespace of its own, linked to the
#     test's namespace by a veth pair of its own (10.A.K.1 here, 10.A.K.2 there, /30, no other
#     route), where only PostgreSQL (listening on every address) and HAProxy run; otherwise
#     separate processes with separate directories. CLUSTER_MODE says which ("netns" or
#     "processes"; GB_NO_NETNS=1 forces the latter); NODE_HOST[N] is the address node N listens
#     on, NS_OF_NODE[N] its namespace.

NODE_PID=()
NODE_PORT=()
NODE_HOST=()
NODE_LINK=()
NS_OF_NODE=()
WORKER_PID=()
HAPROXY_PID=
CLUSTER_MODE=processes
NS_PREFIX=
NS_NET=
NS_LINKS=0
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

cluster_netns() {
    NS_PREFIX="gb$$"
    local a
    if [ -z "${GB_NO_NETNS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && ip netns add "${NS_PREFIX}x" 2>/dev/null; then
        ip netns del "${NS_PREFIX}x"
        on_exit 'netns_cleanup'
        # a 10.A.0.0/16 no address of this machine is in (other tests may run at the same time)
        for _ in $(seq 1 50); do
            a=$((RANDOM % 200 + 30))
            ip -o addr | grep -q " 10\.$a\." || { NS_NET="10.$a"; break; }
        done
    fi
    if [ -n "$NS_NET" ]; then
        CLUSTER_MODE=netns
        PG_LISTEN='*'
        PG_HBA_NET="$NS_NET.0.0/16"
    fi
    echo "cluster mode: $CLUSTER_MODE"
}

# netns_new: a namespace and its veth link; sets NS (its name) and NS_K (the link's number)
netns_new() {
    NS_LINKS=$((NS_LINKS + 1))
    NS_K=$NS_LINKS
    NS="${NS_PREFIX}n$NS_K"
    ip netns add "$NS" || fail "ip netns add $NS"
    ip link add "${NS}h" type veth peer name "${NS}p" &&
        ip link set "${NS}p" netns "$NS" &&
        ip addr add "$NS_NET.$NS_K.1/30" dev "${NS}h" && ip link set "${NS}h" up &&
        ip netns exec "$NS" ip addr add "$NS_NET.$NS_K.2/30" dev "${NS}p" &&
        ip netns exec "$NS" ip link set "${NS}p" up &&
        ip netns exec "$NS" ip link set lo up || fail "veth link of $NS"
}

netns_cleanup() {
    local k
    for k in $(seq 1 "$NS_LINKS"); do ip netns del "${NS_PREFIX}n$k" 2>/dev/null || true; done
}

# in_ns CMD...: CMD in the namespace NS (netns mode) or here; exec, so that $! is CMD's pid
in_ns() {
    if [ "$CLUSTER_MODE" == netns ]; then exec ip netns exec "$NS" "$@"; else exec "$@"; fi
}

# the store's URL as seen from namespace NS (its link's address here), or PG_URL
ns_pg_url() {
    if [ "$CLUSTER_MODE" == netns ]; then echo "${PG_URL/127.0.0.1/$NS_NET.$NS_K.1}"; else echo "$PG_URL"; fi
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
    if [ "$CLUSTER_MODE" == netns ] && [ -z "${NS_OF_NODE[$n]:-}" ]; then
        netns_new
        NS_OF_NODE[$n]=$NS
        NODE_HOST[$n]="$NS_NET.$NS_K.2"
        NODE_LINK[$n]=$NS_K
    fi
    [ -n "${NODE_HOST[$n]:-}" ] || NODE_HOST[$n]=127.0.0.1
    NS=${NS_OF_NODE[$n]:-}
    NS_K=${NODE_LINK[$n]:-}
    (in_ns "$GB_BIN" serve --index "$T/li.gbx" --data "$T/node$n" --store "$(ns_pg_url)" --workers 0 \
        --listen "${NODE_HOST[$n]}:${NODE_PORT[$n]}" --rate 0 --max-connections-per-ip 0 "$@" \
        2>>"$T/node$n.log") &
    NODE_PID[$n]=$!
    PIDS+=("${NODE_PID[$n]}")
    wait_for 200 curl -sf -o /dev/null "http://${NODE_HOST[$n]}:${NODE_PORT[$n]}/health" ||
        { cat "$T/node$n.log" >&2; fail "node $n did not start"; }
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
            printf '    server node%s %s:%s\n' "$n" "${NODE_HOST[$n]}" "${NODE_PORT[$n]}"
        done
    } >"$T/haproxy.cfg"
    haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
    HAPROXY_PID=$!
    PIDS+=("$HAPROXY_PID")
    wait_health "$port" 200 || { cat "$T/haproxy.log" >&2; fail "haproxy did not start"; }
    BASE="http://127.0.0.1:$port/6.2"
}

worker_start() { # N [work args...] (WORKER_INDEX: another index than $T/li.gbx)
    local n=$1
    shift
    [ "$CLUSTER_MODE" != netns ] || netns_new
    (in_ns "$GB_BIN" work --store "$(ns_pg_url)" --index "${WORKER_INDEX:-$T/li.gbx}" --threads 1 \
        --tmp "$T" "$@" 2>>"$T/worker$n.log") &
    WORKER_PID[$n]=$!
    PIDS+=("${WORKER_PID[$n]}")
    wait_for 200 grep -qs "work started" "$T/worker$n.log" || { cat "$T/worker$n.log" >&2; fail "worker $n did not start"; }
}

# leased: chunks held by an unexpired lease now
leased() { psql_q "SELECT count(*) FROM gb_chunks WHERE claim <> 0 AND lease_until >= clock_timestamp()"; }
# leased_ge N: at least N chunks are leased now
leased_ge() { [ "$(leased)" -ge "$1" ]; }
# files_lock: LOCK TABLE gb_files in a transaction of a psql fed by a FIFO, until files_unlock
files_lock() {
    rm -f "$T/files_lock.in" "$T/files_lock.out"
    mkfifo "$T/files_lock.in"
    "$PG_BIN/psql" -X -q -t -A -d "$PG_URL" <"$T/files_lock.in" >"$T/files_lock.out" 2>&1 &
    FILES_LOCK_PID=$!
    PIDS+=("$FILES_LOCK_PID")
    exec {FILES_LOCK_FD}>"$T/files_lock.in"
    echo "BEGIN; LOCK TABLE gb_files IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&"$FILES_LOCK_FD"
    wait_for 200 grep -qs '^locked$' "$T/files_lock.out" || fail "gb_files not locked: $(cat "$T/files_lock.out")"
}
# (\q, not the end of its input: a process started meanwhile holds the FIFO open too)
files_unlock() {
    printf 'COMMIT;\n\\q\n' >&"$FILES_LOCK_FD"
    exec {FILES_LOCK_FD}>&-
    wait "$FILES_LOCK_PID" || fail "the session that locked gb_files: $(cat "$T/files_lock.out")"
}
# files_lock_cut: after a restart of PostgreSQL cut the locking session
files_lock_cut() {
    (printf '\\q\n' >&"$FILES_LOCK_FD") 2>/dev/null || true
    exec {FILES_LOCK_FD}>&-
    wait "$FILES_LOCK_PID" || true
}
