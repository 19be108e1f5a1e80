# hostile_lib.sh - shared by test/e2e/hostile_*.sh and security.sh (sourced, not run): a temp
# dir with a small index, servers on free loopback ports that are always killed on exit,
# request helpers, and a "bystander" job submitted before the attacks whose result must come
# out byte-identical to `geobatch geocode` afterwards.
# Needs GB_BIN, GB_SHARED, GB_TMP; the caller sets NAME first.

: "${GB_BIN:?}" "${GB_SHARED:?}" "${GB_TMP:?}" "${NAME:?}"
T=$(mktemp -d "$GB_TMP/$NAME.XXXXXX")
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RAW="python3 $TOOLS/rawhttp.py"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    local bad=0
    if grep -h -A5 'AddressSanitizer\|runtime error:' "$T"/*.log 2>/dev/null; then
        echo "FAIL: a sanitizer report in the server log" >&2
        bad=1
    fi
    rm -rf "$T"
    [ "$bad" == 0 ] || exit 1
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$GB_BIN" import -o "$T/li.gbx" "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" 2>/dev/null

A="app_id=appA&app_code=codeA"
B="app_id=appB&app_code=codeB"
OUTCOLS="displayLatitude,displayLongitude,locationLabel,matchLevel"
P="indelim=%7C&outdelim=%7C&outcols=$OUTCOLS"
XML_HEAD='<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
ERR_NS='xmlns:ns2="http://www.navteq.com/lbsp/Errors/1"'
# err_doc TYPE SUBTYPE DETAILS [KEY]: the exact XML error document
err_doc() {
    local extra=""
    [ $# -ge 4 ] && extra="<AdditionalData key=\"$4\"/>"
    echo "$XML_HEAD<ns2:Error $ERR_NS type=\"$1\" subtype=\"$2\"><Details>$3</Details>$extra</ns2:Error>"
}
JOBID_RE='[A-Za-z0-9]{32}'

# start_server DATA_DIR LOG extra args...: sets PORT, BASE, SERVER_PID
start_server() {
    local data=$1 log=$2
    shift 2
    [ -d "$data" ] || mkdir -m 700 "$data"
    if [ ! -e "$data/credentials" ]; then
        printf 'appA codeA\nappB codeB\napikey KEYC\n' >"$data/credentials"
        chmod 600 "$data/credentials"
    fi
    PORT=$(free_port)
    "$GB_BIN" serve --index "$T/li.gbx" --data "$data" --listen "127.0.0.1:$PORT" \
        --workers 1 "$@" 2>"$log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    BASE="http://127.0.0.1:$PORT/6.2"
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    cat "$log" >&2
    fail "server did not start"
}

# req METHOD URL [curl args...]: sets CODE and BODY (also in $T/body)
req() {
    local m=$1 u=$2
    shift 2
    CODE=$(curl -s -m 30 -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$u") || true
    BODY=$(tr -d '\0' <"$T/body")
}

job_id() { sed -n 's/.*<RequestId>\([A-Za-z0-9]*\)<\/RequestId>.*/\1/p' "$T/body"; }

wait_done() { # ID AUTH: until completed (fails on failed or after 10 s)
    local st
    for _ in $(seq 1 400); do
        st=$(curl -s "$BASE/jobs/$1?$2" | sed -n 's/.*<Status>\([a-z]*\)<\/Status>.*/\1/p')
        [ "$st" == completed ] && return 0
        [ "$st" == failed ] && fail "job $1 failed"
        sleep 0.025
    done
    fail "job $1 not completed in time (status $st)"
}

# The bystander: 300 real addresses submitted (not run) before the attacks, started after
# them; its result must equal `geobatch geocode` on the same input.
make_bystander_input() {
    awk -F, 'NR>1 && NR<=301 {printf "%d|%s %s %s|LIE\n", NR, $4, $3, $6}' \
        "$GB_SHARED/data/openaddresses/li-liechtenstein-2026.csv" |
        { echo 'recId|searchText|country'; cat; } >"$T/bystander.txt"
    "$GB_BIN" geocode --index "$T/li.gbx" --indelim='|' --outdelim='|' --outcols="$OUTCOLS" \
        "$T/bystander.txt" >"$T/bystander_ref.txt" 2>/dev/null
}
submit_bystander() {
    req POST "$BASE/jobs?$A&$P" --data-binary @"$T/bystander.txt"
    expect_eq "$CODE" 200 "bystander submit"
    BYSTANDER=$(job_id)
}
# alive WHAT: the server still answers a status call on the bystander with 200
alive() {
    local c
    c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/jobs/$BYSTANDER?$A") || true
    expect_eq "$c" 200 "server alive after: $1"
}
finish_bystander() {
    req PUT "$BASE/jobs/$BYSTANDER?$A&action=run"
    expect_eq "$CODE" 200 "bystander run"
    wait_done "$BYSTANDER" "$A"
    req GET "$BASE/jobs/$BYSTANDER/result?$A&outputcompressed=false"
    expect_eq "$CODE" 200 "bystander result"
    cmp -s "$T/body" "$T/bystander_ref.txt" || fail "bystander result differs from geocode"
}
# no_leftovers DATA: no upload left half-written in tmp/
no_leftovers() { expect_eq "$(ls "$1/tmp" | wc -l)" 0 "nothing left in tmp/ ($2)"; }
njobs() { ls "$1/jobs" | wc -l; }
