#!/usr/bin/env bash
# disk_quota.sh - issue 13, item 5: a per-application disk quota (--max-disk-per-app) and a
# failed job's chunk files gone before the retention of results (--keep-failed-hours).
#   - a failed job keeps its chunk files for a restart by default; with --keep-failed-hours 0
#     they go when it fails (and at start for one that failed before), and a restart is 400;
#   - an upload whose Content-Length would pass the quota: 413 ExceededUsageLimit at once,
#     with the bytes in use (those of the application's job files, measured here with find);
#   - a chunked upload that passes it: cut, 413; one whose files (the header is stored twice)
#     pass it although its body does not: 413 from the exact check before the commit;
#     nothing of any of them is left; another application is not limited;
#   - results count: a job that ran takes the application over the quota, after which its
#     uploads and starts get 413, until a DELETE frees the space.
NAME=disk_quota
source "$(dirname "$0")/tools/hostile_lib.sh"
FAIL_LOG="$T/serve2.log"
D="$T/data"
{
    echo 'recId|searchText|country'
    li_rows 400
    echo 'bad|line|with|too|many|fields'
} >"$T/in.txt"
S=$(stat -c %s "$T/in.txt")
# usage ID...: the bytes of the files of these jobs' directories
usage() { for id in "$@"; do find "$D/jobs/$id" -type f -printf '%s\n'; done | awk '{s += $1} END {print s + 0}'; }
# failed_job AUTH: upload a job, break a chunk file, run it and wait until it failed; sets JF
failed_job() {
    req POST "$BASE/jobs?$1&$P" --data-binary @"$T/in.txt"
    expect_eq "$CODE" 200 "upload of the job to fail"
    JF=$(job_id)
    echo 'x|y|z|w|v|u' >>"$D/jobs/$JF/in/1.csv" # a row the upload never accepted: GB_ECORRUPT
    req PUT "$BASE/jobs/$JF?$1&action=run"
    expect_eq "$CODE" 200 "run of the job to fail"
    for ((k = 0; k < 2400; k++)); do
        [ "$(status "$JF" "$1" | field Status)" == failed ] && return 0
        sleep 0.05
    done
    fail "job $JF did not fail"
}

# ---- a server without a quota, failed jobs kept (default 24 h) ----
start_server "$D" "$T/serve1.log" --rate 0 --chunk-rows 100
for n in 1 2; do
    req POST "$BASE/jobs?$A&$P" --data-binary @"$T/in.txt"
    expect_eq "$CODE" 200 "upload $n"
    eval "J$n=\$(job_id)"
done
failed_job "$B"
JB=$JF
[ -d "$D/jobs/$JB/in" ] || fail "a failed job's chunk files are gone although it may be restarted"
workers_idle
stop_server
U=$(usage "$J1" "$J2")
Q=$((U + 100))

# ---- --keep-failed-hours 0 and --max-disk-per-app U + 100 ----
start_server "$D" "$T/serve2.log" --rate 0 --chunk-rows 100 --keep-failed-hours 0 --max-disk-per-app "$Q"
expect_eq "$(ls "$D/jobs/$JB")" "errors.txt
header.csv" "the failed job's files after the start's sweep"
req PUT "$BASE/jobs/$JB?$B&action=run"
expect_eq "$CODE $BODY" "400 $(err_doc ApplicationError InvalidInputData "CANNOT RUN A FAILED JOB WHOSE INPUT WAS REMOVED (see --keep-failed-hours)")" \
    "restart of a failed job whose chunk files were removed"
failed_job "$B"
for ((k = 0; k < 2400; k++)); do [ -e "$D/jobs/$JF/in" ] || break; sleep 0.05; done
expect_eq "$(ls "$D/jobs/$JF")" "errors.txt
header.csv" "a job that failed with --keep-failed-hours 0: its chunk files go at once"

quota_doc() { err_doc ApplicationError ExceededUsageLimit "Disk quota of this application exceeded: $1 of $Q bytes in use$2; delete jobs to free space"; }
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/in.txt"
expect_eq "$CODE $BODY" "413 $(quota_doc "$U" ", the request needs $S more")" "Content-Length over the quota"
head -c 3000000 /dev/zero | tr '\0' 'a' | sed 's/^/recId|searchText\n1|/' >"$T/big.txt"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/big.txt" -H 'Transfer-Encoding: chunked'
expect_eq "$CODE" 413 "a chunked body over the quota"
[[ "$BODY" =~ "bytes in use, the request needs at least "[0-9]+" more" ]] || fail "cut upload: $BODY"
# A client still sending when the answer comes (curl got "100" here once, under load: a send
# failed before it read the 413) must not be reset: the server reads a cut body on, to its end
# (up to 64 MiB or 10 s), before it closes. 32 MB is more than both sockets' buffers hold.
head -c 32000000 /dev/zero | tr '\0' 'a' | sed 's/^/recId|searchText\n1|/' >"$T/big32.txt"
R=$({
    printf 'POST /6.2/jobs?%s&%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' "$A" "$P"
    printf '%x\r\n' "$(stat -c %s "$T/big32.txt")"
    cat "$T/big32.txt"
    printf '\r\n0\r\n\r\n'
} | $RAW whole "$PORT")
rm -f "$T/big32.txt"
[[ "$R" == "SENT 413 "*ExceededUsageLimit* ]] || fail "a chunked body over the quota, sent whole: $R"
# 72 bytes of body, but the 59-byte header line (blanks around a name are trimmed) is stored
# twice (header.csv, in/0.csv): 133 bytes, over the 100 left
H="recId|searchText|$(printf ' %.0s' $(seq 1 35))country"
printf '%s\n1|Vaduz|LIE\n' "$H" >"$T/small.txt"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/small.txt"
expect_eq "$CODE $BODY" "413 $(quota_doc "$U" ", the request needs $((2 * ${#H} + 2 + 12)) more")" \
    "the exact check of the upload's files"
no_leftovers "$D" "refused uploads"
expect_eq "$(njobs "$D")" 4 "jobs after the refused uploads (J1, J2, two failed)"
req POST "$BASE/jobs?$B&$P" --data-binary @"$T/in.txt"
expect_eq "$CODE" 200 "another application's upload"

# Results count: J1 runs (the application is under the quota), and takes it over.
req PUT "$BASE/jobs/$J1?$A&action=run"
expect_eq "$CODE" 200 "a start under the quota"
wait_state "$J1" completed 2400
workers_idle
U2=$(usage "$J1" "$J2")
[ "$U2" -gt "$Q" ] || fail "the results did not take the application over the quota ($U2 of $Q)"
req PUT "$BASE/jobs/$J2?$A&action=run"
expect_eq "$CODE $BODY" "413 $(quota_doc "$U2" "")" "a start over the quota"
printf 'recId|searchText|country\n1|Vaduz|LIE\n' >"$T/tiny.txt"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/tiny.txt"
expect_eq "$CODE $BODY" "413 $(quota_doc "$U2" ", the request needs 37 more")" "an upload over the quota"
req DELETE "$BASE/jobs/$J1?$A"
expect_eq "$CODE" 200 "delete"
req POST "$BASE/jobs?$A&$P" --data-binary @"$T/in.txt"
expect_eq "$CODE" 200 "an upload once a delete freed the space"
expect_eq "$(usage "$J2" "$(job_id)")" "$U" "two uploads of the input again"
no_leftovers "$D" "the end"
echo "disk_quota: OK"
