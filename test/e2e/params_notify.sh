#!/usr/bin/env bash
# params_notify.sh - job parameters on their way through the store, and --notify-command
# (issue 13):
#   1. a long but valid outcols (64 columns, 1,418 bytes encoded) runs with every column: the
#      result equals `geobatch geocode` with the same outcols (item 4: the stored parameters
#      were decoded into 1,024 bytes and the job lost columns or failed);
#   2. mailto must be an e-mail address: a newline in it, a leading '-', a blank → 400 naming
#      mailto; a valid one reaches --notify-command as its second argument, exactly (item 10).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init params_notify
FAIL_LOG="$T/serve.log"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA'
cat >"$T/notify.sh" <<'SH'
#!/bin/sh
# The arguments, one per line, then the file is renamed into place: the test waits for it.
printf '%s\n' "$@" >"$0.args.tmp" && mv "$0.args.tmp" "$0.args"
SH
chmod 700 "$T/notify.sh"
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --rate 0 --notify-command "$T/notify.sh"

li_rows 300 | { echo 'recId|searchText|country'; cat; } >"$T/in.txt"

# ---- 1. a long outcols survives the store ----
COLS=$(python3 -c "
c = ['recId', 'displayLatitude', 'displayLongitude', 'locationLabel', 'matchLevel',
     'mapViewBottomRightLongitude', 'addressDetailsCountry', 'matchQualityHouseNumber'] * 8
print(', '.join(c))")
ENC=$(python3 -c "import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=''))" "$COLS")
[ ${#ENC} -gt 1200 ] || fail "outcols not long enough: ${#ENC}"
"$GB_BIN" geocode --index "$T/li.gbx" --outcols="$COLS" "$T/in.txt" >"$T/ref.txt" 2>/dev/null
id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&action=run&indelim=%7C&outdelim=%7C&outputcompressed=false&outcols=$ENC" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit with a long outcols"
wait_state "$id" completed
curl -s -o "$T/res.txt" "$BASE/jobs/$id/result?$A"
expect_eq "$(head -1 "$T/res.txt" | tr "|" "\n" | wc -l)" 67 "columns in the result header (64 + recId, SeqNumber, seqLength)"
cmp "$T/res.txt" "$T/ref.txt" || fail "result with a long outcols differs from geocode"
echo "1. outcols of ${#ENC} bytes encoded: 64 columns, result = geocode"

# ---- 2. mailto ----
P="indelim=%7C&outdelim=%7C&outcols=displayLatitude"
DOC_HEAD='<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:Error xmlns:ns2="http://www.navteq.com/lbsp/Errors/1" type="ApplicationError" subtype="InvalidInputData"><Details>Input parameter validation failed. JobId: '
for bad in '-oProxyCommand%3Dx@example.org' 'a%0Ab@example.org' 'a%20b@example.org' 'nobody' 'a@-x.org' '@example.org'; do
    out=$(curl -s -w ' %{http_code}' -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P&mailto=$bad")
    [[ "$out" == "$DOC_HEAD"[A-Za-z0-9]*" mailto must be an e-mail address</Details><AdditionalData key=\"mailto\"/></ns2:Error> 400" ]] ||
        fail "mailto=$bad: $out"
done
expect_eq "$(curl -s "$BASE/jobs?$A" | grep -o '<RequestId>' | wc -l)" 1 "jobs after the refused mailtos"
id=$(curl -s -X POST --data-binary @"$T/in.txt" "$BASE/jobs?$A&$P&action=run&mailto=o%27brien%2Bjobs@example.org" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit with a valid mailto"
wait_state "$id" completed
for _ in $(seq 1 600); do
    [ -e "$T/notify.sh.args" ] && break
    sleep 0.05
done
expect_eq "$(cat "$T/notify.sh.args" 2>/dev/null)" "$id
o'brien+jobs@example.org" "--notify-command's arguments"
echo "2. mailto: 6 invalid addresses refused (400 naming mailto), a valid one passed exactly"

stop_server
echo "params_notify: OK"
