#!/usr/bin/env bash
# hostile_input.sh - `geobatch serve` against hostile request bodies, parameters and HTTP
# framing: each case gets its exact error (HERE error document, or the line in /errors), the
# server keeps answering, nothing is left half-written, and a job submitted before the attacks
# still completes byte-identical to `geobatch geocode`.
set -euo pipefail

NAME=hostile_input
source "$(dirname "$0")/tools/hostile_lib.sh"
make_bystander_input
start_server "$T/data" "$T/serve.log" --max-body 30000000
FIRST_BASE=$BASE
submit_bystander
# bad400 DETAILS_SUFFIX: the last answer is the 400 "Invalid input data. JobId: <id> SUFFIX"
bad400() {
    expect_eq "$CODE" 400 "$2"
    [[ "$BODY" =~ ^"$XML_HEAD<ns2:Error $ERR_NS type=\"ApplicationError\" subtype=\"InvalidInputData\"><Details>Invalid input data. JobId: "$JOBID_RE" "(.*)"</Details></ns2:Error>"$ ]] ||
        fail "$2: not a 400 document: ${BODY:0:300}"
    expect_eq "${BASH_REMATCH[1]}" "$1" "$2: details"
}
JOBS_BEFORE=1

# ---- lines that are invalid go to /errors; the valid ones are geocoded ----
printf 'recId|searchText|country\n1|Dorfstrasse 24 Triesen|LIE\n2|Bad \xff\xfe utf|LIE\n3|nul\0here|LIE\n4|"unbalanced|LIE\n5|Landstrasse 5 Vaduz|LIE\n' >"$T/mixed.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/mixed.txt"
expect_eq "$CODE" 200 "mixed invalid lines"
ID=$(job_id)
wait_done "$ID" "$A"
req GET "$BASE/jobs/$ID?$A"
[[ "$BODY" == *"<TotalCount>5</TotalCount><ValidCount>2</ValidCount><InvalidCount>3</InvalidCount><ProcessedCount>2</ProcessedCount>"* ]] || fail "mixed counts: $BODY"
curl -s -o "$T/errs" "$BASE/jobs/$ID/errors?$A"
printf 'Line Number:3 2|Bad \xff\xfe utf|LIE\nLine Number:4 3|nul here|LIE\nLine Number:5 4|"unbalanced|LIE\n' | cmp - "$T/errs" || fail "mixed /errors"
"$GB_BIN" geocode --index "$T/li.gbx" --indelim='|' --outdelim='|' --outcols="$OUTCOLS" "$T/mixed.txt" >"$T/mixed_ref.txt" 2>/dev/null
curl -s -o "$T/res" "$BASE/jobs/$ID/result?$A&outputcompressed=false"
cmp "$T/res" "$T/mixed_ref.txt" || fail "mixed result differs from geocode"
expect_eq "$(wc -l <"$T/res")" 3 "mixed: header + 2 rows"
alive "invalid lines"

# ---- a 10 MB line and a 100,000-column line: one invalid line each (raw prefix 1 KiB) ----
python3 -c "
import sys
w = sys.stdout.write
w('recId|searchText|country\n1|Dorfstrasse 24 Triesen|LIE\n2|' + 'a' * 10_000_000 + '|LIE\n')
w('3|' + '|'.join(['x'] * 100_000) + '\n4|Landstrasse 5 Vaduz|LIE\n')" >"$T/huge.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/huge.txt"
expect_eq "$CODE" 200 "huge lines"
ID=$(job_id)
wait_done "$ID" "$A"
req GET "$BASE/jobs/$ID?$A"
[[ "$BODY" == *"<TotalCount>4</TotalCount><ValidCount>2</ValidCount><InvalidCount>2</InvalidCount>"* ]] || fail "huge counts: $BODY"
curl -s -o "$T/errs" "$BASE/jobs/$ID/errors?$A"
expect_eq "$(wc -c <"$T/errs") $(cut -c1-20 "$T/errs" | tr '\n' ' ')" "2078 Line Number:3 2|aaaa Line Number:4 3|x|x| " "huge /errors"
alive "10 MB line"
JOBS_BEFORE=3 # the bystander and the two jobs above

# ---- bodies rejected as a whole: exact 400, nothing stored ----
python3 -c "
import sys
sys.stdout.write('|'.join(['c%d' % i for i in range(100_000)]) + '\n1|x\n')" >"$T/widehdr.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/widehdr.txt"
bad400 "Invalid header line (line-too-long)" "100,000-column header"
printf 'recId|searchText|country\n' >"$T/hdr.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/hdr.txt"
bad400 "Input contains no records" "header only"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary ''
bad400 "Input data is empty" "empty body"
printf 'recId,searchText,country\n1,Dorfstrasse 24 Triesen,LIE\n' >"$T/comma.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/comma.txt"
bad400 "invalid input data: unknown column &apos;recId,searchText,country&apos;" "wrong delimiter"
printf 'recId|searchText|\xff\xfe\n1|a|b\n' >"$T/badhdr.txt"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/badhdr.txt"
bad400 "Invalid header line (utf8)" "invalid UTF-8 header"
python3 -c "
import io, sys, zipfile
b = io.BytesIO()
with zipfile.ZipFile(b, 'w') as z:
    z.writestr(zipfile.ZipInfo('in.txt', (2020, 1, 1, 0, 0, 0)), 'recId|searchText\n1|Dorfstrasse 24 Triesen\n')
sys.stdout.buffer.write(b.getvalue())" >"$T/in.zip"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/in.zip"
bad400 "Invalid header line (nul)" "zip upload"
python3 -c "
import random, sys
random.seed(7)
sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(200_000)))" >"$T/random.bin"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/random.bin"
expect_eq "$CODE" 400 "random binary"
[[ "$BODY" == *"<Details>Invalid input data. JobId: "*" Invalid header line ("* ]] || fail "random binary: ${BODY:0:300}"
python3 -c "import sys; sys.stdin.buffer.read().decode('utf-8')" <"$T/body" || fail "random binary: the error document is not UTF-8"
alive "rejected bodies"

# ---- uploads cut halfway: connection reset (RST) or closed (FIN) mid-body ----
python3 -c "
import sys
body = 'recId|searchText\n' + ''.join('%d|Dorfstrasse %d Triesen\n' % (i, i % 40 + 1) for i in range(20000))
q = '/6.2/jobs?$A&action=run&$P'
head = 'POST ' + q + ' HTTP/1.1\r\nHost: x\r\n'
open('$T/chunked.req', 'w').write(head + 'Transfer-Encoding: chunked\r\n\r\n' +
    ''.join('%x\r\n%s\r\n' % (len(body[i:i + 1000]), body[i:i + 1000]) for i in range(0, len(body), 1000)) + '0\r\n\r\n')
open('$T/length.req', 'w').write(head + 'Content-Length: %d\r\n\r\n' % len(body) + body)"
for f in chunked length; do
    expect_eq "$($RAW abort "$PORT" 200000 <"$T/$f.req")" aborted "$f abort"
    expect_eq "$(head -c 200000 "$T/$f.req" | $RAW send "$PORT")" CLOSED "$f closed halfway"
done
# The server removes a cut upload's directory when it sees the connection end, after the client
# is gone: wait for that (on a loaded machine it may take a while), not for a time.
for ((k = 0; k < 600; k++)); do [ "$(ls "$T/data/tmp" | wc -l)" == 0 ] && break; sleep 0.05; done
expect_eq "$(njobs "$T/data")" "$JOBS_BEFORE" "no job from a cut upload"
no_leftovers "$T/data" "cut uploads"
alive "cut uploads"
# The same requests sent whole are accepted: the cuts were what made them fail.
for f in chunked length; do
    [[ "$($RAW send "$PORT" <"$T/$f.req")" == "200 $XML_HEAD"*"<Status>accepted</Status>"* ]] || fail "$f whole"
done
JOBS_BEFORE=$((JOBS_BEFORE + 2))

# ---- parameters repeated: the same value is fine, different values are refused ----
DUPDOC=$(err_doc ApplicationError InvalidInputData "Input parameter validation failed. A parameter is given twice with different values" outcols)
req POST "$BASE/jobs?$A&action=run&$P&OUTCOLS=matchLevel" --data-binary @"$T/mixed.txt"
expect_eq "$CODE $BODY" "400 $DUPDOC" "conflicting outcols"
req POST "$BASE/jobs?$A&action=run&$P&outcols=$OUTCOLS" --data-binary @"$T/mixed.txt"
expect_eq "$CODE" 200 "the same outcols twice"
req GET "$BASE/jobs?$A&app_id=appB"
expect_eq "$CODE $BODY" "400 $(err_doc ApplicationError InvalidInputData "Input parameter validation failed. A parameter is given twice with different values" app_id)" "conflicting app_id"
req GET "$BASE/jobs?$A&$(python3 -c "print('&'.join('p%d=1' % i for i in range(70)))")"
expect_eq "$CODE $BODY" "400 $(err_doc ApplicationError InvalidInputData "More than 64 query parameters")" "too many parameters"
req POST "$BASE/jobs?$A&action=run&indelim=%FF&outcols=$OUTCOLS" --data-binary @"$T/mixed.txt"
expect_eq "$CODE" 400 "invalid UTF-8 parameter"
[[ "$BODY" == *"not &apos;?&apos;</Details><AdditionalData key=\"indelim\"/></ns2:Error>" ]] || fail "invalid UTF-8 parameter: $BODY"
req POST "$BASE/jobs.json?$A&action=run&indelim=%C3&outcols=$OUTCOLS" --data-binary @"$T/mixed.txt"
python3 -c "import json, sys; d = json.load(sys.stdin); assert d['AdditionalData'] == [{'key': 'indelim'}], d" <"$T/body" || fail "invalid UTF-8 parameter (JSON): $BODY"
JOBS_BEFORE=$((JOBS_BEFORE + 1))
alive "repeated parameters"

# ---- framing: duplicate or conflicting Content-Length, Transfer-Encoding ----
CR=$'\r'
SMALL=$'recId|searchText\n1|Dorfstrasse 24 Triesen\n'
L=${#SMALL}
framing() { # NAME EXPECTED_DETAILS HEADERS (CRLF-separated, without the blank line)
    local got
    got=$(printf '%s\r\n%s\r\n\r\n%s' "POST /6.2/jobs?$A&action=run&$P HTTP/1.1" "$3" "$SMALL" | $RAW send "$PORT")
    expect_eq "$got" "400 $(err_doc ApplicationError InvalidInputData "$2")" "$1"
}
framing "two equal Content-Length" "More than one Content-Length header" "Host: x${CR}
Content-Length: $L${CR}
Content-Length: $L"
framing "conflicting Content-Length" "More than one Content-Length header" "Host: x${CR}
Content-Length: 5${CR}
Content-Length: $L"
framing "Content-Length and chunked" "Both Content-Length and Transfer-Encoding headers" "Host: x${CR}
Content-Length: 5${CR}
Transfer-Encoding: chunked"
framing "Transfer-Encoding gzip" "Unsupported Transfer-Encoding (only chunked)" "Host: x${CR}
Transfer-Encoding: gzip"
got=$(printf '%s\r\nHost: x\r\nContent-Length: %s, %s\r\n\r\n%s' "POST /6.2/jobs?$A&action=run&$P HTTP/1.1" "$L" "$L" "$SMALL" | $RAW send "$PORT")
expect_eq "${got:0:4}" "400 " "Content-Length list (refused by libmicrohttpd)"
got=$(printf '%s\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n%s' "POST /6.2/jobs?$A&action=run&$P HTTP/1.1" "$SMALL" | $RAW send "$PORT")
expect_eq "${got:0:4}" "413 " "Content-Length over 2^64"
alive "framing"

# ---- overlong URL and headers: refused by libmicrohttpd (64 KiB per connection) ----
got=$(python3 -c "print('GET /6.2/jobs?$A&x=' + 'a' * 100000 + ' HTTP/1.1\r\nHost: x\r\n\r\n', end='')" | $RAW send "$PORT")
expect_eq "${got:0:4}" "414 " "100 KB URL"
got=$(python3 -c "print('GET /6.2/jobs?$A HTTP/1.1\r\nHost: x\r\nX-A: ' + 'a' * 100000 + '\r\n\r\n', end='')" | $RAW send "$PORT")
expect_eq "${got:0:4}" "431 " "100 KB header"
got=$(python3 -c "print('GET /6.2/jobs?$A HTTP/1.1\r\nHost: x\r\n' + ''.join('X-%d: a\r\n' % i for i in range(20000)) + '\r\n', end='')" | $RAW send "$PORT")
expect_eq "${got:0:4}" "431 " "20,000 headers"
got=$(head -c 5000 "$T/random.bin" | $RAW send "$PORT")
[[ "$got" == "400 "* || "$got" == CLOSED ]] || fail "random bytes as a request: $got"
alive "overlong URL and headers"

# ---- a body over --max-body: a second server with a small limit ----
start_server "$T/data2" "$T/serve2.log" --max-body 4000
head -c 5000 /dev/zero | tr '\0' 'a' | sed 's/^/recId|searchText\n1|/' >"$T/big.txt"
MAXDOC=$(err_doc ApplicationError InvalidInputData "Input data is larger than 4000 bytes")
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/big.txt"
expect_eq "$CODE $BODY" "400 $MAXDOC" "max body (Content-Length)"
req POST "$BASE/jobs?$A&action=run&$P" --data-binary @"$T/big.txt" -H 'Transfer-Encoding: chunked'
expect_eq "$CODE $BODY" "400 $MAXDOC" "max body (chunked)"
expect_eq "$(njobs "$T/data2")" 0 "max body stores nothing"
no_leftovers "$T/data2" "max body"
req GET "http://127.0.0.1:$PORT/health"
expect_eq "$CODE" 200 "second server alive"

# ---- back on the first server: everything accepted is still there ----
BASE=$FIRST_BASE
alive "all cases"
no_leftovers "$T/data" "all cases"
expect_eq "$(njobs "$T/data")" "$JOBS_BEFORE" "jobs on disk"
req GET "$BASE/jobs?$A&limit=1000"
[[ "$BODY" == *"<TotalJobs>$JOBS_BEFORE</TotalJobs>"* ]] || fail "jobs in the store: ${BODY: -80}"
finish_bystander
kill -0 "${PIDS[0]}" || fail "first server died"
echo "hostile_input: OK"
