#!/usr/bin/env bash
# api_endpoints.sh - every endpoint and error code of `geobatch serve` with curl against a real
# server on a free loopback port: documents byte for byte (variable parts by pattern), zip
# contents, results byte-identical to `geobatch geocode` (also from workers with --lanes),
# cross-application isolation, limits.
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init api_endpoints
import_index "$T/li.gbx" "$LI_CSV"
start_server() { # DATA LOG args...: a new port each time
    PORT=
    serve "$T/li.gbx" "$1" "$2" --log-level warn "${@:3}"
}
make_data "$T/data" 'appA codeA' 'appB codeB' 'apikey KEYC'
start_server "$T/data" "$T/serve.log"

# req METHOD URL [curl args...]: sets CODE, BODY (file $T/body), CTYPE
req() {
    local m=$1 u=$2
    shift 2
    local out
    out=$(curl -s -X "$m" -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$u")
    CODE=${out%% *}
    CTYPE=${out#* }
    BODY=$(cat "$T/body")
}

XML_HEAD='<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
NS='xmlns:ns2="http://www.navteq.com/lbsp/Search-Batch/1"'
ERR_NS='xmlns:ns2="http://www.navteq.com/lbsp/Errors/1"'
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.000Z'

# The input: valid rows (matched and unmatched), one invalid line (wrong field count).
cat >"$T/in.txt" <<'EOF'
recId|searchText|country
1|Dorfstrasse 24 Triesen|LIE
2|Nowhere Street 99 Atlantis|LIE
3|"Weiherring 10, Mauren"|LIE
4|too|many|fields
5|Landstrasse 5 Vaduz|LIE
EOF
OUTCOLS="outcols=displayLatitude,displayLongitude,locationLabel,houseNumber,street,city,postalCode,country,matchLevel"
P="indelim=%7C&outdelim=%7C&$OUTCOLS"

# ---- health, metrics, unknown path ----
req GET "http://127.0.0.1:$PORT/health"
expect_eq "$CODE $BODY" "200 ok" "health"
req GET "http://127.0.0.1:$PORT/nope"
expect_eq "$CODE" 404 "unknown path"

# ---- 401 ----
req GET "$BASE/jobs"
expect_eq "$CODE" 401 "no credentials"
expect_eq "$BODY" "$XML_HEAD<ns2:Error $ERR_NS type=\"PermissionError\" subtype=\"InvalidCredentials\"><Details>Invalid or missing credentials</Details></ns2:Error>" "401 document"
req GET "$BASE/jobs?app_id=appA&app_code=wrong"
expect_eq "$CODE" 401 "wrong app_code"
req GET "$BASE/jobs?app_id=appA&app_code=codeB"
expect_eq "$CODE" 401 "other app's code"
req GET "$BASE/jobs?apiKey=KEYX"
expect_eq "$CODE" 401 "wrong apiKey"
req GET "$BASE/jobs" -H 'Accept: application/json'
expect_eq "$CODE $BODY" '401 {"type":"PermissionError","subtype":"InvalidCredentials","Details":"Invalid or missing credentials"}' "401 json"
for cred in "app_id=appA&token=codeA" "apiKey=KEYC" "APIKEY=KEYC" "apikey=KEYC"; do
    req GET "$BASE/jobs?$cred"
    expect_eq "$CODE" 200 "auth $cred"
done
req GET "$BASE/jobs" -H 'Authorization: Bearer KEYC'
expect_eq "$CODE" 200 "bearer"

# ---- 400 on bad parameters: nothing stored ----
req POST "$BASE/jobs?$A&action=run&indelim=%7C&outcols=latitude,bogus" --data-binary @"$T/in.txt"
expect_eq "$CODE" 400 "unknown outcol"
[[ "$BODY" =~ ^"$XML_HEAD<ns2:Error $ERR_NS type=\"ApplicationError\" subtype=\"InvalidInputData\"><Details>Input parameter validation failed. JobId: "[A-Za-z0-9]{32}" " ]] || fail "400 document: $BODY"
req POST "$BASE/jobs?$A&action=run&indelim=%7C" --data-binary @"$T/in.txt"
expect_eq "$CODE" 400 "missing outcols"
req POST "$BASE/jobs?$A&action=run&$P&outputcombined=maybe" --data-binary @"$T/in.txt"
expect_eq "$CODE" 400 "bad boolean"
printf 'recId|bogusColumn\n1|x\n' >"$T/badcol.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/badcol.txt"
expect_eq "$CODE" 400 "unknown input column"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary ''
expect_eq "$CODE" 400 "empty body"
req POST "$BASE/jobs?$A&action=status&$P" --data-binary @"$T/in.txt"
expect_eq "$CODE" 400 "POST action=status"
expect_eq "$(ls "$T/data/jobs" | wc -l) $(ls "$T/data/tmp" | wc -l)" "0 0" "rejected uploads leave nothing"

# ---- submit without action=run: submitted; then PUT action=run ----
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/in.txt" -H 'Content-Type: application/json'
expect_eq "$CODE" 200 "submit"
ID=$(field RequestId <"$T/body")
[[ "$ID" =~ ^$JOBID_RE$ ]] || fail "RequestId format: $ID"
expect_eq "$BODY" "$XML_HEAD<ns2:SearchBatch $NS><Response><MetaInfo><RequestId>$ID</RequestId></MetaInfo><Status>submitted</Status><TotalCount>0</TotalCount><ValidCount>0</ValidCount><InvalidCount>0</InvalidCount><ProcessedCount>0</ProcessedCount><PendingCount>0</PendingCount><SuccessCount>0</SuccessCount><ErrorCount>0</ErrorCount></Response></ns2:SearchBatch>" "submitted document"
expect_eq "$CTYPE" "application/xml; charset=UTF-8" "xml content type"
expect_eq "$(stat -c %a "$T/data/jobs/$ID")" 700 "job dir mode"
expect_eq "$(stat -c %a "$T/data/jobs/$ID/errors.txt")" 600 "job file mode"
sleep 0.2
req GET "$BASE/jobs/$ID?$A&action=status"
[[ "$BODY" == *"<Status>submitted</Status>"* ]] || fail "a submitted job stays submitted: $BODY"
req GET "$BASE/jobs/$ID/result?$A"
expect_eq "$CODE" 404 "result of a submitted job"

# ---- cross-application isolation: appB gets 404 on every endpoint of appA's job ----
for spec in "GET /jobs/$ID?action=status" "GET /jobs/$ID" "PUT /jobs/$ID?action=run" \
    "PUT /jobs/$ID?action=cancel" "DELETE /jobs/$ID" "GET /jobs/$ID/result" \
    "GET /jobs/$ID/errors" "GET /jobs/$ID/no-matches" "GET /jobs/$ID/all"; do
    m=${spec%% *}
    path=${spec#* }
    sep='?'
    [[ "$path" == *\?* ]] && sep='&'
    req "$m" "$BASE$path$sep$B"
    expect_eq "$CODE" 404 "appB $spec"
    [[ "$BODY" == *'subtype="NotFound"><Details>Unknown RequestId</Details>'* ]] || fail "appB $spec body: $BODY"
done
req GET "$BASE/jobs?apiKey=KEYC"
[[ "$BODY" == *"<TotalJobs>0</TotalJobs>"* ]] || fail "key app sees no jobs: $BODY"

req PUT "$BASE/jobs/$ID?$A&action=run"
expect_eq "$CODE" 200 "PUT run"
[[ "$BODY" == *"<Status>accepted</Status>"* || "$BODY" == *"<Status>running</Status>"* || "$BODY" == *"<Status>completed</Status>"* ]] || fail "PUT run body: $BODY"

wait_done() { wait_state "$1" completed 400 0.025 "$2"; } # ID AUTH
wait_done "$ID" "$A"

# ---- the status document, byte for byte with the variable parts as patterns ----
req GET "$BASE/jobs/$ID?$A&action=status"
[[ "$BODY" =~ ^"$XML_HEAD<ns2:SearchBatch $NS><Response><MetaInfo><RequestId>$ID</RequestId></MetaInfo><Status>completed</Status><JobStarted>"$TS"</JobStarted><JobFinished>"$TS"</JobFinished><TotalCount>5</TotalCount><ValidCount>4</ValidCount><InvalidCount>1</InvalidCount><ProcessedCount>4</ProcessedCount><PendingCount>0</PendingCount><SuccessCount>"([0-9]+)"</SuccessCount><ErrorCount>"([0-9]+)"</ErrorCount></Response></ns2:SearchBatch>"$ ]] || fail "completed document: $BODY"
expect_eq "$((BASH_REMATCH[1] + BASH_REMATCH[2]))" 4 "Success + Error = Processed"
expect_eq "${BASH_REMATCH[2]}" 1 "one unmatched row"
STATUS_XML=$BODY
# The same through a bare GET, trailing slashes, empty and unknown parameters, any case.
req GET "$BASE/jobs/$ID/?&=&$A&limit=1&ACTION=status&"
expect_eq "$BODY" "$STATUS_XML" "bare/tolerant GET"
req GET "$BASE/jobs/$ID?$A"
expect_eq "$BODY" "$STATUS_XML" "bare GET"
# JSON through .json and through Accept.
req GET "$BASE/jobs/$ID?$A" -H 'Accept: application/json, text/xml, application/xml, */*'
[[ "$BODY" =~ ^'{"Response":{"MetaInfo":{"RequestId":"'$ID'"},"Status":"completed","JobStarted":"'$TS'","JobFinished":"'$TS'","TotalCount":5,"ValidCount":4,"InvalidCount":1,"ProcessedCount":4,"PendingCount":0,"SuccessCount":3,"ErrorCount":1}}'$ ]] || fail "json status: $BODY"
expect_eq "$CTYPE" "application/json; charset=UTF-8" "json content type"
req GET "$BASE/jobs/$ID.json?$A"
[[ "$BODY" == '{"Response":'* ]] || fail ".json status: $BODY"
req GET "$BASE/jobs/$ID?$A" -H 'Accept: */*'
expect_eq "$BODY" "$STATUS_XML" "Accept */* gives XML"

# ---- results: byte-identical to geocode ----
"$GB_BIN" geocode --index "$T/li.gbx" --indelim='|' --outdelim='|' \
    --"$OUTCOLS" "$T/in.txt" >"$T/cli_out.txt" 2>/dev/null
req GET "$BASE/jobs/$ID/result?$A&outputcompressed=false"
expect_eq "$CODE $CTYPE" "200 text/plain; charset=UTF-8" "plain result"
cmp "$T/body" "$T/cli_out.txt" || fail "plain result differs from geocode"
[[ "$(head -1 "$T/body")" == "recId|SeqNumber|seqLength|displayLatitude|"* ]] || fail "result header"
curl -s -o "$T/r.zip" -D "$T/h.txt" "$BASE/jobs/$ID/result?$A"
grep -qi '^content-type: application/zip' "$T/h.txt" || fail "zip content type"
NAMES=$(unzip -Z1 "$T/r.zip")
[[ "$NAMES" =~ ^result_[0-9]{8}-(0[1-9]|1[0-2])-[0-5][0-9]_6\.2_out\.txt$ ]] || fail "zip names: $NAMES"
unzip -p "$T/r.zip" "$NAMES" | cmp - "$T/cli_out.txt" || fail "zipped result differs"
req GET "$BASE/jobs/$ID/errors?$A"
expect_eq "$CODE $BODY" "200 Line Number:5 4|too|many|fields" "errors file"
curl -s -o "$T/all.zip" "$BASE/jobs/$ID/all?$A"
ALL=$(unzip -Z1 "$T/all.zip" | sed 's/^result_[0-9]*-[0-9]*-[0-9]*_6\.2_//' | tr '\n' ' ')
expect_eq "$ALL" "out.txt invalid.txt report.txt " "all.zip members"
unzip -p "$T/all.zip" '*_invalid.txt' | cmp - <(printf 'Line Number:5 4|too|many|fields\n') || fail "all.zip invalid"
unzip -p "$T/all.zip" '*_report.txt' | grep -qx 'TotalCount: 5' || fail "report"
req GET "$BASE/jobs/$ID/no-matches?$A&outputcompressed=false"
expect_eq "$CODE $(wc -l <"$T/body")" "200 1" "no-matches of a combined job: header only"

# ---- outputcombined=false: _out.txt and _err.txt ----
req POST "$BASE/jobs?$A&action=run&$P&outputCombined=FALSE" --data-binary @"$T/in.txt"
expect_eq "$CODE" 200 "submit split"
[[ "$BODY" == *"<Status>accepted</Status>"* ]] || fail "POST action=run answers accepted: $BODY"
ID2=$(field RequestId <"$T/body")
wait_done "$ID2" "$A"
"$GB_BIN" geocode --index "$T/li.gbx" --outputcombined=false --no-matches="$T/cli_nom.txt" \
    --"$OUTCOLS" "$T/in.txt" >"$T/cli_split.txt" 2>/dev/null
curl -s -o "$T/r2.zip" "$BASE/jobs/$ID2/result?$A"
expect_eq "$(unzip -Z1 "$T/r2.zip" | sed 's/^result_[0-9]*-[0-9]*-[0-9]*_6\.2_//' | tr '\n' ' ')" "out.txt err.txt " "split zip"
unzip -p "$T/r2.zip" '*_out.txt' | cmp - "$T/cli_split.txt" || fail "split out differs"
unzip -p "$T/r2.zip" '*_err.txt' | cmp - "$T/cli_nom.txt" || fail "split err differs from geocode --no-matches"
req GET "$BASE/jobs/$ID2/no-matches?$A&outputcompressed=false"
cmp "$T/body" "$T/cli_nom.txt" || fail "no-matches differs"
grep -q NOMATCH "$T/body" || fail "no-matches holds the NOMATCH row"

# ---- a clean job: empty /errors ----
printf 'recId|searchText\n1|Dorfstrasse 24 Triesen\n' >"$T/clean.txt"
req POST "$BASE/jobs.json?$A&action=run&$P" --data-binary @"$T/clean.txt"
[[ "$BODY" =~ ^'{"Response":{"MetaInfo":{"RequestId":"'([A-Za-z0-9]{32})'"},"Status":"accepted"' ]] || fail "json submit: $BODY"
ID3=${BASH_REMATCH[1]}
wait_done "$ID3" "$A"
req GET "$BASE/jobs/$ID3/errors?$A"
expect_eq "$CODE:$BODY:$(stat -c %s "$T/body")" "200::0" "empty errors"

# ---- cancel, delete, 405, unknown ids ----
req PUT "$BASE/jobs/$ID?$A&action=cancel"
expect_eq "$CODE" 400 "cancel completed"
expect_eq "$BODY" "$XML_HEAD<ns2:Error $ERR_NS type=\"ApplicationError\" subtype=\"InvalidInputData\"><Details>CANNOT CANCEL THE COMPLETED, DELETED, FAILED OR ALREADY CANCELLED JOB</Details></ns2:Error>" "cancel document"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/in.txt"
ID4=$(field RequestId <"$T/body")
req PUT "$BASE/jobs/$ID4?$A&action=cancel"
expect_eq "$CODE" 200 "cancel submitted"
[[ "$BODY" =~ "<Status>cancelled</Status><JobFinished>"$TS"</JobFinished><TotalCount>5</TotalCount>" ]] || fail "cancelled document: $BODY"
req PUT "$BASE/jobs/$ID4?$A&action=cancel"
expect_eq "$CODE" 400 "cancel twice"
req GET "$BASE/jobs/$ID4/result?$A"
expect_eq "$CODE" 404 "result of a cancelled job"
req PUT "$BASE/jobs/$ID4?$A&action=run"
expect_eq "$CODE" 400 "run a cancelled job"
req PUT "$BASE/jobs/$ID4?$A"
expect_eq "$CODE" 400 "PUT without action"
req DELETE "$BASE/jobs/$ID3?$A"
expect_eq "$CODE" 200 "delete"
[[ "$BODY" == *"<Status>deleted</Status>"* ]] || fail "delete document: $BODY"
[ ! -e "$T/data/jobs/$ID3" ] || fail "deleted job's files remain"
req GET "$BASE/jobs/$ID3?$A"
[[ "$BODY" == *"<Status>deleted</Status>"* ]] || fail "status of a deleted job: $BODY"
req GET "$BASE/jobs/$ID3/result?$A"
expect_eq "$CODE" 404 "result of a deleted job"
req PUT "$BASE/jobs/$ID3?$A&action=cancel"
expect_eq "$CODE" 400 "cancel deleted"
req GET "$BASE/jobs/ABCDEFGHIJKLMNOPQRSTUVWXYZ012345?$A"
expect_eq "$CODE" 404 "unknown id"
req GET "$BASE/jobs/..%2F..%2Fcredentials?$A"
expect_eq "$CODE" 404 "malformed id"
req GET "$BASE/jobs/$ID/../../credentials?$A" --path-as-is
expect_eq "$CODE" 404 "dot segments"
req POST "$BASE/jobs/$ID?$A"
expect_eq "$CODE" 405 "POST on a job"
req DELETE "$BASE/jobs?$A"
expect_eq "$CODE" 405 "DELETE on the collection"
req PUT "$BASE/jobs/$ID/result?$A"
expect_eq "$CODE" 405 "PUT on a file"
grep -qi '^allow: GET' <(curl -s -D - -o /dev/null -X PUT "$BASE/jobs/$ID/result?$A") || fail "Allow header"

# ---- list and metrics ----
req GET "$BASE/jobs?$A&limit=2"
[[ "$BODY" =~ "<JobList><Offset>0</Offset><Limit>2</Limit><Job>".*"</Job><Job>".*"</Job><TotalJobs>4</TotalJobs></JobList>" ]] || fail "list: $BODY"
req GET "http://127.0.0.1:$PORT/metrics"
grep -qx 'geobatch_jobs{state="completed"} 2' "$T/body" || fail "metrics jobs"
grep -q '^geobatch_rows_processed_total ' "$T/body" || fail "metrics rows"
grep -q '^geobatch_http_request_duration_seconds_bucket{le="0.1"} ' "$T/body" || fail "metrics latency"
grep -q '^geobatch_queue_rows 0' "$T/body" || fail "metrics queue"

# ---- 10 rows: upload to completed ----
head -11 "$T/in.txt" >/dev/null
{ echo 'recId|searchText|country'; for i in $(seq 1 10); do echo "$i|Dorfstrasse $i Triesen|LIE"; done; } >"$T/ten.txt"
t0=$(date +%s%N)
ID5=$(curl -s -X POST --data-binary @"$T/ten.txt" "$BASE/jobs?$A&action=run&$P" | field RequestId)
until curl -s "$BASE/jobs/$ID5?$A" | grep -q '<Status>completed</Status>'; do
    [ $(($(date +%s%N) - t0)) -lt 5000000000 ] || fail "10-row job not completed in 5 s"
done
echo "10-row job: upload to completed (seen by a polling client) $((($(date +%s%N) - t0) / 1000000)) ms"

# ---- credentials reload on SIGHUP ----
echo 'appD codeD' >>"$T/data/credentials"
kill -HUP "$SERVER_PID"
sleep 0.2
req GET "$BASE/jobs?app_id=appD&app_code=codeD"
expect_eq "$CODE" 200 "credentials reloaded"
! grep -q 'codeA\|KEYC\|codeD' "$T/serve.log" || fail "a secret was logged"

# ---- limits, rate and jobs per application: a second server ----
make_data "$T/data2" 'appA codeA'
chmod 644 "$T/data2/credentials"
start_server "$T/data2" "$T/serve2.log" --max-records 4 --max-body 4000 --rate 2 --burst 8 \
    --max-jobs-per-app 1 --log-level info
grep -q 'credentials readable by others' "$T/serve2.log" || fail "no warning for a readable credentials file"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/in.txt"
expect_eq "$CODE" 400 "max records"
[[ "$BODY" == *"more than 4 records"* ]] || fail "max records message: $BODY"
head -c 5000 /dev/zero | tr '\0' 'a' | sed 's/^/recId|searchText\n1|/' >"$T/big.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/big.txt"
expect_eq "$CODE" 400 "max body (Content-Length)"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/big.txt" -H 'Transfer-Encoding: chunked'
expect_eq "$CODE" 400 "max body (chunked)"
expect_eq "$(ls "$T/data2/jobs" | wc -l) $(ls "$T/data2/tmp" | wc -l)" "0 0" "limits leave nothing"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/clean.txt"
expect_eq "$CODE" 200 "first job"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/clean.txt"
expect_eq "$CODE" 429 "jobs per application"
[[ "$BODY" == *'subtype="ExceededUsageLimit"'* ]] || fail "429 document: $BODY"
# 12 requests on one connection (one curl): they come faster than the bucket refills (2 a
# second) however loaded the machine is, which 12 curl processes one after another do not.
args=()
for _ in $(seq 1 12); do args+=(-o /dev/null "$BASE/jobs?$A"); done
codes=$(curl -s -w '%{http_code} ' "${args[@]}")
[[ "$codes" == *429* ]] || fail "request rate limit: no 429 in [$codes]"

# ---- workers that geocode rows interleaved (--lanes): the same bytes, over several chunks ----
make_data "$T/data3" 'appA codeA'
start_server "$T/data3" "$T/serve3.log" --lanes 8 --chunk-rows 700
{
    echo 'recId|searchText|country'
    li_rows 3000
} >"$T/lanes.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/lanes.txt"
expect_eq "$CODE" 200 "submit to workers with lanes"
ID3=$(field RequestId <"$T/body")
wait_done "$ID3" "$A"
"$GB_BIN" geocode --index "$T/li.gbx" --lanes 1 --indelim='|' --outdelim='|' --"$OUTCOLS" \
    "$T/lanes.txt" >"$T/cli_lanes.txt" 2>/dev/null
[ "$(wc -l <"$T/cli_lanes.txt")" -gt 3000 ] || fail "lanes: $(wc -l <"$T/cli_lanes.txt") lines"
req GET "$BASE/jobs/$ID3/result?$A&outputcompressed=false"
cmp "$T/body" "$T/cli_lanes.txt" || fail "workers with --lanes 8 differ from geocode row by row"
echo "api_endpoints: OK"
