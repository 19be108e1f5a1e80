#!/usr/bin/env bash
# upload_limits.sh - the input limits of `geobatch serve` end to end (issue 13):
#   1. invalid lines of any length up to --max-line go to /errors whole, with their line
#      number, and the job runs (item 2: a line over about 1,280 bytes used to reject the whole
#      upload with 400 "Cannot store the input"); a line over --max-line is cut to its first
#      1,024 bytes there;
#   2. a job keeps the limits it was accepted with: lowering --max-field between the upload and
#      the run drops no row (item 7: the row used to vanish from the result);
#   3. a chunked upload over --max-body is answered 400 as soon as the limit is passed and the
#      connection is closed, without reading the rest of the body (item 9);
#   4. a refused upload leaves nothing in tmp/ by the time its answer arrives (item 13);
#   5. uploads in progress count toward --max-jobs-per-app (item 5: ten POSTs sent
#      headers-first all passed a limit of 2).
set -euo pipefail

source "$(dirname "$0")/lib/common.sh"
e2e_init upload_limits
FAIL_LOG="$T/serve.log"
import_index "$T/li.gbx" "$LI_CSV"
make_data "$T/data" 'appA codeA'
COLS=displayLatitude,displayLongitude,locationLabel,matchLevel
P="indelim=%7C&outdelim=%7C&outcols=$COLS&outputcompressed=false"
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --max-line 10000 --max-field 2000 --rate 0

# ---- 1. long invalid lines go to /errors ----
python3 - "$T" <<'EOF'
import sys
t = sys.argv[1]
extra = "2|" + "a" * 3000 + " Vaduz|LIE|extra"    # one field too many: 3,018 bytes
field = "3|" + "b" * 2500 + "|LIE"                 # a field over --max-field 2000
near = "4|" + "c" * 9990 + "|x"                    # 9,994 bytes, two fields: still whole
over = "5|" + "d" * 12000 + "|LIE"                 # over --max-line 10000: cut to 1,024 bytes
rows = ["1|Landstrasse 5 Vaduz|LIE", extra, field, near, over, "6|Dorfstrasse 24 Triesen|LIE"]
open(t + "/long.txt", "w").write("recId|searchText|country\n" + "\n".join(rows) + "\n")
errs = "".join("Line Number:%d %s\n" % (n, l) for n, l in ((3, extra), (4, field), (5, near)))
errs += "Line Number:6 %s\n" % over[:1024]
open(t + "/long_errors.txt", "w").write(errs)
EOF
out=$(curl -s -w ' %{http_code}' -X POST --data-binary @"$T/long.txt" "$BASE/jobs?$A&action=run&$P")
[[ "$out" == *" 200" ]] || fail "upload with long invalid lines: $out"
id=$(field RequestId <<<"$out")
wait_state "$id" completed
s=$(status "$id")
expect_eq "$(field TotalCount <<<"$s") $(field ValidCount <<<"$s") $(field InvalidCount <<<"$s") $(field ProcessedCount <<<"$s")" \
    "6 2 4 2" "counts with long invalid lines"
curl -s -o "$T/errors.txt" "$BASE/jobs/$id/errors?$A"
cmp "$T/errors.txt" "$T/long_errors.txt" || fail "/errors of long invalid lines"
echo "1. invalid lines of 3,018, 2,504 and 9,994 bytes are in /errors whole, one over --max-line cut"

# ---- 2. a job keeps its limits when the server's are lowered before it runs ----
python3 -c "
print('recId|searchText|country')
print('1|Landstrasse 5 Vaduz|LIE')
print('2|' + 'Vaduz ' * 250 + '|LIE')  # a 1,500-byte field: valid under --max-field 2000
print('3|Dorfstrasse 24 Triesen|LIE')" >"$T/wide.txt"
"$GB_BIN" geocode --index "$T/li.gbx" --outcols=$COLS "$T/wide.txt" >"$T/wide_ref.txt" 2>/dev/null
id=$(curl -s -X POST --data-binary @"$T/wide.txt" "$BASE/jobs?$A&$P" | field RequestId)
[[ "$id" =~ ^$JOBID_RE$ ]] || fail "submit the wide job"
stop_server
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --max-line 10000 --max-field 1000 --rate 0
curl -s -X PUT "$BASE/jobs/$id?$A&action=run" >/dev/null
wait_state "$id" completed
s=$(status "$id")
expect_eq "$(field ValidCount <<<"$s") $(field ProcessedCount <<<"$s") $(field InvalidCount <<<"$s")" \
    "3 3 0" "counts after lowering --max-field"
curl -s -o "$T/wide_res.txt" "$BASE/jobs/$id/result?$A"
cmp "$T/wide_res.txt" "$T/wide_ref.txt" || fail "a row vanished after lowering --max-field"
echo "2. a job accepted under --max-field 2000 runs whole under --max-field 1000"

# ---- 3. a chunked body over --max-body: answered at once, connection closed ----
stop_server
serve "$T/li.gbx" "$T/data" "$T/serve.log" --workers 1 --max-body 4000 --rate 0
# A client that sends 1 KiB chunks and never ends the body (for at most 20 s): it must get the
# 400 and see the connection closed while it is still sending.
got=$(python3 - "$PORT" "/6.2/jobs?$A&$P" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST " + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
s.settimeout(0.05)
data, closed, end = b"", False, time.monotonic() + 20
while not closed and time.monotonic() < end:
    try:
        s.sendall(b"400\r\n" + b"a" * 1024 + b"\r\n")
    except OSError:
        pass
    try:
        while True:
            got = s.recv(65536)
            if not got:
                closed = True
                break
            data += got
    except socket.timeout:
        pass
    except OSError:
        closed = True
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), "closed" if closed else "open", body.decode())
PY
)
DOC='<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:Error xmlns:ns2="http://www.navteq.com/lbsp/Errors/1" type="ApplicationError" subtype="InvalidInputData"><Details>Input data is larger than 4000 bytes</Details></ns2:Error>'
expect_eq "$got" "HTTP/1.1 400 Bad Request closed $DOC" "a chunked body over --max-body that never ends"
expect_eq "$(ls "$T/data/tmp" | wc -l)" 0 "upload left in tmp/ after the refusal"
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || fail "server down after the refusal"
echo "3. a never-ending chunked body over --max-body: 400 at once, connection closed"

# ---- 4. a refused upload leaves nothing in tmp/ by the time its answer arrives ----
head -c 5000 /dev/zero | tr '\0' 'a' | sed 's/^/recId|searchText\n1|/' >"$T/big.txt"
printf 'recId|nosuchcolumn\n1|x\n' >"$T/badhdr.txt"
for i in $(seq 1 20); do
    c1=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/big.txt" -H 'Transfer-Encoding: chunked' "$BASE/jobs?$A&$P")
    n1=$(ls "$T/data/tmp" | wc -l)
    c2=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$T/badhdr.txt" "$BASE/jobs?$A&$P")
    n2=$(ls "$T/data/tmp" | wc -l)
    expect_eq "$c1 $n1 $c2 $n2" "400 0 400 0" "refused upload $i: answers and tmp/ right after them"
done
echo "4. 40 refused uploads: tmp/ empty as soon as each answer is in"

# ---- 5. uploads in progress count toward --max-jobs-per-app ----
stop_server
make_data "$T/data2" 'appA codeA'
# --min-body-rate 0: the two uploads below stall on purpose (a loaded machine may take longer
# between their start and their end than the slow-client watchdog allows a stalled body)
serve "$T/li.gbx" "$T/data2" "$T/serve.log" --workers 1 --max-jobs-per-app 2 --rate 0 --min-body-rate 0
li_rows 300 | { echo 'recId|searchText|country'; cat; } >"$T/in300.txt"
# Two uploads that send their headers and part of the body, then wait on a FIFO each.
UPS=()
for k in 1 2; do
    mkfifo "$T/rest$k"
    { head -c 2000 "$T/in300.txt"; cat "$T/rest$k"; } |
        curl -s -o "$T/up$k.out" -X POST -T - "$BASE/jobs?$A&$P" &
    UPS+=($!)
    on_exit "kill ${UPS[-1]} 2>/dev/null; timeout 1 sh -c ': >\"$T/rest$k\"' 2>/dev/null"
done
for _ in $(seq 1 1200); do
    [ "$(ls "$T/data2/tmp" | wc -l)" == 2 ] && break
    sleep 0.05
done
expect_eq "$(ls "$T/data2/tmp" | wc -l)" 2 "uploads in progress"
LIMITDOC='<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:Error xmlns:ns2="http://www.navteq.com/lbsp/Errors/1" type="ApplicationError" subtype="ExceededUsageLimit"><Details>Too many jobs in progress for this application (limit 2)</Details></ns2:Error>'
out=$(curl -s -w ' %{http_code}' -X POST --data-binary @"$T/in300.txt" "$BASE/jobs?$A&$P")
expect_eq "$out" "$LIMITDOC 429" "a third upload while two are in progress"
for k in 1 2; do
    tail -c +2001 "$T/in300.txt" >"$T/rest$k"
    wait "${UPS[$((k - 1))]}"
    [[ "$(field Status <"$T/up$k.out")" == submitted ]] || fail "upload $k: $(cat "$T/up$k.out")"
done
out=$(curl -s -w ' %{http_code}' -X POST --data-binary @"$T/in300.txt" "$BASE/jobs?$A&$P")
expect_eq "$out" "$LIMITDOC 429" "a third job after two submitted"
echo "5. --max-jobs-per-app 2: a third upload is refused while two are in progress"

stop_server
echo "upload_limits: OK"
