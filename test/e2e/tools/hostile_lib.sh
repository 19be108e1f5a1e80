# shellcheck shell=bash disable=SC2034 # sets variables for the scripts that source it
# hostile_lib.sh - shared by test/e2e/hostile_*.sh and security.sh (sourced, not run): on top of
# lib/common.sh, a small index, servers on free loopback ports (a new port each), request
# helpers, a sanitizer check of the server logs on exit, and a "bystander" job submitted before
# the attacks whose result must come out byte-identical to `geobatch geocode` afterwards.
# Needs GB_BIN, GB_SHARED, GB_TMP; the caller sets NAME first.

: "${NAME:?}"
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$TOOLS/../lib/common.sh"
e2e_init "$NAME"
RAW="python3 $TOOLS/rawhttp.py"
sanitizer_check() {
    if grep -h -A5 'AddressSanitizer\|runtime error:' "$T"/*.log 2>/dev/null; then
        echo "FAIL: a sanitizer report in the server log" >&2
        rm -rf "$T"
        exit 1
    fi
}
on_exit sanitizer_check

import_index "$T/li.gbx" "$LI_CSV"

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

# start_server DATA_DIR LOG extra args...: sets PORT, BASE, SERVER_PID
start_server() {
    local data=$1 log=$2
    shift 2
    [ -d "$data" ] || mkdir -m 700 "$data"
    if [ ! -e "$data/credentials" ]; then
        printf 'appA codeA\nappB codeB\napikey KEYC\n' >"$data/credentials"
        chmod 600 "$data/credentials"
    fi
    PORT=
    serve "$T/li.gbx" "$data" "$log" --workers 1 "$@"
}

# req METHOD URL [curl args...]: sets CODE and BODY (also in $T/body)
req() {
    local m=$1 u=$2
    shift 2
    CODE=$(curl -s -m 30 -X "$m" -o "$T/body" -w '%{http_code}' "$@" "$u") || true
    BODY=$(tr -d '\0' <"$T/body")
}

job_id() { field RequestId <"$T/body"; }

wait_done() { wait_state "$1" completed 2400 0.05 "$2"; } # ID AUTH: until completed (2 min at most)

# The bystander: 300 real addresses submitted (not run) before the attacks, started after
# them; its result must equal `geobatch geocode` on the same input.
make_bystander_input() {
    li_rows 300 | { echo 'recId|searchText|country'; cat; } >"$T/bystander.txt"
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
    c=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$BASE/jobs/$BYSTANDER?$A") || true
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
